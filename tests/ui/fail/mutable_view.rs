use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::prelude::*;

#[differentiable]
fn write_row(m: &DMatrix<f64>, r: &RowDVector<f64>) -> f64 {
    let mut a = m.clone();
    a.row_mut(0).copy_from(r);
    a.sum()
}

#[differentiable]
fn write_view(m: &DMatrix<f64>) -> f64 {
    let mut a = m.clone();
    let mut v = a.view_mut((0, 0), (2, 2));
    v.fill(1.0);
    a.sum()
}

#[differentiable]
fn set_row(m: &DMatrix<f64>, r: &RowDVector<f64>) -> f64 {
    let mut a = m.clone();
    a.set_row(1, r);
    a.sum()
}

fn main() {}
