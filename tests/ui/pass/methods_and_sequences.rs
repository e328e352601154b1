//! Methods, slices and iterator chains, lint-clean under `deny(warnings, clippy::all)`.
#![deny(warnings, clippy::all)]

use autodiff::prelude::*;

/// A polynomial with coefficients `c`.
#[derive(Clone, Debug, Tangent)]
pub struct Poly {
    /// Coefficients, lowest degree first.
    pub c: Vec<f64>,
    /// A scale.
    pub s: f64,
}

#[differentiable]
impl Poly {
    /// The value at `x` (Horner).
    #[differentiable]
    pub fn at(&self, x: f64) -> f64 {
        let mut acc = 0.0;
        for k in (0..self.c.len()).rev() {
            acc = acc * x + self.c[k];
        }
        acc * self.s
    }

    /// The squared error over points `xs` against `ys`.
    #[differentiable(wrt(self))]
    pub fn error(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let mut e = 0.0;
        for (x, y) in xs.iter().zip(ys) {
            let d = self.at(*x) - y;
            e += d * d;
        }
        e
    }
}

/// A dot product written with iterators.
#[differentiable]
pub fn dot(a: &[f64], b: [f64; 3]) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum::<f64>()
}

fn main() {
    let p = Poly {
        c: vec![1.0, 2.0],
        s: 1.0,
    };
    let (e, g) = p.error_grad(&[0.0, 1.0], &[1.0, 2.0]);
    assert_eq!(e, 1.0);
    assert_eq!(g.self_.c.len(), 2);
    assert_eq!(dot_grad(&[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]).1.b, [1.0, 2.0, 3.0]);
}
