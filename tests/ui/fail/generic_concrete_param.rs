use autodiff::prelude::*;

// A differentiated `f64` next to the scalar parameter `T`.
#[differentiable]
fn f<T: Real>(x: T, y: f64) -> T {
    x * T::c(y)
}

// Fine: `y` is not differentiated.
#[differentiable(wrt(x))]
fn g<T: Real>(x: T, y: f64) -> T {
    x * T::c(y)
}

fn main() {
    let _ = g_grad(1.0f32, 2.0);
}
