use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

#[differentiable(hvp)]
fn double(x: &DMatrix<f64>) -> DMatrix<f64> {
    x * 2.0
}

fn main() {}
