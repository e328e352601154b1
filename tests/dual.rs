//! `Dual<T>` as the scalar of generic `#[differentiable]` functions: `f_grad` at
//! `T = Dual<f64>` is forward-over-reverse, so the tangent of the gradient is a
//! Hessian-vector product, checked against central differences of the `f64` gradient.

use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;
use autodiff::{Dual, DualParts};

#[differentiable]
fn cube<T: Real>(x: T) -> T {
    x * x * x
}

#[differentiable]
fn g<T: Real>(w: &DMatrix<T>, x: &DMatrix<T>) -> T {
    (w * x).map(|e| e.tanh()).sum()
}

/// Elementwise math, a branch, powi, max and a literal, with two scalar parameters.
#[differentiable]
fn mixed<T: Real>(x: T, y: T) -> T {
    let z = x.sin() * y.exp() + x.powi(3) * 0.5 - (x * y).ln_1p();
    let m = x.max(y * 0.5);
    if z > T::zero() {
        z.sqrt() + m * x
    } else {
        -z + m * y
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn second_derivative_of_a_cube() {
    let (v, g) = cube_grad::<Dual<f64>>(Dual::variable(2.0));
    assert_eq!(v.re, 8.0);
    assert_eq!(v.eps, 12.0); // the tangent of the value: f'(2)
    assert_eq!(g.x.re, 12.0); // f'(2)
    assert_eq!(g.x.eps, 12.0); // f''(2) = 6 x
    let (_, g) = cube_grad::<Dual<f64>>(Dual::new(-1.5, 2.0));
    assert_eq!(g.x.re, 3.0 * 1.5 * 1.5);
    assert_eq!(g.x.eps, 6.0 * -1.5 * 2.0);
    // Single precision.
    let (_, g) = cube_grad::<Dual<f32>>(Dual::variable(2.0));
    assert_eq!((g.x.re, g.x.eps), (12.0, 12.0));
}

#[test]
fn hessian_vector_products_of_a_scalar_function() {
    for &(x, y, u, v) in &[
        (0.7, 0.4, 1.0, 0.0),
        (0.3, 1.1, -0.5, 2.0),
        (-0.2, 0.8, 0.3, 0.7),
    ] {
        let (val, gd) = mixed_grad(Dual::new(x, u), Dual::new(y, v));
        let (val64, g64) = mixed_grad(x, y);
        assert_eq!(val.re, val64);
        assert_eq!((gd.x.re, gd.y.re), (g64.x, g64.y));
        // The tangent of the value is the directional derivative g . (u, v).
        assert!(close(val.eps, g64.x * u + g64.y * v, 1e-12));
        // The tangent of the gradient is H (u, v), against differences of the gradient.
        let h = 1e-6;
        let (_, gp) = mixed_grad(x + h * u, y + h * v);
        let (_, gm) = mixed_grad(x - h * u, y - h * v);
        let hx = (gp.x - gm.x) / (2.0 * h);
        let hy = (gp.y - gm.y) / (2.0 * h);
        assert!(close(gd.x.eps, hx, 1e-6), "{} vs {hx}", gd.x.eps);
        assert!(close(gd.y.eps, hy, 1e-6), "{} vs {hy}", gd.y.eps);
    }
}

fn check_matrix_hvp(m: usize, k: usize, n: usize) {
    let w = DMatrix::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5);
    let x = DMatrix::from_fn(k, n, |i, j| ((i * 5 + j * 2) % 9) as f64 / 9.0 - 0.4);
    let tw = DMatrix::from_fn(m, k, |i, j| ((i + 2 * j) % 5) as f64 / 5.0 - 0.3);
    let tx = DMatrix::from_fn(k, n, |i, j| ((3 * i + j) % 7) as f64 / 7.0 - 0.5);
    let (val, gd) = g_grad(&w.lift(&tw), &x.lift(&tx));
    let (val64, g64) = g_grad(&w, &x);
    assert!(close(val.re, val64, 1e-13));
    let dir = g64.w.dot(&tw) + g64.x.dot(&tx);
    assert!(close(val.eps, dir, 1e-12), "{} vs {dir}", val.eps);
    let (gw_re, gw_eps) = DMatrix::split(gd.w);
    let (gx_re, gx_eps) = DMatrix::split(gd.x);
    assert!(gw_re
        .iter()
        .zip(g64.w.iter())
        .all(|(a, b)| close(*a, *b, 1e-12)));
    assert!(gx_re
        .iter()
        .zip(g64.x.iter())
        .all(|(a, b)| close(*a, *b, 1e-12)));
    let h = 1e-6;
    let (_, gp) = g_grad(&(&w + &tw * h), &(&x + &tx * h));
    let (_, gm) = g_grad(&(&w - &tw * h), &(&x - &tx * h));
    let hw = (&gp.w - &gm.w) / (2.0 * h);
    let hx = (&gp.x - &gm.x) / (2.0 * h);
    for (a, b) in gw_eps.iter().zip(hw.iter()) {
        assert!(close(*a, *b, 1e-6), "{m}x{k}x{n}: w: {a} vs {b}");
    }
    for (a, b) in gx_eps.iter().zip(hx.iter()) {
        assert!(close(*a, *b, 1e-6), "{m}x{k}x{n}: x: {a} vs {b}");
    }
    // Along w only: x a constant.
    let (_, gd) = g_grad(&w.lift(&tw), &x.lift_constant());
    let (_, gp) = g_grad(&(&w + &tw * h), &x);
    let (_, gm) = g_grad(&(&w - &tw * h), &x);
    let hx = (&gp.x - &gm.x) / (2.0 * h);
    let gx_eps: DMatrix<f64> = autodiff::__private::split_eps(&gd.x);
    for (a, b) in gx_eps.iter().zip(hx.iter()) {
        assert!(close(*a, *b, 1e-6), "{m}x{k}x{n}: x along w: {a} vs {b}");
    }
}

#[test]
fn hessian_vector_products_of_a_matrix_function() {
    // Below and above the blocked-product threshold.
    check_matrix_hvp(2, 3, 2);
    check_matrix_hvp(12, 10, 9);
}

#[test]
fn nalgebra_products_of_dual_matrices() {
    let a = DMatrix::from_fn(9, 10, |i, j| {
        Dual::new((i + j) as f64 * 0.1, (i * j) as f64 * 0.01)
    });
    let b = DMatrix::from_fn(10, 8, |i, j| {
        Dual::new(1.0 - i as f64 * 0.05, j as f64 * 0.1)
    });
    let c = &a * &b;
    for i in 0..9 {
        for j in 0..8 {
            let r = (0..10).fold(Dual::constant(0.0), |s, p| s + a[(i, p)] * b[(p, j)]);
            assert!(close(c[(i, j)].re, r.re, 1e-14) && close(c[(i, j)].eps, r.eps, 1e-14));
        }
    }
}
