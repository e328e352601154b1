//! An MLP loss differentiated by chaining the dispatch functions exactly as the
//! `#[differentiable]` macro's reverse code does (symbolic-zero adjoints, `vjp`s that
//! add, `finish`), checked against central differences for every parameter.
//!
//! `loss = cross_entropy(tanh(x w1 + b1) w2 + b2, labels) + 0.01 * norm_squared(w1)`.

mod common;

use autodiff_runtime::nalgebra::{DMatrix, RowDVector};
use autodiff_runtime::rules::*;
use common::*;

#[derive(Clone, Debug)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

fn forward(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let z1 = binary(Mul, x, &m.w1);
    let a1 = binary(Add, &z1, &m.b1);
    let h = unary(Tanh, &a1);
    let z2 = binary(Mul, &h, &m.w2);
    let logits = binary(Add, &z2, &m.b2);
    let ce = binary(CrossEntropy, &logits, &labels);
    let reg = unary(NormSquared, &m.w1);
    let reg = binary(Mul, &0.01, &reg);
    binary(Add, &ce, &reg)
}

/// The reverse pass, written as the macro writes it.
fn gradient(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> Mlp {
    // Forward, keeping every intermediate.
    let z1 = binary(Mul, x, &m.w1);
    let a1 = binary(Add, &z1, &m.b1);
    let h = unary(Tanh, &a1);
    let z2 = binary(Mul, &h, &m.w2);
    let logits = binary(Add, &z2, &m.b2);
    let ce = binary(CrossEntropy, &logits, &labels);
    let reg0 = unary(NormSquared, &m.w1);
    let reg = binary(Mul, &0.01, &reg0);
    let loss = binary(Add, &ce, &reg);

    // Reverse, every adjoint starting at the symbolic zero.
    let g_loss = one::<f64>();
    let (mut g_ce, mut g_reg, mut g_reg0): (f64, f64, f64) =
        (adjoint_zero(), adjoint_zero(), adjoint_zero());
    let mut g_c: f64 = adjoint_zero();
    binary_vjp_lhs(Add, &ce, &reg, &loss, &g_loss, &mut g_ce);
    binary_vjp_rhs(Add, &ce, &reg, &loss, &g_loss, &mut g_reg);
    binary_vjp_lhs(Mul, &0.01, &reg0, &reg, &g_reg, &mut g_c);
    binary_vjp_rhs(Mul, &0.01, &reg0, &reg, &g_reg, &mut g_reg0);
    let mut g_w1: DMatrix<f64> = adjoint_zero();
    unary_vjp(NormSquared, &m.w1, &reg0, &g_reg0, &mut g_w1);
    let mut g_logits: DMatrix<f64> = adjoint_zero();
    binary_vjp_lhs(CrossEntropy, &logits, &labels, &ce, &g_ce, &mut g_logits);
    let (mut g_z2, mut g_b2): (DMatrix<f64>, RowDVector<f64>) = (adjoint_zero(), adjoint_zero());
    binary_vjp_lhs(Add, &z2, &m.b2, &logits, &g_logits, &mut g_z2);
    binary_vjp_rhs(Add, &z2, &m.b2, &logits, &g_logits, &mut g_b2);
    let (mut g_h, mut g_w2): (DMatrix<f64>, DMatrix<f64>) = (adjoint_zero(), adjoint_zero());
    binary_vjp_lhs(Mul, &h, &m.w2, &z2, &g_z2, &mut g_h);
    binary_vjp_rhs(Mul, &h, &m.w2, &z2, &g_z2, &mut g_w2);
    let mut g_a1: DMatrix<f64> = adjoint_zero();
    unary_vjp(Tanh, &a1, &h, &g_h, &mut g_a1);
    let (mut g_z1, mut g_b1): (DMatrix<f64>, RowDVector<f64>) = (adjoint_zero(), adjoint_zero());
    binary_vjp_lhs(Add, &z1, &m.b1, &a1, &g_a1, &mut g_z1);
    binary_vjp_rhs(Add, &z1, &m.b1, &a1, &g_a1, &mut g_b1);
    // w1 is used twice: its second contribution adds to the first (already sized) one.
    binary_vjp_rhs(Mul, x, &m.w1, &z1, &g_z1, &mut g_w1);
    Mlp {
        w1: finish(g_w1, &m.w1),
        b1: finish(g_b1, &m.b1),
        w2: finish(g_w2, &m.w2),
        b2: finish(g_b2, &m.b2),
    }
}

fn value(i: usize, j: usize, salt: usize) -> f64 {
    ((i * 7 + j * 13 + salt * 5) % 17) as f64 / 17.0 - 0.5
}

/// Central differences of the loss in every element of one parameter.
fn check_param(
    name: &str,
    analytic: &DMatrix<f64>,
    get: impl Fn(&mut Mlp) -> &mut [f64],
    m: &Mlp,
    x: &DMatrix<f64>,
    labels: &[usize],
) {
    let mut probe = m.clone();
    let n = get(&mut probe).len();
    for i in 0..n {
        let v = get(&mut probe)[i];
        let h = 1e-6 * v.abs().max(1.0);
        get(&mut probe)[i] = v + h;
        let up = forward(&probe, x, labels);
        get(&mut probe)[i] = v - h;
        let down = forward(&probe, x, labels);
        get(&mut probe)[i] = v;
        let fd = (up - down) / (2.0 * h);
        let an = analytic.as_slice()[i];
        assert!(
            (an - fd).abs() <= 1e-6 * fd.abs().max(1.0),
            "{name}[{i}]: {an} vs {fd}"
        );
    }
}

#[test]
fn mlp_gradient_matches_central_differences() {
    // The shapes of the `mlp_small` workload: 150 samples of 4 features, 16 hidden, 3 classes.
    let (n, d, hidden, classes) = (150, 4, 16, 3);
    let x = DMatrix::from_fn(n, d, |i, j| value(i, j, 1) * 4.0);
    let labels: Vec<usize> = (0..n).map(|i| (i * 7) % classes).collect();
    let m = Mlp {
        w1: DMatrix::from_fn(d, hidden, |i, j| value(i, j, 2)),
        b1: RowDVector::from_fn(hidden, |_, j| value(0, j, 3) * 0.1),
        w2: DMatrix::from_fn(hidden, classes, |i, j| value(i, j, 4)),
        b2: RowDVector::from_fn(classes, |_, j| value(0, j, 5) * 0.1),
    };
    let g = gradient(&m, &x, &labels);
    check_param("w1", &g.w1, |m| m.w1.as_mut_slice(), &m, &x, &labels);
    check_param(
        "b1",
        &DMatrix::from_row_slice(1, hidden, g.b1.as_slice()),
        |m| m.b1.as_mut_slice(),
        &m,
        &x,
        &labels,
    );
    check_param("w2", &g.w2, |m| m.w2.as_mut_slice(), &m, &x, &labels);
    check_param(
        "b2",
        &DMatrix::from_row_slice(1, classes, g.b2.as_slice()),
        |m| m.b2.as_mut_slice(),
        &m,
        &x,
        &labels,
    );
}

#[test]
fn wide_mlp_passes_the_random_direction_check() {
    // Wide enough for the blocked product kernels.
    let (n, d, hidden, classes) = (64, 40, 24, 10);
    let x = DMatrix::from_fn(n, d, |i, j| value(i, j, 6));
    let labels: Vec<usize> = (0..n).map(|i| (i * 3) % classes).collect();
    let w1 = DMatrix::from_fn(d, hidden, |i, j| value(i, j, 7) * 0.3);
    let rest = |w1: &DMatrix<f64>| Mlp {
        w1: w1.clone(),
        b1: RowDVector::from_fn(hidden, |_, j| value(1, j, 8)),
        w2: DMatrix::from_fn(hidden, classes, |i, j| value(i, j, 9)),
        b2: RowDVector::from_fn(classes, |_, j| value(2, j, 10)),
    };
    check_vjp_direction(
        &w1,
        |w1| forward(&rest(w1), &x, &labels),
        |w1, _y, g, gw1| {
            let grad = gradient(&rest(w1), &x, &labels);
            accumulate(gw1, &(grad.w1 * *g));
        },
        11,
        1e-7,
    );
}
