//! Broadcasting for plain nalgebra code: the bias add `x * w + b` of `#[differentiable]`
//! bodies, outside them.
//!
//! Inside a `#[differentiable]` function, `h + &b` with `h` a matrix and `b` a row vector
//! of its width adds `b` to every row (NumPy's and PyTorch's broadcasting). nalgebra's own
//! `+` refuses two shapes that differ, so code that evaluates a trained model without the
//! macro would have to write the loop, or call a second differentiable function. The
//! [`Broadcast`] extension trait (in `autodiff::prelude`) names the cases:
//!
//! | method | NumPy | result |
//! | --- | --- | --- |
//! | `m.add_row(&r)` | `m + r` with `r` of shape `(1, n)` | `r` added to every row of `m` |
//! | `m.sub_row(&r)` | `m - r` | `r` subtracted from every row |
//! | `m.add_column(&c)` | `m + c` with `c` of shape `(m, 1)` | `c` added to every column |
//! | `m.sub_column(&c)` | `m - c` | `c` subtracted from every column |
//!
//! Each runs the kernel the macro's code runs for the same operator
//! ([`BinaryOp::forward`] with the [`Add`] or [`Sub`] rule), so a prediction written with
//! these methods equals the differentiable function's value bit for bit.
//!
//! The matrix product is the other half of a dense layer. nalgebra's `x * w` computes it,
//! but `#[differentiable]` code runs the crate's own kernel (vectorized, with fused
//! multiply-adds where the processor has them), which can round the last bit differently.
//! [`MatrixProduct::matmul`] (also in the prelude) is that kernel, so
//! `x.matmul(&w).add_row(&b)` is exactly what `x * w + b` gives inside a
//! `#[differentiable]` function.
//!
//! ```
//! use autodiff_runtime::broadcast::Broadcast;
//! use nalgebra::{DMatrix, RowDVector};
//!
//! let h = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! let b = RowDVector::from_row_slice(&[10.0, 20.0, 30.0]);
//! let y = h.add_row(&b);
//! assert_eq!(y, DMatrix::from_row_slice(2, 3, &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]));
//! ```
//!
//! # Panics
//! A row whose width differs from the matrix's, or a column whose height differs, panics
//! with a message naming both shapes, as nalgebra's own shape errors do.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix, U1};

use crate::rules::{Add, BinaryOp, Mul, Real, Sub};

/// Row and column broadcasting on nalgebra matrices, as `#[differentiable]` code does it.
///
/// Implemented for every owned nalgebra matrix (`DMatrix`, `SMatrix`, ...) of `f32` or
/// `f64`. See the [module documentation](self) for the table of methods.
pub trait Broadcast<T: Real>: Sized {
    /// `self + row`, with the row added to every row of `self` (NumPy's `m + r` for `r`
    /// of shape `(1, n)`): the bias add of a dense layer, `(x * w).add_row(&b)`.
    ///
    /// ```
    /// use autodiff_runtime::broadcast::Broadcast;
    /// use nalgebra::{DMatrix, RowDVector};
    ///
    /// let x = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1.0]);
    /// let w = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// let b = RowDVector::from_row_slice(&[0.5, 0.5, 0.5]);
    /// let logits = (x * w).add_row(&b);
    /// assert_eq!(logits.row(1), RowDVector::from_row_slice(&[4.5, 5.5, 6.5]));
    /// ```
    ///
    /// # Panics
    /// If `row` has another number of columns than `self`; the message names both shapes.
    fn add_row<C2: Dim>(
        &self,
        row: &OMatrix<T, U1, C2>,
    ) -> <Self as BinaryOp<Add, OMatrix<T, U1, C2>>>::Output
    where
        Self: BinaryOp<Add, OMatrix<T, U1, C2>>,
        DefaultAllocator: Allocator<U1, C2>;

