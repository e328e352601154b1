//! Parts of differentiated matrices compile cleanly under `deny(warnings, clippy::all)`.
#![deny(warnings, clippy::all)]

use autodiff::nalgebra::{DMatrix, DVector, Matrix2, Matrix3, RowDVector, Vector3};
use autodiff::prelude::*;

/// Rows, columns and blocks of a matrix, chained with other ops and in a loop.
#[differentiable(wrt(m, w, x))]
pub fn parts(m: &DMatrix<f64>, w: &RowDVector<f64>, x: &DVector<f64>, k: usize) -> f64 {
    let mut s = m.column(k).norm() + (m.rows(0, 2) * x).sum();
    for i in 0..m.nrows() {
        s += m.row(i).dot(w);
    }
    let b = m.view((0, 1), (2, 2)).into_owned();
    let c = m.fixed_view::<2, 2>(1, 0).clone_owned();
    s + b.component_mul(&c).sum()
        + m.fixed_rows::<2>(0).mean()
        + m.fixed_columns::<1>(k).sum()
        + m.columns(1, 2).row(0).transpose().dot(&x.rows(0, 2))
}

/// Fixed-size parts keep nalgebra's fixed-size types.
#[differentiable]
pub fn rigid(a: &Matrix3<f64>, v: &Vector3<f64>) -> f64 {
    let top: Matrix2<f64> = a.fixed_view::<2, 2>(0, 0).into_owned();
    a.column(0).cross(v).norm() + top.norm_squared() + a.row(2).transpose().dot(v)
}

fn main() {
    let m = DMatrix::from_fn(3, 3, |i, j| (i + 2 * j) as f64 * 0.1);
    let w = RowDVector::from_element(3, 0.5);
    let x = DVector::from_element(3, -0.25);
    let (v, g) = parts_grad(&m, &w, &x, 1);
    assert!(v.is_finite() && g.m.iter().all(|e| e.is_finite()) && g.w.len() == 3 && g.x.len() == 3);
    let a = Matrix3::identity();
    let (v, g) = rigid_grad(&a, &Vector3::new(1.0, 2.0, 3.0));
    assert!(v.is_finite() && g.a.iter().chain(g.v.iter()).all(|e| e.is_finite()));
}
