use autodiff::prelude::*;

#[differentiable]
fn f(x: f64) -> f64 {
    x.to_degrees() + 1.0
}

fn main() {}
