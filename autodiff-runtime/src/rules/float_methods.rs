//! The float methods that carry no gradient (`floor`, `signum`, `is_nan`, ...), callable
//! without ambiguity on a generic `T: Real`.
//!
//! `Real` has both `num_traits::Float` and `nalgebra::RealField` as supertraits, and both
//! define `floor`, `signum`, ..., so `x.floor()` on a `T: Real` is ambiguous (E0034). In a
//! generic `#[differentiable]` body the macro writes these calls as
//! `FloatMethods::ad_floor(x)` instead, which is `Float::floor` for `T` and for `&T`.

use super::Real;

/// The gradient-free float methods of a `#[differentiable]` body, under names of their own.
pub trait FloatMethods: Copy {
    /// The float type.
    type Scalar: Real;
    /// The value.
    fn scalar(self) -> Self::Scalar;
    /// `Float::floor`.
    #[inline(always)]
    fn ad_floor(self) -> Self::Scalar {
        num_traits::Float::floor(self.scalar())
    }
    /// `Float::ceil`.
    #[inline(always)]
    fn ad_ceil(self) -> Self::Scalar {
        num_traits::Float::ceil(self.scalar())
    }
    /// `Float::round`.
    #[inline(always)]
    fn ad_round(self) -> Self::Scalar {
        num_traits::Float::round(self.scalar())
    }
    /// `Float::trunc`.
    #[inline(always)]
    fn ad_trunc(self) -> Self::Scalar {
        num_traits::Float::trunc(self.scalar())
    }
    /// `Float::signum`.
    #[inline(always)]
    fn ad_signum(self) -> Self::Scalar {
        num_traits::Float::signum(self.scalar())
    }
    /// `Float::is_nan`.
    #[inline(always)]
    fn ad_is_nan(self) -> bool {
        num_traits::Float::is_nan(self.scalar())
    }
    /// `Float::is_finite`.
    #[inline(always)]
    fn ad_is_finite(self) -> bool {
        num_traits::Float::is_finite(self.scalar())
    }
    /// `Float::is_infinite`.
    #[inline(always)]
    fn ad_is_infinite(self) -> bool {
        num_traits::Float::is_infinite(self.scalar())
    }
    /// `Float::is_sign_positive`.
    #[inline(always)]
    fn ad_is_sign_positive(self) -> bool {
        num_traits::Float::is_sign_positive(self.scalar())
    }
    /// `Float::is_sign_negative`.
    #[inline(always)]
    fn ad_is_sign_negative(self) -> bool {
        num_traits::Float::is_sign_negative(self.scalar())
    }
}

impl<T: Real> FloatMethods for T {
    type Scalar = T;
    #[inline(always)]
    fn scalar(self) -> T {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::FloatMethods;

    fn generic<T: super::Real>(x: T) -> (T, T, bool) {
        (
            FloatMethods::ad_floor(x),
            FloatMethods::ad_signum(x),
            FloatMethods::ad_is_nan(x),
        )
    }

    #[test]
    fn same_as_the_inherent_methods() {
        for x in [-2.5f64, -0.0, 0.0, 0.5, 3.0, f64::NAN] {
            let (fl, s, n) = generic(x);
            assert_eq!(fl.to_bits(), x.floor().to_bits());
            assert_eq!(s.to_bits(), x.signum().to_bits());
            assert_eq!(n, x.is_nan());
        }
        let (fl, s, _) = generic(-1.5f32);
        assert_eq!((fl, s), (-2.0, -1.0));
    }
}
