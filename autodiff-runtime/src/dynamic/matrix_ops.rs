//! Matrix ops of the dynamic engine: the matrix product, transpose, reductions, row-wise
//! softmax and log-softmax, and the losses. Values and gradients both come from the
//! shared rules in [`crate::rules`] (their `UnaryOp` / `BinaryOp` implementations for
//! `DMatrix`); this file only checks shapes, records nodes and routes gradients.

use std::rc::Rc;

use nalgebra::DMatrix;

use super::double_backward::{
    cross_entropy_vjp, RecordedMatmul, RecordedMse, RecordedReduce, RecordedUnary,
};
use super::error::GradError;
use super::node::{BackwardFn, GradSink, Recorder, Saves};
use super::tensor::Tensor;
use crate::rules::{
    binary, binary_vjp_lhs, binary_vjp_rhs, unary, unary_vjp, BinaryOp, CrossEntropy, LogSoftmax,
    Mean, Mse, Mul, OpName, Softmax, Sum, Transpose, UnaryOp, MATMUL_TORCH_NAME,
};

type Matrix = DMatrix<f64>;

/// Backward of a unary rule with a matrix result: `gx += vjp(x, y, g)`.
struct UnaryMatrix<Op> {
    op: Op,
    x: Rc<Matrix>,
    y: Rc<Matrix>,
}

impl<Op: Copy + RecordedUnary> BackwardFn for UnaryMatrix<Op>
where
    Matrix: UnaryOp<Op, Output = Matrix>,
{
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let (x, y) = (&*self.x, &*self.y);
        sink.add_with(0, x.shape(), |gx, _beta| unary_vjp(self.op, x, y, &g, gx));
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        let (x, y) = (r.input(0, &self.x), r.output(&self.y));
        [Some(Op::vjp_tensor(self.op, &x, &y, g)), None]
    }
}

/// Backward of a unary rule reducing to a scalar (`sum`, `mean`): `gx += vjp(x, y, g)`.
struct UnaryScalar<Op> {
    op: Op,
    x: Rc<Matrix>,
    y: f64,
}

impl<Op: Copy + RecordedReduce> BackwardFn for UnaryScalar<Op>
where
    Matrix: UnaryOp<Op, Output = f64>,
{
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let x = &*self.x;
        sink.add_with(0, x.shape(), |gx, _beta| {
            unary_vjp(self.op, x, &self.y, &g[0], gx)
        });
    }

    fn backward_recorded(&self, g: &Tensor, _r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        [Some(Op::vjp_tensor(self.op, self.x.shape(), g)), None]
    }
}

/// Backward of a binary rule between matrices: both operands' vector-Jacobian products.
struct BinaryMatrix<Op> {
    op: Op,
    a: Rc<Matrix>,
    b: Rc<Matrix>,
    y: Rc<Matrix>,
}

impl<Op: Copy + RecordedMatmul> BackwardFn for BinaryMatrix<Op>
where
    Matrix: BinaryOp<Op, Matrix, Output = Matrix>,
{
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let (a, b, y) = (&*self.a, &*self.b, &*self.y);
        sink.add_with(0, a.shape(), |ga, _beta| {
            binary_vjp_lhs(self.op, a, b, y, &g, ga)
        });
        sink.add_with(1, b.shape(), |gb, _beta| {
            binary_vjp_rhs(self.op, a, b, y, &g, gb)
        });
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        let (a, b) = (r.input(0, &self.a), r.input(1, &self.b));
        [
            r.needs(0).then(|| Op::vjp_a(self.op, &a, &b, g)),
            r.needs(1).then(|| Op::vjp_b(self.op, &a, &b, g)),
        ]
    }
}

/// Backward of a binary rule between matrices with a scalar result (`mse`).
struct BinaryScalar<Op> {
    op: Op,
    a: Rc<Matrix>,
    b: Rc<Matrix>,
    y: f64,
}

