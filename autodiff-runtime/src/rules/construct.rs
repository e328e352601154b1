//! Values built from several differentiated values in a `#[differentiable]` body, and
//! the adjoints of their components.
//!
//! A tuple `(a, b)` or struct literal `Model { w, b }` is differentiated component by
//! component: its adjoint is a value of the same type (for tuples, the [`Adjoint`] impls
//! here: a symbolic zero per component), the reverse of the construction adds component
//! `k` of the cotangent into operand `k`'s adjoint, and a projection `t.0` accumulates
//! into that component. A vector built from scalars (`Vector3::new(a, b, c)`,
//! `vec![a, b]`, `[a, b]`, `DVector::from_vec(vec![a, b])`) gives operand `k` element `k`
//! of the cotangent ([`add_element`], [`add_entry_row_major`] for nalgebra's row-major
//! `Matrix2::new`), and `DMatrix::from_fn(r, c, |i, j| ..)` runs the closure's
//! vector-Jacobian product once per element ([`from_fn_vjp`]). `DVector::from_vec(v)` of
//! a differentiated `Vec` is [`dvector_from_vec`], `vec![x; n]` of a differentiated `x`
//! [`repeat_vec`].

use super::{Adjoint, Cotangent, Real};
use nalgebra::{allocator::Allocator, DVector, DefaultAllocator, Dim, OMatrix};

macro_rules! tuple_adjoint {
    ($(($($t:ident $i:tt),+)),+ $(,)?) => {$(
        impl<$($t: Adjoint),+> Adjoint for ($($t,)+) {
            #[inline]
            fn adjoint_zero() -> Self {
                ($($t::adjoint_zero(),)+)
            }
            #[inline]
            fn accumulate(&mut self, other: &Self) {
                $(self.$i.accumulate(&other.$i);)+
            }
            #[inline]
            fn accumulate_owned(&mut self, other: Self) {
                $(self.$i.accumulate_owned(other.$i);)+
            }
            #[inline]
            fn finish(self, primal: &Self) -> Self {
                ($(self.$i.finish(&primal.$i),)+)
            }
            #[inline]
            fn finish_contributed(self, primal: &Self) -> Self {
                ($(self.$i.finish_contributed(&primal.$i),)+)
            }
            #[inline]
            fn recycle(self) {
                $(self.$i.recycle();)+
            }
        }

        impl<$($t: Adjoint),+> Cotangent<($($t,)+)> for ($($t,)+) {
            #[inline]
            fn add_to(&self, acc: &mut ($($t,)+)) {
                acc.accumulate(self)
            }
            #[inline]
            fn add_owned(self, acc: &mut ($($t,)+)) {
                acc.accumulate_owned(self)
            }
        }
    )+};
}

tuple_adjoint!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7),
);

/// The symbolic zero adjoint of `primal`'s type (the type is all it reads), for an
/// aggregate whose components are read before anything else names its type.
#[inline(always)]
pub fn adjoint_zero_like<X: Adjoint>(_primal: &X) -> X {
    X::adjoint_zero()
}

/// A cotangent of a vector built from its elements: element `k` in storage order.
pub trait Elements {
    /// The element type.
    type Elem;
    /// Adds element `k` into `acc` (nothing when `self` is the symbolic zero).
    fn add_element_to(&self, k: usize, acc: &mut Self::Elem);
}

impl<X: Adjoint> Elements for Vec<X> {
    type Elem = X;
    #[inline]
    fn add_element_to(&self, k: usize, acc: &mut X) {
        if let Some(g) = self.get(k) {
            acc.accumulate(g);
        }
    }
}

impl<X: Adjoint, const N: usize> Elements for [X; N] {
    type Elem = X;
    #[inline]
    fn add_element_to(&self, k: usize, acc: &mut X) {
        acc.accumulate(&self[k]);
    }
}

impl<T: Real, R: Dim, C: Dim> Elements for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Elem = T;
    #[inline]
    fn add_element_to(&self, k: usize, acc: &mut T) {
        if let Some(&g) = self.as_slice().get(k) {
            *acc += g;
        }
    }
}

