//! Vectorized elementwise kernels (`autodiff_runtime::simd`) against scalar libm loops
//! and against the memory-bandwidth floor, over 1,000,000 f64.
//!
//! Groups:
//! - `<function>`: `simd` (the slice kernel, AVX2+FMA when the CPU has it), `portable`
//!   (the same math on `simd::f64x4`), `scalar_libm` (a loop calling `f64::exp`, ...),
//!   `copy` (copying the same 8 MB into the output: the floor).
//! - `elementwise_forward` / `elementwise_grad`: `L = sum tanh(a .* x + b)^2` and its
//!   gradient with respect to `a` and `b` in one pass: `simd` (`autodiff_benches::fused_tanh`),
//!   `scalar_libm` (the same loop by hand on `f64::tanh`), and `stream_floor` (a loop with
//!   the same loads and stores and trivial arithmetic).
//!
//! Throughput is the bytes each loop reads plus writes, so criterion's GB/s compare
//! directly with the floors.

use std::hint::black_box;

use autodiff_runtime::rules::{ElementwiseRule, Sigmoid, Softplus};
use autodiff_runtime::simd;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const N: usize = 1_000_000;

/// Deterministic inputs spread over `[lo, hi)`.
fn inputs(lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..N)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

/// The vector function on `simd::f64x4`, chunk by chunk (the portable path), inlined
/// into the loop as the slice kernels are.
#[inline(always)]
fn portable(f: impl Fn(simd::f64x4) -> simd::f64x4, x: &[f64], out: &mut [f64]) {
    for (xc, oc) in x.chunks_exact(4).zip(out.chunks_exact_mut(4)) {
        oc.copy_from_slice(&f(simd::f64x4::new([xc[0], xc[1], xc[2], xc[3]])).to_array());
    }
}

/// One group: the slice kernel, the portable path, the scalar libm loop and the copy.
macro_rules! bench_function {
    ($c:expr, $name:literal, $slice:path, $vector:path, $scalar:expr, $lo:expr, $hi:expr) => {{
        let x = inputs($lo, $hi, 1);
        let mut out = vec![0.0; N];
        let mut group = $c.benchmark_group($name);
        group.throughput(Throughput::Bytes((2 * N * 8) as u64));
        group.bench_function(BenchmarkId::new("simd", N), |b| {
            b.iter(|| $slice(black_box(&x), black_box(&mut out)))
        });
        group.bench_function(BenchmarkId::new("portable", N), |b| {
            b.iter(|| portable(|v| $vector(v), black_box(&x), black_box(&mut out)))
        });
        let scalar: fn(f64) -> f64 = $scalar;
        group.bench_function(BenchmarkId::new("scalar_libm", N), |b| {
            b.iter(|| {
                for (o, &v) in black_box(&mut out).iter_mut().zip(black_box(&x)) {
                    *o = scalar(v);
                }
            })
        });
        group.bench_function(BenchmarkId::new("copy", N), |b| {
            b.iter(|| black_box(&mut out).copy_from_slice(black_box(&x)))
        });
        group.finish();
    }};
}

fn kernels(c: &mut Criterion) {
    println!("simd level: {:?}", simd::simd_level());
    bench_function!(c, "exp", simd::exp_slice, simd::exp, f64::exp, -20.0, 20.0);
    bench_function!(
        c,
        "exp_m1",
        simd::exp_m1_slice,
        simd::exp_m1,
        f64::exp_m1,
        -5.0,
        5.0
    );
    bench_function!(c, "ln", simd::ln_slice, simd::ln, f64::ln, 1e-3, 1e3);
    bench_function!(
        c,
        "ln_1p",
        simd::ln_1p_slice,
        simd::ln_1p,
        f64::ln_1p,
        -0.9,
        10.0
    );
    bench_function!(
        c,
        "tanh",
        simd::tanh_slice,
        simd::tanh,
        f64::tanh,
        -5.0,
        5.0
    );
    bench_function!(
        c,
        "sigmoid",
        simd::sigmoid_slice,
        simd::sigmoid,
        |v| Sigmoid.f(v),
        -10.0,
        10.0
    );
    bench_function!(
        c,
        "softplus",
        simd::softplus_slice,
        simd::softplus,
        |v| Softplus.f(v),
        -10.0,
        10.0
    );
}

