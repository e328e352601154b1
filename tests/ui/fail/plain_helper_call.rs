use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

fn helper(x: f64) -> f64 {
    x * 2.0
}

fn scale(m: &DMatrix<f64>, s: f64) -> DMatrix<f64> {
    m * s
}

#[differentiable]
fn scalar_caller(x: f64) -> f64 {
    helper(x) + helper(x * x)
}

#[differentiable]
fn matrix_caller(m: &DMatrix<f64>) -> f64 {
    scale(m, 3.0).sum()
}

// A plain helper on constants only is an ordinary call, as before.
#[differentiable]
fn constant_caller(x: f64) -> f64 {
    x * helper(2.0)
}

fn main() {}
