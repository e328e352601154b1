//! What the reverse pass of `v[i]` keeps of a local `v`: its shape, not its elements.
//!
//! The adjoint of `v[i]` adds the cotangent at index `i` of `v`'s adjoint, sizing that
//! adjoint first when it is still the symbolic zero: it needs `v`'s length or shape, never
//! its values. Inside a loop `#[differentiable]` therefore saves [`index_shape`] of a local
//! vector or matrix on the loop's tape (two words) rather than a copy of it, and the
//! reverse pass calls [`index_vjp`] with that shape.
//!
//! ```
//! use autodiff_runtime::rules::{index_shape, index_vjp, Index};
//! let v = vec![1.0_f64, 2.0, 3.0];
//! let shape = index_shape(&v);
//! let mut gv: Vec<f64> = Vec::new(); // the symbolic zero
//! index_vjp(Index(1), &shape, &0.5, &mut gv);
//! assert_eq!(gv, vec![0.0, 0.5, 0.0]);
//! ```

use super::matrix::ensure_shape;
use super::{Index, Index2, Real};
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

/// The length of a `Vec` or array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqShape(pub usize);

/// The rows and columns of a matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatShape(pub usize, pub usize);

/// A container indexed by `v[i]` in differentiated code, with the shape its index's
/// adjoint needs.
pub trait IndexShape {
    /// [`SeqShape`] or [`MatShape`].
    type Shape: Copy;
    /// The shape of `self`.
    fn index_shape(&self) -> Self::Shape;
}

impl<T> IndexShape for Vec<T> {
    type Shape = SeqShape;
    #[inline(always)]
    fn index_shape(&self) -> SeqShape {
        SeqShape(self.len())
    }
}

impl<T, const N: usize> IndexShape for [T; N] {
    type Shape = SeqShape;
    #[inline(always)]
    fn index_shape(&self) -> SeqShape {
        SeqShape(N)
    }
}

impl<T: Real, R: Dim, C: Dim> IndexShape for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Shape = MatShape;
    #[inline(always)]
    fn index_shape(&self) -> MatShape {
        MatShape(self.nrows(), self.ncols())
    }
}

/// The adjoint of an index op (`Op` is [`Index`] or [`Index2`]) from the indexed value's
/// shape alone, into an adjoint of type `A`.
pub trait IndexVjp<Op, A> {
    /// The element type.
    type Elem;
    /// `gx[op's index] += g`, sizing a symbolic-zero `gx` to the shape first.
    fn index_vjp(&self, op: Op, g: &Self::Elem, gx: &mut A);
}

impl<T: Real> IndexVjp<Index, Vec<T>> for SeqShape {
    type Elem = T;
    #[inline(always)]
    fn index_vjp(&self, op: Index, g: &T, gx: &mut Vec<T>) {
        if gx.is_empty() {
            // A new vector by value: `gx` is not borrowed by a call that is not inlined.
            *gx = vec![T::zero(); self.0];
        }
        add_at(op.0, self.0, g, gx);
    }
}

impl<T: Real, const N: usize> IndexVjp<Index, [T; N]> for SeqShape {
    type Elem = T;
    #[inline(always)]
    fn index_vjp(&self, op: Index, g: &T, gx: &mut [T; N]) {
        add_at(op.0, self.0, g, gx);
    }
}

#[inline(always)]
fn add_at<T: Real>(i: usize, len: usize, g: &T, gx: &mut [T]) {
    assert_eq!(
        gx.len(),
        len,
        "index: the adjoint's length is not its value's"
    );
    gx[super::bounds::check_seq(i, len, "a sequence")] += *g;
}

impl<T: Real, R: Dim, C: Dim> IndexVjp<Index, OMatrix<T, R, C>> for MatShape
where
    DefaultAllocator: Allocator<R, C>,
{
    type Elem = T;
    #[inline(always)]
    fn index_vjp(&self, op: Index, g: &T, gx: &mut OMatrix<T, R, C>) {
        ensure_shape(gx, self.0, self.1);
        add_at(op.0, self.0 * self.1, g, gx.as_mut_slice());
    }
}

impl<T: Real, R: Dim, C: Dim> IndexVjp<Index2, OMatrix<T, R, C>> for MatShape
where
    DefaultAllocator: Allocator<R, C>,
{
    type Elem = T;
    #[inline(always)]
    fn index_vjp(&self, op: Index2, g: &T, gx: &mut OMatrix<T, R, C>) {
        let k = super::bounds::check_pair("index", (op.0, op.1), (self.0, self.1));
        ensure_shape(gx, self.0, self.1);
        gx.as_mut_slice()[k] += *g;
    }
}

/// The shape of `x` that the reverse of `x[i]` needs.
#[inline(always)]
pub fn index_shape<X: IndexShape + ?Sized>(x: &X) -> X::Shape {
    x.index_shape()
}

/// The reverse of `x[i]` from `x`'s shape: adds `g` at the index into `gx`.
#[inline(always)]
pub fn index_vjp<Op, A, S: IndexVjp<Op, A>>(op: Op, shape: &S, g: &S::Elem, gx: &mut A) {
    shape.index_vjp(op, g, gx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::unary_vjp;
    use nalgebra::{DMatrix, Matrix2};

    #[test]
    fn agrees_with_the_rule_that_reads_the_value() {
        let v = vec![1.0_f64, 2.0, 3.0];
        let (mut by_value, mut by_shape) = (Vec::new(), Vec::new());
        unary_vjp(Index(2), &v, &3.0, &1.5, &mut by_value);
        index_vjp(Index(2), &index_shape(&v), &1.5, &mut by_shape);
        assert_eq!(by_value, by_shape);

        let m = DMatrix::from_row_slice(2, 3, &[1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let (mut a, mut b) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        unary_vjp(Index2(1, 2), &m, &6.0, &2.0, &mut a);
        index_vjp(Index2(1, 2), &index_shape(&m), &2.0, &mut b);
        assert_eq!(a, b);
        let (mut a, mut b) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        unary_vjp(Index(3), &m, &5.0, &2.0, &mut a);
        index_vjp(Index(3), &index_shape(&m), &2.0, &mut b);
        assert_eq!(a, b);

        let fixed = Matrix2::new(1.0_f64, 2.0, 3.0, 4.0);
        let mut g = Matrix2::zeros();
        index_vjp(Index2(0, 1), &index_shape(&fixed), &0.25, &mut g);
        assert_eq!(g[(0, 1)], 0.25);
        let mut a = [0.0_f64; 3];
        index_vjp(Index(0), &index_shape(&[1.0_f64, 2.0, 3.0]), &4.0, &mut a);
        assert_eq!(a, [4.0, 0.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "index (2, 0) is out of bounds for a 2x2 matrix")]
    fn an_index_past_the_end_names_the_shape() {
        let mut g = DMatrix::<f64>::zeros(0, 0);
        index_vjp(Index2(2, 0), &MatShape(2, 2), &1.0, &mut g);
    }
}