/// `sum tanh(a x + b)^2` by hand on `f64::tanh`.
fn forward_scalar(a: &[f64], x: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        let t = (a[i] * x[i] + b[i]).tanh();
        s += t * t;
    }
    s
}

/// Its value and gradient by hand on `f64::tanh`: `du = 2 t (1 - t^2)`.
fn grad_scalar(a: &[f64], x: &[f64], b: &[f64], ga: &mut [f64], gb: &mut [f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        let t = (a[i] * x[i] + b[i]).tanh();
        s += t * t;
        let du = 2.0 * t * (1.0 - t * t);
        ga[i] += du * x[i];
        gb[i] += du;
    }
    s
}

/// The same loads and stores as the forward pass, trivial arithmetic.
fn forward_floor(a: &[f64], x: &[f64], b: &[f64]) -> f64 {
    let mut s = [0.0; 4];
    for ((a, x), b) in a
        .chunks_exact(4)
        .zip(x.chunks_exact(4))
        .zip(b.chunks_exact(4))
    {
        for k in 0..4 {
            s[k] += a[k] * x[k] + b[k];
        }
    }
    s.iter().sum()
}

/// The same loads and stores as the gradient pass, trivial arithmetic.
fn grad_floor(a: &[f64], x: &[f64], b: &[f64], ga: &mut [f64], gb: &mut [f64]) {
    for i in 0..a.len() {
        let u = a[i] * x[i] + b[i];
        ga[i] += u * x[i];
        gb[i] += u;
    }
}

fn elementwise(c: &mut Criterion) {
    let a = inputs(-2.0, 2.0, 2);
    let x = inputs(-2.0, 2.0, 3);
    let b = inputs(-1.0, 1.0, 4);
    let (mut ga, mut gb) = (vec![0.0; N], vec![0.0; N]);

    let mut group = c.benchmark_group("elementwise_forward");
    group.throughput(Throughput::Bytes((3 * N * 8) as u64));
    group.bench_function(BenchmarkId::new("simd", N), |bch| {
        bch.iter(|| {
            autodiff_benches::fused_tanh::tanh_sq_sum(black_box(&a), black_box(&x), black_box(&b))
        })
    });
    group.bench_function(BenchmarkId::new("scalar_libm", N), |bch| {
        bch.iter(|| forward_scalar(black_box(&a), black_box(&x), black_box(&b)))
    });
    group.bench_function(BenchmarkId::new("stream_floor", N), |bch| {
        bch.iter(|| forward_floor(black_box(&a), black_box(&x), black_box(&b)))
    });
    group.finish();

    // Reads a, x, b, ga, gb; writes ga, gb.
    let mut group = c.benchmark_group("elementwise_grad");
    group.throughput(Throughput::Bytes((7 * N * 8) as u64));
    group.bench_function(BenchmarkId::new("simd", N), |bch| {
        bch.iter(|| {
            autodiff_benches::fused_tanh::tanh_sq_sum_grad(
                &a,
                &x,
                &b,
                black_box(&mut ga),
                black_box(&mut gb),
            )
        })
    });
    group.bench_function(BenchmarkId::new("scalar_libm", N), |bch| {
        bch.iter(|| grad_scalar(&a, &x, &b, black_box(&mut ga), black_box(&mut gb)))
    });
    group.bench_function(BenchmarkId::new("stream_floor", N), |bch| {
        bch.iter(|| grad_floor(&a, &x, &b, black_box(&mut ga), black_box(&mut gb)))
    });
    group.finish();
}

criterion_group!(benches, kernels, elementwise);
criterion_main!(benches);
