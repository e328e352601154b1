//! The floating-point element types the engines differentiate: `f32` and `f64`.

/// An IEEE float the engines can differentiate: `f32` or `f64`.
pub trait Real:
    num_traits::Float
    + num_traits::FloatConst
    + nalgebra::RealField
    + nalgebra::Scalar
    + Copy
    + Default
    + std::fmt::Debug
    + std::fmt::Display
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
    + std::iter::Sum
    + Send
    + Sync
    + 'static
{
    /// Converts an `f64` constant (`0.5`, `1e-6`) to this type.
    fn c(value: f64) -> Self;
    /// Converts to `f64`.
    fn to_f64_lossless(self) -> f64;
    /// Applies a vectorized kernel of [`crate::simd`] to every element, in place.
    fn simd_in_place(kernel: SimdKernel, x: &mut [Self]);
    /// Runs a fused loop on the best value type for this element type: four `f64` lanes
    /// (AVX2+FMA when the CPU has them, chosen at run time) for `f64`, the scalar for `f32`.
    fn fused_dispatch<K: super::FusedKernel<Self>>(kernel: K) -> K::Output;
}

/// The vectorized elementwise kernels rules can hand whole buffers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdKernel {
    /// `e^x`.
    Exp,
    /// `e^x - 1`.
    ExpM1,
    /// `ln x`.
    Ln,
    /// `ln(1 + x)`.
    Ln1p,
    /// `tanh x`.
    Tanh,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `ln(1 + e^x)`.
    Softplus,
}

impl Real for f32 {
    #[inline(always)]
    fn fused_dispatch<K: super::FusedKernel<Self>>(kernel: K) -> K::Output {
        kernel.run::<f32>()
    }
    fn simd_in_place(kernel: SimdKernel, x: &mut [Self]) {
        use crate::simd::*;
        match kernel {
            SimdKernel::Exp => exp_in_place_f32(x),
            SimdKernel::ExpM1 => exp_m1_in_place_f32(x),
            SimdKernel::Ln => ln_in_place_f32(x),
            SimdKernel::Ln1p => ln_1p_in_place_f32(x),
            SimdKernel::Tanh => tanh_in_place_f32(x),
            SimdKernel::Sigmoid => sigmoid_in_place_f32(x),
            SimdKernel::Softplus => softplus_in_place_f32(x),
        }
    }
    #[inline(always)]
    fn c(value: f64) -> Self {
        value as f32
    }
    #[inline(always)]
    fn to_f64_lossless(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    #[inline(always)]
    fn fused_dispatch<K: super::FusedKernel<Self>>(kernel: K) -> K::Output {
        crate::simd::dispatch(super::lanes::OnLanes(kernel))
    }
    fn simd_in_place(kernel: SimdKernel, x: &mut [Self]) {
        use crate::simd::*;
        match kernel {
            SimdKernel::Exp => exp_in_place(x),
            SimdKernel::ExpM1 => exp_m1_in_place(x),
            SimdKernel::Ln => ln_in_place(x),
            SimdKernel::Ln1p => ln_1p_in_place(x),
            SimdKernel::Tanh => tanh_in_place(x),
            SimdKernel::Sigmoid => sigmoid_in_place(x),
            SimdKernel::Softplus => softplus_in_place(x),
        }
    }
    #[inline(always)]
    fn c(value: f64) -> Self {
        value
    }
    #[inline(always)]
    fn to_f64_lossless(self) -> f64 {
        self
    }
}
