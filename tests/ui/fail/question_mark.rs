use autodiff::prelude::*;

#[differentiable(wrt(x))]
fn f(x: f64, o: Option<f64>) -> f64 {
    let v = o?;
    x * v
}

fn main() {}
