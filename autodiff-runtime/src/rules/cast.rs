//! Float-to-float casts, `x as f32` and `x as f64`, differentiated as PyTorch's `.float()`
//! and `.double()`: the cotangent is cast back to the operand's type. (Casts to integers
//! cut the gradient, as in PyTorch; `#[differentiable]` keeps those as written.)
//!
//! `#[differentiable]` calls these as it calls another differentiable function: `name`
//! for the value, `__ad_pullback_name` for the value and its pullback, `__ad_wrt_name`
//! for which operands take a gradient.

use super::Real;

/// What `x as f32` / `x as f64` may cast in a differentiated position: a float, whose
/// cotangent is cast back, or an integer (the `usize` of a `(f64, usize)` tuple the macro
/// treats as differentiated), which takes none.
pub trait CastSource: Copy {
    /// The value as an `f64` (exact for `f32`; `as` for integers).
    fn to_f64(self) -> f64;
    /// The operand's cotangent for the cotangent `g` of the cast's result.
    fn cotangent(g: f64) -> Self;
}

impl<S: Real> CastSource for S {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self.to_f64_lossless()
    }
    #[inline(always)]
    fn cotangent(g: f64) -> Self {
        S::c(g)
    }
}

macro_rules! integer_cast_source {
    ($($t:ty),*) => {$(
        impl CastSource for $t {
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn cotangent(_g: f64) -> Self {
                0
            }
        }
    )*};
}
integer_cast_source!(usize, isize, u8, u16, u32, u64, i8, i16, i32, i64);

/// `x as f32` for a float (or integer) `x` of type `S`.
#[inline]
pub fn cast_f32<S: CastSource>(x: S) -> f32 {
    x.to_f64() as f32
}

/// `x as f64` for a float (or integer) `x` of type `S`.
#[inline]
pub fn cast_f64<S: CastSource>(x: S) -> f64 {
    x.to_f64()
}

/// `cast_f32` with its pullback, in the calling convention of `#[differentiable]` callees.
#[doc(hidden)]
#[inline]
pub fn __ad_pullback_cast_f32<S: CastSource>(x: S) -> (f32, impl FnOnce(f32) -> (S,)) {
    (cast_f32(x), |g: f32| (S::cotangent(f64::from(g)),))
}

/// `cast_f64` with its pullback, in the calling convention of `#[differentiable]` callees.
#[doc(hidden)]
#[inline]
pub fn __ad_pullback_cast_f64<S: CastSource>(x: S) -> (f64, impl FnOnce(f64) -> (S,)) {
    (cast_f64(x), |g: f64| (S::cotangent(g),))
}

/// The operand of `cast_f32` takes a gradient.
#[doc(hidden)]
#[allow(non_upper_case_globals)]
pub const __ad_wrt_cast_f32: [bool; 1] = [true];

/// The operand of `cast_f64` takes a gradient.
#[doc(hidden)]
#[allow(non_upper_case_globals)]
pub const __ad_wrt_cast_f64: [bool; 1] = [true];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_round_as_rust_does_and_pass_the_cotangent_back() {
        assert_eq!(cast_f32(0.1_f64), 0.1_f64 as f32);
        assert_eq!(cast_f64(0.1_f32), f64::from(0.1_f32));
        assert!(cast_f32(f64::NAN).is_nan());
        let (y, pb) = __ad_pullback_cast_f32(2.5_f64);
        assert_eq!(y, 2.5_f32);
        assert_eq!(pb(3.0), (3.0_f64,));
        let (_, pb) = __ad_pullback_cast_f64(2.5_f32);
        assert_eq!(pb(0.25), (0.25_f32,));
        let (y, pb) = __ad_pullback_cast_f64(7usize);
        assert_eq!((y, pb(2.0)), (7.0, (0usize,)));
    }
}
