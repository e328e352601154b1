//! A plain (not differentiable) helper called on constants only, beside differentiable
//! callees called by bare name and by path, compiles cleanly.
#![deny(warnings, clippy::all)]

use autodiff::prelude::*;

fn weight(k: usize) -> f64 {
    1.0 / (k as f64 + 1.0)
}

/// A differentiable callee.
#[differentiable]
pub fn square(x: f64) -> f64 {
    x * x
}

mod inner {
    use autodiff::prelude::*;

    /// A differentiable callee in another module.
    #[differentiable(wrt(a))]
    pub fn scaled(a: f64, k: f64) -> f64 {
        a * k
    }
}

/// Calls all three.
#[differentiable(wrt(x))]
pub fn total(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for k in 0..n {
        s += square(x) * weight(k) + inner::scaled(x, weight(k + 1));
    }
    s
}

fn main() {
    let (v, g) = total_grad(2.0, 3);
    assert!(v.is_finite() && g.x.is_finite());
}
