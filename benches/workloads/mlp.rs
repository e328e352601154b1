//! The MLP workloads: `x (n x d) -> tanh(x W1 + b1) -> (h W2 + b2)` with softmax
//! cross-entropy, mean over the batch, gradient with respect to `W1, b1, W2, b2`; in the
//! three forms the benches compare: `#[differentiable]`, the dynamic engine, and careful
//! hand-written nalgebra code that reuses its buffers.
//!
//! Sizes: `mlp` is X 64x784, hidden 128, 10 classes; `mlp_small` is X 150x4, hidden 16,
//! 3 classes. Shared by `benches/mlp.rs`, `benches/training.rs`, `benches/allocations.rs`
//! and `tests/static_vs_dynamic.rs` (through `#[path]`).

use autodiff::dynamic::{no_grad, GradError, Tensor};
use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::prelude::*;

/// The model's parameters; its gradient has the same type.
#[derive(Debug, Clone, Tangent)]
pub struct Mlp {
    /// First layer weights, inputs x hidden.
    pub w1: DMatrix<f64>,
    /// First layer bias, 1 x hidden.
    pub b1: RowDVector<f64>,
    /// Second layer weights, hidden x classes.
    pub w2: DMatrix<f64>,
    /// Second layer bias, 1 x classes.
    pub b2: RowDVector<f64>,
}

/// The static engine: mean softmax cross-entropy of the two-layer tanh MLP.
#[differentiable(wrt(m))]
pub fn mlp_loss(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let h = (x * &m.w1 + &m.b1).tanh();
    let logits = h * &m.w2 + &m.b2;
    cross_entropy(&logits, labels)
}

/// A batch of inputs with their class labels.
pub struct Batch {
    /// Inputs, one example per row.
    pub x: DMatrix<f64>,
    /// The class of each row.
    pub labels: Vec<usize>,
}

/// A deterministic generator of uniform numbers in [-1, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    fn matrix(&mut self, rows: usize, cols: usize, scale: f64) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |_, _| scale * self.next())
    }
}

impl Mlp {
    /// Weights uniform in `[-1/sqrt(fan_in), 1/sqrt(fan_in))` (PyTorch's `nn.Linear`
    /// initialisation), biases likewise.
    pub fn random(inputs: usize, hidden: usize, classes: usize, seed: u64) -> Mlp {
        let mut rng = Lcg(seed);
        let (s1, s2) = (1.0 / (inputs as f64).sqrt(), 1.0 / (hidden as f64).sqrt());
        Mlp {
            w1: rng.matrix(inputs, hidden, s1),
            b1: RowDVector::from_iterator(hidden, rng.matrix(1, hidden, s1).iter().copied()),
            w2: rng.matrix(hidden, classes, s2),
            b2: RowDVector::from_iterator(classes, rng.matrix(1, classes, s2).iter().copied()),
        }
    }
}

impl Batch {
    /// `rows` inputs uniform in [-1, 1) labelled by the largest of `classes` fixed random
    /// linear scores, so the classes are learnable.
    pub fn random(rows: usize, inputs: usize, classes: usize, seed: u64) -> Batch {
        let mut rng = Lcg(seed);
        let x = rng.matrix(rows, inputs, 1.0);
        let scores = &x * rng.matrix(inputs, classes, 1.0);
        let labels = (0..rows)
            .map(|i| scores.row(i).transpose().argmax().0)
            .collect();
        Batch { x, labels }
    }
}

/// Buffers for the hand-written gradient; allocated once for a model and batch size, then
/// reused, so a gradient call allocates nothing.
pub struct Workspace {
    /// Hidden activations `tanh(x W1 + b1)`, n x hidden.
    h: DMatrix<f64>,
    /// Logits, then softmax probabilities, then the logits' adjoint, n x classes.
    p: DMatrix<f64>,
    /// `W2^T`, classes x hidden (so the product `G W2^T` reads contiguous operands).
    w2t: DMatrix<f64>,
    /// `x^T`, inputs x n (likewise for `x^T G`).
    xt: DMatrix<f64>,
    /// The hidden layer's adjoint, n x hidden.
    dh: DMatrix<f64>,
    /// Per row: the largest logit, then the sum of the exponentials (the SIMD softmax).
    row_max: Vec<f64>,
    row_sum: Vec<f64>,
    /// `tanh` on the vectorised kernels of `autodiff::simd` instead of `f64::tanh`.
    simd: bool,
}

