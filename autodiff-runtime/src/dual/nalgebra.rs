//! The nalgebra (simba) and approx impls of [`Dual`]: a one-lane `SimdValue`, a `Field`,
//! `ComplexField` and `RealField` (each method the `num_traits::Float` one, with its
//! derivative), the subset conversions from `f32`, `f64` and itself, and approximate
//! equality.

use approx::{AbsDiffEq, RelativeEq, UlpsEq};
use num_traits::{Float as F, FloatConst, Zero};
use simba::scalar::{ComplexField, Field, RealField, SubsetOf, SupersetOf};
use simba::simd::SimdValue;

use super::Dual;
use crate::rules::Real;

impl<T: Real> SimdValue for Dual<T> {
    const LANES: usize = 1;
    type Element = Self;
    type SimdBool = bool;
    #[inline(always)]
    fn splat(val: Self) -> Self {
        val
    }
    #[inline(always)]
    fn extract(&self, _: usize) -> Self {
        *self
    }
    // SAFETY: one lane: every index is in bounds, and the body reads no memory through it.
    #[inline(always)]
    unsafe fn extract_unchecked(&self, _: usize) -> Self {
        *self
    }
    #[inline(always)]
    fn replace(&mut self, _: usize, val: Self) {
        *self = val
    }
    // SAFETY: one lane: every index is in bounds, and the body writes only `self`.
    #[inline(always)]
    unsafe fn replace_unchecked(&mut self, _: usize, val: Self) {
        *self = val
    }
    #[inline(always)]
    fn select(self, cond: bool, other: Self) -> Self {
        if cond {
            self
        } else {
            other
        }
    }
}

impl<T: Real> Field for Dual<T> {}

impl<T: Real> SubsetOf<Dual<T>> for Dual<T> {
    #[inline(always)]
    fn to_superset(&self) -> Self {
        *self
    }
    #[inline(always)]
    fn from_superset_unchecked(element: &Self) -> Self {
        *element
    }
    #[inline(always)]
    fn is_in_subset(_: &Self) -> bool {
        true
    }
}

/// `f32` and `f64` as constant duals; a dual is in the subset when its tangent is 0.
macro_rules! float_subset {
    ($($f:ty),*) => {$(
        impl<T: Real> SubsetOf<Dual<T>> for $f {
            #[inline(always)]
            fn to_superset(&self) -> Dual<T> {
                Dual::constant(<T as SupersetOf<$f>>::from_subset(self))
            }
            #[inline(always)]
            fn from_superset_unchecked(element: &Dual<T>) -> Self {
                <T as SupersetOf<$f>>::to_subset_unchecked(&element.re)
            }
            #[inline(always)]
            fn is_in_subset(element: &Dual<T>) -> bool {
                element.eps.is_zero() && <T as SupersetOf<$f>>::is_in_subset(&element.re)
            }
        }
    )*};
}
float_subset!(f32, f64);

impl<T: Real> AbsDiffEq for Dual<T> {
    type Epsilon = Self;
    fn default_epsilon() -> Self {
        Dual::constant(T::default_epsilon())
    }
    /// Both parts within `epsilon.re`.
    fn abs_diff_eq(&self, other: &Self, epsilon: Self) -> bool {
        self.re.abs_diff_eq(&other.re, epsilon.re) && self.eps.abs_diff_eq(&other.eps, epsilon.re)
    }
}

impl<T: Real> RelativeEq for Dual<T> {
    fn default_max_relative() -> Self {
        Dual::constant(T::default_max_relative())
    }
    /// Both parts relatively equal, with the tolerances' value parts.
    fn relative_eq(&self, other: &Self, epsilon: Self, max_relative: Self) -> bool {
        self.re.relative_eq(&other.re, epsilon.re, max_relative.re)
            && self
                .eps
                .relative_eq(&other.eps, epsilon.re, max_relative.re)
    }
}

impl<T: Real> UlpsEq for Dual<T> {
    fn default_max_ulps() -> u32 {
        T::default_max_ulps()
    }
    /// Both parts within `max_ulps`.
    fn ulps_eq(&self, other: &Self, epsilon: Self, max_ulps: u32) -> bool {
        self.re.ulps_eq(&other.re, epsilon.re, max_ulps)
            && self.eps.ulps_eq(&other.eps, epsilon.re, max_ulps)
    }
}

/// `ComplexField` methods that are the `Float` ones.
macro_rules! float_methods {
    ($($m:ident),*) => {$(
        #[inline(always)]
        fn $m(self) -> Self {
            F::$m(self)
        }
    )*};
}

impl<T: Real> ComplexField for Dual<T> {
    type RealField = Self;

    float_methods!(
        floor, ceil, round, trunc, fract, recip, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh,
        asinh, acosh, atanh, log2, log10, ln, ln_1p, sqrt, exp, exp2, exp_m1, cbrt, signum
    );

