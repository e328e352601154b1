use autodiff::prelude::*;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    let r = &mut y;
    y * 2.0
}

fn main() {}
