use autodiff::nalgebra::{Matrix2x3, Vector3};
use autodiff::prelude::*;

#[differentiable]
fn too_few(a: f64, b: f64) -> f64 {
    Vector3::new(a, b).norm_squared()
}

#[differentiable]
fn too_many(a: f64) -> f64 {
    Matrix2x3::new(a, a, a, a, a, a, a).sum()
}

fn main() {}
