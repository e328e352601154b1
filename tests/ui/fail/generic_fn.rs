use autodiff::prelude::*;

#[differentiable]
fn f<T: Copy>(x: f64, _t: T) -> f64 {
    x * 2.0
}

fn main() {}