impl<Op: Copy + RecordedMse> BackwardFn for BinaryScalar<Op>
where
    Matrix: BinaryOp<Op, Matrix, Output = f64>,
{
    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        let (a, b) = (r.input(0, &self.a), r.input(1, &self.b));
        Op::vjp(self.op, &a, &b, g, r.needs)
    }

    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let (a, b, y, g) = (&*self.a, &*self.b, &self.y, &g[0]);
        sink.add_with(0, a.shape(), |ga, _beta| {
            binary_vjp_lhs(self.op, a, b, y, g, ga)
        });
        sink.add_with(1, b.shape(), |gb, _beta| {
            binary_vjp_rhs(self.op, a, b, y, g, gb)
        });
    }
}

/// Backward of `cross_entropy`: the logits' vector-Jacobian product (labels take none).
struct CrossEntropyBackward {
    logits: Rc<Matrix>,
    labels: Vec<usize>,
    y: f64,
}

impl BackwardFn for CrossEntropyBackward {
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let x = &*self.logits;
        sink.add_with(0, x.shape(), |gx, _beta| {
            binary_vjp_lhs(CrossEntropy, x, &self.labels, &self.y, &g[0], gx)
        });
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        let x = r.input(0, &self.logits);
        [Some(cross_entropy_vjp(&x, &self.labels, g)), None]
    }
}

fn scalar(y: f64) -> Rc<Matrix> {
    Rc::new(DMatrix::from_element(1, 1, y))
}

