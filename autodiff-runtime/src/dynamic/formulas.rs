//! Ops whose derivatives have no shared rule in [`crate::rules`] yet: the matrix
//! product, transpose, reductions, row-wise softmax and log-softmax, and the losses.
//! Their backward formulas live here, in one place, until the rules gain them.

use std::rc::Rc;

use nalgebra::DMatrix;

use super::error::GradError;
use super::gemm::gemm;
use super::node::{BackwardFn, GradSink};
use super::tensor::Tensor;

/// `MmBackward0`: for `y = a b`, `ga = g b^T` and `gb = a^T g`, accumulated in place.
struct MatMul {
    a: Rc<DMatrix<f64>>,
    b: Rc<DMatrix<f64>>,
}

impl BackwardFn for MatMul {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        let (a, b) = (&*self.a, &*self.b);
        sink.add_with(0, a.shape(), |ga, beta| {
            gemm(1.0, &g, false, b, true, beta, ga)
        });
        sink.add_with(1, b.shape(), |gb, beta| {
            gemm(1.0, a, true, &g, false, beta, gb)
        });
    }
}

/// `TBackward0`: `gx = g^T`.
struct Transpose;

impl BackwardFn for Transpose {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        sink.add(0, g.transpose());
    }

    fn saves_values(&self) -> bool {
        false
    }
}

/// `SumBackward0` (`scale` 1) and `MeanBackward0` (`scale` 1/n): every element of the
/// input gets `scale * g`.
struct Reduce {
    shape: (usize, usize),
    scale: f64,
}

impl BackwardFn for Reduce {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        let v = self.scale * g[0];
        sink.add_with(0, self.shape, |acc, _beta| acc.add_scalar_mut(v));
    }

    fn saves_values(&self) -> bool {
        false
    }
}

/// `SoftmaxBackward0`, row-wise: `gx = y * (g - rowsum(g * y))`.
struct Softmax {
    y: Rc<DMatrix<f64>>,
}

impl BackwardFn for Softmax {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        let y = &*self.y;
        let rows = y.nrows();
        let mut dot = vec![0.0; rows];
        for (k, (&gk, &yk)) in g.iter().zip(y.iter()).enumerate() {
            dot[k % rows] += gk * yk;
        }
        let y = y.as_slice();
        sink.add_map(0, g, |k, gk| y[k] * (gk - dot[k % rows]));
    }
}

/// `LogSoftmaxBackward0`, row-wise: `gx = g - exp(y) * rowsum(g)`.
struct LogSoftmax {
    y: Rc<DMatrix<f64>>,
}

impl BackwardFn for LogSoftmax {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        let y = &*self.y;
        let rows = y.nrows();
        let mut sum = vec![0.0; rows];
        for (k, &gk) in g.iter().enumerate() {
            sum[k % rows] += gk;
        }
        let y = y.as_slice();
        sink.add_map(0, g, |k, gk| gk - y[k].exp() * sum[k % rows]);
    }
}

/// `NllLossBackward0` (mean over rows): `gx[i, label_i] = -g / rows`.
struct NllLoss {
    labels: Vec<usize>,
    shape: (usize, usize),
}

impl BackwardFn for NllLoss {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        let v = -g[0] / self.labels.len() as f64;
        sink.add_with(0, self.shape, |acc, _beta| {
            for (i, &label) in self.labels.iter().enumerate() {
                acc[(i, label)] += v;
            }
        });
    }
}

/// `MseLossBackward0`: `gx = 2 g (x - t) / n` and `gt = -gx`.
struct Mse {
    x: Rc<DMatrix<f64>>,
    t: Rc<DMatrix<f64>>,
}

impl BackwardFn for Mse {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        let c = 2.0 * g[0] / self.x.len() as f64;
        for (input, sign) in [(0, c), (1, -c)] {
            sink.add_with(input, self.x.shape(), |acc, _beta| {
                for ((a, &x), &t) in acc.iter_mut().zip(self.x.iter()).zip(self.t.iter()) {
                    *a += sign * (x - t);
                }
            });
        }
    }
}

/// Per row `i`: `max_j x[i, j]` and `ln sum_j exp(x[i, j] - max)`, the pieces of a
/// stable softmax (finite for logits of any size).
fn row_max_and_log_sum_exp(x: &DMatrix<f64>) -> (Vec<f64>, Vec<f64>) {
    let rows = x.nrows();
    let mut max = vec![f64::NEG_INFINITY; rows];
    for (k, &v) in x.iter().enumerate() {
        max[k % rows] = max[k % rows].max(v);
    }
    // A row of -inf (or an empty row) would give NaN from inf - inf; shift it by 0.
    for m in max.iter_mut().filter(|m| !m.is_finite()) {
        *m = 0.0;
    }
    let mut sum = vec![0.0; rows];
    for (k, &v) in x.iter().enumerate() {
        sum[k % rows] += (v - max[k % rows]).exp();
    }
    let log_sum = sum.into_iter().map(f64::ln).collect();
    (max, log_sum)
}

/// Checks `labels` against logits of `shape` for `cross_entropy`.
fn check_labels(labels: &[usize], (rows, classes): (usize, usize)) -> Result<(), GradError> {
    if labels.len() != rows {
        return Err(GradError::LabelCount {
            labels: labels.len(),
            rows,
        });
    }
    match labels.iter().position(|&label| label >= classes) {
        Some(row) => Err(GradError::LabelOutOfRange {
            row,
            label: labels[row],
            classes,
        }),
        None => Ok(()),
    }
}

