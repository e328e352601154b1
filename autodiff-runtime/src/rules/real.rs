//! The floating-point element types the engines differentiate: `f32` and `f64`, and the
//! forward-mode dual numbers over them ([`crate::Dual`]).

/// A scalar the engines can differentiate: `f32`, `f64`, or a [`crate::Dual`] of one
/// (whose generic instantiations compute forward-over-reverse derivatives).
///
/// A type parameter bounded by `Real` stands for the scalar in generic
/// `#[differentiable]` functions; it is a [`crate::tangent::Tangent`] of itself, so the
/// gradient structs of those functions are too.
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
    + crate::tangent::Tangent<Scalar = Self>
{
    /// Converts an `f64` constant (`0.5`, `1e-6`) to this type.
    fn c(value: f64) -> Self;
    /// Converts to `f64`.
    fn to_f64_lossless(self) -> f64;
    /// Applies `rule`'s lane formula (`f_lanes`) to every element, in place, on the best
    /// lane type: four `f64` or eight `f32` lanes at a time (the `f32` vector math for
    /// `f32`, within a few `f32` ulp of the scalar functions).
    fn lanes_in_place<R: super::ElementwiseRule>(rule: R, x: &mut [Self]);
    /// Runs a fused loop on the best value type for this element type: four `f64` lanes
    /// for `f64`, eight `f32` lanes for `f32` (AVX2+FMA when the CPU has them, chosen at
    /// run time).
    fn fused_dispatch<K: super::FusedKernel<Self>>(kernel: K) -> K::Output;
}

impl Real for f32 {
    #[inline(always)]
    fn fused_dispatch<K: super::FusedKernel<Self>>(kernel: K) -> K::Output {
        super::lanes::dispatch_f32(kernel)
    }
    fn lanes_in_place<R: super::ElementwiseRule>(rule: R, x: &mut [Self]) {
        crate::simd::lanes_in_place_f32(RuleLanes(rule), x)
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
        super::lanes::dispatch_f64(kernel)
    }
    fn lanes_in_place<R: super::ElementwiseRule>(rule: R, x: &mut [Self]) {
        crate::simd::lanes_in_place_f64(RuleLanes(rule), x)
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

/// A rule's lane formula as the function the slice kernels of [`crate::simd`] map.
#[derive(Clone, Copy)]
struct RuleLanes<R>(R);

impl<R: super::ElementwiseRule> crate::simd::LaneFn for RuleLanes<R> {
    #[inline(always)]
    fn apply<V: crate::simd::FloatLanes>(self, v: V) -> V {
        self.0.f_lanes(v)
    }
}