    /// `self - row`, with the row subtracted from every row of `self` (centring by a mean
    /// row: `x.sub_row(&mean)`).
    ///
    /// ```
    /// use autodiff_runtime::broadcast::Broadcast;
    /// use nalgebra::{DMatrix, RowDVector};
    ///
    /// let x = DMatrix::from_row_slice(2, 2, &[1.0, 10.0, 3.0, 30.0]);
    /// let mean = RowDVector::from_row_slice(&[2.0, 20.0]);
    /// assert_eq!(x.sub_row(&mean), DMatrix::from_row_slice(2, 2, &[-1.0, -10.0, 1.0, 10.0]));
    /// ```
    ///
    /// # Panics
    /// If `row` has another number of columns than `self`; the message names both shapes.
    fn sub_row<C2: Dim>(
        &self,
        row: &OMatrix<T, U1, C2>,
    ) -> <Self as BinaryOp<Sub, OMatrix<T, U1, C2>>>::Output
    where
        Self: BinaryOp<Sub, OMatrix<T, U1, C2>>,
        DefaultAllocator: Allocator<U1, C2>;

    /// `self + column`, with the column added to every column of `self` (NumPy's `m + c`
    /// for `c` of shape `(m, 1)`).
    ///
    /// ```
    /// use autodiff_runtime::broadcast::Broadcast;
    /// use nalgebra::{DMatrix, DVector};
    ///
    /// let m = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    /// let c = DVector::from_column_slice(&[10.0, 100.0]);
    /// assert_eq!(m.add_column(&c), DMatrix::from_row_slice(2, 2, &[11.0, 12.0, 103.0, 104.0]));
    /// ```
    ///
    /// # Panics
    /// If `column` has another number of rows than `self`; the message names both shapes.
    fn add_column<R2: Dim>(
        &self,
        column: &OMatrix<T, R2, U1>,
    ) -> <Self as BinaryOp<Add, OMatrix<T, R2, U1>>>::Output
    where
        Self: BinaryOp<Add, OMatrix<T, R2, U1>>,
        DefaultAllocator: Allocator<R2, U1>;

    /// `self - column`, with the column subtracted from every column of `self` (as in
    /// `logits.sub_column(&row_max)` for a stable softmax).
    ///
    /// ```
    /// use autodiff_runtime::broadcast::Broadcast;
    /// use nalgebra::{DMatrix, DVector};
    ///
    /// let m = DMatrix::from_row_slice(2, 2, &[1.0, 3.0, 5.0, 2.0]);
    /// let row_max = DVector::from_column_slice(&[3.0, 5.0]);
    /// assert_eq!(m.sub_column(&row_max), DMatrix::from_row_slice(2, 2, &[-2.0, 0.0, 0.0, -3.0]));
    /// ```
    ///
    /// # Panics
    /// If `column` has another number of rows than `self`; the message names both shapes.
    fn sub_column<R2: Dim>(
        &self,
        column: &OMatrix<T, R2, U1>,
    ) -> <Self as BinaryOp<Sub, OMatrix<T, R2, U1>>>::Output
    where
        Self: BinaryOp<Sub, OMatrix<T, R2, U1>>,
        DefaultAllocator: Allocator<R2, U1>;
}

/// The matrix product as `#[differentiable]` code computes it.
///
/// Implemented for every owned nalgebra matrix of `f32` or `f64`.
pub trait MatrixProduct<T: Real>: Sized {
    /// `self * rhs`, the matrix product (PyTorch's `matmul`), with the kernel the code of
    /// `#[differentiable]` functions runs for `*` between two matrices; nalgebra's `*`
    /// gives the same product up to the rounding of the last bit.
    ///
    /// ```
    /// use autodiff_runtime::broadcast::{Broadcast, MatrixProduct};
    /// use nalgebra::{DMatrix, RowDVector};
    ///
    /// let x = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    /// let w = DMatrix::from_row_slice(2, 1, &[1.0, -1.0]);
    /// let b = RowDVector::from_row_slice(&[0.5]);
    /// assert_eq!(x.matmul(&w).add_row(&b), DMatrix::from_row_slice(2, 1, &[-0.5, -0.5]));
    /// ```
    ///
    /// # Panics
    /// If `self` has another number of columns than `rhs` has rows; the message names both
    /// shapes.
    fn matmul<R2: Dim, C2: Dim>(
        &self,
        rhs: &OMatrix<T, R2, C2>,
    ) -> <Self as BinaryOp<Mul, OMatrix<T, R2, C2>>>::Output
    where
        Self: BinaryOp<Mul, OMatrix<T, R2, C2>>,
        DefaultAllocator: Allocator<R2, C2>;
}

