use autodiff::prelude::*;

#[differentiable]
fn helper(x: f64) -> f64 {
    x.sin()
}

#[differentiable(hvp)]
fn loss(x: f64) -> f64 {
    helper(x) * x
}

fn main() {}
