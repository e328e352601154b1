use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

#[differentiable(wrt(w))]
fn layer(w: &DMatrix<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    (w * x).map(|e| e.tanh())
}

/// The second call passes `h`, which depends on `w`, where `layer` takes no gradient:
/// the error points at that call, not at the line that defined `h`.
#[differentiable(wrt(w))]
fn two_layers(w: &DMatrix<f64>, x: &DMatrix<f64>) -> f64 {
    let h = layer(w, x);
    let h2 = layer(w, &h);
    h2.sum()
}

fn main() {}
