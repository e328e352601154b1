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
}

impl Real for f32 {
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
    fn c(value: f64) -> Self {
        value
    }
    #[inline(always)]
    fn to_f64_lossless(self) -> f64 {
        self
    }
}
