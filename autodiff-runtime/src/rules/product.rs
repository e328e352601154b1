//! Products: the matrix product (`Mul` between two matrices) and the dot product.
//!
//! For `Y = A B` with cotangent `G` the adjoints are `dA += G B^T` and `dB += A^T G`,
//! computed in place by the crate's `gemm` kernels without materialising a
//! transpose. Matrix times vector, row vector times matrix and the outer product
//! (column times row) are the same rule.
//!
//! # Panics
//! If the left operand's column count differs from the right one's row count (a
//! compile error instead where both are fixed sizes); the message names both shapes.

use nalgebra::allocator::Allocator;
use nalgebra::constraint::{AreMultipliable, ShapeConstraint};
use nalgebra::{DefaultAllocator, Dim, OMatrix};

use super::gemm::{add_mul, add_mul_at, add_mul_bt};
use super::matrix::{check_cotangent, ensure_shape, zeros};
use super::{BinaryOp, Mul, OpName, Real};

/// The PyTorch name of the matrix product (`a.matmul(b)` on 2-D tensors); the product
/// itself is written with the [`Mul`] marker, as `*` is in nalgebra.
pub const MATMUL_TORCH_NAME: &str = <MatMul as OpName>::TORCH_NAME;

/// The PyTorch name of a matrix times a column vector (`torch.mv`).
pub const MATVEC_TORCH_NAME: &str = "MvBackward0";

fn check_multipliable(a: (usize, usize), b: (usize, usize)) {
    assert!(
        a.1 == b.0,
        "matrix product: cannot multiply a {}x{} matrix by a {}x{} matrix; the left operand's \
         column count must equal the right operand's row count",
        a.0,
        a.1,
        b.0,
        b.1
    );
}

/// Matrix `*` matrix: the matrix product.
impl<T, R1, C1, R2, C2> BinaryOp<Mul, OMatrix<T, R2, C2>> for OMatrix<T, R1, C1>
where
    T: Real,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    DefaultAllocator: Allocator<R1, C1> + Allocator<R2, C2> + Allocator<R1, C2>,
    ShapeConstraint: AreMultipliable<R1, C1, R2, C2>,
{
    type Output = OMatrix<T, R1, C2>;

    fn forward(&self, _op: Mul, b: &OMatrix<T, R2, C2>) -> Self::Output {
        check_multipliable(self.shape(), b.shape());
        let (m, k, n) = (self.nrows(), self.ncols(), b.ncols());
        let mut out: Self::Output = zeros(m, n, "matrix product");
        add_mul(m, k, n, self.as_slice(), b.as_slice(), out.as_mut_slice());
        out
    }

    /// `ga += g b^T`.
    fn vjp_lhs(
        &self,
        _op: Mul,
        b: &OMatrix<T, R2, C2>,
        _y: &Self::Output,
        g: &Self::Output,
        ga: &mut Self,
    ) {
        if g.is_empty() {
            return;
        }
        check_multipliable(self.shape(), b.shape());
        let (m, k, n) = (self.nrows(), self.ncols(), b.ncols());
        check_cotangent(MATMUL_TORCH_NAME, g.shape(), (m, n));
        ensure_shape(ga, m, k);
        add_mul_bt(m, n, k, g.as_slice(), b.as_slice(), ga.as_mut_slice());
    }

    /// `gb += a^T g`.
    fn vjp_rhs(
        &self,
        _op: Mul,
        b: &OMatrix<T, R2, C2>,
        _y: &Self::Output,
        g: &Self::Output,
        gb: &mut OMatrix<T, R2, C2>,
    ) {
        if g.is_empty() {
            return;
        }
        check_multipliable(self.shape(), b.shape());
        let (m, k, n) = (self.nrows(), self.ncols(), b.ncols());
        check_cotangent(MATMUL_TORCH_NAME, g.shape(), (m, n));
        ensure_shape(gb, k, n);
        add_mul_at(m, k, n, self.as_slice(), g.as_slice(), gb.as_mut_slice());
    }

    /// `"MvBackward0"` when the right operand's type is a column vector, else `"MmBackward0"`.
    fn torch_name() -> &'static str {
        if C2::try_to_usize() == Some(1) {
            MATVEC_TORCH_NAME
        } else {
            MATMUL_TORCH_NAME
        }
    }
}

/// nalgebra's `a.dot(&b)`: the sum of the elementwise products of two matrices of the
/// same shape; `d/da = b`, `d/db = a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dot;

/// The matrix product as a row of the op table (graphs name it `MmBackward0`); the
/// product itself is written with the [`Mul`] marker, as `*` is in nalgebra.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MatMul;

fn check_same_shape(op: &str, a: (usize, usize), b: (usize, usize)) {
    assert!(
        a == b,
        "{op}: the operands must have the same shape, but they are {}x{} and {}x{}",
        a.0,
        a.1,
        b.0,
        b.1
    );
}

impl<T, R1, C1, R2, C2> BinaryOp<Dot, OMatrix<T, R2, C2>> for OMatrix<T, R1, C1>
where
    T: Real,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    DefaultAllocator: Allocator<R1, C1> + Allocator<R2, C2>,
{
    type Output = T;

    fn forward(&self, _op: Dot, b: &OMatrix<T, R2, C2>) -> T {
        check_same_shape("dot", self.shape(), b.shape());
        let mut s = T::zero();
        for (&x, &y) in self.as_slice().iter().zip(b.as_slice()) {
            s += x * y;
        }
        s
    }

    /// `ga += g b`.
    fn vjp_lhs(&self, _op: Dot, b: &OMatrix<T, R2, C2>, _y: &T, g: &T, ga: &mut Self) {
        check_same_shape("dot", self.shape(), b.shape());
        ensure_shape(ga, self.nrows(), self.ncols());
        let g = *g;
        for (ga, &b) in ga.as_mut_slice().iter_mut().zip(b.as_slice()) {
            *ga += g * b;
        }
    }

    /// `gb += g a`.
    fn vjp_rhs(
        &self,
        _op: Dot,
        b: &OMatrix<T, R2, C2>,
        _y: &T,
        g: &T,
        gb: &mut OMatrix<T, R2, C2>,
    ) {
        check_same_shape("dot", self.shape(), b.shape());
        ensure_shape(gb, b.nrows(), b.ncols());
        let g = *g;
        for (gb, &a) in gb.as_mut_slice().iter_mut().zip(self.as_slice()) {
            *gb += g * a;
        }
    }
}
