//! The derivatives of every op as `Tensor` ops, for backward passes that record
//! (`create_graph`: [`grad_create_graph`](super::grad_create_graph),
//! [`Tensor::backward_create_graph`]).
//!
//! The plain backward pass computes each vector-Jacobian product on matrices, from the
//! shared rules in [`crate::rules`] (the op table's `df(x, y)` formulas, written for
//! numbers). A recorded pass needs the same products written with `Tensor` ops, so that
//! the gradients it returns have a `grad_fn` and can be differentiated again. The op
//! table's formulas are Rust expressions on `Copy` numbers, which a `Tensor` is not, so
//! this file writes each derivative once more, in `Tensor` ops, in one place:
//!
//! - [`TensorDerivative`]: `f'(x)` of every unary elementwise rule (each unary row of the
//!   op table, `powi`, `clamp`);
//! - [`TensorPartials`]: `df/da` and `df/db` of every binary rule (each binary row);
//! - [`RecordedUnary`], [`RecordedReduce`], [`RecordedMatmul`], [`RecordedMse`] and
//!   [`cross_entropy_vjp`]: the vector-Jacobian products of the structural ops.
//!
//! The `Tensor` methods are generic over these traits, so a new row of the op table
//! without a rule here does not compile; the unit tests below check every row's rule
//! against the table's own derivative, and its derivative against finite differences.
//!
//! Derivatives that are piecewise constant (`abs`, `relu`, `clamp`, `maximum`, ...) are
//! constants here (their own derivative is 0 almost everywhere, as in PyTorch).

use std::rc::Rc;

use nalgebra::DMatrix;

use super::node::{BackwardFn, GradSink, Recorder, Saves};
use super::tensor::Tensor;
use crate::rules::*;

type Matrix = DMatrix<f64>;

/// `f'(x)` of a unary elementwise rule, as recorded `Tensor` ops of the input `x` and
/// the output `y = f(x)` (which lead into the graph: differentiating the result again
/// differentiates through them).
///
/// As in the plain backward, a rule whose derivative reads only the output receives
/// the output for `x` too, and one that reads only the input the input for `y`.
pub(crate) trait TensorDerivative: ElementwiseRule {
    /// The derivative at every element, of `x`'s shape.
    fn df_tensor(rule: Self, x: &Tensor, y: &Tensor) -> Tensor;
}

/// A piecewise constant derivative: the rule's own `df`, as a constant tensor.
fn constant_df<R: ElementwiseRule>(rule: R, x: &Tensor, y: &Tensor) -> Tensor {
    let (x, y) = (x.value_ref(), y.value_ref());
    Tensor::from(x.zip_map(&y, |x, y| rule.df(x, y)))
}

macro_rules! tensor_derivatives {
    ($($rule:ty => |$r:ident, $x:ident, $y:ident| $df:expr;)*) => {
        $(
            impl TensorDerivative for $rule {
                #[allow(unused_variables)]
                fn df_tensor($r: Self, $x: &Tensor, $y: &Tensor) -> Tensor {
                    $df
                }
            }
        )*
    };
}

