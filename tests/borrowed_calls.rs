//! Differentiable calls that lend a callee a value of a branch arm or a loop body: the
//! reverse pass calls the callee's vector-Jacobian product on the arguments the tape kept.
//! Checked against central differences.

use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

#[differentiable]
fn twice(v: &DMatrix<f64>) -> DMatrix<f64> {
    v * 2.0
}

#[differentiable]
fn total(v: &DMatrix<f64>) -> f64 {
    v.map(|e| e * e).sum()
}

#[differentiable]
fn branch_local(v: &DMatrix<f64>, s: f64) -> f64 {
    if s > 0.0 {
        let w = v / s;
        total(&twice(&w))
    } else {
        total(v) * s
    }
}

#[differentiable]
fn block(w: &DMatrix<f64>, h: &DMatrix<f64>) -> DMatrix<f64> {
    (w * h).map(|e| e.tanh())
}

#[differentiable(wrt(w, h0))]
fn recurrent(w: &DMatrix<f64>, h0: &DMatrix<f64>, n: usize) -> f64 {
    let mut h = h0.clone();
    for _ in 0..n {
        h = block(w, &h);
    }
    total(&h)
}

fn matrix(r: usize, c: usize, seed: f64) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |i, j| ((i * c + j) as f64 * 0.37 + seed).sin() * 0.8)
}

fn check_matrix(what: &str, g: &DMatrix<f64>, x: &DMatrix<f64>, f: impl Fn(&DMatrix<f64>) -> f64) {
    let h = 1e-6;
    for k in 0..x.len() {
        let (mut p, mut m) = (x.clone(), x.clone());
        p[k] += h;
        m[k] -= h;
        let fd = (f(&p) - f(&m)) / (2.0 * h);
        assert!(
            (g[k] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "{what}[{k}]: {} vs {fd}",
            g[k]
        );
    }
}

#[test]
fn a_call_on_a_branch_local_value() {
    let v = matrix(2, 3, 0.1);
    for s in [2.0, -1.0] {
        let (value, g) = branch_local_grad(&v, s);
        assert_eq!(value, branch_local(&v, s));
        check_matrix("v", &g.v, &v, |v| branch_local(v, s));
        let h = 1e-6;
        let fd = (branch_local(&v, s + h) - branch_local(&v, s - h)) / (2.0 * h);
        assert!((g.s - fd).abs() < 1e-6 * (1.0 + fd.abs()));
    }
}

#[test]
fn a_matrix_call_carried_by_a_loop() {
    let w = matrix(3, 3, 0.4);
    let h0 = matrix(3, 2, -0.2);
    for n in [0, 1, 4] {
        let (value, g) = recurrent_grad(&w, &h0, n);
        assert_eq!(value, recurrent(&w, &h0, n));
        check_matrix("w", &g.w, &w, |w| recurrent(w, &h0, n));
        check_matrix("h0", &g.h0, &h0, |h0| recurrent(&w, h0, n));
    }
}