impl Tensor {
    /// Applies a unary rule with a matrix result, recording its backward, which reads
    /// what `saves` says.
    fn unary_matrix<Op: OpName + Copy + RecordedUnary + 'static>(
        &self,
        op: Op,
        saves: Saves,
    ) -> Tensor
    where
        Matrix: UnaryOp<Op, Output = Matrix>,
    {
        let x = self.value_rc();
        let y = Rc::new(unary(op, &*x));
        Tensor::from_op(y, Op::TORCH_NAME, [Some(self), None], saves, |y| {
            Box::new(UnaryMatrix {
                op,
                x,
                y: Rc::clone(y),
            })
        })
    }

    /// Applies a unary rule reducing to a scalar (`sum`, `mean`, whose backward reads
    /// only the input's shape), recording its backward.
    fn unary_scalar<Op: OpName + Copy + RecordedReduce + 'static>(&self, op: Op) -> Tensor
    where
        Matrix: UnaryOp<Op, Output = f64>,
    {
        let x = self.value_rc();
        let y = unary(op, &*x);
        Tensor::from_op(
            scalar(y),
            Op::TORCH_NAME,
            [Some(self), None],
            Saves::NOTHING,
            |_| Box::new(UnaryScalar { op, x, y }),
        )
    }

    /// The matrix product `self * other` (`MmBackward0`).
    ///
    /// # Errors
    /// [`GradError::ShapeMismatch`] naming both shapes when the columns of `self` differ
    /// from the rows of `other`.
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor, GradError> {
        let (a, b) = (self.value_rc(), other.value_rc());
        if a.ncols() != b.nrows() {
            return Err(GradError::ShapeMismatch {
                op: "matmul",
                left: a.shape(),
                right: b.shape(),
                hint: "the left operand needs as many columns as the right one has rows",
            });
        }
        let y = Rc::new(binary(Mul, &*a, &*b));
        Ok(Tensor::from_op(
            y,
            MATMUL_TORCH_NAME,
            [Some(self), Some(other)],
            Saves::PRODUCT,
            |y| {
                Box::new(BinaryMatrix {
                    op: Mul,
                    a,
                    b,
                    y: Rc::clone(y),
                })
            },
        ))
    }

    /// The matrix product `self * other` (`MmBackward0`).
    ///
    /// # Panics
    /// When the inner dimensions differ, naming both shapes; see [`Tensor::try_matmul`].
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        self.try_matmul(other).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The transpose (`TBackward0`).
    pub fn t(&self) -> Tensor {
        self.unary_matrix(Transpose, Saves::NOTHING)
    }

    /// The sum of all elements, as a 1x1 tensor (`SumBackward0`).
    pub fn sum(&self) -> Tensor {
        self.unary_scalar(Sum)
    }

    /// The mean of all elements, as a 1x1 tensor (`MeanBackward0`); NaN when empty.
    pub fn mean(&self) -> Tensor {
        self.unary_scalar(Mean)
    }

    /// Softmax of each row, computed relative to the row's maximum so any finite logits
    /// give finite values (`SoftmaxBackward0`).
    pub fn softmax(&self) -> Tensor {
        self.unary_matrix(Softmax, Saves::OUTPUT)
    }

    /// Log-softmax of each row, `x - logsumexp(row)`, stable (`LogSoftmaxBackward0`).
    pub fn log_softmax(&self) -> Tensor {
        self.unary_matrix(LogSoftmax, Saves::OUTPUT)
    }

    /// Cross-entropy of row-wise logits (this tensor, one row per example) against
    /// class `labels`, averaged over rows, as PyTorch's `cross_entropy`; one fused node
    /// named after PyTorch's last one (`NllLossBackward0`). Stable for logits of any
    /// finite size.
    ///
    /// # Errors
    /// [`GradError::LabelCount`] unless there is one label per row,
    /// [`GradError::LabelOutOfRange`] for a label that is not a column index.
    pub fn try_cross_entropy(&self, labels: &[usize]) -> Result<Tensor, GradError> {
        let (rows, classes) = self.shape();
        if labels.len() != rows {
            return Err(GradError::LabelCount {
                labels: labels.len(),
                rows,
            });
        }
        if let Some(row) = labels.iter().position(|&label| label >= classes) {
            return Err(GradError::LabelOutOfRange {
                row,
                label: labels[row],
                classes,
            });
        }
        let logits = self.value_rc();
        let y = binary(CrossEntropy, &*logits, &labels);
        Ok(Tensor::from_op(
            scalar(y),
            <CrossEntropy as OpName>::TORCH_NAME,
            [Some(self), None],
            Saves::INPUT,
            |_| {
                Box::new(CrossEntropyBackward {
                    logits,
                    labels: labels.to_vec(),
                    y,
                })
            },
        ))
    }

    /// Cross-entropy against class `labels`, averaged over rows; see
    /// [`Tensor::try_cross_entropy`].
    ///
    /// # Panics
    /// Unless there is one label per row, each a column index.
    pub fn cross_entropy(&self, labels: &[usize]) -> Tensor {
        self.try_cross_entropy(labels)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The mean squared error `mean((self - target)^2)` (`MseLossBackward0`); the
    /// gradient also flows to `target` when it requires grad.
    ///
    /// # Errors
    /// [`GradError::ShapeMismatch`] naming both shapes unless they are equal.
    pub fn try_mse(&self, target: &Tensor) -> Result<Tensor, GradError> {
        let (a, b) = (self.value_rc(), target.value_rc());
        if a.shape() != b.shape() {
            return Err(GradError::ShapeMismatch {
                op: "mse",
                left: a.shape(),
                right: b.shape(),
                hint: "the prediction and the target must have the same shape",
            });
        }
        let y = binary(Mse, &*a, &*b);
        Ok(Tensor::from_op(
            scalar(y),
            <Mse as OpName>::TORCH_NAME,
            [Some(self), Some(target)],
            Saves::INPUTS,
            |_| Box::new(BinaryScalar { op: Mse, a, b, y }),
        ))
    }

    /// The mean squared error against `target`; see [`Tensor::try_mse`].
    ///
    /// # Panics
    /// Unless both shapes are equal, naming both.
    pub fn mse(&self, target: &Tensor) -> Tensor {
        self.try_mse(target).unwrap_or_else(|e| panic!("{e}"))
    }
}
