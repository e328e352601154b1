//! The seed tutorial's numbers, on the static engine.

use autodiff::prelude::*;

#[differentiable]
fn loss(w: f64, x: f64) -> f64 {
    let y = w * x;
    (y - 5.0).powi(2)
}

#[differentiable]
fn cube(x: f64) -> f64 {
    x.powi(3)
}

#[test]
fn loss_is_9_and_gradient_is_minus_12() {
    // y = 2, loss = (2 - 5)^2 = 9; dloss/dw = 2 (y - 5) x = 2 * -3 * 2 = -12; dloss/dx = 2 (y - 5) w = -6.
    let (value, g) = loss_grad(1.0, 2.0);
    assert_eq!(value, 9.0);
    assert_eq!(g.w, -12.0);
    assert_eq!(g.x, -6.0);
    assert_eq!(loss(1.0, 2.0), 9.0);
}

#[test]
fn cube_derivative_at_2_is_12() {
    // d/dx x^3 = 3 x^2 = 12 at x = 2.
    let (value, g) = cube_grad(2.0);
    assert_eq!(value, 8.0);
    assert_eq!(g.x, 12.0);
}

#[test]
fn twenty_steps_of_gradient_descent_reach_2_5() {
    // d/dw (2w - 5)^2 = 4 (2w - 5); w <- w - 0.1 * 4 (2w - 5) = 0.2 w + 2, fixed point 2.5,
    // so after 20 steps from 10: w - 2.5 = 7.5 * 0.2^20 ~ 7.9e-14.
    let mut w = 10.0;
    for _ in 0..20 {
        let (_, g) = loss_grad(w, 2.0);
        w -= 0.1 * g.w;
    }
    assert!((w - 2.5).abs() < 1e-12, "w = {w}");
    assert!(
        (w - 2.5).abs() > 1e-14,
        "w = {w} converged faster than the algebra allows"
    );
}
