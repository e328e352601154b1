use autodiff::prelude::*;

#[differentiable]
fn f(w: f64, n: usize) -> f64 {
    w * n as f64
}

fn main() {}
