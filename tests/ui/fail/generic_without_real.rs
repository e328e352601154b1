use autodiff::prelude::*;

// A type parameter stands for the scalar only when it is bounded by `Real`.
#[differentiable]
fn f<T: Copy>(x: f64, _t: T) -> f64 {
    x * 2.0
}

fn main() {}
