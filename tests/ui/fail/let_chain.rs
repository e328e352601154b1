use autodiff::prelude::*;

#[differentiable(wrt(x))]
fn f(x: f64, o: Option<f64>) -> f64 {
    if x > 0.0 && let Some(v) = o {
        x * v
    } else {
        x
    }
}

fn main() {}
