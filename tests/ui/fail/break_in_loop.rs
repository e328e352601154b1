use autodiff::prelude::*;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut s = x;
    for _i in 0..10 {
        s = s * 2.0;
        break;
    }
    s
}

fn main() {}
