//! Calls that borrow values local to a branch or carried by a loop.
use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

#[differentiable]
fn twice(v: &DMatrix<f64>) -> DMatrix<f64> {
    v * 2.0
}

#[differentiable]
fn total(v: &DMatrix<f64>) -> f64 {
    v.sum()
}

#[differentiable]
fn branch_local(v: &DMatrix<f64>, s: f64) -> f64 {
    if s > 0.0 {
        let w = v / s;
        total(&twice(&w))
    } else {
        total(v)
    }
}

#[differentiable]
fn block(w: &DMatrix<f64>, h: &DMatrix<f64>) -> DMatrix<f64> {
    (w * h).map(|e| e.tanh())
}

#[differentiable(wrt(w, h0))]
fn unrolled(w: &DMatrix<f64>, h0: &DMatrix<f64>, n: usize) -> f64 {
    let mut h = h0.clone();
    for _ in 0..n {
        h = block(w, &h);
    }
    h.sum()
}

fn main() {
    let v = DMatrix::from_element(2, 2, 1.0);
    let (_, g) = branch_local_grad(&v, 2.0);
    assert_eq!(g.v[(0, 0)], 1.0);
    let w = DMatrix::from_element(2, 2, 0.1);
    let (_, g) = unrolled_grad(&w, &v, 3);
    assert!(g.w[(0, 0)].is_finite() && g.h0[(0, 0)].is_finite());
}
