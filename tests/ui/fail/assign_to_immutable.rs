use autodiff::prelude::*;

#[differentiable]
fn f(x: f64) -> f64 {
    let s = x;
    s = s * 2.0;
    s
}

fn main() {}
