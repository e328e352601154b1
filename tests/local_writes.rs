//! Writes into a local vector or matrix by index (`out[i] = ..`, `qx[b] += ..`,
//! `m[(i, j)] = ..`): gradients against central differences, f64 and f32.

use autodiff::nalgebra::{DMatrix, DVector};
use autodiff::prelude::*;

/// A centred, scaled copy of `x` (as ADBench's GMM writes `Qxcentered`), then its norm.
#[differentiable]
fn centred(x: &[f64], mean: &[f64], scale: f64) -> f64 {
    let d = x.len();
    let mut qx = vec![0.0; d];
    for b in 0..d {
        qx[b] = (x[b] - mean[b]) * scale;
    }
    for b in 1..d {
        qx[b] += qx[b - 1] * 0.5;
    }
    let mut s = 0.0;
    for v in qx.iter() {
        s += v * v;
    }
    s
}

/// A matrix filled element by element, then used in matrix code.
#[differentiable]
fn outer(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    let mut m = DMatrix::zeros(a.len(), b.len());
    for i in 0..a.len() {
        for j in 0..b.len() {
            m[(i, j)] = a[i] * b[j] + 1.0;
        }
    }
    (&m * b).norm_squared()
}

#[differentiable]
fn overwrite(x: f32, y: f32) -> f32 {
    let mut v = vec![0.0; 3];
    v[0] = x * y;
    v[1] = x;
    v[0] = y * 2.0; // the first write's gradient is gone
    v[0] + v[1] * v[1] + v[2]
}

fn fd_slice(f: impl Fn(&[f64]) -> f64, x: &[f64], k: usize) -> f64 {
    let h = 1e-6;
    let (mut p, mut m) = (x.to_vec(), x.to_vec());
    p[k] += h;
    m[k] -= h;
    (f(&p) - f(&m)) / (2.0 * h)
}

#[test]
fn a_local_vector_written_by_index() {
    let x = [0.3, -1.2, 0.8, 2.0];
    let mean = [0.1, 0.2, -0.3, 0.5];
    let s = 1.7;
    let (v, g) = centred_grad(&x, &mean, s);
    assert_eq!(v, centred(&x, &mean, s));
    for k in 0..4 {
        let d = fd_slice(|x| centred(x, &mean, s), &x, k);
        assert!((g.x[k] - d).abs() < 1e-6, "x[{k}]: {} vs {d}", g.x[k]);
        let d = fd_slice(|m| centred(&x, m, s), &mean, k);
        assert!((g.mean[k] - d).abs() < 1e-6, "mean[{k}]");
    }
    let h = 1e-6;
    let d = (centred(&x, &mean, s + h) - centred(&x, &mean, s - h)) / (2.0 * h);
    assert!((g.scale - d).abs() < 1e-6);
}

#[test]
fn a_local_matrix_written_by_index() {
    let a = DVector::from_vec(vec![0.5, -1.0, 2.0]);
    let b = DVector::from_vec(vec![1.5, 0.25, -0.75]);
    let (v, g) = outer_grad(&a, &b);
    assert_eq!(v, outer(&a, &b));
    for k in 0..3 {
        let d = fd_slice(
            |p| outer(&DVector::from_vec(p.to_vec()), &b),
            a.as_slice(),
            k,
        );
        assert!(
            (g.a[k] - d).abs() < 1e-5 * (1.0 + d.abs()),
            "a[{k}]: {} vs {d}",
            g.a[k]
        );
        let d = fd_slice(
            |p| outer(&a, &DVector::from_vec(p.to_vec())),
            b.as_slice(),
            k,
        );
        assert!((g.b[k] - d).abs() < 1e-5 * (1.0 + d.abs()), "b[{k}]");
    }
}

#[test]
fn an_overwritten_element_loses_its_gradient() {
    // v = [2y, x, 0]: f = 2y + x^2.
    let (v, g) = overwrite_grad(3.0, 0.5);
    assert_eq!(v, 1.0 + 9.0);
    assert_eq!((g.x, g.y), (6.0, 2.0));
}
