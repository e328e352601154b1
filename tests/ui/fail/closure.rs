use autodiff::prelude::*;

#[differentiable]
fn f(x: f64) -> f64 {
    let g = |a: f64| a * x;
    let h = g;
    h(2.0)
}

fn main() {}