/// `acc += g[k]`, element `k` of a vector's cotangent in storage order.
#[inline(always)]
pub fn add_element<G: Elements>(g: &G, k: usize, acc: &mut G::Elem) {
    g.add_element_to(k, acc)
}

/// `acc += g[(k / ncols, k % ncols)]`: the cotangent of the `k`-th argument of
/// nalgebra's `Matrix::new(m11, m12, ..)`, whose arguments are the entries row by row.
#[inline]
pub fn add_entry_row_major<T: Real, R: Dim, C: Dim>(g: &OMatrix<T, R, C>, k: usize, acc: &mut T)
where
    DefaultAllocator: Allocator<R, C>,
{
    if g.is_empty() {
        return;
    }
    let c = g.ncols();
    *acc += g[(k / c, k % c)];
}

/// The reverse of `from_fn(.., f)`: `vjp(i, j, g[(i, j)])` for every element, where `vjp`
/// adds the closure's vector-Jacobian product at `(i, j)` into the adjoints of the values
/// it reads. Nothing runs for the symbolic zero.
#[inline]
pub fn from_fn_vjp<T: Real, R: Dim, C: Dim>(
    g: &OMatrix<T, R, C>,
    mut vjp: impl FnMut(usize, usize, T),
) where
    DefaultAllocator: Allocator<R, C>,
{
    for j in 0..g.ncols() {
        for i in 0..g.nrows() {
            vjp(i, j, g[(i, j)]);
        }
    }
}

/// `DVector::from_vec(v)` for a differentiated `Vec` (or slice) `v`: the cotangent is
/// the vector's cotangent as a `Vec`.
///
/// `#[differentiable]` calls it as it calls another differentiable function: `name` for
/// the value, `__ad_pullback_name` for the value and its pullback, `__ad_wrt_name` for
/// which operands take a gradient, `__ad_vjp_name` for both at once.
#[inline]
pub fn dvector_from_vec<T: Real, V: AsRef<[T]>>(v: V) -> DVector<T> {
    DVector::from_column_slice(v.as_ref())
}

/// The cotangent of `v` in `dvector_from_vec(v)` (the symbolic zero stays empty).
#[inline]
pub fn dvector_from_vec_vjp<T: Real>(g: DVector<T>) -> (Vec<T>,) {
    (g.data.into(),)
}

/// `dvector_from_vec` with its pullback, in the calling convention of `#[differentiable]`
/// callees.
#[doc(hidden)]
#[inline]
#[allow(clippy::type_complexity)]
pub fn __ad_pullback_dvector_from_vec<T: Real, V: AsRef<[T]>>(
    v: V,
) -> (DVector<T>, impl FnOnce(DVector<T>) -> (Vec<T>,)) {
    (dvector_from_vec(v), dvector_from_vec_vjp)
}

/// `dvector_from_vec`'s value and vector-Jacobian product in one call.
#[doc(hidden)]
#[inline]
pub fn __ad_vjp_dvector_from_vec<T: Real, V: AsRef<[T]>>(
    v: V,
    g: DVector<T>,
) -> (DVector<T>, (Vec<T>,)) {
    (dvector_from_vec(v), dvector_from_vec_vjp(g))
}

/// The vector takes a gradient.
#[doc(hidden)]
#[allow(non_upper_case_globals)]
pub const __ad_wrt_dvector_from_vec: [bool; 1] = [true];

/// `vec![x; n]` for a differentiated scalar `x`: the cotangent of `x` is the sum of the
/// vector's.
#[inline]
pub fn repeat_vec<T: Real>(x: T, n: usize) -> Vec<T> {
    vec![x; n]
}

/// `vec![x; n]` for a value that takes no gradient, as a function call (the macro renames
/// the variables of expressions, not of macro tokens): the same allocation as the macro
/// (zeroed memory for zeros).
#[inline(always)]
pub fn vec_of<T: Clone>(x: T, n: usize) -> Vec<T> {
    vec![x; n]
}

/// The cotangent of `x` in `repeat_vec(x, n)`.
#[inline]
pub fn repeat_vec_vjp<T: Real>(g: &[T]) -> (T, super::NotDifferentiated) {
    (
        g.iter().fold(T::zero(), |acc, &e| acc + e),
        super::NotDifferentiated,
    )
}

