//! Float-to-float casts carry the gradient (PyTorch's `.float()` / `.double()`); casts to
//! integers cut it. Checked against central differences.

use autodiff::prelude::*;

#[differentiable]
fn round_trip(x: f64) -> f64 {
    let y = x as f32;
    (y as f64) * 3.0
}

#[differentiable]
fn narrow(x: f64) -> f32 {
    (x * x) as f32
}

#[differentiable]
fn widen(x: f32) -> f64 {
    (x as f64).sin() * 2.0
}

#[differentiable]
fn through_integer(x: f64) -> f64 {
    let k = x as i64;
    x * (k as f64)
}

fn central_difference(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn a_float_round_trip_keeps_the_gradient() {
    let (v, g) = round_trip_grad(1.25);
    assert_eq!(v, 3.75);
    assert_eq!(g.x, 3.0);
    let fd = central_difference(round_trip, 1.25, 1e-3);
    assert!((g.x - fd).abs() < 1e-3, "{} vs {fd}", g.x);
}

#[test]
fn narrowing_and_widening_casts_differentiate() {
    let (v, g) = narrow_grad(1.5);
    assert_eq!(v, 2.25_f32);
    assert_eq!(g.x, 3.0);
    let x = 0.7_f32;
    let (_, g) = widen_grad(x);
    let expected = (2.0 * f64::from(x).cos()) as f32;
    assert!((g.x - expected).abs() < 1e-6);
    let fd = central_difference(|x| widen(x as f32), f64::from(x), 1e-3);
    assert!((f64::from(g.x) - fd).abs() < 1e-3);
}

#[test]
fn a_cast_to_an_integer_cuts_the_gradient() {
    // x * floor(x): the integer part is piecewise constant, so d/dx = floor(x).
    let (v, g) = through_integer_grad(2.5);
    assert_eq!(v, 5.0);
    assert_eq!(g.x, 2.0);
    assert!((central_difference(through_integer, 2.5, 1e-4) - 2.0).abs() < 1e-9);
}
