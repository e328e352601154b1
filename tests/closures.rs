//! Closures bound with `let` and called, capturing differentiated values, and `map`
//! closures reading differentiated values from outside: gradients against central
//! differences, in f64 and f32.

use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

#[differentiable]
fn let_closure(x: f64, s: f64) -> f64 {
    let scale = |a: f64| a * s;
    let sq = |a| a * a;
    let y = scale(x) + sq(x - 1.0);
    let s = 10.0; // shadows `s`: the closure still reads the parameter
    scale(y) + s
}

#[differentiable]
fn let_closure_f32(x: f32, s: f32) -> f32 {
    let f = |(a, b): (f32, f32)| a * b + s;
    f((x, x)) * f((s, 2.0))
}

#[differentiable]
fn map_reads_outside(m: &DMatrix<f64>, s: f64) -> f64 {
    let t = s * 2.0;
    m.map(|e| (e * t).tanh()).sum()
}

fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6;
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn a_let_closure_is_differentiated_through_with_what_it_captures() {
    let (x, s) = (0.7, 1.3);
    let (v, g) = let_closure_grad(x, s);
    assert_eq!(v, let_closure(x, s));
    assert!((g.x - fd(|x| let_closure(x, s), x)).abs() < 1e-7);
    assert!((g.s - fd(|s| let_closure(x, s), s)).abs() < 1e-7);
    let (x, s) = (0.5_f32, 1.5_f32);
    let (_, g) = let_closure_f32_grad(x, s);
    // f((x, x)) = x^2 + s, f((s, 2)) = 3s: d/dx = 2x * 3s, d/ds = 3s + 3(x^2 + s).
    assert!((g.x - 2.0 * x * 3.0 * s).abs() < 1e-5);
    assert!((g.s - (3.0 * s + 3.0 * (x * x + s))).abs() < 1e-5);
}

#[test]
fn a_map_closure_reads_a_differentiated_value_from_outside() {
    let m = DMatrix::from_row_slice(2, 2, &[0.1, -0.4, 0.3, 0.8]);
    let s = 0.6;
    let (v, g) = map_reads_outside_grad(&m, s);
    assert_eq!(v, map_reads_outside(&m, s));
    assert!((g.s - fd(|s| map_reads_outside(&m, s), s)).abs() < 1e-7);
    for k in 0..4 {
        let d = fd(
            |h| {
                let mut p = m.clone();
                p[k] += h;
                map_reads_outside(&p, s)
            },
            0.0,
        );
        assert!((g.m[k] - d).abs() < 1e-7);
    }
}
