use autodiff::prelude::*;

#[differentiable]
fn f(x: f64) -> f64 {
    x.powi(2)
}

fn g() -> f64 {
    let (_, grad) = f_grad(1.0);
    grad.y
}

fn main() {}
