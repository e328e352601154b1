//! Reductions of a matrix: `sum`, `mean`, `norm`, `norm_squared` (to a scalar) and
//! nalgebra's `row_sum` / `column_sum` (to a vector).
//!
//! Each adjoint spreads the cotangent back over the reduced elements in one loop into
//! the existing adjoint buffer.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix, U1};

use super::matrix::{check_cotangent, ensure_shape, zeros};
use super::{OpName, Real, UnaryOp};

macro_rules! marker {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;
        // Its `OpName` comes from the op table's row.
    };
}

marker!(
    /// `x.sum()`: the sum of all elements; `d/dx_i = 1`.
    Sum
);
marker!(
    /// `x.mean()`: the mean of all elements (NaN for an empty matrix); `d/dx_i = 1/len`.
    Mean
);
marker!(
    /// `x.norm()`: the Euclidean (Frobenius) norm `sqrt(sum x_i^2)`; `d/dx_i = x_i / norm`,
    /// and 0 where the norm is 0 (PyTorch's subgradient).
    Norm
);
marker!(
    /// `x.norm_squared()`: `sum x_i^2`; `d/dx_i = 2 x_i`. PyTorch spells it
    /// `x.pow(2).sum()`, whose last node is `SumBackward0`.
    NormSquared
);
marker!(
    /// `x.row_sum()` (nalgebra): the sum of the rows, a `1 x ncols` row vector holding
    /// each column's sum (PyTorch's `x.sum(0)`); `d/dx_ij = g_j`.
    RowSum
);
marker!(
    /// `x.column_sum()` (nalgebra): the sum of the columns, an `nrows x 1` column vector
    /// holding each row's sum (PyTorch's `x.sum(1)`); `d/dx_ij = g_i`.
    ColumnSum
);

/// `gx += c` for every element, after sizing an empty `gx`.
fn add_constant<T: Real, R: Dim, C: Dim>(x: &OMatrix<T, R, C>, gx: &mut OMatrix<T, R, C>, c: T)
where
    DefaultAllocator: Allocator<R, C>,
{
    ensure_shape(gx, x.nrows(), x.ncols());
    for v in gx.as_mut_slice() {
        *v += c;
    }
}

fn sum<T: Real>(x: &[T]) -> T {
    let mut s = T::zero();
    for &v in x {
        s += v;
    }
    s
}

fn sum_squares<T: Real>(x: &[T]) -> T {
    let mut s = T::zero();
    for &v in x {
        s += v * v;
    }
    s
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<Sum> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;

    fn forward(&self, _op: Sum) -> T {
        sum(self.as_slice())
    }

    fn vjp(&self, _op: Sum, _y: &T, g: &T, gx: &mut Self) {
        add_constant(self, gx, *g);
    }
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<Mean> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;

    fn forward(&self, _op: Mean) -> T {
        sum(self.as_slice()) / T::c(self.len() as f64)
    }

    fn vjp(&self, _op: Mean, _y: &T, g: &T, gx: &mut Self) {
        add_constant(self, gx, *g / T::c(self.len() as f64));
    }
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<Norm> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;

    fn forward(&self, _op: Norm) -> T {
        num_traits::Float::sqrt(sum_squares(self.as_slice()))
    }

    fn vjp(&self, _op: Norm, y: &T, g: &T, gx: &mut Self) {
        ensure_shape(gx, self.nrows(), self.ncols());
        if *y == T::zero() {
            return;
        }
        let s = *g / *y;
        for (gx, &x) in gx.as_mut_slice().iter_mut().zip(self.as_slice()) {
            *gx += s * x;
        }
    }
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<NormSquared> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;

    fn forward(&self, _op: NormSquared) -> T {
        sum_squares(self.as_slice())
    }

    fn vjp(&self, _op: NormSquared, _y: &T, g: &T, gx: &mut Self) {
        ensure_shape(gx, self.nrows(), self.ncols());
        let s = *g + *g;
        for (gx, &x) in gx.as_mut_slice().iter_mut().zip(self.as_slice()) {
            *gx += s * x;
        }
    }
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<RowSum> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C> + Allocator<U1, C>,
{
    type Output = OMatrix<T, U1, C>;

    fn forward(&self, _op: RowSum) -> Self::Output {
        let (m, n) = self.shape();
        let mut out: Self::Output = zeros(1, n, "row sum");
        if m > 0 {
            for (o, col) in out
                .as_mut_slice()
                .iter_mut()
                .zip(self.as_slice().chunks_exact(m))
            {
                *o = sum(col);
            }
        }
        out
    }

    fn vjp(&self, _op: RowSum, _y: &Self::Output, g: &Self::Output, gx: &mut Self) {
        if g.is_empty() {
            return;
        }
        let (m, n) = self.shape();
        check_cotangent(<RowSum as OpName>::TORCH_NAME, g.shape(), (1, n));
        ensure_shape(gx, m, n);
        if m > 0 {
            for (gcol, &gj) in gx.as_mut_slice().chunks_exact_mut(m).zip(g.as_slice()) {
                for v in gcol {
                    *v += gj;
                }
            }
        }
    }
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<ColumnSum> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C> + Allocator<R, U1>,
{
    type Output = OMatrix<T, R, U1>;

    fn forward(&self, _op: ColumnSum) -> Self::Output {
        let (m, _) = self.shape();
        let mut out: Self::Output = zeros(m, 1, "column sum");
        if m > 0 {
            let o = out.as_mut_slice();
            for col in self.as_slice().chunks_exact(m) {
                for (o, &v) in o.iter_mut().zip(col) {
                    *o += v;
                }
            }
        }
        out
    }

    fn vjp(&self, _op: ColumnSum, _y: &Self::Output, g: &Self::Output, gx: &mut Self) {
        if g.is_empty() {
            return;
        }
        let (m, n) = self.shape();
        check_cotangent(<ColumnSum as OpName>::TORCH_NAME, g.shape(), (m, 1));
        ensure_shape(gx, m, n);
        if m > 0 {
            for gcol in gx.as_mut_slice().chunks_exact_mut(m) {
                for (v, &gi) in gcol.iter_mut().zip(g.as_slice()) {
                    *v += gi;
                }
            }
        }
    }
}
