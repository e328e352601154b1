use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

#[derive(Debug, Clone, Tangent)]
struct Inner {
    w: DMatrix<f64>,
}

/// No field of its own is written with a float: no dual twin.
#[derive(Debug, Clone, Tangent)]
struct Outer {
    inner: Inner,
}

#[differentiable(wrt(o), hvp)]
fn loss(o: &Outer) -> f64 {
    o.inner.w.norm_squared()
}

fn main() {}