impl Workspace {
    /// Buffers for a batch of `rows` examples through `m`.
    pub fn new(m: &Mlp, rows: usize) -> Workspace {
        let (inputs, hidden, classes) = (m.w1.nrows(), m.w1.ncols(), m.w2.ncols());
        Workspace {
            h: DMatrix::zeros(rows, hidden),
            p: DMatrix::zeros(rows, classes),
            w2t: DMatrix::zeros(classes, hidden),
            xt: DMatrix::zeros(inputs, rows),
            dh: DMatrix::zeros(rows, hidden),
            row_max: vec![0.0; rows],
            row_sum: vec![0.0; rows],
            simd: false,
        }
    }

    /// The same buffers, with `tanh` and the softmax's `exp` computed by the vectorised
    /// kernels `autodiff::simd::tanh_in_place` and `exp_in_place` (the kernels the static
    /// engine uses) instead of scalar `f64::tanh` and `exp`: the hand-written gradient
    /// "with the same kernels". The products stay nalgebra's `gemm`, as a nalgebra user
    /// writes them.
    pub fn new_simd(m: &Mlp, rows: usize) -> Workspace {
        Workspace {
            simd: true,
            ..Workspace::new(m, rows)
        }
    }

    /// The forward pass into `h` and `p` (logits).
    fn forward(&mut self, m: &Mlp, x: &DMatrix<f64>) {
        self.h.gemm(1.0, x, &m.w1, 0.0);
        if self.simd {
            for (mut col, &b) in self.h.column_iter_mut().zip(m.b1.iter()) {
                col.add_scalar_mut(b);
            }
            autodiff::simd::tanh_in_place(self.h.as_mut_slice());
        } else {
            for (mut col, &b) in self.h.column_iter_mut().zip(m.b1.iter()) {
                col.apply(|e| *e = (*e + b).tanh());
            }
        }
        self.p.gemm(1.0, &self.h, &m.w2, 0.0);
        for (mut col, &b) in self.p.column_iter_mut().zip(m.b2.iter()) {
            col.add_scalar_mut(b);
        }
    }

    /// The loss alone (the hand-written forward).
    ///
    /// # Panics
    /// If a label is not below the number of classes, or shapes do not match.
    pub fn loss(&mut self, m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
        self.forward(m, x);
        let (n, classes) = self.p.shape();
        let mut total = 0.0;
        for (i, &label) in labels.iter().enumerate().take(n) {
            assert!(
                label < classes,
                "label {label} of row {i} is not below {classes}"
            );
            let row = self.p.row(i);
            let max = row.max();
            let sum: f64 = row.iter().map(|&z| (z - max).exp()).sum();
            total += max + sum.ln() - row[label];
        }
        total / n as f64
    }

    /// The loss and its gradient, written into `g` (same shapes as `m`).
    ///
    /// With `P = softmax(logits)` row-wise and `Y` the one-hot labels:
    /// `G = (P - Y) / n`, `dW2 = h^T G`, `db2 = column sums of G`,
    /// `dZ = (G W2^T) .* (1 - h^2)`, `dW1 = x^T dZ`, `db1 = column sums of dZ`.
    ///
    /// # Panics
    /// If a label is not below the number of classes, or shapes do not match.
    pub fn loss_grad(&mut self, m: &Mlp, x: &DMatrix<f64>, labels: &[usize], g: &mut Mlp) -> f64 {
        self.forward(m, x);
        let (n, classes) = self.p.shape();
        assert_eq!(labels.len(), n, "one label per row");
        let inv_n = 1.0 / n as f64;
        let total = if self.simd {
            self.softmax_grad_simd(labels, inv_n)
        } else {
            let mut total = 0.0;
            for (i, &label) in labels.iter().enumerate() {
                assert!(
                    label < classes,
                    "label {label} of row {i} is not below {classes}"
                );
                let mut row = self.p.row_mut(i);
                let max = row.max();
                let logit = row[label];
                let mut sum = 0.0;
                row.apply(|z| {
                    *z = (*z - max).exp();
                    sum += *z;
                });
                total += max + sum.ln() - logit;
                let scale = inv_n / sum;
                row.apply(|z| *z *= scale);
                row[label] -= inv_n;
            }
            total
        };
        // Second layer.
        g.w2.gemm_tr(1.0, &self.h, &self.p, 0.0);
        for (gb, col) in g.b2.iter_mut().zip(self.p.column_iter()) {
            *gb = col.sum();
        }
        // Back through tanh.
        m.w2.transpose_to(&mut self.w2t);
        self.dh.gemm(1.0, &self.p, &self.w2t, 0.0);
        self.dh.zip_apply(&self.h, |d, h| *d *= 1.0 - h * h);
        // First layer.
        x.transpose_to(&mut self.xt);
        g.w1.gemm(1.0, &self.xt, &self.dh, 0.0);
        for (gb, col) in g.b1.iter_mut().zip(self.dh.column_iter()) {
            *gb = col.sum();
        }
        total * inv_n
    }

