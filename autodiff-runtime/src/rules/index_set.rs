//! `out[i] = x` and `m[(i, j)] = x` into a local vector or matrix of a
//! `#[differentiable]` function, as the value `index_set(out, x, i)`: `out` with element
//! `i` replaced by `x`. The cotangent of `x` is element `i` of the result's; the
//! cotangent of the old `out` is the result's with element `i` zeroed (it was
//! overwritten).
//!
//! `#[differentiable]` calls it as it calls another differentiable function: `name` for
//! the value, `__ad_pullback_name` for the value and its pullback, `__ad_wrt_name` for
//! which operands take a gradient, `__ad_vjp_name` for both at once.

use super::{NotDifferentiated, Real};
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// A container whose elements can be written by an index of type `I`.
pub trait SetAt<I>: Sized {
    /// The element type.
    type Elem: Real;
    /// Writes element `i`.
    fn set_at(&mut self, i: I, x: Self::Elem);
    /// Reads element `i` of a cotangent: zero when it is the symbolic zero (empty).
    fn cotangent_at(&self, i: I) -> Self::Elem;
}

impl<T: Real> SetAt<usize> for Vec<T> {
    type Elem = T;
    fn set_at(&mut self, i: usize, x: T) {
        let i = super::bounds::check_seq(i, self.len(), "a vector");
        self[i] = x;
    }
    fn cotangent_at(&self, i: usize) -> T {
        self.get(i).copied().unwrap_or_else(T::zero)
    }
}

impl<T: Real, const N: usize> SetAt<usize> for [T; N] {
    type Elem = T;
    fn set_at(&mut self, i: usize, x: T) {
        let i = super::bounds::check_seq(i, N, "an array");
        self[i] = x;
    }
    fn cotangent_at(&self, i: usize) -> T {
        self[i]
    }
}

impl<T: Real, R: Dim, C: Dim> SetAt<usize> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Elem = T;
    fn set_at(&mut self, i: usize, x: T) {
        let i = super::bounds::check_linear(i, self.shape());
        self[i] = x;
    }
    fn cotangent_at(&self, i: usize) -> T {
        self.as_slice().get(i).copied().unwrap_or_else(T::zero)
    }
}

impl<T: Real, R: Dim, C: Dim> SetAt<(usize, usize)> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Elem = T;
    fn set_at(&mut self, (i, j): (usize, usize), x: T) {
        let k = super::bounds::check_pair("index", (i, j), self.shape());
        self.as_mut_slice()[k] = x;
    }
    fn cotangent_at(&self, (i, j): (usize, usize)) -> T {
        if self.is_empty() {
            T::zero()
        } else {
            self[(i, j)]
        }
    }
}

/// `out` with element `i` replaced by `x`.
#[inline]
pub fn index_set<C: SetAt<I>, I>(mut out: C, x: C::Elem, i: I) -> C {
    out.set_at(i, x);
    out
}

/// The cotangents of `index_set(out, x, i)` for the result's cotangent `g`.
#[inline]
pub fn index_set_vjp<C: SetAt<I> + IsEmpty, I: Copy>(
    mut g: C,
    i: I,
) -> (C, C::Elem, NotDifferentiated) {
    let gx = g.cotangent_at(i);
    if !g.is_symbolic_zero() {
        g.set_at(i, <C::Elem as num_traits::Zero>::zero());
    }
    (g, gx, NotDifferentiated)
}

/// The type of `out` as a value of no size: the reverse pass of an index write, which keeps
/// no pullback, names the container's type with it ([`index_set_vjp_of`]).
#[inline(always)]
pub fn type_witness<C>(_out: &C) -> std::marker::PhantomData<C> {
    std::marker::PhantomData
}

/// [`index_set_vjp`] for a cotangent of the type `ty` names.
#[inline(always)]
pub fn index_set_vjp_of<C: SetAt<I> + IsEmpty, I: Copy>(
    g: C,
    i: I,
    _ty: std::marker::PhantomData<C>,
) -> (C, C::Elem, NotDifferentiated) {
    index_set_vjp(g, i)
}

/// Whether a cotangent is the symbolic zero (an empty container).
pub trait IsEmpty {
    /// Empty: no contribution arrived.
    fn is_symbolic_zero(&self) -> bool;
}

impl<T> IsEmpty for Vec<T> {
    fn is_symbolic_zero(&self) -> bool {
        self.is_empty()
    }
}

impl<T, const N: usize> IsEmpty for [T; N] {
    fn is_symbolic_zero(&self) -> bool {
        false
    }
}

impl<T: Real, R: Dim, C: Dim> IsEmpty for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn is_symbolic_zero(&self) -> bool {
        self.is_empty()
    }
}

/// `index_set` with its pullback, in the calling convention of `#[differentiable]` callees.
#[doc(hidden)]
#[inline]
#[allow(clippy::type_complexity)]
pub fn __ad_pullback_index_set<C: SetAt<I> + IsEmpty, I: Copy>(
    out: C,
    x: C::Elem,
    i: I,
) -> (C, impl FnOnce(C) -> (C, C::Elem, NotDifferentiated)) {
    (index_set(out, x, i), move |g| index_set_vjp(g, i))
}

/// `index_set`'s value and vector-Jacobian product in one call.
#[doc(hidden)]
#[inline]
pub fn __ad_vjp_index_set<C: SetAt<I> + IsEmpty, I: Copy>(
    out: C,
    x: C::Elem,
    i: I,
    g: C,
) -> (C, (C, C::Elem, NotDifferentiated)) {
    (index_set(out, x, i), index_set_vjp(g, i))
}

/// The container and the element take a gradient, the index does not.
#[doc(hidden)]
#[allow(non_upper_case_globals)]
pub const __ad_wrt_index_set: [bool; 3] = [true, true, false];

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn writes_one_element_and_splits_the_cotangent() {
        let v = index_set(vec![1.0, 2.0, 3.0], 9.0, 1);
        assert_eq!(v, vec![1.0, 9.0, 3.0]);
        let (g, gx, _) = index_set_vjp(vec![0.5, 0.25, 0.125], 1);
        assert_eq!((g, gx), (vec![0.5, 0.0, 0.125], 0.25));
        let (g, gx, _) = index_set_vjp(Vec::<f64>::new(), 1);
        assert_eq!((g, gx), (Vec::new(), 0.0));
        let m = index_set(DMatrix::<f64>::zeros(2, 2), 4.0, (1, 0));
        assert_eq!(m[(1, 0)], 4.0);
        let (g, gx, _) = index_set_vjp(DMatrix::from_element(2, 2, 1.0), (0, 1));
        assert_eq!((g[(0, 1)], g[(1, 1)], gx), (0.0, 1.0, 1.0));
    }

    #[test]
    #[should_panic(expected = "out of bounds for a vector of 2 elements")]
    fn an_index_past_the_end_names_the_length() {
        let _ = index_set(vec![1.0, 2.0], 0.0, 2);
    }
}
