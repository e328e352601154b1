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

#[cfg(test)]
mod tests {
    //! Every row of the op table: its `Tensor` derivative against the table's own
    //! formula, and the second derivative a recorded pass gives against central finite
    //! differences of the first (from `grad`). The rows are enumerated with
    //! `autodiff_ops::for_each_unary_row!` / `for_each_binary_row!`, so a new row is
    //! checked here as soon as it exists (and without a rule above, it does not compile).

    use super::*;
    use crate::dynamic::{grad, grad_create_graph};

    /// Deterministic points in `(lo, hi)`, kept at least 0.3 from 0 when the interval
    /// allows it (away from the kinks of `abs` and `relu`, the pole of `recip`).
    fn points(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                let u =
                    (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
                let v = lo + (hi - lo) * (0.05 + 0.9 * u);
                if v.abs() < 0.3 && lo < -0.35 && hi > 0.35 {
                    if v < 0.0 {
                        v - 0.3
                    } else {
                        v + 0.3
                    }
                } else {
                    v
                }
            })
            .collect()
    }

    fn matrix(shape: (usize, usize), lo: f64, hi: f64, seed: u64) -> Matrix {
        Matrix::from_column_slice(shape.0, shape.1, &points(shape.0 * shape.1, lo, hi, seed))
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
    }

    /// Checks the Hessian of `f` at `inputs` (values), element by element: the recorded
    /// pass's `d/dx_j (df/dx_i)[k]` (as `grad` of `sum(grad_create_graph(f) * e)`)
    /// against central differences of `grad(f)`; and the recorded first gradient
    /// against `grad`'s.
    fn check_hessian(what: &str, inputs: &[Matrix], f: &dyn Fn(&[Tensor]) -> Tensor) {
        let leaves = |values: &[Matrix]| -> Vec<Tensor> {
            values
                .iter()
                .map(|v| Tensor::from(v.clone()).requires_grad())
                .collect()
        };
        let first = |values: &[Matrix]| -> Vec<Matrix> {
            let xs = leaves(values);
            let refs: Vec<&Tensor> = xs.iter().collect();
            grad(&f(&xs), &refs)
                .unwrap()
                .iter()
                .map(Tensor::value)
                .collect()
        };
        let exact = first(inputs);
        {
            let xs = leaves(inputs);
            let refs: Vec<&Tensor> = xs.iter().collect();
            let recorded = grad_create_graph(&f(&xs), &refs).unwrap();
            for (i, (r, e)) in recorded.iter().zip(&exact).enumerate() {
                for (a, b) in r.value().iter().zip(e.iter()) {
                    assert!(
                        close(*a, *b, 1e-12),
                        "{what}: recorded gradient {i}: {a} vs {b}"
                    );
                }
            }
        }
        let h = 1e-5;
        for (j, xj) in inputs.iter().enumerate() {
            for l in 0..xj.len() {
                // Row (j, l) of the Hessian: the gradient of (df/dx_j)[l].
                let xs = leaves(inputs);
                let refs: Vec<&Tensor> = xs.iter().collect();
                let g = grad_create_graph(&f(&xs), &refs).unwrap();
                let mut e = Matrix::zeros(xj.nrows(), xj.ncols());
                e[l] = 1.0;
                let pick = (&g[j] * &Tensor::from(e)).sum();
                let row: Vec<Matrix> = if pick.requires_grad_flag() {
                    grad(&pick, &refs)
                        .unwrap()
                        .iter()
                        .map(Tensor::value)
                        .collect()
                } else {
                    inputs
                        .iter()
                        .map(|x| Matrix::zeros(x.nrows(), x.ncols()))
                        .collect()
                };
                // By symmetry, row (j, l) is also column (j, l): differences along x_j[l].
                let shifted = |s: f64| {
                    let mut values = inputs.to_vec();
                    values[j][l] += s;
                    first(&values)
                };
                let (plus, minus) = (shifted(h), shifted(-h));
                for i in 0..inputs.len() {
                    for k in 0..inputs[i].len() {
                        let fd = (plus[i][k] - minus[i][k]) / (2.0 * h);
                        let an = row[i][k];
                        assert!(
                            close(an, fd, 1e-6),
                            "{what}: d2f/dx{j}[{l}]dx{i}[{k}] = {an}, finite differences {fd}"
                        );
                    }
                }
            }
        }
    }

    macro_rules! call_unary {
        (operator neg, $x:expr) => {
            -$x
        };
        ($syn:ident $name:ident, $x:expr) => {
            $x.$name()
        };
    }

    /// The number of unary rows, counted from the table itself.
    macro_rules! count_unary_rows {
        (unary: [$($row:tt),* $(,)?], $($rest:tt)*) => {
            0 $(+ { let _ = stringify!($row); 1 })*
        };
    }

    #[test]
    fn every_unary_row_has_a_tensor_derivative_equal_to_the_table_s() {
        let mut rows = 0;
        macro_rules! check {
            ($u:ident, $syn:ident $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {{
                rows += 1;
                let x = matrix((3, 2), $lo, $hi, rows);
                let y = x.map(|v| $u.f(v));
                let d = <$u as TensorDerivative>::df_tensor(
                    $u,
                    &Tensor::from(x.clone()),
                    &Tensor::from(y.clone()),
                );
                assert_eq!(d.shape(), x.shape(), "{}", $torch);
                for k in 0..x.len() {
                    let expected = $u.df(x[k], y[k]);
                    assert!(
                        close(d.value()[k], expected, 1e-12),
                        "{}: Tensor derivative {} at {}, the table's {}",
                        $torch,
                        d.value()[k],
                        x[k],
                        expected
                    );
                }
            }};
        }
        autodiff_ops::for_each_unary_row!(check);
        assert_eq!(rows, autodiff_ops::for_each_op!(count_unary_rows));
    }

    #[test]
    fn every_unary_row_has_second_derivatives_equal_to_finite_differences() {
        let mut rows = 0u64;
        macro_rules! check {
            ($u:ident, $syn:ident $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {{
                rows += 1;
                let w = Tensor::from(matrix((2, 2), -1.0, 1.0, 100 + rows));
                // sum(w f(x)) reads f'' at x; sum(w f(x)^2) also differentiates the
                // recorded product with the gradient flowing in.
                let linear = |xs: &[Tensor]| (&call_unary!($syn $name, &xs[0]) * &w).sum();
                let square = |xs: &[Tensor]| {
                    let y = call_unary!($syn $name, &xs[0]);
                    (&(&y * &y) * &w).sum()
                };
                let x = matrix((2, 2), $lo, $hi, rows);
                check_hessian(concat!($torch, " in sum(w f(x))"), std::slice::from_ref(&x), &linear);
                check_hessian(concat!($torch, " in sum(w f(x)^2)"), &[x], &square);
            }};
        }
        autodiff_ops::for_each_unary_row!(check);
        assert!(rows > 20);
    }

    macro_rules! call_binary {
        ($b:ident, operator $name:ident, $t:tt, $x:expr, $y:expr) => {
            std::ops::$b::$name($x, $y)
        };
        (Powf, $syn:ident $name:ident, -, $x:expr, $y:expr) => {
            $x.pow($y)
        };
        (Max, $syn:ident $name:ident, -, $x:expr, $y:expr) => {
            $x.maximum($y)
        };
        (Min, $syn:ident $name:ident, -, $x:expr, $y:expr) => {
            $x.minimum($y)
        };
        ($b:ident, $syn:ident $name:ident, $t:ident, $x:expr, $y:expr) => {
            $x.$t($y)
        };
    }

    #[test]
    fn every_binary_row_has_tensor_partials_equal_to_the_table_s() {
        let mut rows = 0;
        macro_rules! check {
            ($b:ident, $syn:ident $name:ident, $t:tt, $torch:literal, $lo:literal, $hi:literal) => {{
                rows += 1;
                let (a, b) = (
                    matrix((2, 3), $lo, $hi, rows),
                    matrix((2, 3), $lo, $hi, 50 + rows),
                );
                let y = a.zip_map(&b, |a, b| $b.f(a, b));
                let (ta, tb, ty) = (
                    Tensor::from(a.clone()),
                    Tensor::from(b.clone()),
                    Tensor::from(y.clone()),
                );
                let da = <$b as TensorPartials>::da_tensor($b, &ta, &tb, &ty);
                let db = <$b as TensorPartials>::db_tensor($b, &ta, &tb, &ty);
                for k in 0..a.len() {
                    let (ea, eb) = ($b.da(a[k], b[k], y[k]), $b.db(a[k], b[k], y[k]));
                    // A constant partial is 1x1.
                    let at = |d: &Tensor| {
                        if d.len() == 1 {
                            d.value()[0]
                        } else {
                            d.value()[k]
                        }
                    };
                    assert!(
                        close(at(&da), ea, 1e-12),
                        "{}: da {} vs {}",
                        $torch,
                        at(&da),
                        ea
                    );
                    assert!(
                        close(at(&db), eb, 1e-12),
                        "{}: db {} vs {}",
                        $torch,
                        at(&db),
                        eb
                    );
                }
            }};
        }
        autodiff_ops::for_each_binary_row!(check);
        assert!(rows >= 9);
    }

    #[test]
    fn every_binary_row_has_second_derivatives_equal_to_finite_differences() {
        let mut rows = 0u64;
        macro_rules! check {
            ($b:ident, $syn:ident $name:ident, $t:tt, $torch:literal, $lo:literal, $hi:literal) => {{
                rows += 1;
                // Equal shapes, a row, a column, and a 1x1 against a matrix; both orders.
                for (sa, sb) in [((2, 2), (2, 2)), ((2, 3), (1, 3)), ((2, 1), (1, 3)), ((1, 1), (2, 2))] {
                    for (sa, sb) in [(sa, sb), (sb, sa)] {
                        let w = Tensor::from(matrix((sa.0.max(sb.0), sa.1.max(sb.1)), -1.0, 1.0, 7 + rows));
                        let linear = |xs: &[Tensor]| (&call_binary!($b, $syn $name, $t, &xs[0], &xs[1]) * &w).sum();
                        let square = |xs: &[Tensor]| {
                            let y = call_binary!($b, $syn $name, $t, &xs[0], &xs[1]);
                            (&(&y * &y) * &w).sum()
                        };
                        let a = matrix(sa, $lo, $hi, rows);
                        let b = matrix(sb, $lo, $hi, 31 + rows);
                        let what = format!("{} {:?} with {:?}", $torch, sa, sb);
                        check_hessian(&format!("{what} in sum(w f)"), &[a.clone(), b.clone()], &linear);
                        check_hessian(&format!("{what} in sum(w f^2)"), &[a, b], &square);
                    }
                }
            }};
        }
        autodiff_ops::for_each_binary_row!(check);
        assert!(rows >= 9);
    }

    #[test]
    fn keep_where_zeroes_masked_elements_and_their_gradient_at_every_order() {
        let x = Tensor::vector(&[2.0, 3.0]).requires_grad();
        let mask = Matrix::from_column_slice(2, 1, &[1.0, 0.0]);
        let y = x.powi(3).keep_where(mask);
        assert_eq!(y.grad_fn(), Some("WhereBackward0"));
        assert_eq!(y.value().as_slice(), &[8.0, 0.0]);
        let g = grad_create_graph(&y.sum(), &[&x]).unwrap().remove(0);
        assert_eq!(g.value().as_slice(), &[12.0, 0.0]);
        let h = grad(&g.sum(), &[&x]).unwrap().remove(0);
        assert_eq!(h.value().as_slice(), &[12.0, 0.0]);
        // Exactly 0 where masked, also over an infinity.
        let inf = Tensor::vector(&[f64::INFINITY, 1.0]).keep_where(Matrix::from_column_slice(
            2,
            1,
            &[0.0, 1.0],
        ));
        assert_eq!(inf.value().as_slice(), &[0.0, 1.0]);
    }

    #[test]
    fn sum_to_and_expand_reduce_and_repeat_with_recorded_gradients() {
        let t = Tensor::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).requires_grad();
        assert_eq!(sum_to(&t, (1, 3)).value().as_slice(), &[5.0, 7.0, 9.0]);
        assert_eq!(sum_to(&t, (2, 1)).value().as_slice(), &[6.0, 15.0]);
        assert_eq!(sum_to(&t, (1, 1)).item(), 21.0);
        assert_eq!(sum_to(&t, (2, 3)).value(), t.value());
        let s = Tensor::scalar(2.0).requires_grad();
        let e = expand(&s, (2, 2));
        assert_eq!(e.value().as_slice(), &[2.0; 4]);
        // d/ds sum(expand(s)^2) = 8 s; its derivative 8.
        let g = grad_create_graph(&(&e * &e).sum(), &[&s])
            .unwrap()
            .remove(0);
        assert_eq!(g.item(), 16.0);
        assert_eq!(grad(&g, &[&s]).unwrap()[0].item(), 8.0);
    }
}