impl Tensor {
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
        let mut y = DMatrix::zeros(a.nrows(), b.ncols());
        gemm(1.0, &a, false, &b, false, 0.0, &mut y);
        Ok(Tensor::from_op(
            Rc::new(y),
            "MmBackward0",
            [Some(self), Some(other)],
            |_| Box::new(MatMul { a, b }),
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
        let y = Rc::new(self.value_ref().transpose());
        Tensor::from_op(y, "TBackward0", [Some(self), None], |_| Box::new(Transpose))
    }

    /// The sum of all elements, as a 1x1 tensor (`SumBackward0`).
    pub fn sum(&self) -> Tensor {
        let (shape, total) = {
            let x = self.value_ref();
            (x.shape(), x.sum())
        };
        let y = Rc::new(DMatrix::from_element(1, 1, total));
        Tensor::from_op(y, "SumBackward0", [Some(self), None], |_| {
            Box::new(Reduce { shape, scale: 1.0 })
        })
    }

    /// The mean of all elements, as a 1x1 tensor (`MeanBackward0`); NaN when empty.
    pub fn mean(&self) -> Tensor {
        let (shape, mean) = {
            let x = self.value_ref();
            (x.shape(), x.sum() / x.len() as f64)
        };
        let y = Rc::new(DMatrix::from_element(1, 1, mean));
        let scale = 1.0 / (shape.0 * shape.1) as f64;
        Tensor::from_op(y, "MeanBackward0", [Some(self), None], |_| {
            Box::new(Reduce { shape, scale })
        })
    }

    /// Softmax of each row, `e^(x - max) / sum e^(x - max)` (`SoftmaxBackward0`).
    pub fn softmax(&self) -> Tensor {
        let y = {
            let x = self.value_ref();
            let rows = x.nrows();
            let (max, log_sum) = row_max_and_log_sum_exp(&x);
            let mut y = (*x).clone();
            for (k, v) in y.iter_mut().enumerate() {
                *v = (*v - max[k % rows] - log_sum[k % rows]).exp();
            }
            Rc::new(y)
        };
        Tensor::from_op(y, "SoftmaxBackward0", [Some(self), None], |y| {
            Box::new(Softmax { y: Rc::clone(y) })
        })
    }

    /// Log-softmax of each row, `x - max - ln sum e^(x - max)` (`LogSoftmaxBackward0`).
    pub fn log_softmax(&self) -> Tensor {
        let y = {
            let x = self.value_ref();
            let rows = x.nrows();
            let (max, log_sum) = row_max_and_log_sum_exp(&x);
            let mut y = (*x).clone();
            for (k, v) in y.iter_mut().enumerate() {
                *v -= max[k % rows] + log_sum[k % rows];
            }
            Rc::new(y)
        };
        Tensor::from_op(y, "LogSoftmaxBackward0", [Some(self), None], |y| {
            Box::new(LogSoftmax { y: Rc::clone(y) })
        })
    }

    /// The mean negative log-likelihood of `labels` under row-wise log-probabilities
    /// `self` (`NllLossBackward0`).
    ///
    /// # Errors
    /// [`GradError::LabelCount`] unless there is one label per row,
    /// [`GradError::LabelOutOfRange`] for a label that is not a column index.
    pub fn try_nll_loss(&self, labels: &[usize]) -> Result<Tensor, GradError> {
        let shape = self.shape();
        check_labels(labels, shape)?;
        let total: f64 = {
            let x = self.value_ref();
            labels.iter().enumerate().map(|(i, &l)| x[(i, l)]).sum()
        };
        let y = Rc::new(DMatrix::from_element(1, 1, -total / labels.len() as f64));
        Ok(Tensor::from_op(
            y,
            "NllLossBackward0",
            [Some(self), None],
            |_| {
                Box::new(NllLoss {
                    labels: labels.to_vec(),
                    shape,
                })
            },
        ))
    }

    /// Cross-entropy of row-wise `logits` (this tensor, one row per example) against
    /// class `labels`, averaged over rows: `log_softmax` followed by `nll_loss`, as
    /// PyTorch's `cross_entropy` (graph: `LogSoftmaxBackward0` then `NllLossBackward0`).
    /// Stable for logits of any size.
    ///
    /// # Errors
    /// As [`Tensor::try_nll_loss`].
    pub fn try_cross_entropy(&self, labels: &[usize]) -> Result<Tensor, GradError> {
        check_labels(labels, self.shape())?;
        self.log_softmax().try_nll_loss(labels)
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
        let (x, t) = (self.value_rc(), target.value_rc());
        if x.shape() != t.shape() {
            return Err(GradError::ShapeMismatch {
                op: "mse",
                left: x.shape(),
                right: t.shape(),
                hint: "the prediction and the target must have the same shape",
            });
        }
        let total: f64 = x.iter().zip(t.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
        let y = Rc::new(DMatrix::from_element(1, 1, total / x.len() as f64));
        Ok(Tensor::from_op(
            y,
            "MseLossBackward0",
            [Some(self), Some(target)],
            |_| Box::new(Mse { x, t }),
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
