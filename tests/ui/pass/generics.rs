//! Generic functions, structs and `impl` blocks over `T: Real`, lint-clean under
//! `deny(warnings, clippy::all)`.
#![deny(warnings, clippy::all)]

use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

/// Parameters of a one-layer model.
#[derive(Clone, Debug, Tangent)]
pub struct Layer<T: Real> {
    /// Weights.
    pub w: DMatrix<T>,
    /// A scale.
    pub s: T,
}

/// A loss with a `where` clause, a named lifetime, a slice and a loop.
#[differentiable(wrt(layer, x))]
pub fn loss<'a, T>(layer: &'a Layer<T>, x: &'a [T], target: &DMatrix<T>) -> T
where
    T: Real,
{
    let mut acc = 0.0;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            acc += x[i] * layer.s;
        } else {
            acc -= x[i].floor() * 0.5;
        }
    }
    let d = (&layer.w - target).map(|e| e * e);
    d.sum() * 0.5 + acc * acc + T::one()
}

/// A user-supplied backward for a generic function.
#[differentiable(custom_vjp = square_backward)]
pub fn square<T: Real>(x: T) -> T {
    x * x
}

/// The backward of [`square`].
pub fn square_backward<T: Real>(x: T, g: T) -> T {
    g * (x + x)
}

/// Calls the generic functions above.
#[differentiable]
pub fn both<T: Real>(x: T) -> T {
    square(x) * 3.0 + x.abs()
}

/// A generic `impl` block.
#[differentiable]
impl<T: Real> Layer<T> {
    /// The scaled sum of the weights.
    #[differentiable]
    pub fn total(&self) -> T {
        self.w.sum() * self.s
    }
}

fn main() {
    let layer = Layer {
        w: DMatrix::from_element(2, 2, 0.5f32),
        s: 2.0,
    };
    let target = DMatrix::from_element(2, 2, 0.25f32);
    let (v, g) = loss_grad(&layer, &[1.0, -2.0], &target);
    assert!(v.is_finite() && g.layer.s.is_finite() && g.x.len() == 2);
    let (_, g) = both_grad::<f64>(-1.5);
    assert_eq!(g.x, 6.0 * -1.5 - 1.0);
    let (t, g) = layer.total_grad();
    assert_eq!((t, g.self_.s), (4.0, 2.0));
    assert!(loss_graph().to_dot().contains("AccumulateGrad"));
}
