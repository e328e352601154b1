use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

#[differentiable]
fn differentiated_position(m: &DMatrix<f64>) -> f64 {
    m.row(m[(0, 0)] as usize).sum()
}

#[differentiable]
fn missing_size(m: &DMatrix<f64>) -> f64 {
    m.rows(1).sum()
}

#[differentiable]
fn missing_const_size(m: &DMatrix<f64>) -> f64 {
    m.fixed_view(0, 0).sum()
}

fn main() {}
