use autodiff::nalgebra::{DMatrix, DVector, RowDVector};
use autodiff::prelude::*;

#[derive(Clone, Debug, Tangent)]
struct Model {
    w: f64,
    b: f64,
}

#[differentiable]
fn struct_update(x: f64, m: &Model) -> f64 {
    let n = Model { w: x, ..m.clone() };
    n.w * n.b
}

#[differentiable]
fn repeated(x: f64) -> f64 {
    let v = vec![x; x as usize];
    v[0]
}

#[differentiable]
fn from_vec_of_a_variable(x: f64) -> f64 {
    let mut v = vec![0.0; 2];
    v[0] = x;
    RowDVector::from_vec(v).sum()
}

#[differentiable]
fn from_fn_size(x: &DVector<f64>, s: f64) -> f64 {
    DMatrix::from_fn(s as usize, 2, |i, _| x[i] * s).sum()
}

#[differentiable]
fn slice_pattern(x: f64) -> f64 {
    let [a, b] = [x, x * 2.0];
    a * b
}

fn main() {}
