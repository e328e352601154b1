//! Two-layer tanh MLPs with softmax cross-entropy (mean over the batch), gradient with
//! respect to `W1, b1, W2, b2`: hand-written nalgebra (buffers reused across calls),
//! `#[differentiable]` (`static`, and `static_workspace`: `mlp_loss_grad_with`, which
//! reuses its buffers through an `autodiff::Workspace`) and the dynamic engine, plus
//! forward-only entries so the gradient/forward ratio of each can be read off the same run.
//!
//! - `mlp`: X 64x784, W1 784x128, b1 128, W2 128x10, b2 10;
//! - `mlp_small`: X 150x4, hidden 16, 3 classes.

#[path = "workloads/mlp.rs"]
#[allow(dead_code)] // the training helpers are for benches/training.rs
mod workload;

use autodiff::dynamic::{no_grad, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use workload::{mlp_loss, mlp_loss_grad, mlp_loss_grad_with, Batch, DynamicMlp, Mlp, Workspace};

fn bench_size(
    c: &mut Criterion,
    name: &str,
    rows: usize,
    inputs: usize,
    hidden: usize,
    classes: usize,
) {
    let m = Mlp::random(inputs, hidden, classes, 1);
    let batch = Batch::random(rows, inputs, classes, 2);
    let (x, labels) = (&batch.x, batch.labels.as_slice());
    let mut ws = Workspace::new(&m, rows);
    let mut ws_simd = Workspace::new_simd(&m, rows);
    let mut grads = m.clone();
    let dynamic = DynamicMlp::new(&m);
    let x_tensor = Tensor::from(x.clone());

    let mut g = c.benchmark_group(name);
    g.bench_function("handwritten", |b| {
        b.iter(|| ws.loss_grad(black_box(&m), black_box(x), black_box(labels), &mut grads))
    });
    g.bench_function("handwritten_simd", |b| {
        b.iter(|| ws_simd.loss_grad(black_box(&m), black_box(x), black_box(labels), &mut grads))
    });
    g.bench_function("static", |b| {
        b.iter(|| mlp_loss_grad(black_box(&m), black_box(x), black_box(labels)))
    });
    let mut static_ws = autodiff::Workspace::new();
    g.bench_function("static_workspace", |b| {
        b.iter(|| {
            mlp_loss_grad_with(
                &mut static_ws,
                black_box(&m),
                black_box(x),
                black_box(labels),
            )
            .0
        })
    });
    g.bench_function("dynamic", |b| {
        b.iter(|| {
            black_box(&dynamic)
                .loss_grad(black_box(&x_tensor), black_box(labels))
                .expect("backward")
        })
    });
    g.bench_function("handwritten_forward", |b| {
        b.iter(|| ws.loss(black_box(&m), black_box(x), black_box(labels)))
    });
    g.bench_function("static_forward", |b| {
        b.iter(|| mlp_loss(black_box(&m), black_box(x), black_box(labels)))
    });
    g.bench_function("dynamic_forward", |b| {
        b.iter(|| {
            no_grad(|| {
                black_box(&dynamic)
                    .loss(black_box(&x_tensor), black_box(labels))
                    .item()
            })
        })
    });
    g.finish();
}

fn bench_mlp(c: &mut Criterion) {
    bench_size(c, "mlp", 64, 784, 128, 10);
}

fn bench_mlp_small(c: &mut Criterion) {
    bench_size(c, "mlp_small", 150, 4, 16, 3);
}

criterion_group!(benches, bench_mlp, bench_mlp_small);
criterion_main!(benches);
