//! Intra-op threads (`autodiff::set_num_threads`): gradients are bit-identical for 1, 2
//! and 3 threads on the large elementwise workload, on fused chains with broadcast inputs
//! (a row, a column, a scalar), on a chain that ends in a matrix (its vector-Jacobian
//! product) and on a 256x256 product; with one thread no thread is started, with more
//! some are.
//!
//! The thread count is process-wide, so every test here holds [`LOCK`] while it runs.

#[path = "../benches/workloads/elementwise.rs"]
#[allow(dead_code)] // the copy, hand-written and dynamic helpers are for the benches
mod elementwise;

use autodiff::nalgebra::{DMatrix, DVector, RowDVector};
use autodiff::prelude::*;
use autodiff::threads::threads_spawned;
use autodiff::{num_threads, set_num_threads};
use std::sync::Mutex;

static LOCK: Mutex<()> = Mutex::new(());

/// Runs `f` with 1, 2 and 3 threads; returns each result with the number of threads it
/// started.
fn with_threads<R>(f: impl Fn() -> R) -> Vec<(R, usize)> {
    let out = [1, 2, 3]
        .into_iter()
        .map(|n| {
            set_num_threads(n);
            assert_eq!(num_threads(), n);
            let before = threads_spawned();
            let r = f();
            (r, threads_spawned() - before)
        })
        .collect();
    set_num_threads(0);
    out
}

fn bits(s: &[f64]) -> Vec<u64> {
    s.iter().map(|v| v.to_bits()).collect()
}

/// Asserts that the three runs gave the same bits, that one thread started none and that
/// two and three threads started some (when `threaded`).
fn assert_identical(runs: &[(Vec<Vec<u64>>, usize)], threaded: bool) {
    let (one, spawned_one) = &runs[0];
    assert_eq!(*spawned_one, 0, "set_num_threads(1) started a thread");
    for (n, (r, spawned)) in runs.iter().enumerate().skip(1) {
        assert!(r == one, "{} threads changed the result", n + 1);
        if threaded {
            assert!(*spawned > 0, "{} threads started no thread", n + 1);
        }
    }
}

#[test]
fn elementwise_gradient_of_a_million_elements_is_identical_for_one_two_and_three_threads() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (a, b, x) = elementwise::inputs(1_000_000, 7);
    let runs = with_threads(|| {
        let (v, g) = elementwise::elementwise_grad(&a, &b, &x);
        let forward = elementwise::elementwise(&a, &b, &x);
        vec![
            bits(&[v, forward]),
            bits(g.a.as_slice()),
            bits(g.b.as_slice()),
        ]
    });
    assert_identical(&runs, true);
    // And the value is the sum: against the hand-written loop, to rounding.
    let (mut ha, mut hb) = (vec![0.0; a.len()], vec![0.0; a.len()]);
    let hv = elementwise::elementwise_handwritten(
        a.as_slice(),
        b.as_slice(),
        x.as_slice(),
        &mut ha,
        &mut hb,
    );
    let v = f64::from_bits(runs[0].0[0][0]);
    assert!((v - hv).abs() <= 1e-9 * hv.abs(), "{v} vs {hv}");
}

/// A row and a scalar broadcast into a fused chain ending in `.sum()`: the scalar's
/// gradient is a sum over every element, the row's a sum per column.
#[differentiable]
fn row_scalar(h: &DMatrix<f64>, b: &RowDVector<f64>, s: f64) -> f64 {
    ((h + b) * s).tanh().sum()
}

/// A column broadcast across the columns: its gradient sums along every row (that loop
/// stays on one thread).
#[differentiable]
fn column(h: &DMatrix<f64>, c: &DVector<f64>) -> f64 {
    (h + c).sin().sum()
}

/// A chain ending in a matrix: its vector-Jacobian product.
#[differentiable]
fn layer(h: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
    (h + b).tanh()
}

#[test]
fn broadcast_chains_are_identical_for_one_two_and_three_threads() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (rows, cols) = (700, 300); // 210,000 elements, blocks of 23 columns
    let h = DMatrix::from_fn(rows, cols, |i, j| ((i * 7 + j * 13) as f64 * 0.01).sin());
    let b = RowDVector::from_fn(cols, |_, j| (j as f64 * 0.1).cos());
    let c = DVector::from_fn(rows, |i, _| (i as f64 * 0.03).sin());
    let g = DMatrix::from_fn(rows, cols, |i, j| ((i + 2 * j) as f64 * 0.02).cos());
    let runs = with_threads(|| {
        let (v, gr) = row_scalar_grad(&h, &b, 0.7);
        vec![
            bits(&[v, row_scalar(&h, &b, 0.7), gr.s]),
            bits(gr.h.as_slice()),
            bits(gr.b.as_slice()),
        ]
    });
    assert_identical(&runs, true);
    let runs = with_threads(|| {
        let (v, gr) = column_grad(&h, &c);
        vec![bits(&[v]), bits(gr.h.as_slice()), bits(gr.c.as_slice())]
    });
    assert_identical(&runs, false);
    let runs = with_threads(|| {
        let (y, gr) = layer_vjp(&h, &b, g.clone());
        vec![
            bits(y.as_slice()),
            bits(gr.h.as_slice()),
            bits(gr.b.as_slice()),
        ]
    });
    assert_identical(&runs, true);
}

/// A 256x256 product and a chain over its 65,536 elements.
#[differentiable]
fn product(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a * b).tanh().sum()
}

#[test]
fn product_gradient_256_is_identical_for_one_two_and_three_threads() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let n = 256;
    let a = DMatrix::from_fn(n, n, |i, j| ((i * 31 + j * 17) % 101) as f64 / 500.0 - 0.1);
    let b = DMatrix::from_fn(n, n, |i, j| ((i * 13 + j * 29) % 97) as f64 / 500.0 - 0.1);
    let runs = with_threads(|| {
        let (v, g) = product_grad(&a, &b);
        vec![bits(&[v]), bits(g.a.as_slice()), bits(g.b.as_slice())]
    });
    assert_identical(&runs, true);
}
