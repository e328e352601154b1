use autodiff::prelude::*;

#[differentiable(jvp, jvp)]
fn square(x: f64) -> f64 {
    x * x
}

fn main() {}
