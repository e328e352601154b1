//! A differentiable function compiles cleanly under `deny(warnings, clippy::all)`.
#![deny(warnings, clippy::all)]

use autodiff::prelude::*;

/// A documented loss.
#[differentiable(wrt(w))]
pub fn loss(w: f64, x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        let k = i as f64;
        if k > 1.0 {
            s += (w * x - k).powi(2);
        } else {
            s = s + w.tanh() * k;
        }
    }
    s
}

fn main() {
    let (v, g) = loss_grad(1.0, 2.0, 4);
    assert!(v.is_finite() && g.w.is_finite());
}
