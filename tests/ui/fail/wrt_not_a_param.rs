use autodiff::prelude::*;

#[differentiable(wrt(w, q))]
fn f(w: f64, x: f64) -> f64 {
    w * x
}

fn main() {}
