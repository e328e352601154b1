//! Branches and loops: the reverse pass replays the branch taken and the iterations in reverse.

use autodiff::prelude::*;

#[differentiable]
fn piecewise(x: f64) -> f64 {
    if x > 0.0 {
        x * x
    } else {
        -x * 3.0
    }
}

#[differentiable]
fn branch_statement(x: f64, y: f64) -> f64 {
    let mut s = x * y;
    if y > 1.0 {
        s = s * x;
    }
    s + y
}

#[differentiable(wrt(x))]
fn power_series(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    let mut term = 1.0;
    for _i in 0..n {
        s = s + term;
        term = term * x;
    }
    s
}

#[differentiable(wrt(x))]
fn nested(x: f64, n: usize) -> f64 {
    let mut acc = x;
    for i in 0..n {
        for j in 0..i {
            let k = (i + j) as f64;
            if j % 2 == 0 {
                acc = acc + (x * k).sin();
            } else {
                acc = acc * 0.9 + x.powi(2) * 0.01;
            }
        }
    }
    acc
}

#[differentiable(wrt(x))]
fn loop_with_index_power(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 1..=n {
        let p = i as i32;
        s += x.powi(p) / (i as f64);
    }
    s
}

fn central_difference(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn if_expression_takes_each_branch() {
    // x > 0: d(x^2) = 2x; x <= 0: d(-3x) = -3.
    assert_eq!(piecewise_grad(2.0).1.x, 4.0);
    assert_eq!(piecewise_grad(-2.0).1.x, -3.0);
    assert_eq!(piecewise_grad(-2.0).0, 6.0);
}

#[test]
fn if_statement_reassigns() {
    // y > 1: s = x^2 y + y, ds/dx = 2xy, ds/dy = x^2 + 1.
    let (v, g) = branch_statement_grad(3.0, 2.0);
    assert_eq!(v, 20.0);
    assert_eq!(g.x, 12.0);
    assert_eq!(g.y, 10.0);
    // y <= 1: s = xy + y.
    let (_, g) = branch_statement_grad(3.0, 0.5);
    assert_eq!(g.x, 0.5);
    assert_eq!(g.y, 4.0);
}

#[test]
fn loop_with_runtime_bound() {
    // sum_{k<n} x^k, derivative sum k x^(k-1); at x = 2, n = 5: 1 + 4 + 12 + 32 = 49.
    let (v, g) = power_series_grad(2.0, 5);
    assert_eq!(v, 31.0);
    assert_eq!(g.x, 49.0);
    // zero iterations: constant 0, gradient 0.
    assert_eq!(power_series_grad(2.0, 0).1.x, 0.0);
}

#[test]
fn nested_loops_and_branches_match_finite_differences() {
    for &x in &[0.3, -1.2, 2.5] {
        for n in [0, 1, 3, 6] {
            let (v, g) = nested_grad(x, n);
            assert_eq!(v, nested(x, n));
            let fd = central_difference(|x| nested(x, n), x);
            assert!(
                (g.x - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "x={x} n={n}: {} vs {fd}",
                g.x
            );
        }
    }
}

#[test]
fn loop_index_as_exponent() {
    let x = 0.7;
    let (_, g) = loop_with_index_power_grad(x, 6);
    // d/dx sum_{i=1}^{6} x^i / i = sum x^(i-1).
    let expected: f64 = (0..6).map(|k| x.powi(k)).sum();
    assert!((g.x - expected).abs() < 1e-14);
}
