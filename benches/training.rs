//! 1000 Adam steps with `clip_grad_norm` on `mlp_small` (X 150x4, hidden 16, 3 classes):
//! the same loop (gradient, clip to norm 1, `Adam::step`) with the gradient from the
//! hand-written code, from `#[differentiable]`, and from the dynamic engine.
//!
//! The optimizers work on `Tangent` values, which a dynamic `Tensor` is not, so the
//! dynamic loop copies the gradients out of the leaves and the new parameters back in
//! (`copy_` under `no_grad`), as a PyTorch user would with an external optimizer.
//!
//! Before timing, the three loops are run once and must end at the same parameters.

#[path = "workloads/mlp.rs"]
#[allow(dead_code)] // the forward-only helpers are used by the other benches
mod workload;

use autodiff::dynamic::Tensor;
use autodiff::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion};
use std::error::Error;
use std::hint::black_box;
use workload::{mlp_loss_grad, mlp_loss_grad_with, Batch, DynamicMlp, Mlp, Workspace};

const STEPS: usize = 1000;
const LR: f64 = 0.01;
const MAX_NORM: f64 = 1.0;

type Trained = Result<Mlp, Box<dyn Error>>;

fn train_handwritten(m0: &Mlp, batch: &Batch) -> Trained {
    let mut m = m0.clone();
    let mut ws = Workspace::new(&m, batch.x.nrows());
    let mut g = m.zero_like();
    let mut opt = Adam::new(LR);
    for _ in 0..STEPS {
        ws.loss_grad(&m, &batch.x, &batch.labels, &mut g);
        clip_grad_norm(&mut g, MAX_NORM)?;
        opt.step(&mut m, &g)?;
    }
    Ok(m)
}

fn train_static(m0: &Mlp, batch: &Batch) -> Trained {
    let mut m = m0.clone();
    let mut opt = Adam::new(LR);
    for _ in 0..STEPS {
        let (_, g) = mlp_loss_grad(&m, &batch.x, &batch.labels);
        let mut g = g.m;
        clip_grad_norm(&mut g, MAX_NORM)?;
        opt.step(&mut m, &g)?;
    }
    Ok(m)
}

/// The static engine without allocations: `mlp_loss_grad_with` reuses its buffers; the
/// gradient is copied into one that clipping may scale.
fn train_static_workspace(m0: &Mlp, batch: &Batch) -> Trained {
    let mut m = m0.clone();
    let mut opt = Adam::new(LR);
    let mut ws = autodiff::Workspace::new();
    let mut g = m.zero_like();
    for _ in 0..STEPS {
        let (_, grad) = mlp_loss_grad_with(&mut ws, &m, &batch.x, &batch.labels);
        g.visit_zip_mut(&grad.m, &mut |g, new| g.copy_from_slice(new));
        clip_grad_norm(&mut g, MAX_NORM)?;
        opt.step(&mut m, &g)?;
    }
    Ok(m)
}

fn train_dynamic(m0: &Mlp, batch: &Batch) -> Trained {
    let mut m = m0.clone();
    let model = DynamicMlp::new(&m);
    let x = Tensor::from(batch.x.clone());
    let mut opt = Adam::new(LR);
    for _ in 0..STEPS {
        model.loss_grad(&x, &batch.labels)?;
        let mut g = model.grads();
        clip_grad_norm(&mut g, MAX_NORM)?;
        opt.step(&mut m, &g)?;
        model.set(&m)?;
    }
    Ok(m)
}

/// The largest elementwise difference between two parameter sets.
fn max_diff(a: &Mlp, b: &Mlp) -> f64 {
    let mut d = a.clone();
    let mut neg = b.clone();
    neg.scale(-1.0);
    d.add_assign(&neg);
    let mut max = 0.0f64;
    d.visit(&mut |leaf| leaf.iter().for_each(|e| max = max.max(e.abs())));
    max
}

fn bench_training(c: &mut Criterion) {
    let m0 = Mlp::random(4, 16, 3, 1);
    let batch = Batch::random(150, 4, 3, 2);

    let hand = train_handwritten(&m0, &batch).expect("hand-written training");
    let stat = train_static(&m0, &batch).expect("static training");
    let dyna = train_dynamic(&m0, &batch).expect("dynamic training");
    let with = train_static_workspace(&m0, &batch).expect("static training, workspace");
    let (ds, dd) = (max_diff(&hand, &stat), max_diff(&hand, &dyna));
    assert!(
        ds < 1e-8 && dd < 1e-8,
        "the three training loops disagree: static {ds:e}, dynamic {dd:e}"
    );
    assert_eq!(
        max_diff(&stat, &with),
        0.0,
        "mlp_loss_grad_with trains exactly as mlp_loss_grad"
    );
    let loss = |m: &Mlp| mlp_loss_grad(m, &batch.x, &batch.labels).0;
    println!(
        "training/mlp_small_adam_1000: loss {:.4} -> {:.4}; max parameter difference to hand-written: static {ds:.1e}, dynamic {dd:.1e}",
        loss(&m0),
        loss(&hand)
    );

    let mut g = c.benchmark_group("training/mlp_small_adam_1000");
    g.sample_size(10);
    g.bench_function("handwritten", |b| {
        b.iter(|| train_handwritten(black_box(&m0), black_box(&batch)).expect("training"))
    });
    g.bench_function("static", |b| {
        b.iter(|| train_static(black_box(&m0), black_box(&batch)).expect("training"))
    });
    g.bench_function("static_workspace", |b| {
        b.iter(|| train_static_workspace(black_box(&m0), black_box(&batch)).expect("training"))
    });
    g.bench_function("dynamic", |b| {
        b.iter(|| train_dynamic(black_box(&m0), black_box(&batch)).expect("training"))
    });
    g.finish();
}

criterion_group!(benches, bench_training);
criterion_main!(benches);
