//! Ops that rearrange or pick elements: `transpose` and indexing (`v[i]`, `m[(i, j)]`).
//!
//! They are linear, so each adjoint is the transposed map: the cotangent is transposed
//! back, or added into the one element that was read.
//!
//! # Panics
//! An index out of bounds panics with the index and the matrix's shape, as nalgebra's
//! indexing does.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

use super::bounds::{check_linear, check_pair};
use super::matrix::{check_cotangent, ensure_shape};
use super::{OpName, Real, UnaryOp};

/// `x.transpose()`; the adjoint is the transposed cotangent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transpose;

/// `v[i]`: the element at linear (column-major, as in nalgebra) index `i`, a scalar; the
/// adjoint adds the cotangent at that index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index(pub usize);

/// `m[(i, j)]`: the element in row `i` and column `j`, a scalar; the adjoint adds the
/// cotangent at that position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index2(pub usize, pub usize);

impl<T: Real, R: Dim, C: Dim> UnaryOp<Transpose> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C> + Allocator<C, R>,
{
    type Output = OMatrix<T, C, R>;

    #[inline]
    fn forward(&self, _op: Transpose) -> Self::Output {
        let (rows, cols) = self.shape_generic();
        let (m, n) = (rows.value(), cols.value());
        let x = self.as_slice();
        // Column i of the n x m result is row i of `self`.
        let it = (0..m).flat_map(|i| (0..n).map(move |j| x[i + j * m]));
        crate::workspace::pooled_from_iter(cols, rows, it)
    }

    /// `gx += g^T`.
    fn vjp(&self, _op: Transpose, _y: &Self::Output, g: &Self::Output, gx: &mut Self) {
        if g.is_empty() {
            return;
        }
        let (m, n) = self.shape();
        check_cotangent(<Transpose as OpName>::TORCH_NAME, g.shape(), (n, m));
        ensure_shape(gx, m, n);
        if m == 0 {
            return;
        }
        let g = g.as_slice();
        // gx[i, j] += g[j, i]; g is n x m, so g[j, i] = g[j + i n].
        for (j, gcol) in gx.as_mut_slice().chunks_exact_mut(m).enumerate() {
            for (i, v) in gcol.iter_mut().enumerate() {
                *v += g[j + i * n];
            }
        }
    }
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<Index> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;

    fn forward(&self, op: Index) -> T {
        self.as_slice()[check_linear(op.0, self.shape())]
    }

    fn vjp(&self, op: Index, _y: &T, g: &T, gx: &mut Self) {
        let i = check_linear(op.0, self.shape());
        ensure_shape(gx, self.nrows(), self.ncols());
        gx.as_mut_slice()[i] += *g;
    }
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<Index2> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;

    fn forward(&self, op: Index2) -> T {
        self.as_slice()[check_pair("index", (op.0, op.1), self.shape())]
    }

    fn vjp(&self, op: Index2, _y: &T, g: &T, gx: &mut Self) {
        let i = check_pair("index", (op.0, op.1), self.shape());
        ensure_shape(gx, self.nrows(), self.ncols());
        gx.as_mut_slice()[i] += *g;
    }
}
