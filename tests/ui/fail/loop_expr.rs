use autodiff::prelude::*;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut s = x;
    loop {
        s = s * 2.0;
    }
}

fn main() {}
