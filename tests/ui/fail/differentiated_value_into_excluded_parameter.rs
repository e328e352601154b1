use autodiff::prelude::*;

mod inner {
    use autodiff::prelude::*;

    #[differentiable(wrt(a))]
    pub fn scaled(a: f64, k: f64) -> f64 {
        a * k
    }
}

#[differentiable]
fn f(x: f64, y: f64) -> f64 {
    inner::scaled(x, y * 2.0)
}

fn main() {}
