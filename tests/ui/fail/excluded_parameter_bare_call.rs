use autodiff::prelude::*;

#[differentiable(wrt(a))]
fn scaled(a: f64, k: f64) -> f64 {
    a * k
}

#[differentiable]
fn f(x: f64, y: f64) -> f64 {
    scaled(x, y * 2.0)
}

fn main() {}
