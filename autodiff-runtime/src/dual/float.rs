//! The `num_traits` impls of [`Dual`]: `Zero`, `One`, `Num`, the casts, `Signed`,
//! `FloatConst` and `Float`, every function with its exact derivative.

use std::num::FpCategory;

use num_traits::{
    Float as F, FloatConst, FromPrimitive, Num, NumCast, One, Signed, ToPrimitive, Zero,
};

use super::{tangent_times, Dual};
use crate::rules::Real;

impl<T: Real> Zero for Dual<T> {
    #[inline(always)]
    fn zero() -> Self {
        Dual::constant(T::zero())
    }
    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.re.is_zero() && self.eps.is_zero()
    }
}

impl<T: Real> One for Dual<T> {
    #[inline(always)]
    fn one() -> Self {
        Dual::constant(T::one())
    }
}

impl<T: Real> Num for Dual<T> {
    type FromStrRadixErr = T::FromStrRadixErr;
    /// A constant parsed as `T`.
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        T::from_str_radix(s, radix).map(Dual::constant)
    }
}

impl<T: Real> ToPrimitive for Dual<T> {
    /// The value part.
    fn to_i64(&self) -> Option<i64> {
        self.re.to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.re.to_u64()
    }
    fn to_f32(&self) -> Option<f32> {
        self.re.to_f32()
    }
    fn to_f64(&self) -> Option<f64> {
        self.re.to_f64()
    }
}

impl<T: Real> NumCast for Dual<T> {
    /// A constant.
    fn from<N: ToPrimitive>(n: N) -> Option<Self> {
        <T as NumCast>::from(n).map(Dual::constant)
    }
}

impl<T: Real> FromPrimitive for Dual<T> {
    /// Constants.
    fn from_i64(n: i64) -> Option<Self> {
        T::from_i64(n).map(Dual::constant)
    }
    fn from_u64(n: u64) -> Option<Self> {
        T::from_u64(n).map(Dual::constant)
    }
    fn from_f32(n: f32) -> Option<Self> {
        T::from_f32(n).map(Dual::constant)
    }
    fn from_f64(n: f64) -> Option<Self> {
        T::from_f64(n).map(Dual::constant)
    }
}

/// `1`, `-1` or `0` (also at NaN): the subgradient of `|x|` (PyTorch's `sgn`).
#[inline(always)]
pub(super) fn sgn<T: Real>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

impl<T: Real> Signed for Dual<T> {
    /// `|x|`, derivative `sgn x` (0 at 0).
    #[inline]
    fn abs(&self) -> Self {
        F::abs(*self)
    }
    /// `max(a - b, 0)`.
    #[inline]
    fn abs_sub(&self, other: &Self) -> Self {
        if *self <= *other {
            Self::zero()
        } else {
            *self - *other
        }
    }
    /// `signum`, derivative 0.
    #[inline]
    fn signum(&self) -> Self {
        F::signum(*self)
    }
    #[inline]
    fn is_positive(&self) -> bool {
        self.re.is_positive()
    }
    #[inline]
    fn is_negative(&self) -> bool {
        self.re.is_negative()
    }
}

macro_rules! float_consts {
    ($($c:ident),*) => {
        impl<T: Real> FloatConst for Dual<T> {
            $(
                #[inline(always)]
                fn $c() -> Self {
                    Dual::constant(T::$c())
                }
            )*
        }
    };
}
float_consts!(
    E,
    FRAC_1_PI,
    FRAC_1_SQRT_2,
    FRAC_2_PI,
    FRAC_2_SQRT_PI,
    FRAC_PI_2,
    FRAC_PI_3,
    FRAC_PI_4,
    FRAC_PI_6,
    FRAC_PI_8,
    LN_10,
    LN_2,
    LOG10_E,
    LOG2_E,
    PI,
    SQRT_2,
    TAU,
    LOG10_2,
    LOG2_10
);

/// Constants of `T` as duals, and predicates on the value part.
macro_rules! delegate {
    (consts: $($c:ident),*; predicates: $($p:ident),*) => {
        $(
            #[inline(always)]
            fn $c() -> Self {
                Dual::constant(<T as F>::$c())
            }
        )*
        $(
            #[inline(always)]
            fn $p(self) -> bool {
                F::$p(self.re)
            }
        )*
    };
}

/// Functions whose derivative is 0 wherever it exists (`floor`, `signum`, ...).
macro_rules! steps {
    ($($m:ident),*) => {$(
        #[inline(always)]
        fn $m(self) -> Self {
            Dual::constant(F::$m(self.re))
        }
    )*};
}

impl<T: Real> F for Dual<T> {
    delegate!(
        consts: infinity, neg_infinity, nan, neg_zero, min_value, min_positive_value, epsilon,
            max_value;
        predicates: is_nan, is_infinite, is_finite, is_normal, is_subnormal, is_sign_positive,
            is_sign_negative
    );
    steps!(floor, ceil, round, trunc, signum);

