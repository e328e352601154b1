//! What `name_jvp`, `name_hvp` and `name_hessian` (the `jvp` and `hvp` options of
//! `#[differentiable]`) call: arguments lifted to dual numbers with their tangents,
//! results split back into values and tangents, and the Hessian assembled column by
//! column from Hessian-vector products.
//!
//! The lifting and splitting are [`DualParts`]'s, in the form the generated code needs:
//! arguments as written (a slice parameter's tangent is the gradient's `Vec`), and
//! results split by their lifted type (no type annotation at the call).

use crate::dual::{Dual, DualParts};
use crate::rules::Real;
use crate::tangent::Tangent;
use nalgebra::allocator::Allocator;
use nalgebra::{DMatrix, DefaultAllocator, Dim, OMatrix};

/// An argument that runs on dual numbers: a float, a matrix of floats, a slice, `Vec` or
/// array of floats.
pub trait DualArg {
    /// The same value with a tangent next to every element.
    type Lifted;
    /// The tangent's type: the argument's own (a slice's is a slice).
    type Tangent: ?Sized;
    /// The value with tangent `t` (`re` from `self`, `eps` from `t`).
    ///
    /// # Panics
    /// When `t` does not have the shape of `self`.
    fn lift(&self, t: &Self::Tangent) -> Self::Lifted;
    /// The value with a zero tangent (a constant of the computation).
    fn lift_constant(&self) -> Self::Lifted;
}

impl<T: Real> DualArg for T {
    type Lifted = Dual<T>;
    type Tangent = T;
    #[inline]
    fn lift(&self, t: &T) -> Dual<T> {
        DualParts::lift(self, t)
    }
    #[inline]
    fn lift_constant(&self) -> Dual<T> {
        DualParts::lift_constant(self)
    }
}

impl<T: Real, R: Dim, C: Dim> DualArg for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Lifted = OMatrix<Dual<T>, R, C>;
    type Tangent = OMatrix<T, R, C>;
    fn lift(&self, t: &Self::Tangent) -> Self::Lifted {
        assert_eq!(
            self.shape(),
            t.shape(),
            "the tangent of a {:?} matrix has shape {:?}: give a tangent of the parameter's shape",
            self.shape(),
            t.shape()
        );
        DualParts::lift(self, t)
    }
    fn lift_constant(&self) -> Self::Lifted {
        DualParts::lift_constant(self)
    }
}

fn lift_slice<P: DualArg<Tangent = P>>(x: &[P], t: &[P]) -> Vec<P::Lifted> {
    assert_eq!(
        x.len(),
        t.len(),
        "the tangent of a sequence of {} elements has {}: give a tangent of the parameter's length",
        x.len(),
        t.len()
    );
    x.iter().zip(t).map(|(x, t)| x.lift(t)).collect()
}

impl<P: DualArg<Tangent = P>> DualArg for [P] {
    type Lifted = Vec<P::Lifted>;
    type Tangent = [P];
    fn lift(&self, t: &[P]) -> Vec<P::Lifted> {
        lift_slice(self, t)
    }
    fn lift_constant(&self) -> Vec<P::Lifted> {
        self.iter().map(P::lift_constant).collect()
    }
}

impl<P: DualArg<Tangent = P>> DualArg for Vec<P> {
    type Lifted = Vec<P::Lifted>;
    type Tangent = [P];
    fn lift(&self, t: &[P]) -> Vec<P::Lifted> {
        lift_slice(self, t)
    }
    fn lift_constant(&self) -> Vec<P::Lifted> {
        self[..].lift_constant()
    }
}

impl<P: DualArg<Tangent = P>, const N: usize> DualArg for [P; N] {
    type Lifted = [P::Lifted; N];
    type Tangent = [P];
    fn lift(&self, t: &[P]) -> [P::Lifted; N] {
        assert_eq!(
            t.len(),
            N,
            "the tangent of an array of {N} elements has {}: give a tangent of the parameter's length",
            t.len()
        );
        std::array::from_fn(|i| self[i].lift(&t[i]))
    }
    fn lift_constant(&self) -> [P::Lifted; N] {
        std::array::from_fn(|i| self[i].lift_constant())
    }
}

