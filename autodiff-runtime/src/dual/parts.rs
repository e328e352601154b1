//! [`DualParts`]: values of `T` lifted to values of [`Dual<T>`], and dual values split
//! back into their value and tangent parts.
//!
//! The forward-mode wrappers of generic `#[differentiable]` functions pass every argument
//! through [`DualParts::lift`] (with its tangent) or [`DualParts::lift_constant`], call the
//! function at `T = Dual<T>`, and [`DualParts::split`] the result.
//!
//! ```
//! use autodiff_runtime::dual::{split_eps, DualParts};
//! use autodiff_runtime::nalgebra::DVector;
//!
//! let x = DVector::from_vec(vec![1.0_f64, 2.0]);
//! let v = DVector::from_vec(vec![0.5, -1.0]);
//! let lifted = x.lift(&v);
//! let y = lifted.map(|e| e * e);
//! let dy: DVector<f64> = split_eps(&y);
//! assert_eq!(dy, DVector::from_vec(vec![1.0, -4.0]));
//! assert_eq!(DVector::split(y), (x.map(|e| e * e), dy));
//! ```

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

use super::Dual;
use crate::rules::Real;

/// A value made of `T`s (a scalar, a matrix, a `Vec`, an array, a tuple) and its
/// counterpart made of [`Dual<T>`]s, of the same structure.
pub trait DualParts<T: Real>: Sized {
    /// The same structure with every `T` a `Dual<T>`.
    type Lifted;
    /// `self + tangent ε`, element by element.
    ///
    /// # Panics
    /// When `tangent` has another structure (matrix shape, `Vec` length).
    fn lift(&self, tangent: &Self) -> Self::Lifted;
    /// `self` as constants (tangent 0).
    fn lift_constant(&self) -> Self::Lifted;
    /// The value parts of `lifted`.
    fn re_of(lifted: &Self::Lifted) -> Self;
    /// The tangent parts of `lifted`.
    fn eps_of(lifted: &Self::Lifted) -> Self;
    /// `(value parts, tangent parts)`.
    fn split(lifted: Self::Lifted) -> (Self, Self) {
        (Self::re_of(&lifted), Self::eps_of(&lifted))
    }
}

/// The value parts of `lifted` ([`DualParts::re_of`]), the result type naming `P`.
pub fn split_re<T: Real, P: DualParts<T>>(lifted: &P::Lifted) -> P {
    P::re_of(lifted)
}

/// The tangent parts of `lifted` ([`DualParts::eps_of`]), the result type naming `P`.
pub fn split_eps<T: Real, P: DualParts<T>>(lifted: &P::Lifted) -> P {
    P::eps_of(lifted)
}

impl<T: Real> DualParts<T> for T {
    type Lifted = Dual<T>;
    #[inline(always)]
    fn lift(&self, tangent: &T) -> Dual<T> {
        Dual::new(*self, *tangent)
    }
    #[inline(always)]
    fn lift_constant(&self) -> Dual<T> {
        Dual::constant(*self)
    }
    #[inline(always)]
    fn re_of(lifted: &Dual<T>) -> T {
        lifted.re
    }
    #[inline(always)]
    fn eps_of(lifted: &Dual<T>) -> T {
        lifted.eps
    }
}

impl<T: Real, R: Dim, C: Dim> DualParts<T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Lifted = OMatrix<Dual<T>, R, C>;
    fn lift(&self, tangent: &Self) -> Self::Lifted {
        assert_eq!(
            self.shape(),
            tangent.shape(),
            "DualParts::lift: a matrix and a tangent of another shape"
        );
        self.zip_map(tangent, Dual::new)
    }
    fn lift_constant(&self) -> Self::Lifted {
        self.map(Dual::constant)
    }
    fn re_of(lifted: &Self::Lifted) -> Self {
        lifted.map(|d| d.re)
    }
    fn eps_of(lifted: &Self::Lifted) -> Self {
        lifted.map(|d| d.eps)
    }
}

impl<T: Real, P: DualParts<T>> DualParts<T> for Vec<P> {
    type Lifted = Vec<P::Lifted>;
    fn lift(&self, tangent: &Self) -> Self::Lifted {
        assert_eq!(
            self.len(),
            tangent.len(),
            "DualParts::lift: a Vec and a tangent of another length"
        );
        self.iter().zip(tangent).map(|(x, t)| x.lift(t)).collect()
    }
    fn lift_constant(&self) -> Self::Lifted {
        self.iter().map(P::lift_constant).collect()
    }
    fn re_of(lifted: &Self::Lifted) -> Self {
        lifted.iter().map(P::re_of).collect()
    }
    fn eps_of(lifted: &Self::Lifted) -> Self {
        lifted.iter().map(P::eps_of).collect()
    }
}

impl<T: Real, P: DualParts<T>, const N: usize> DualParts<T> for [P; N] {
    type Lifted = [P::Lifted; N];
    fn lift(&self, tangent: &Self) -> Self::Lifted {
        std::array::from_fn(|i| self[i].lift(&tangent[i]))
    }
    fn lift_constant(&self) -> Self::Lifted {
        std::array::from_fn(|i| self[i].lift_constant())
    }
    fn re_of(lifted: &Self::Lifted) -> Self {
        std::array::from_fn(|i| P::re_of(&lifted[i]))
    }
    fn eps_of(lifted: &Self::Lifted) -> Self {
        std::array::from_fn(|i| P::eps_of(&lifted[i]))
    }
}

macro_rules! tuple_parts {
    ($(($($p:ident $i:tt),+))*) => {$(
        impl<T: Real, $($p: DualParts<T>),+> DualParts<T> for ($($p,)+) {
            type Lifted = ($($p::Lifted,)+);
            fn lift(&self, tangent: &Self) -> Self::Lifted {
                ($(self.$i.lift(&tangent.$i),)+)
            }
            fn lift_constant(&self) -> Self::Lifted {
                ($(self.$i.lift_constant(),)+)
            }
            fn re_of(lifted: &Self::Lifted) -> Self {
                ($($p::re_of(&lifted.$i),)+)
            }
            fn eps_of(lifted: &Self::Lifted) -> Self {
                ($($p::eps_of(&lifted.$i),)+)
            }
        }
    )*};
}
tuple_parts! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
}