impl<T: Real, R: Dim, C: Dim> MatrixProduct<T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn matmul<R2: Dim, C2: Dim>(
        &self,
        rhs: &OMatrix<T, R2, C2>,
    ) -> <Self as BinaryOp<Mul, OMatrix<T, R2, C2>>>::Output
    where
        Self: BinaryOp<Mul, OMatrix<T, R2, C2>>,
        DefaultAllocator: Allocator<R2, C2>,
    {
        self.forward(Mul, rhs)
    }
}

/// "add .. to", "subtract .. from".
fn preposition(verb: &str) -> &'static str {
    if verb == "add" {
        "to"
    } else {
        "from"
    }
}

/// Panics unless a `1 x n` row fits each row of an `r x c` matrix.
fn check_row(method: &str, verb: &str, matrix: (usize, usize), row: (usize, usize)) {
    assert!(
        row.1 == matrix.1,
        "{method}: cannot {verb} a {}x{} row vector {} each row of a {}x{} matrix; the row \
         must have {} columns",
        row.0,
        row.1,
        preposition(verb),
        matrix.0,
        matrix.1,
        matrix.1
    );
}

/// Panics unless an `n x 1` column fits each column of an `r x c` matrix.
fn check_column(method: &str, verb: &str, matrix: (usize, usize), column: (usize, usize)) {
    assert!(
        column.0 == matrix.0,
        "{method}: cannot {verb} a {}x{} column vector {} each column of a {}x{} matrix; \
         the column must have {} rows",
        column.0,
        column.1,
        preposition(verb),
        matrix.0,
        matrix.1,
        matrix.0
    );
}

impl<T: Real, R: Dim, C: Dim> Broadcast<T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn add_row<C2: Dim>(
        &self,
        row: &OMatrix<T, U1, C2>,
    ) -> <Self as BinaryOp<Add, OMatrix<T, U1, C2>>>::Output
    where
        Self: BinaryOp<Add, OMatrix<T, U1, C2>>,
        DefaultAllocator: Allocator<U1, C2>,
    {
        check_row("add_row", "add", self.shape(), row.shape());
        self.forward(Add, row)
    }

    fn sub_row<C2: Dim>(
        &self,
        row: &OMatrix<T, U1, C2>,
    ) -> <Self as BinaryOp<Sub, OMatrix<T, U1, C2>>>::Output
    where
        Self: BinaryOp<Sub, OMatrix<T, U1, C2>>,
        DefaultAllocator: Allocator<U1, C2>,
    {
        check_row("sub_row", "subtract", self.shape(), row.shape());
        self.forward(Sub, row)
    }

    fn add_column<R2: Dim>(
        &self,
        column: &OMatrix<T, R2, U1>,
    ) -> <Self as BinaryOp<Add, OMatrix<T, R2, U1>>>::Output
    where
        Self: BinaryOp<Add, OMatrix<T, R2, U1>>,
        DefaultAllocator: Allocator<R2, U1>,
    {
        check_column("add_column", "add", self.shape(), column.shape());
        self.forward(Add, column)
    }

    fn sub_column<R2: Dim>(
        &self,
        column: &OMatrix<T, R2, U1>,
    ) -> <Self as BinaryOp<Sub, OMatrix<T, R2, U1>>>::Output
    where
        Self: BinaryOp<Sub, OMatrix<T, R2, U1>>,
        DefaultAllocator: Allocator<R2, U1>,
    {
        check_column("sub_column", "subtract", self.shape(), column.shape());
        self.forward(Sub, column)
    }
}