    #[inline(always)]
    fn classify(self) -> FpCategory {
        F::classify(self.re)
    }
    /// `x - trunc(x)`: derivative 1.
    #[inline(always)]
    fn fract(self) -> Self {
        Dual::new(F::fract(self.re), self.eps)
    }
    /// Derivative `sgn x`, 0 at 0 (as the `abs` row).
    #[inline(always)]
    fn abs(self) -> Self {
        self.chain(F::abs(self.re), sgn(self.re))
    }
    /// `self a + b` with one rounding of the value.
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        Dual::new(
            F::mul_add(self.re, a.re, b.re),
            F::mul_add(self.eps, a.re, F::mul_add(self.re, a.eps, b.eps)),
        )
    }
    /// Derivative `-1/x² = -y²`.
    #[inline(always)]
    fn recip(self) -> Self {
        let y = F::recip(self.re);
        self.chain(y, -(y * y))
    }
    /// Derivative `n x^(n-1)`, 0 for `n = 0` (as the `powi` rule).
    #[inline]
    fn powi(self, n: i32) -> Self {
        let d = match n {
            0 => T::zero(),
            1 => T::one(),
            2 => self.re + self.re,
            n => T::c(n as f64) * F::powi(self.re, n - 1),
        };
        self.chain(F::powi(self.re, n), d)
    }
    /// `a^b` in both arguments: `d/da = b a^(b-1)` (0 where `b = 0`), `d/db = a^b ln a`
    /// (0 where `a = 0` and `b >= 0`), as the `powf` row.
    #[inline]
    fn powf(self, b: Self) -> Self {
        let (x, p) = (self.re, b.re);
        let y = F::powf(x, p);
        let da = if p == T::zero() {
            T::zero()
        } else {
            p * F::powf(x, p - T::one())
        };
        let db = if x == T::zero() && p >= T::zero() {
            T::zero()
        } else {
            y * F::ln(x)
        };
        Dual::new(y, tangent_times(da, self.eps) + tangent_times(db, b.eps))
    }
    /// Derivative `1/(2 sqrt x)`.
    #[inline(always)]
    fn sqrt(self) -> Self {
        let y = F::sqrt(self.re);
        self.chain(y, T::c(0.5) / y)
    }
    /// Derivative `e^x`.
    #[inline(always)]
    fn exp(self) -> Self {
        let y = F::exp(self.re);
        self.chain(y, y)
    }
    /// Derivative `2^x ln 2`.
    #[inline(always)]
    fn exp2(self) -> Self {
        let y = F::exp2(self.re);
        self.chain(y, y * T::LN_2())
    }
    /// Derivative `1/x`.
    #[inline(always)]
    fn ln(self) -> Self {
        self.chain(F::ln(self.re), T::one() / self.re)
    }
    /// `ln x / ln base`, in both arguments.
    #[inline]
    fn log(self, base: Self) -> Self {
        F::ln(self) / F::ln(base)
    }
    /// Derivative `1/(x ln 2)`.
    #[inline(always)]
    fn log2(self) -> Self {
        self.chain(F::log2(self.re), T::one() / (self.re * T::LN_2()))
    }
    /// Derivative `1/(x ln 10)`.
    #[inline(always)]
    fn log10(self) -> Self {
        self.chain(F::log10(self.re), T::one() / (self.re * T::LN_10()))
    }
    #[inline(always)]
    fn to_degrees(self) -> Self {
        let k = T::c(180.0) / T::PI();
        Dual::new(F::to_degrees(self.re), self.eps * k)
    }
    #[inline(always)]
    fn to_radians(self) -> Self {
        let k = T::PI() / T::c(180.0);
        Dual::new(F::to_radians(self.re), self.eps * k)
    }
    /// `f64::max`'s value (a NaN argument yields the other); the derivative of the larger
    /// argument, the mean of both on a tie (the `max` row splits the gradient evenly).
    #[inline]
    fn max(self, other: Self) -> Self {
        if F::is_nan(self.re) || self.re < other.re {
            other
        } else if F::is_nan(other.re) || self.re > other.re {
            self
        } else {
            Dual::new(self.re, T::c(0.5) * (self.eps + other.eps))
        }
    }
    /// `f64::min`'s value (a NaN argument yields the other); the derivative of the
    /// smaller argument, the mean of both on a tie.
    #[inline]
    fn min(self, other: Self) -> Self {
        if F::is_nan(self.re) || self.re > other.re {
            other
        } else if F::is_nan(other.re) || self.re < other.re {
            self
        } else {
            Dual::new(self.re, T::c(0.5) * (self.eps + other.eps))
        }
    }
    /// The bound when `x` is outside `[lo, hi]`, else `x` (derivative 1 to `x` at the
    /// bounds, as the `clamp` rule).
    #[inline]
    fn clamp(self, lo: Self, hi: Self) -> Self {
        if self.re < lo.re {
            lo
        } else if self.re > hi.re {
            hi
        } else {
            self
        }
    }
    /// `max(a - b, 0)`.
    #[inline]
    #[allow(deprecated)]
    fn abs_sub(self, other: Self) -> Self {
        Signed::abs_sub(&self, &other)
    }
    /// Derivative `1/(3 y²)`.
    #[inline(always)]
    fn cbrt(self) -> Self {
        let y = F::cbrt(self.re);
        self.chain(y, T::one() / (T::c(3.0) * y * y))
    }
    /// `sqrt(a² + b²)`: tangent `(a a' + b b') / y`.
    #[inline]
    fn hypot(self, b: Self) -> Self {
        let y = F::hypot(self.re, b.re);
        Dual::new(
            y,
            tangent_times(self.re / y, self.eps) + tangent_times(b.re / y, b.eps),
        )
    }
    /// Derivative `cos x`.
    #[inline(always)]
    fn sin(self) -> Self {
        let (s, c) = F::sin_cos(self.re);
        self.chain(s, c)
    }
    /// Derivative `-sin x`.
    #[inline(always)]
    fn cos(self) -> Self {
        let (s, c) = F::sin_cos(self.re);
        self.chain(c, -s)
    }
    /// Derivative `1 + tan² x`.
    #[inline(always)]
    fn tan(self) -> Self {
        let y = F::tan(self.re);
        self.chain(y, T::one() + y * y)
    }
    /// Derivative `1/sqrt(1 - x²)`.
    #[inline(always)]
    fn asin(self) -> Self {
        let x = self.re;
        self.chain(F::asin(x), T::one() / F::sqrt(T::one() - x * x))
    }
    /// Derivative `-1/sqrt(1 - x²)`.
    #[inline(always)]
    fn acos(self) -> Self {
        let x = self.re;
        self.chain(F::acos(x), -(T::one() / F::sqrt(T::one() - x * x)))
    }
    /// Derivative `1/(1 + x²)`.
    #[inline(always)]
    fn atan(self) -> Self {
        let x = self.re;
        self.chain(F::atan(x), T::one() / (x * x + T::one()))
    }
    /// `atan2(a, b)`: `d/da = b/(a² + b²)`, `d/db = -a/(a² + b²)`.
    #[inline]
    fn atan2(self, b: Self) -> Self {
        let (x, z) = (self.re, b.re);
        let r = T::one() / (x * x + z * z);
        Dual::new(
            F::atan2(x, z),
            tangent_times(z * r, self.eps) + tangent_times(-x * r, b.eps),
        )
    }
    #[inline(always)]
    fn sin_cos(self) -> (Self, Self) {
        let (s, c) = F::sin_cos(self.re);
        (self.chain(s, c), self.chain(c, -s))
    }
    /// Derivative `e^x = y + 1`.
    #[inline(always)]
    fn exp_m1(self) -> Self {
        let y = F::exp_m1(self.re);
        self.chain(y, y + T::one())
    }
    /// Derivative `1/(1 + x)`.
    #[inline(always)]
    fn ln_1p(self) -> Self {
        let x = self.re;
        self.chain(F::ln_1p(x), T::one() / (T::one() + x))
    }
    /// Derivative `cosh x`.
    #[inline(always)]
    fn sinh(self) -> Self {
        let x = self.re;
        self.chain(F::sinh(x), F::cosh(x))
    }
    /// Derivative `sinh x`.
    #[inline(always)]
    fn cosh(self) -> Self {
        let x = self.re;
        self.chain(F::cosh(x), F::sinh(x))
    }
    /// Derivative `1 - tanh² x`.
    #[inline(always)]
    fn tanh(self) -> Self {
        let y = F::tanh(self.re);
        self.chain(y, T::one() - y * y)
    }
    /// Derivative `1/sqrt(x² + 1)`.
    #[inline(always)]
    fn asinh(self) -> Self {
        let x = self.re;
        self.chain(F::asinh(x), T::one() / F::sqrt(x * x + T::one()))
    }
    /// Derivative `1/sqrt(x² - 1)`.
    #[inline(always)]
    fn acosh(self) -> Self {
        let x = self.re;
        self.chain(F::acosh(x), T::one() / F::sqrt(x * x - T::one()))
    }
    /// Derivative `1/(1 - x²)`.
    #[inline(always)]
    fn atanh(self) -> Self {
        let x = self.re;
        self.chain(F::atanh(x), T::one() / (T::one() - x * x))
    }
    #[inline(always)]
    fn integer_decode(self) -> (u64, i16, i8) {
        F::integer_decode(self.re)
    }
    /// `|x|` with the sign of `sign`: tangent `±x'` (the sign `sign` gets none).
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        let y = F::copysign(self.re, sign.re);
        let flip = F::is_sign_negative(y) != F::is_sign_negative(self.re);
        Dual::new(y, if flip { -self.eps } else { self.eps })
    }
}
