//! Op functions usable anywhere: in `#[differentiable]` functions (where the macro
//! differentiates through them) and as plain functions.
//!
//! They run the same rule code as the differentiated programs ([`crate::rules`]), so a
//! value computed here is bit-for-bit the value the generated code computes.
//!
//! ```
//! use autodiff_runtime::nalgebra::{dmatrix, DMatrix};
//! use autodiff_runtime::ops::{cross_entropy, logsumexp, relu, softmax};
//!
//! assert_eq!(relu(-2.0), 0.0);
//! assert_eq!(relu(&dmatrix![-1.0, 2.0]), dmatrix![0.0, 2.0]);
//!
//! // Stable for large logits.
//! let logits = dmatrix![1000.0, 0.0; 0.0, 1000.0];
//! let p: DMatrix<f64> = softmax(&logits);
//! assert_eq!(p[(0, 0)], 1.0);
//! assert_eq!(logsumexp(&dmatrix![1000.0, 1000.0]), 1000.0 + 2f64.ln());
//! assert_eq!(cross_entropy(&logits, &[0, 0]), 500.0);
//! ```

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

use crate::rules::{
    binary, unary, BinaryOp, CrossEntropy, ElementwiseRule, LogSoftmax, LogSumExp, Mse, Real, Relu,
    Sigmoid, Softmax, Softplus, UnaryOp,
};

/// A value an elementwise op function accepts: `f32` / `f64` by value, or a nalgebra
/// matrix by reference (giving a new matrix) or by value (updated in place).
pub trait ElementwiseInput<Op> {
    /// The result: a scalar for a scalar, an owned matrix for a matrix.
    type Output;
    /// Applies `op` to every element.
    fn map_elements(self, op: Op) -> Self::Output;
}

impl<T: Real, Op: ElementwiseRule> ElementwiseInput<Op> for T {
    type Output = T;
    #[inline]
    fn map_elements(self, op: Op) -> T {
        op.f(self)
    }
}

impl<Op: ElementwiseRule, T: Real, R: Dim, C: Dim> ElementwiseInput<Op> for &OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn map_elements(self, op: Op) -> OMatrix<T, R, C> {
        unary(op, self)
    }
}

impl<Op: ElementwiseRule, T: Real, R: Dim, C: Dim> ElementwiseInput<Op> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn map_elements(mut self, op: Op) -> OMatrix<T, R, C> {
        self.apply(|x: &mut T| *x = op.f(*x));
        self
    }
}

/// `max(x, 0)`, elementwise on matrices; its derivative is 1 where `x > 0`, else 0.
///
/// ```
/// use autodiff_runtime::ops::relu;
/// assert_eq!(relu(3.0f32), 3.0);
/// ```
#[inline]
pub fn relu<X: ElementwiseInput<Relu>>(x: X) -> X::Output {
    x.map_elements(Relu)
}

/// `1 / (1 + e^-x)`, elementwise on matrices, without overflow for any `x`; its
/// derivative is `y (1 - y)`.
///
/// ```
/// use autodiff_runtime::ops::sigmoid;
/// assert_eq!(sigmoid(0.0), 0.5);
/// assert_eq!(sigmoid(-1000.0), 0.0);
/// ```
#[inline]
pub fn sigmoid<X: ElementwiseInput<Sigmoid>>(x: X) -> X::Output {
    x.map_elements(Sigmoid)
}

/// `ln(1 + e^x)`, elementwise on matrices, computed so that it never overflows; its
/// derivative is `sigmoid(x)`.
///
/// ```
/// use autodiff_runtime::ops::softplus;
/// assert_eq!(softplus(1000.0), 1000.0);
/// ```
#[inline]
pub fn softplus<X: ElementwiseInput<Softplus>>(x: X) -> X::Output {
    x.map_elements(Softplus)
}

/// Row-wise softmax `e^(x_ij) / sum_k e^(x_ik)` (over the whole vector for `DVector` /
/// `SVector`), computed relative to each row's maximum. See [`crate::rules::Softmax`].
#[inline]
pub fn softmax<X: UnaryOp<Softmax>>(x: &X) -> X::Output {
    unary(Softmax, x)
}

/// Row-wise log-softmax `x_ij - ln sum_k e^(x_ik)` (over the whole vector for `DVector`
/// / `SVector`), stable for any finite logits. See [`crate::rules::LogSoftmax`].
#[inline]
pub fn log_softmax<X: UnaryOp<LogSoftmax>>(x: &X) -> X::Output {
    unary(LogSoftmax, x)
}

/// `ln sum e^x` over all elements, computed relative to the maximum.
/// See [`crate::rules::LogSumExp`].
#[inline]
pub fn logsumexp<X: UnaryOp<LogSumExp>>(x: &X) -> X::Output {
    unary(LogSumExp, x)
}

/// Softmax cross-entropy of `logits` (one row per sample) against class `labels` (one
/// per row), averaged over the rows, as PyTorch's `cross_entropy`.
/// See [`crate::rules::CrossEntropy`].
///
/// # Panics
/// If the number of labels is not the number of rows, or a label is not a column index.
#[inline]
pub fn cross_entropy<X: BinaryOp<CrossEntropy, L>, L>(logits: &X, labels: L) -> X::Output {
    binary(CrossEntropy, logits, &labels)
}

/// Mean squared error between `pred` and `target` of the same shape, as PyTorch's
/// `mse_loss`. See [`crate::rules::Mse`].
///
/// ```
/// use autodiff_runtime::nalgebra::dmatrix;
/// use autodiff_runtime::ops::mse;
/// assert_eq!(mse(&dmatrix![1.0, 2.0], &dmatrix![0.0, 0.0]), 2.5);
/// ```
///
/// # Panics
/// If the shapes differ; the message names both.
#[inline]
pub fn mse<A: BinaryOp<Mse, B>, B>(pred: &A, target: &B) -> A::Output {
    binary(Mse, pred, target)
}
