//! Tuples, struct literals, nalgebra constructors, `vec!`/array literals and `from_fn` of
//! differentiated values, lint-clean under `deny(warnings, clippy::all)`.
#![deny(warnings, clippy::all)]

use autodiff::nalgebra::{DMatrix, DVector, Matrix2, Vector2, Vector3};
use autodiff::prelude::*;

/// A linear model.
#[derive(Clone, Debug, Tangent)]
pub struct Model {
    /// Weights.
    pub w: DMatrix<f64>,
    /// Bias.
    pub b: f64,
}

/// The model's squared output.
#[differentiable]
pub fn apply(m: &Model, x: &DMatrix<f64>) -> f64 {
    (&m.w * x).norm_squared() + m.b * m.b
}

/// A tuple result.
#[differentiable]
pub fn polar(r: f64, theta: f64) -> (f64, f64) {
    (r * theta.cos(), r * theta.sin())
}

/// A tuple with a matrix, nested.
#[differentiable]
pub fn pair(x: &DMatrix<f64>, s: f64) -> (f64, (DMatrix<f64>, f64)) {
    let m = x * s;
    (m.sum(), (m, s))
}

/// Every construction at once.
#[differentiable]
pub fn everything(a: f64, b: f64, x: &DMatrix<f64>) -> f64 {
    let (px, py) = polar(a, b);
    let t = (px * 2.0, py);
    let (c, d) = (t.0 * t.1, b);
    let m = Model {
        w: x * c,
        b: d,
    };
    let Model { w, b: bias } = m.clone();
    let v = Vector3::new(a, b, c);
    let q = Matrix2::new(a, b, c, d) * Vector2::new(1.0, a);
    let dv = DVector::from_vec(vec![a, b]);
    let xs = vec![a, b * 2.0];
    let arr = [c, d];
    let f = DMatrix::from_fn(2, 2, |i, j| x[(i, j)] * a + (i + j) as f64);
    let g = DVector::from_fn(xs.len(), |i, _| xs[i] * b);
    apply(&m, x) + w.sum() * bias + v.norm_squared() + q.sum() + dv.norm_squared()
        + xs[1] * arr[0] + arr[1] + f.sum() + g.sum()
}

/// A struct literal as the result.
#[differentiable]
pub fn make(x: &DMatrix<f64>, b: f64) -> Model {
    Model { w: x * 2.0, b }
}

fn main() {
    let x = DMatrix::from_element(2, 2, 0.5);
    let (_, g) = polar_vjp(1.0, 0.5, (1.0, 0.0));
    assert!((g.r - 0.5_f64.cos()).abs() < 1e-12);
    let (_, g) = pair_vjp(&x, 2.0, (1.0, (DMatrix::zeros(2, 2), 0.0)));
    assert_eq!(g.s, 2.0);
    let (v, g) = everything_grad(0.3, -0.7, &x);
    assert_eq!(v, everything(0.3, -0.7, &x));
    assert!(g.a.is_finite() && g.b.is_finite());
    let (m, g) = make_vjp(&x, 1.0, Model { w: DMatrix::zeros(2, 2), b: 1.0 });
    assert_eq!((m.b, g.b), (1.0, 1.0));
}
