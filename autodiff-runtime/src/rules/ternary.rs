//! Scalar functions of three differentiable arguments: `x.clamp(lo, hi)` and
//! `a.mul_add(b, c)`.
//!
//! `#[differentiable]` calls them as it calls another differentiable function: `name`
//! for the value, `__ad_pullback_name` for the value and a closure from the cotangent to
//! the three operands' cotangents, `__ad_wrt_name` for which operands take a gradient
//! (all three). Their rows in the op table give the PyTorch names.

use super::{OpName, Real};

/// `x.clamp(lo, hi)`: `x` limited to `[lo, hi]`. PyTorch's `clamp` with tensor bounds:
/// the gradient goes to `x` where `lo <= x <= hi` (so 1 at the bounds), to `lo` where
/// `x < lo < hi` and to `hi` where `x > hi`; a NaN `x` gives every operand 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clamp;

/// `a.mul_add(b, c) = a * b + c` with one rounding; `d/da = b`, `d/db = a`, `d/dc = 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MulAdd;

/// The value of `x.clamp(lo, hi)`, as the standard library computes it (it panics when
/// `lo > hi` or a bound is NaN, as `f64::clamp` does).
#[inline]
pub fn clamp<T: Real>(x: T, lo: T, hi: T) -> T {
    assert!(
        lo <= hi,
        "clamp: the lower bound {lo:?} is not at most the upper bound {hi:?} (or one is NaN); pass lo <= hi"
    );
    clamp_checked(x, lo, hi)
}

/// `clamp` for bounds already checked (`lo <= hi`, neither NaN).
#[inline]
fn clamp_checked<T: Real>(x: T, lo: T, hi: T) -> T {
    // `f64::clamp`'s own steps: a NaN `x` passes through.
    let mut y = x;
    if y < lo {
        y = lo;
    }
    if y > hi {
        y = hi;
    }
    y
}

/// The gradients of `clamp` at `(x, lo, hi)` for cotangent `g`.
#[inline]
pub fn clamp_vjp<T: Real>(x: T, lo: T, hi: T, g: T) -> (T, T, T) {
    let z = T::zero();
    let gx = if x >= lo && x <= hi { g } else { z };
    // PyTorch credits `lo` only while `lo < hi`.
    let glo = if x < lo && lo < hi { g } else { z };
    let ghi = if x > hi { g } else { z };
    (gx, glo, ghi)
}

/// `clamp` with its pullback, in the calling convention of `#[differentiable]` callees.
#[doc(hidden)]
#[inline]
pub fn __ad_pullback_clamp<T: Real>(x: T, lo: T, hi: T) -> (T, impl FnOnce(T) -> (T, T, T)) {
    (clamp(x, lo, hi), move |g| clamp_vjp(x, lo, hi, g))
}

/// Every operand of `clamp` takes a gradient.
#[doc(hidden)]
#[allow(non_upper_case_globals)]
pub const __ad_wrt_clamp: [bool; 3] = [true, true, true];

/// The value of `a.mul_add(b, c)`: `a * b + c` rounded once.
#[inline]
pub fn mul_add<T: Real>(a: T, b: T, c: T) -> T {
    num_traits::Float::mul_add(a, b, c)
}

/// The gradients of `mul_add` at `(a, b, c)` for cotangent `g`.
#[inline]
pub fn mul_add_vjp<T: Real>(a: T, b: T, _c: T, g: T) -> (T, T, T) {
    (g * b, g * a, g)
}

/// `mul_add` with its pullback, in the calling convention of `#[differentiable]` callees.
#[doc(hidden)]
#[inline]
pub fn __ad_pullback_mul_add<T: Real>(a: T, b: T, c: T) -> (T, impl FnOnce(T) -> (T, T, T)) {
    (mul_add(a, b, c), move |g| mul_add_vjp(a, b, c, g))
}

/// Every operand of `mul_add` takes a gradient.
#[doc(hidden)]
#[allow(non_upper_case_globals)]
pub const __ad_wrt_mul_add: [bool; 3] = [true, true, true];

/// `x.clamp(lo, hi)` with constant bounds as an elementwise rule (the dynamic engine's
/// `Tensor::clamp`): derivative 1 where `lo <= x <= hi`, 0 elsewhere and at NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClampTo {
    lo: f64,
    hi: f64,
}

impl ClampTo {
    /// The rule for bounds `lo <= hi`, checked here once so the rule need not check
    /// them per element.
    ///
    /// # Panics
    /// If `lo > hi` or a bound is NaN, as `f64::clamp`.
    pub fn new(lo: f64, hi: f64) -> Self {
        assert!(
            lo <= hi,
            "clamp: the lower bound {lo} is not at most the upper bound {hi} (or one is NaN); pass lo <= hi"
        );
        ClampTo { lo, hi }
    }
}

/// PyTorch's name for `clamp` with number bounds (`Clamp`, with tensor bounds, is
/// `ClampBackward0`).
const CLAMP_TO_TORCH_NAME: &str = "ClampBackward1";

impl super::ElementwiseRule for ClampTo {
    const TORCH_NAME: &'static str = CLAMP_TO_TORCH_NAME;
    const READS: autodiff_ops::Reads = autodiff_ops::Reads::Input;
    #[inline(always)]
    fn f<T: Real>(self, x: T) -> T {
        // `ClampTo::new` checked the bounds once, not per element.
        clamp_checked(x, T::c(self.lo), T::c(self.hi))
    }
    #[inline(always)]
    fn df<T: Real>(self, x: T, _y: T) -> T {
        clamp_vjp(x, T::c(self.lo), T::c(self.hi), T::one()).0
    }
}

impl OpName for ClampTo {
    const TORCH_NAME: &'static str = CLAMP_TO_TORCH_NAME;
}

const _: () = {
    // Both are rows of the op table, which gives them their PyTorch names.
    let _ = <Clamp as OpName>::TORCH_NAME;
    let _ = <MulAdd as OpName>::TORCH_NAME;
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_matches_std_and_pytorch_gradients() {
        assert_eq!(clamp(0.5, 0.0, 1.0), 0.5_f64.clamp(0.0, 1.0));
        assert_eq!(clamp(-2.0, 0.0, 1.0), 0.0);
        assert_eq!(clamp(3.0, 0.0, 1.0), 1.0);
        assert!(clamp(f64::NAN, 0.0, 1.0).is_nan());
        assert_eq!(clamp_vjp(0.5, 0.0, 1.0, 2.0), (2.0, 0.0, 0.0));
        assert_eq!(clamp_vjp(0.0, 0.0, 1.0, 2.0), (2.0, 0.0, 0.0));
        assert_eq!(clamp_vjp(1.0, 0.0, 1.0, 2.0), (2.0, 0.0, 0.0));
        assert_eq!(clamp_vjp(-1.0, 0.0, 1.0, 2.0), (0.0, 2.0, 0.0));
        assert_eq!(clamp_vjp(5.0, 0.0, 1.0, 2.0), (0.0, 0.0, 2.0));
        assert_eq!(clamp_vjp(f64::NAN, 0.0, 1.0, 2.0), (0.0, 0.0, 0.0));
    }

    #[test]
    #[should_panic(expected = "lower bound")]
    fn clamp_with_crossed_bounds_panics_like_std() {
        clamp(0.5, 1.0, 0.0);
    }

    #[test]
    fn mul_add_rounds_once() {
        let (a, b, c) = (0.1_f64, 10.0, -1.0);
        assert_eq!(mul_add(a, b, c), a.mul_add(b, c));
        assert_eq!(mul_add_vjp(a, b, c, 3.0), (30.0, 0.30000000000000004, 3.0));
    }
}