/// The dual twin of a `#[derive(Tangent)]` struct: the same fields on the scalar `S`
/// (`DMatrix<f64>` as `DMatrix<S>`), which `jvp` and `hvp` functions run on at
/// `S = Dual<f64>`. The derive implements it for a struct whose fields (all but
/// `#[tangent(skip)]` ones) are written with `f64` or `f32`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no dual twin, so a `jvp` or `hvp` function cannot differentiate it",
    note = "`#[derive(Tangent)]` gives a twin to a struct whose every differentiated field is written with `f64` or `f32` (`DMatrix<f64>`, `Vec<f64>`, `f64`); pass the fields of other structs as parameters of their own"
)]
pub trait DualStruct<S: Real> {
    /// The struct on `S`.
    type Twin: Tangent<Scalar = S> + Clone + std::fmt::Debug;
}

/// `x` with tangent `t`: see [`DualArg::lift`].
#[inline]
pub fn dual_lift<A: DualArg + ?Sized>(x: &A, t: &A::Tangent) -> A::Lifted {
    x.lift(t)
}

/// `x` with a zero tangent: see [`DualArg::lift_constant`].
#[inline]
pub fn dual_constant<A: DualArg + ?Sized>(x: &A) -> A::Lifted {
    x.lift_constant()
}

/// A result computed on dual numbers, split into its value and its tangent.
pub trait DualSplit {
    /// The value's type (the tangent's too).
    type Parts;
    /// `(re, eps)`.
    fn split(self) -> (Self::Parts, Self::Parts);
}

impl<T: Real> DualSplit for Dual<T> {
    type Parts = T;
    #[inline]
    fn split(self) -> (T, T) {
        <T as DualParts<T>>::split(self)
    }
}

impl<T: Real, R: Dim, C: Dim> DualSplit for OMatrix<Dual<T>, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Parts = OMatrix<T, R, C>;
    fn split(self) -> (Self::Parts, Self::Parts) {
        <OMatrix<T, R, C> as DualParts<T>>::split(self)
    }
}

impl<P: DualSplit> DualSplit for Vec<P> {
    type Parts = Vec<P::Parts>;
    fn split(self) -> (Vec<P::Parts>, Vec<P::Parts>) {
        self.into_iter().map(P::split).unzip()
    }
}

impl<P: DualSplit, const N: usize> DualSplit for [P; N] {
    type Parts = [P::Parts; N];
    fn split(self) -> ([P::Parts; N], [P::Parts; N]) {
        let (re, eps): (Vec<P::Parts>, Vec<P::Parts>) = self.into_iter().map(P::split).unzip();
        let array = |v: Vec<P::Parts>| -> [P::Parts; N] {
            v.try_into()
                .unwrap_or_else(|_| unreachable!("N elements split into N parts"))
        };
        (array(re), array(eps))
    }
}

macro_rules! tuple_split {
    ($(($($name:ident $idx:tt),+))*) => {$(
        impl<$($name: DualSplit),+> DualSplit for ($($name,)+) {
            type Parts = ($($name::Parts,)+);
            fn split(self) -> (Self::Parts, Self::Parts) {
                let parts = ($(self.$idx.split(),)+);
                (($(parts.$idx.0,)+), ($(parts.$idx.1,)+))
            }
        }
    )*};
}
tuple_split! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
}

/// `v.split()`: see [`DualSplit`].
#[inline]
pub fn dual_split<V: DualSplit>(v: V) -> (V::Parts, V::Parts) {
    v.split()
}

