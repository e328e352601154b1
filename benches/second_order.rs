//! Checkpointing, forward mode and second order against the gradient.
//!
//! `checkpoint/*`: the gradient of a 10^6-step pendulum (symplectic Euler) as one loop
//! (`flat`), as 1000 segments of 1000 steps (`kept`), and as 1000 `checkpoint` segments
//! (`checkpointed`: each segment's forward runs twice). Target checkpointed / flat at
//! most 2.5 (its memory: `tests/checkpoint.rs`).
//!
//! `second_order/{mlp,mlp_small}/*`: the MLP workloads' loss (`workloads/mlp.rs`: X
//! 64x784, hidden 128, 10 classes; X 150x4, hidden 16, 3 classes) with its four
//! parameters as parameters of their own: the plain `forward`, `jvp` along a tangent of
//! every parameter, `grad`, and `hvp`. Targets: jvp / forward at most 2, hvp / grad at
//! most 4.
//!
//! Quiet 2-core machine, 2026-12-04, one run per group: checkpointed / flat 0.71 (53.5 /
//! 75.5 ms; kept segments 82.3 ms); mlp jvp / forward 3.4 (1.72 ms / 510 us), hvp / grad
//! 5.3 (5.63 / 1.07 ms); mlp_small jvp / forward 3.3 (62.7 / 18.9 us), hvp / grad 3.9
//! (124.8 / 32.4 us). On mlp both miss their targets. A profile of mlp/jvp gives about
//! half the time to the real products (two where the forward has one), and the rest to
//! the dual matrices themselves: lifting the parameters, scanning for zero tangent
//! planes, allocating fresh dual buffers (the workspace pools only f32/f64 ones). Dual
//! numbers kept as separate value and tangent matrices would leave the products.

#[path = "workloads/segments.rs"]
#[allow(dead_code)]
mod segments;

use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion};
use segments::{final_angle_flat_grad, final_angle_grad, final_angle_kept_grad};
use std::hint::black_box;

fn checkpoint(c: &mut Criterion) {
    let mut group = c.benchmark_group("checkpoint");
    group.sample_size(10);
    group.bench_function("flat", |b| {
        b.iter(|| final_angle_flat_grad(black_box(0.7), black_box(9.81), 1e-5, 1_000_000))
    });
    group.bench_function("kept", |b| {
        b.iter(|| final_angle_kept_grad(black_box(0.7), black_box(9.81), 1e-5, 1000, 1000))
    });
    group.bench_function("checkpointed", |b| {
        b.iter(|| final_angle_grad(black_box(0.7), black_box(9.81), 1e-5, 1000, 1000))
    });
    group.finish();
}

/// The MLP workloads' loss, parameter by parameter.
#[differentiable(wrt(w1, b1, w2, b2), jvp, hvp)]
fn mlp_loss(
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    x: &DMatrix<f64>,
    labels: &[usize],
) -> f64 {
    let h = (x * w1 + b1).tanh();
    let logits = h * w2 + b2;
    cross_entropy(&logits, labels)
}

fn bench_mlp(c: &mut Criterion, name: &str, n: usize, d: usize, hidden: usize, classes: usize) {
    let wave = |k: usize, s: f64| ((k as f64) * s).sin() * 0.1;
    let w1 = DMatrix::from_fn(d, hidden, |i, j| wave(i * hidden + j, 0.37));
    let b1 = RowDVector::from_fn(hidden, |_, j| wave(j, 0.11));
    let w2 = DMatrix::from_fn(hidden, classes, |i, j| wave(i * classes + j, 0.53));
    let b2 = RowDVector::from_fn(classes, |_, j| wave(j, 0.29));
    let x = DMatrix::from_fn(n, d, |i, j| wave(i * d + j, 0.71) * 10.0);
    let labels: Vec<usize> = (0..n).map(|i| i % classes).collect();
    let v = MlpLossGrad {
        w1: w1.map(|e| e * 0.5 + 0.01),
        b1: b1.map(|e| 0.02 - e),
        w2: w2.map(|e| e * 0.3),
        b2: b2.map(|e| e + 0.01),
    };
    let mut group = c.benchmark_group(format!("second_order/{name}"));
    group.bench_function("forward", |b| {
        b.iter(|| mlp_loss(&w1, &b1, &w2, &b2, black_box(&x), &labels))
    });
    group.bench_function("jvp", |b| {
        b.iter(|| mlp_loss_jvp(&w1, &b1, &w2, &b2, black_box(&x), &labels, &v))
    });
    group.bench_function("grad", |b| {
        b.iter(|| mlp_loss_grad(&w1, &b1, &w2, &b2, black_box(&x), &labels))
    });
    group.bench_function("hvp", |b| {
        b.iter(|| mlp_loss_hvp(&w1, &b1, &w2, &b2, black_box(&x), &labels, &v))
    });
    group.finish();
}

fn second_order(c: &mut Criterion) {
    bench_mlp(c, "mlp", 64, 784, 128, 10);
    bench_mlp(c, "mlp_small", 150, 4, 16, 3);
}

criterion_group!(benches, checkpoint, second_order);
criterion_main!(benches);