tensor_derivatives! {
    Neg => |r, x, y| constant_df(r, x, y);
    Exp => |r, x, y| y.clone();
    Exp2 => |r, x, y| y * std::f64::consts::LN_2;
    Ln => |r, x, y| x.recip();
    Log10 => |r, x, y| (x * std::f64::consts::LN_10).recip();
    Log2 => |r, x, y| (x * std::f64::consts::LN_2).recip();
    Sqrt => |r, x, y| 0.5 / y;
    Cbrt => |r, x, y| (y.powi(2) * 3.0).recip();
    Recip => |r, x, y| -y.powi(2);
    Sin => |r, x, y| x.cos();
    Cos => |r, x, y| -x.sin();
    Tan => |r, x, y| y.powi(2) + 1.0;
    Asin => |r, x, y| (1.0 - x.powi(2)).sqrt().recip();
    Acos => |r, x, y| -(1.0 - x.powi(2)).sqrt().recip();
    Atan => |r, x, y| (x.powi(2) + 1.0).recip();
    Tanh => |r, x, y| 1.0 - y.powi(2);
    Sinh => |r, x, y| x.cosh();
    Cosh => |r, x, y| x.sinh();
    Asinh => |r, x, y| (x.powi(2) + 1.0).sqrt().recip();
    Acosh => |r, x, y| (x.powi(2) - 1.0).sqrt().recip();
    Atanh => |r, x, y| (1.0 - x.powi(2)).recip();
    Abs => |r, x, y| constant_df(r, x, y);
    ExpM1 => |r, x, y| y + 1.0;
    Ln1p => |r, x, y| (x + 1.0).recip();
    Relu => |r, x, y| constant_df(r, x, y);
    Sigmoid => |r, x, y| y * &(1.0 - y);
    Softplus => |r, x, y| x.sigmoid();
    PowI => |r, x, y| match r.0 {
        0 | 1 => constant_df(r, x, y),
        2 => x * 2.0,
        n => x.powi(n - 1) * f64::from(n),
    };
    ClampTo => |r, x, y| constant_df(r, x, y);
}

/// The partial derivatives of a binary elementwise rule, as recorded `Tensor` ops of
/// the operands `a`, `b` and the output `y` (either operand may be a 1x1 constant, and
/// they broadcast). The results broadcast to the output's shape.
pub(crate) trait TensorPartials: BinaryRule {
    /// `df/da`.
    fn da_tensor(rule: Self, a: &Tensor, b: &Tensor, y: &Tensor) -> Tensor;
    /// `df/db`.
    fn db_tensor(rule: Self, a: &Tensor, b: &Tensor, y: &Tensor) -> Tensor;
}

/// `m` repeated to `shape` (it broadcasts to it).
fn expand_value(m: &Matrix, (rows, cols): (usize, usize)) -> Matrix {
    Matrix::from_fn(rows, cols, |i, j| {
        m[(
            if m.nrows() == 1 { 0 } else { i },
            if m.ncols() == 1 { 0 } else { j },
        )]
    })
}

/// `f(a, b, y)` at every element of the output (`y`'s shape), `a` and `b` broadcast.
fn zip_broadcast(a: &Tensor, b: &Tensor, y: &Tensor, f: impl Fn(f64, f64, f64) -> f64) -> Matrix {
    let y = y.value_ref();
    let (a, b) = (
        expand_value(&a.value_ref(), y.shape()),
        expand_value(&b.value_ref(), y.shape()),
    );
    Matrix::from_fn(y.nrows(), y.ncols(), |i, j| {
        f(a[(i, j)], b[(i, j)], y[(i, j)])
    })
}

/// A piecewise constant partial: the rule's own, as a constant of the output's shape.
fn constant_partial(
    a: &Tensor,
    b: &Tensor,
    y: &Tensor,
    f: impl Fn(f64, f64, f64) -> f64,
) -> Tensor {
    Tensor::from(zip_broadcast(a, b, y, f))
}

macro_rules! tensor_partials {
    ($($rule:ty => |$r:ident, $a:ident, $b:ident, $y:ident| ($da:expr, $db:expr);)*) => {
        $(
            impl TensorPartials for $rule {
                #[allow(unused_variables)]
                fn da_tensor($r: Self, $a: &Tensor, $b: &Tensor, $y: &Tensor) -> Tensor {
                    $da
                }
                #[allow(unused_variables)]
                fn db_tensor($r: Self, $a: &Tensor, $b: &Tensor, $y: &Tensor) -> Tensor {
                    $db
                }
            }
        )*
    };
}