    #[inline(always)]
    fn from_real(re: Self) -> Self {
        re
    }
    #[inline(always)]
    fn real(self) -> Self {
        self
    }
    #[inline(always)]
    fn imaginary(self) -> Self {
        Self::zero()
    }
    #[inline(always)]
    fn modulus(self) -> Self {
        F::abs(self)
    }
    #[inline(always)]
    fn modulus_squared(self) -> Self {
        self * self
    }
    /// 0 or `π` (a constant).
    #[inline(always)]
    fn argument(self) -> Self {
        if self.re >= T::zero() {
            Self::zero()
        } else {
            Self::PI()
        }
    }
    #[inline(always)]
    fn norm1(self) -> Self {
        F::abs(self)
    }
    #[inline(always)]
    fn scale(self, factor: Self) -> Self {
        self * factor
    }
    #[inline(always)]
    fn unscale(self, factor: Self) -> Self {
        self / factor
    }
    #[inline(always)]
    fn to_exp(self) -> (Self, Self) {
        if self.re >= T::zero() {
            (self, Self::c(1.0))
        } else {
            (-self, Self::c(-1.0))
        }
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        F::mul_add(self, a, b)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        F::abs(self)
    }
    #[inline(always)]
    fn hypot(self, other: Self) -> Self {
        F::hypot(self, other)
    }
    #[inline(always)]
    fn conjugate(self) -> Self {
        self
    }
    #[inline(always)]
    fn sin_cos(self) -> (Self, Self) {
        F::sin_cos(self)
    }
    #[inline(always)]
    fn log(self, base: Self) -> Self {
        F::log(self, base)
    }
    #[inline(always)]
    fn powi(self, n: i32) -> Self {
        F::powi(self, n)
    }
    #[inline(always)]
    fn powf(self, n: Self) -> Self {
        F::powf(self, n)
    }
    #[inline(always)]
    fn powc(self, n: Self) -> Self {
        F::powf(self, n)
    }
    #[inline(always)]
    fn is_finite(&self) -> bool {
        F::is_finite(self.re)
    }
    /// `sqrt`, or `None` below 0.
    #[inline(always)]
    fn try_sqrt(self) -> Option<Self> {
        if self.re >= T::zero() {
            Some(F::sqrt(self))
        } else {
            None
        }
    }
}

impl<T: Real> RealField for Dual<T> {
    #[inline(always)]
    fn is_sign_positive(&self) -> bool {
        F::is_sign_positive(self.re)
    }
    #[inline(always)]
    fn is_sign_negative(&self) -> bool {
        F::is_sign_negative(self.re)
    }
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        F::copysign(self, sign)
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        F::max(self, other)
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        F::min(self, other)
    }
    #[inline(always)]
    fn clamp(self, min: Self, max: Self) -> Self {
        F::clamp(self, min, max)
    }
    #[inline(always)]
    fn atan2(self, other: Self) -> Self {
        F::atan2(self, other)
    }
    #[inline(always)]
    fn min_value() -> Option<Self> {
        Some(<Self as F>::min_value())
    }
    #[inline(always)]
    fn max_value() -> Option<Self> {
        Some(<Self as F>::max_value())
    }
    #[inline(always)]
    fn pi() -> Self {
        Self::PI()
    }
    #[inline(always)]
    fn two_pi() -> Self {
        Self::TAU()
    }
    #[inline(always)]
    fn frac_pi_2() -> Self {
        Self::FRAC_PI_2()
    }
    #[inline(always)]
    fn frac_pi_3() -> Self {
        Self::FRAC_PI_3()
    }
    #[inline(always)]
    fn frac_pi_4() -> Self {
        Self::FRAC_PI_4()
    }
    #[inline(always)]
    fn frac_pi_6() -> Self {
        Self::FRAC_PI_6()
    }
    #[inline(always)]
    fn frac_pi_8() -> Self {
        Self::FRAC_PI_8()
    }
    #[inline(always)]
    fn frac_1_pi() -> Self {
        Self::FRAC_1_PI()
    }
    #[inline(always)]
    fn frac_2_pi() -> Self {
        Self::FRAC_2_PI()
    }
    #[inline(always)]
    fn frac_2_sqrt_pi() -> Self {
        Self::FRAC_2_SQRT_PI()
    }
    #[inline(always)]
    fn e() -> Self {
        Self::E()
    }
    #[inline(always)]
    fn log2_e() -> Self {
        Self::LOG2_E()
    }
    #[inline(always)]
    fn log10_e() -> Self {
        Self::LOG10_E()
    }
    #[inline(always)]
    fn ln_2() -> Self {
        Self::LN_2()
    }
    #[inline(always)]
    fn ln_10() -> Self {
        Self::LN_10()
    }
}
