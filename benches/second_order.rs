//! Checkpointing, forward mode and second order against the gradient.
//!
//! `checkpoint/*`: the gradient of a 10^6-step pendulum (symplectic Euler) as one loop
//! (`flat`), as 1000 segments of 1000 steps (`kept`), and as 1000 `checkpoint` segments
//! (`checkpointed`: each segment's forward runs twice). Target checkpointed / flat at
//! most 2.5 (its memory: `tests/checkpoint.rs`).

use autodiff::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

/// `steps` pendulum steps from `(theta, omega)`.
#[differentiable(wrt(theta, omega, g), checkpoint)]
fn segment(theta: f64, omega: f64, g: f64, dt: f64, steps: usize) -> (f64, f64) {
    let mut th = theta;
    let mut om = omega;
    for _ in 0..steps {
        om -= dt * g * th.sin();
        th += dt * om;
    }
    (th, om)
}

/// [`segment`] without `checkpoint`.
#[differentiable(wrt(theta, omega, g))]
fn segment_kept(theta: f64, omega: f64, g: f64, dt: f64, steps: usize) -> (f64, f64) {
    let mut th = theta;
    let mut om = omega;
    for _ in 0..steps {
        om -= dt * g * th.sin();
        th += dt * om;
    }
    (th, om)
}

#[differentiable(wrt(theta0, g))]
fn final_angle(theta0: f64, g: f64, dt: f64, segments: usize, steps: usize) -> f64 {
    let mut th = theta0;
    let mut om = 0.0;
    for _ in 0..segments {
        let (a, b) = segment(th, om, g, dt, steps);
        th = a;
        om = b;
    }
    th * th
}

#[differentiable(wrt(theta0, g))]
fn final_angle_kept(theta0: f64, g: f64, dt: f64, segments: usize, steps: usize) -> f64 {
    let mut th = theta0;
    let mut om = 0.0;
    for _ in 0..segments {
        let (a, b) = segment_kept(th, om, g, dt, steps);
        th = a;
        om = b;
    }
    th * th
}

#[differentiable(wrt(theta0, g))]
fn final_angle_flat(theta0: f64, g: f64, dt: f64, n: usize) -> f64 {
    let mut th = theta0;
    let mut om = 0.0;
    for _ in 0..n {
        om -= dt * g * th.sin();
        th += dt * om;
    }
    th * th
}

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

criterion_group!(benches, checkpoint);
criterion_main!(benches);