/// `repeat_vec` with its pullback, in the calling convention of `#[differentiable]` callees.
#[doc(hidden)]
#[inline]
#[allow(clippy::type_complexity)]
pub fn __ad_pullback_repeat_vec<T: Real>(
    x: T,
    n: usize,
) -> (Vec<T>, impl FnOnce(Vec<T>) -> (T, super::NotDifferentiated)) {
    (repeat_vec(x, n), |g: Vec<T>| repeat_vec_vjp(&g))
}

/// `repeat_vec`'s value and vector-Jacobian product in one call.
#[doc(hidden)]
#[inline]
pub fn __ad_vjp_repeat_vec<T: Real>(
    x: T,
    n: usize,
    g: Vec<T>,
) -> (Vec<T>, (T, super::NotDifferentiated)) {
    (repeat_vec(x, n), repeat_vec_vjp(&g))
}

/// The element takes a gradient, the length does not.
#[doc(hidden)]
#[allow(non_upper_case_globals)]
pub const __ad_wrt_repeat_vec: [bool; 2] = [true, false];

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector, Matrix2, Vector3};

    #[test]
    fn tuple_adjoints_are_symbolic_zeros_per_component() {
        let mut a: (f64, DMatrix<f64>) = Adjoint::adjoint_zero();
        assert!(a.1.is_empty());
        a.accumulate(&(1.5, DMatrix::from_element(2, 1, 2.0)));
        a.accumulate(&(0.5, DMatrix::zeros(0, 0)));
        assert_eq!(a.0, 2.0);
        assert_eq!(a.1, DMatrix::from_element(2, 1, 2.0));
        let primal = (0.0, DMatrix::<f64>::zeros(3, 2));
        let z: (f64, DMatrix<f64>) = adjoint_zero_like(&primal).finish(&primal);
        assert_eq!(z.0.to_bits(), 0.0_f64.to_bits());
        assert_eq!(z.1.shape(), (3, 2));
    }

    #[test]
    fn vector_cotangents_give_each_element_back() {
        let mut acc = 1.0;
        add_element(&vec![0.5, 0.25], 1, &mut acc);
        add_element(&Vec::<f64>::new(), 1, &mut acc);
        assert_eq!(acc, 1.25);
        add_element(&DVector::from_vec(vec![1.0, 2.0, 3.0]), 2, &mut acc);
        add_element(&Vector3::new(1.0, 2.0, 4.0), 2, &mut acc);
        assert_eq!(acc, 8.25);
        let g = Matrix2::new(1.0, 2.0, 3.0, 4.0);
        let mut e = 0.0;
        add_entry_row_major(&g, 1, &mut e);
        assert_eq!(e, 2.0, "the second argument of Matrix2::new is m12");
    }

    #[test]
    fn from_fn_visits_every_element_with_its_cotangent() {
        let g = DMatrix::from_fn(2, 3, |i, j| (10 * i + j) as f64);
        let mut seen = Vec::new();
        from_fn_vjp(&g, |i, j, gij| seen.push((i, j, gij)));
        assert_eq!(seen.len(), 6);
        assert!(seen.iter().all(|&(i, j, gij)| gij == (10 * i + j) as f64));
        from_fn_vjp(&DMatrix::<f64>::zeros(0, 0), |_, _, _| {
            panic!("no elements")
        });
    }

    #[test]
    fn from_vec_gives_the_cotangent_back_as_a_vec() {
        let (v, pb) = __ad_pullback_dvector_from_vec(vec![1.0_f32, 2.0]);
        assert_eq!(v, DVector::from_vec(vec![1.0, 2.0]));
        assert_eq!(pb(DVector::from_vec(vec![0.5, -1.0])), (vec![0.5, -1.0],));
        assert_eq!(
            dvector_from_vec_vjp(DVector::<f64>::zeros(0)),
            (Vec::new(),)
        );
    }

    #[test]
    fn a_repeated_element_gets_the_sum_of_the_cotangent() {
        assert_eq!(repeat_vec(1.5, 3), vec![1.5; 3]);
        assert_eq!(repeat_vec_vjp(&[0.5, 0.25, 1.0]).0, 1.75);
        assert_eq!(repeat_vec_vjp::<f64>(&[]).0, 0.0);
    }
}
