//! Binary scalar rules: `y = f(a, b)` with `dy/da` and `dy/db`.

use super::Real;
use crate::simd::Lanes;

/// Applies a scalar function of three arguments lane by lane.
#[inline(always)]
fn lanes3<V: Lanes>(a: V, b: V, c: V, f: impl Fn(f64, f64, f64) -> f64) -> V {
    let (a, b, c) = (a.to_array(), b.to_array(), c.to_array());
    V::from_array([
        f(a[0], b[0], c[0]),
        f(a[1], b[1], c[1]),
        f(a[2], b[2], c[2]),
        f(a[3], b[3], c[3]),
    ])
}

/// A scalar function of two arguments and its partial derivatives.
///
/// Broadcasting and the matrix product are handled by the dispatch layer
/// ([`super::BinaryOp`]); a rule only knows about one pair of elements.
pub trait BinaryRule: Copy {
    /// The name of PyTorch's backward node for this op (`"MulBackward0"`).
    const TORCH_NAME: &'static str;
    /// `f(a, b)`.
    fn f<T: Real>(self, a: T, b: T) -> T;
    /// `df/da`, given `a`, `b` and `y = f(a, b)`.
    fn da<T: Real>(self, a: T, b: T, y: T) -> T;
    /// `df/db`, given `a`, `b` and `y = f(a, b)`.
    fn db<T: Real>(self, a: T, b: T, y: T) -> T;
    /// `f` on four `f64` lanes, for fused loops (default: [`Self::f`] lane by lane;
    /// arithmetic rules write the same formula on lanes, which rounds identically).
    #[inline(always)]
    fn f_lanes<V: Lanes>(self, a: V, b: V) -> V {
        a.zip_map(b, |a, b| self.f(a, b))
    }
    /// `df/da` on four lanes (default: [`Self::da`] lane by lane).
    #[inline(always)]
    fn da_lanes<V: Lanes>(self, a: V, b: V, y: V) -> V {
        lanes3(a, b, y, |a, b, y| self.da(a, b, y))
    }
    /// `df/db` on four lanes (default: [`Self::db`] lane by lane).
    #[inline(always)]
    fn db_lanes<V: Lanes>(self, a: V, b: V, y: V) -> V {
        lanes3(a, b, y, |a, b, y| self.db(a, b, y))
    }
}

