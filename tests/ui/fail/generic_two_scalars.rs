use autodiff::prelude::*;

// One scalar type parameter: the gradient struct holds one scalar type.
#[differentiable]
fn f<T: Real, U: Real>(x: T, y: U) -> T {
    x * x + T::c(y.to_f64_lossless())
}

fn main() {}