tensor_partials! {
    Add => |r, a, b, y| (Tensor::scalar(1.0), Tensor::scalar(1.0));
    Sub => |r, a, b, y| (Tensor::scalar(1.0), Tensor::scalar(-1.0));
    Mul => |r, a, b, y| (b.clone(), a.clone());
    Div => |r, a, b, y| (b.recip(), -(&(a / b) / b));
    Powf => |r, a, b, y| (
        // `b a^(b-1)`, 0 where `b = 0`; `y ln a`, 0 where `a = 0` and `b >= 0`.
        (b * &a.pow(&(b - 1.0))).keep_where(zip_broadcast(a, b, y, |_, b, _| f64::from(b != 0.0))),
        (y * &a.ln()).keep_where(zip_broadcast(a, b, y, |a, b, _| f64::from(!(a == 0.0 && b >= 0.0))))
    );
    Max => |r, a, b, y| (
        constant_partial(a, b, y, |a, b, y| r.da(a, b, y)),
        constant_partial(a, b, y, |a, b, y| r.db(a, b, y))
    );
    Min => |r, a, b, y| (
        constant_partial(a, b, y, |a, b, y| r.da(a, b, y)),
        constant_partial(a, b, y, |a, b, y| r.db(a, b, y))
    );
    Atan2 => |r, a, b, y| (
        b * &(a.powi(2) + b.powi(2)).recip(),
        -(a * &(a.powi(2) + b.powi(2)).recip())
    );
    Hypot => |r, a, b, y| (a / y, b / y);
}

/// The vector-Jacobian product of a unary op with a matrix result (`t`, `softmax`,
/// `log_softmax`), as recorded `Tensor` ops of its input `x`, output `y` and the
/// gradient `g` of the output.
pub(crate) trait RecordedUnary {
    /// The gradient of the input.
    fn vjp_tensor(op: Self, x: &Tensor, y: &Tensor, g: &Tensor) -> Tensor;
}

impl RecordedUnary for Transpose {
    fn vjp_tensor(_op: Self, _x: &Tensor, _y: &Tensor, g: &Tensor) -> Tensor {
        g.t()
    }
}

impl RecordedUnary for Softmax {
    /// `y (g - rowsum(g y))`.
    fn vjp_tensor(_op: Self, _x: &Tensor, y: &Tensor, g: &Tensor) -> Tensor {
        let rows = y.shape().0;
        y * &(g - &sum_to(&(g * y), (rows, 1)))
    }
}

impl RecordedUnary for LogSoftmax {
    /// `g - e^y rowsum(g)`.
    fn vjp_tensor(_op: Self, _x: &Tensor, y: &Tensor, g: &Tensor) -> Tensor {
        let rows = y.shape().0;
        g - &(&y.exp() * &sum_to(g, (rows, 1)))
    }
}

/// The vector-Jacobian product of a reduction to a scalar (`sum`, `mean`), as recorded
/// `Tensor` ops of the 1x1 gradient `g`, for an input of `shape`.
pub(crate) trait RecordedReduce {
    /// The gradient of the input.
    fn vjp_tensor(op: Self, shape: (usize, usize), g: &Tensor) -> Tensor;
}

impl RecordedReduce for Sum {
    fn vjp_tensor(_op: Self, shape: (usize, usize), g: &Tensor) -> Tensor {
        expand(g, shape)
    }
}

impl RecordedReduce for Mean {
    fn vjp_tensor(_op: Self, shape: (usize, usize), g: &Tensor) -> Tensor {
        expand(&(g / (shape.0 * shape.1) as f64), shape)
    }
}

/// The vector-Jacobian products of a binary op between matrices (the matrix product),
/// as recorded `Tensor` ops of its operands, output and the gradient `g`.
pub(crate) trait RecordedMatmul {
    /// The gradient of `a`.
    fn vjp_a(op: Self, a: &Tensor, b: &Tensor, g: &Tensor) -> Tensor;
    /// The gradient of `b`.
    fn vjp_b(op: Self, a: &Tensor, b: &Tensor, g: &Tensor) -> Tensor;
}

impl RecordedMatmul for Mul {
    fn vjp_a(_op: Self, _a: &Tensor, b: &Tensor, g: &Tensor) -> Tensor {
        g.matmul(&b.t())
    }
    fn vjp_b(_op: Self, a: &Tensor, _b: &Tensor, g: &Tensor) -> Tensor {
        a.t().matmul(g)
    }
}