    /// The softmax cross-entropy's loss sum, with `p` (the logits) turned into its
    /// gradient `(softmax - onehot) / n`, column by column so that `exp` runs on the
    /// vectorised kernel over contiguous memory.
    fn softmax_grad_simd(&mut self, labels: &[usize], inv_n: f64) -> f64 {
        let classes = self.p.ncols();
        let (max, sum) = (&mut self.row_max, &mut self.row_sum);
        max.fill(f64::NEG_INFINITY);
        for col in self.p.column_iter() {
            for (m, &z) in max.iter_mut().zip(col.iter()) {
                *m = m.max(z);
            }
        }
        let mut total = 0.0;
        for (i, &label) in labels.iter().enumerate() {
            assert!(
                label < classes,
                "label {label} of row {i} is not below {classes}"
            );
            total += max[i] - self.p[(i, label)];
        }
        sum.fill(0.0);
        for mut col in self.p.column_iter_mut() {
            for (z, &m) in col.iter_mut().zip(max.iter()) {
                *z -= m;
            }
            autodiff::simd::exp_in_place(col.as_mut_slice());
            for (s, &e) in sum.iter_mut().zip(col.iter()) {
                *s += e;
            }
        }
        // The maxima are no longer needed: their buffer takes `ln(sum)`.
        max.copy_from_slice(sum);
        autodiff::simd::ln_in_place(max);
        total += max.iter().sum::<f64>();
        for (j, mut col) in self.p.column_iter_mut().enumerate() {
            for (i, (z, &s)) in col.iter_mut().zip(sum.iter()).enumerate() {
                *z *= inv_n / s;
                if labels[i] == j {
                    *z -= inv_n;
                }
            }
        }
        total
    }
}

/// The dynamic engine's leaves for the MLP (biases as 1 x k rows, broadcast over rows).
pub struct DynamicMlp {
    /// First layer weights, requires grad.
    pub w1: Tensor,
    /// First layer bias, requires grad.
    pub b1: Tensor,
    /// Second layer weights, requires grad.
    pub w2: Tensor,
    /// Second layer bias, requires grad.
    pub b2: Tensor,
}

fn row_tensor(b: &RowDVector<f64>) -> Tensor {
    Tensor::from(DMatrix::from_row_slice(1, b.len(), b.as_slice()))
}

fn row_vector(t: &Tensor) -> RowDVector<f64> {
    RowDVector::from_row_slice(t.value_ref().as_slice())
}

impl DynamicMlp {
    /// Leaves holding copies of `m`'s parameters.
    pub fn new(m: &Mlp) -> DynamicMlp {
        DynamicMlp {
            w1: Tensor::from(m.w1.clone()).requires_grad(),
            b1: row_tensor(&m.b1).requires_grad(),
            w2: Tensor::from(m.w2.clone()).requires_grad(),
            b2: row_tensor(&m.b2).requires_grad(),
        }
    }

    /// The loss, recorded on the tape.
    pub fn loss(&self, x: &Tensor, labels: &[usize]) -> Tensor {
        let h = (x.matmul(&self.w1) + &self.b1).tanh();
        (h.matmul(&self.w2) + &self.b2).cross_entropy(labels)
    }

    /// One gradient evaluation as a PyTorch user writes it: clear the gradients, record
    /// the loss, `backward()`. Returns the value; the gradients are in the leaves.
    pub fn loss_grad(&self, x: &Tensor, labels: &[usize]) -> Result<f64, GradError> {
        for p in [&self.w1, &self.b1, &self.w2, &self.b2] {
            p.zero_grad();
        }
        let loss = self.loss(x, labels);
        loss.backward()?;
        Ok(loss.item())
    }

    /// The accumulated gradients as an [`Mlp`] (copies); zeros where none flowed.
    pub fn grads(&self) -> Mlp {
        let grad = |t: &Tensor| {
            t.grad()
                .unwrap_or_else(|| Tensor::zeros(t.shape().0, t.shape().1))
        };
        Mlp {
            w1: grad(&self.w1).value(),
            b1: row_vector(&grad(&self.b1)),
            w2: grad(&self.w2).value(),
            b2: row_vector(&grad(&self.b2)),
        }
    }

    /// Overwrites the leaves' values with `m`'s (under `no_grad`, as an optimizer does).
    pub fn set(&self, m: &Mlp) -> Result<(), GradError> {
        no_grad(|| {
            self.w1.copy_(&Tensor::from(m.w1.clone()))?;
            self.b1.copy_(&row_tensor(&m.b1))?;
            self.w2.copy_(&Tensor::from(m.w2.clone()))?;
            self.b2.copy_(&row_tensor(&m.b2))
        })
    }
}
