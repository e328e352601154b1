//! ADBench's objectives (`workloads/adbench.rs`) on ADBench's own data (`data/adbench/`),
//! as issue 15 lists them: GMM (loops over points and components) at d = 2, K = 5 and
//! d = 10, K = 25 with 1,000 points, and bundle adjustment's Jacobian (two VJPs per
//! observation) on `ba1` (31,843 observations), and the LSTM (2 layers, 1,024
//! characters of 14 bits).
//!
//! Entries per group: `plain_forward` (the same code without the attribute) and
//! `static_forward` (the function the macro emits) for the forward overhead; `static`
//! (the generated gradient), `dynamic` (the tape engine, one scalar tensor per element,
//! the same loops) and, for GMM, `handwritten` (a hand-written gradient) for the gradient
//! ratios. The correctness checks of every entry are in `tests/adbench.rs`.

#[path = "workloads/adbench.rs"]
#[allow(dead_code)] // the test-size cuts and the other generated items are for the tests
mod adbench;

use adbench::{Ba, Gmm, Lstm, BA1, GMM_D10_K25, GMM_D2_K5, LSTM_L2_C1024};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn bench_gmm(c: &mut Criterion) {
    for (name, text) in [("gmm_d2_K5", GMM_D2_K5), ("gmm_d10_K25", GMM_D10_K25)] {
        let g = Gmm::parse(text);
        let mut group = c.benchmark_group(format!("adbench/{name}"));
        group.sample_size(10);
        group.bench_function("plain_forward", |b| {
            b.iter(|| black_box(&g).objective_plain())
        });
        group.bench_function("static_forward", |b| b.iter(|| black_box(&g).objective()));
        group.bench_function("handwritten", |b| {
            b.iter(|| black_box(&g).gradient_handwritten())
        });
        group.bench_function("static", |b| b.iter(|| black_box(&g).gradient()));
        group.bench_function("dynamic", |b| {
            b.iter(|| adbench::gmm_dynamic(black_box(&g)))
        });
        group.finish();
    }
}

fn bench_ba(c: &mut Criterion) {
    let ba = Ba::parse(BA1);
    let mut group = c.benchmark_group("adbench/ba1_n49_m7776_p31843");
    group.sample_size(10);
    group.bench_function("plain_forward", |b| {
        b.iter(|| adbench::ba_objective_plain(black_box(&ba)))
    });
    group.bench_function("static_forward", |b| {
        b.iter(|| adbench::ba_objective(black_box(&ba)))
    });
    group.bench_function("static", |b| {
        b.iter(|| adbench::ba_jacobian(black_box(&ba)))
    });
    group.bench_function("dynamic", |b| {
        b.iter(|| adbench::ba_jacobian_dynamic(black_box(&ba)))
    });
    group.finish();
}

fn bench_lstm(c: &mut Criterion) {
    let s = Lstm::parse(LSTM_L2_C1024);
    let mut group = c.benchmark_group("adbench/lstm_l2_c1024");
    group.sample_size(10);
    group.bench_function("plain_forward", |b| {
        b.iter(|| black_box(&s).objective_plain())
    });
    group.bench_function("static_forward", |b| b.iter(|| black_box(&s).objective()));
    group.bench_function("static", |b| b.iter(|| black_box(&s).gradient()));
    group.bench_function("dynamic", |b| {
        b.iter(|| adbench::lstm_dynamic(black_box(&s)))
    });
    group.finish();
}

criterion_group!(benches, bench_gmm, bench_ba, bench_lstm);
criterion_main!(benches);
