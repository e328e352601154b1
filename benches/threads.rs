//! Intra-op threads (`autodiff::set_num_threads`): the elementwise workload
//! (`sum(tanh(a .* x + b)^2)` over 1,000,000 f64, gradient) and the large MLP (X 64x784,
//! hidden 128, 10 classes, gradient) with 1 and 2 threads, and the measurement behind
//! `autodiff::threads::PARALLEL_MIN_ELEMS`: `tanh` over n elements on one thread against
//! the same slice split in two halves on two scoped threads, for n around the threshold.
//!
//! `cargo bench -p autodiff-benches --bench threads`.

#[path = "workloads/elementwise.rs"]
#[allow(dead_code)]
mod elementwise;
#[path = "workloads/mlp.rs"]
#[allow(dead_code)]
mod mlp;

use autodiff::set_num_threads;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

fn bench_workloads(c: &mut Criterion) {
    let (a, b, x) = elementwise::inputs(1_000_000, 7);
    let mut g = c.benchmark_group("threads/elementwise/1000000");
    g.sample_size(20);
    for threads in [1, 2] {
        g.bench_function(BenchmarkId::new("static", threads), |bch| {
            set_num_threads(threads);
            bch.iter(|| elementwise::elementwise_grad(black_box(&a), black_box(&b), black_box(&x)))
        });
    }
    g.finish();

    let m = mlp::Mlp::random(784, 128, 10, 1);
    let batch = mlp::Batch::random(64, 784, 10, 2);
    let mut g = c.benchmark_group("threads/mlp");
    for threads in [1, 2] {
        g.bench_function(BenchmarkId::new("static", threads), |bch| {
            set_num_threads(threads);
            bch.iter(|| {
                mlp::mlp_loss_grad(
                    black_box(&m),
                    black_box(&batch.x),
                    black_box(batch.labels.as_slice()),
                )
            })
        });
    }
    g.finish();
    set_num_threads(0);
}

fn bench_threshold(c: &mut Criterion) {
    // The kernels themselves on one thread: the split below is done here, by hand.
    set_num_threads(1);
    let mut g = c.benchmark_group("threads/threshold/tanh");
    for n in [8 * 1024, 16 * 1024, 32 * 1024, 64 * 1024, 128 * 1024] {
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.001).sin()).collect();
        let mut out = vec![0.0; n];
        g.bench_function(BenchmarkId::new("one_thread", n), |bch| {
            bch.iter(|| autodiff::simd::tanh_slice(black_box(&x), &mut out))
        });
        g.bench_function(BenchmarkId::new("two_threads", n), |bch| {
            bch.iter(|| {
                let (x0, x1) = black_box(&x).split_at(n / 2);
                let (o0, o1) = out.split_at_mut(n / 2);
                std::thread::scope(|s| {
                    s.spawn(|| autodiff::simd::tanh_slice(x1, o1));
                    autodiff::simd::tanh_slice(x0, o0);
                });
            })
        });
    }
    g.finish();
    set_num_threads(0);
}

criterion_group!(benches, bench_workloads, bench_threshold);
criterion_main!(benches);
