use autodiff::prelude::*;

#[differentiable]
fn f(x: f64) -> f64 {
    let n = x;
    x.powi(n)
}

fn main() {}