/// The full Hessian from Hessian-vector products: column `i` is `hvp(e_i)`, where `e_i`
/// is `like` with `1` at flat position `i` (in `Tangent` order) and `0` elsewhere.
/// Returns the value and gradient of the last product (all products compute the same)
/// and the `n x n` Hessian, `n` the number of scalars of `like`.
pub fn hessian_columns<T: Real, R, G: Tangent<Scalar = T>>(
    like: G,
    mut hvp: impl FnMut(&G) -> (R, G, G),
) -> (R, G, DMatrix<T>) {
    let mut n = 0;
    like.visit(&mut |leaf| n += leaf.len());
    let mut hessian = DMatrix::zeros(n, n);
    let mut unit = like.zero_like();
    if n == 0 {
        let (value, grad, _) = hvp(&unit);
        return (value, grad, hessian);
    }
    let mut last = None;
    for i in 0..n {
        set_flat(&mut unit, i, T::one());
        let (value, grad, hv) = hvp(&unit);
        set_flat(&mut unit, i, T::zero());
        let mut row = 0;
        hv.visit(&mut |leaf| {
            for &x in leaf {
                hessian[(row, i)] = x;
                row += 1;
            }
        });
        debug_assert_eq!(
            row, n,
            "the Hessian-vector product has the gradient's structure"
        );
        last = Some((value, grad));
    }
    let (value, grad) = last.expect("n > 0 products ran");
    (value, grad, hessian)
}

/// Sets the scalar at flat position `i` of `t`.
fn set_flat<T: Real, G: Tangent<Scalar = T>>(t: &mut G, i: usize, value: T) {
    let mut start = 0;
    t.visit_mut(&mut |leaf| {
        if (start..start + leaf.len()).contains(&i) {
            leaf[i - start] = value;
        }
        start += leaf.len();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DVector;

    #[test]
    fn lifted_values_split_back() {
        let m = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
        let t = DMatrix::from_row_slice(2, 2, &[0.5, 0.0, -1.0, 2.0]);
        let (re, eps) = dual_split(dual_lift(&m, &t));
        assert_eq!((re, eps), (m.clone(), t));
        let (re, eps) = dual_split(dual_constant(&m));
        assert_eq!((re, eps), (m, DMatrix::zeros(2, 2)));
        let x = [1.0, 2.0, 3.0];
        let (re, eps) = dual_split(dual_lift(&x[..], &[3.0, 2.0, 1.0][..]));
        assert_eq!((re, eps), (vec![1.0, 2.0, 3.0], vec![3.0, 2.0, 1.0]));
        let (re, eps) = dual_split((dual_lift(&2.0f64, &1.0), dual_constant(&x)));
        assert_eq!(re, (2.0, x));
        assert_eq!(eps, (1.0, [0.0; 3]));
    }

    #[test]
    #[should_panic(expected = "give a tangent of the parameter's shape")]
    fn a_tangent_of_another_shape_is_refused() {
        let m = DMatrix::<f64>::zeros(2, 2);
        let _ = dual_lift(&m, &DMatrix::zeros(2, 3));
    }

    #[test]
    fn hessian_columns_are_the_products_with_unit_vectors() {
        // f(x) = x0^2 x1 + x1^3: H = [[2 x1, 2 x0], [2 x0, 6 x1]].
        let x: DVector<f64> = DVector::from_vec(vec![1.5, -2.0]);
        let hvp = |v: &DVector<f64>| {
            let h =
                DMatrix::from_row_slice(2, 2, &[2.0 * x[1], 2.0 * x[0], 2.0 * x[0], 6.0 * x[1]]);
            let g = DVector::from_vec(vec![2.0 * x[0] * x[1], x[0] * x[0] + 3.0 * x[1] * x[1]]);
            (x[0] * x[0] * x[1] + x[1].powi(3), g, &h * v)
        };
        let (value, grad, h) = hessian_columns(DVector::zeros(2), hvp);
        assert_eq!(value, 1.5 * 1.5 * -2.0 - 8.0);
        assert_eq!(grad[0], -6.0);
        assert_eq!(h, DMatrix::from_row_slice(2, 2, &[-4.0, 3.0, 3.0, -12.0]));
    }
}