/// The vector-Jacobian products of a binary op with a scalar result (`mse`).
pub(crate) trait RecordedMse {
    /// The gradients of the prediction `a` and the target `b`, for a 1x1 gradient `g`.
    fn vjp(op: Self, a: &Tensor, b: &Tensor, g: &Tensor, needs: [bool; 2]) -> [Option<Tensor>; 2];
}

impl RecordedMse for Mse {
    /// `2 g (a - b) / n` and its negation.
    fn vjp(_op: Self, a: &Tensor, b: &Tensor, g: &Tensor, needs: [bool; 2]) -> [Option<Tensor>; 2] {
        let ga = &(a - b) * &(g * (2.0 / a.len() as f64));
        [needs[0].then(|| ga.clone()), needs[1].then(|| -&ga)]
    }
}

/// The gradient of `cross_entropy(x, labels)` for a 1x1 gradient `g`:
/// `(softmax(x) - onehot(labels)) g / rows`.
pub(crate) fn cross_entropy_vjp(x: &Tensor, labels: &[usize], g: &Tensor) -> Tensor {
    let (rows, classes) = x.shape();
    let onehot = Tensor::from(Matrix::from_fn(rows, classes, |i, j| {
        f64::from(labels[i] == j)
    }));
    &(&x.softmax() - &onehot) * &(g / rows as f64)
}

/// `t` summed down to `shape`, a shape `t` broadcasts from (1x1, a row, a column, or
/// its own): recorded, so the gradient of a broadcast operand stays differentiable.
pub(crate) fn sum_to(t: &Tensor, (rows, cols): (usize, usize)) -> Tensor {
    let (m, n) = t.shape();
    if (m, n) == (rows, cols) {
        return t.clone();
    }
    if (rows, cols) == (1, 1) {
        return t.sum();
    }
    let t = if rows == 1 && m != 1 {
        Tensor::ones(1, m).matmul(t)
    } else {
        t.clone()
    };
    if cols == 1 && n != 1 {
        t.matmul(&Tensor::ones(n, 1))
    } else {
        t
    }
}

/// A 1x1 `g` repeated to `shape`, recorded.
pub(crate) fn expand(g: &Tensor, (rows, cols): (usize, usize)) -> Tensor {
    if (rows, cols) == (1, 1) {
        return g.clone();
    }
    &Tensor::ones(rows, cols) * g
}

/// `g * d`, reduced to `shape` (the shape of the operand `d` is a partial for).
pub(crate) fn broadcast_vjp(g: &Tensor, d: &Tensor, shape: (usize, usize)) -> Tensor {
    sum_to(&(g * d), shape)
}

/// Backward of [`Tensor::keep_where`] (`WhereBackward0`): the gradient where the mask
/// is 1, 0 elsewhere. It saves only the mask, a constant.
struct KeepWhere {
    mask: Rc<Matrix>,
}

impl BackwardFn for KeepWhere {
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let mask = self.mask.as_slice();
        sink.add_map(0, g, |k, gk| if mask[k] != 0.0 { gk } else { 0.0 });
    }

    fn saves_values(&self) -> bool {
        false
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        [
            r.needs(0).then(|| g.keep_where_rc(Rc::clone(&self.mask))),
            None,
        ]
    }
}

impl Tensor {
    /// This tensor where `mask` (of its shape) is not 0, exactly 0 elsewhere (also where
    /// this tensor is infinite or NaN), recorded as `WhereBackward0`, PyTorch's
    /// `torch.where(mask, t, 0)`.
    pub(crate) fn keep_where(&self, mask: Matrix) -> Tensor {
        self.keep_where_rc(Rc::new(mask))
    }

    fn keep_where_rc(&self, mask: Rc<Matrix>) -> Tensor {
        debug_assert_eq!(mask.shape(), self.shape());
        let value = self
            .value_ref()
            .zip_map(&mask, |v, m| if m != 0.0 { v } else { 0.0 });
        Tensor::from_op(
            Rc::new(value),
            "WhereBackward0",
            [Some(self), None],
            Saves::NOTHING,
            |_| Box::new(KeepWhere { mask }),
        )
    }
}