macro_rules! binary_rule {
    ($(#[$doc:meta])* $name:ident, $torch:literal, |$a:ident, $b:ident| $f:expr,
     |$da_a:ident, $da_b:ident, $da_y:ident| $da:expr, |$db_a:ident, $db_b:ident, $db_y:ident| $db:expr) => {
        binary_rule!(@rule $(#[$doc])* $name, $torch, |$a, $b| $f, |$da_a, $da_b, $da_y| $da, |$db_a, $db_b, $db_y| $db, {});
    };
    ($(#[$doc:meta])* $name:ident, $torch:literal, |$a:ident, $b:ident| $f:expr,
     |$da_a:ident, $da_b:ident, $da_y:ident| $da:expr, |$db_a:ident, $db_b:ident, $db_y:ident| $db:expr,
     lanes |$la:ident, $lb:ident| $lf:expr, |$lda_a:ident, $lda_b:ident, $lda_y:ident| $lda:expr,
     |$ldb_a:ident, $ldb_b:ident, $ldb_y:ident| $ldb:expr) => {
        binary_rule!(@rule $(#[$doc])* $name, $torch, |$a, $b| $f, |$da_a, $da_b, $da_y| $da, |$db_a, $db_b, $db_y| $db, {
            #[inline(always)]
            fn f_lanes<V: Lanes>(self, $la: V, $lb: V) -> V {
                $lf
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn da_lanes<V: Lanes>(self, $lda_a: V, $lda_b: V, $lda_y: V) -> V {
                $lda
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn db_lanes<V: Lanes>(self, $ldb_a: V, $ldb_b: V, $ldb_y: V) -> V {
                $ldb
            }
        });
    };
    (@rule $(#[$doc:meta])* $name:ident, $torch:literal, |$a:ident, $b:ident| $f:expr,
     |$da_a:ident, $da_b:ident, $da_y:ident| $da:expr, |$db_a:ident, $db_b:ident, $db_y:ident| $db:expr,
     {$($lanes:tt)*}) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl super::OpName for $name {
            const TORCH_NAME: &'static str = $torch;
        }

        impl BinaryRule for $name {
            const TORCH_NAME: &'static str = $torch;
            #[inline(always)]
            fn f<T: Real>(self, $a: T, $b: T) -> T {
                $f
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn da<T: Real>(self, $da_a: T, $da_b: T, $da_y: T) -> T {
                $da
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn db<T: Real>(self, $db_a: T, $db_b: T, $db_y: T) -> T {
                $db
            }
            $($lanes)*
        }
    };
}

binary_rule!(
    /// `a + b`.
    Add, "AddBackward0", |a, b| a + b, |a, b, y| T::one(), |a, b, y| T::one(),
    lanes |a, b| a + b, |a, b, y| V::splat(1.0), |a, b, y| V::splat(1.0)
);
binary_rule!(
    /// `a - b`.
    Sub, "SubBackward0", |a, b| a - b, |a, b, y| T::one(), |a, b, y| -T::one(),
    lanes |a, b| a - b, |a, b, y| V::splat(1.0), |a, b, y| V::splat(-1.0)
);
binary_rule!(
    /// `a * b`; on two matrices the dispatch layer makes it the matrix product.
    Mul, "MulBackward0", |a, b| a * b, |a, b, y| b, |a, b, y| a,
    lanes |a, b| a * b, |a, b, y| b, |a, b, y| a
);
binary_rule!(
    /// `a / b`; `d/da = 1/b`, `d/db = -a/b^2`, evaluated as `-(a/b)/b` like PyTorch so that
    /// `b^2` never overflows or underflows on its own (`a = b = 1e200` gives `-1e-200`, not `-0`).
    Div, "DivBackward0", |a, b| a / b, |a, b, y| T::one() / b, |a, b, y| -(a / b / b),
    lanes |a, b| a / b, |a, b, y| V::splat(1.0) / b, |a, b, y| -(a / b / b)
);
binary_rule!(
    /// `a^b`; `d/da = b a^(b-1)` (0 where `b = 0`), `d/db = a^b ln a` (0 where `a = 0` and `b >= 0`), as in PyTorch.
    Powf, "PowBackward1", |a, b| num_traits::Float::powf(a, b),
    |a, b, y| if b == T::zero() { T::zero() } else { b * num_traits::Float::powf(a, b - T::one()) },
    |a, b, y| if a == T::zero() && b >= T::zero() { T::zero() } else { y * num_traits::Float::ln(a) }
);
binary_rule!(
    /// `max(a, b)` (NaN if either is NaN); the gradient goes to the larger argument, split
    /// evenly on a tie, and to both when either is NaN (PyTorch's `maximum`:
    /// `where(a == b, g / 2, g).masked_fill_(a < b, 0)`).
    Max, "MaximumBackward0", |a, b| if a.is_nan() || b.is_nan() { T::nan() } else if a >= b { a } else { b },
    |a, b, y| if a < b { T::zero() } else if a == b { T::c(0.5) } else { T::one() },
    |a, b, y| if a > b { T::zero() } else if a == b { T::c(0.5) } else { T::one() }
);
binary_rule!(
    /// `min(a, b)` (NaN if either is NaN); the gradient goes to the smaller argument, split
    /// evenly on a tie, and to both when either is NaN (PyTorch's `minimum`:
    /// `where(a == b, g / 2, g).masked_fill_(a > b, 0)`).
    Min, "MinimumBackward0", |a, b| if a.is_nan() || b.is_nan() { T::nan() } else if a <= b { a } else { b },
    |a, b, y| if a > b { T::zero() } else if a == b { T::c(0.5) } else { T::one() },
    |a, b, y| if a < b { T::zero() } else if a == b { T::c(0.5) } else { T::one() }
);
