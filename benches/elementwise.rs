//! `sum(tanh(a .* x + b)^2)` over vectors of 1,000,000 f64, gradient with respect to `a`
//! and `b`: hand-written loop, `#[differentiable]`, dynamic engine, and a plain copy of
//! the same bytes (the memory-bandwidth floor: 3 vectors read, 2 written, 40 MB).
//!
//! Each engine has a gradient entry (`handwritten`, `static`, `dynamic`) and a forward-only
//! one (`*_forward`), so the gradient/forward ratio of each can be read off the same run.
//!
//! `handwritten` writes into buffers it owns; `handwritten_alloc` is the same loop
//! returning fresh vectors, as `elementwise_grad` must, so the two entries separate the
//! arithmetic from the cost of allocating (and first touching) 16 MB per call.
//! `static_workspace` is `elementwise_grad_with`, which keeps its buffers (the gradients
//! included) in an `autodiff::Workspace` across calls, as `handwritten` does.
//!
//! `static_f32` / `static_f32_workspace` / `static_f32_forward` are `static` /
//! `static_workspace` / `static_forward` on the same inputs
//! rounded to `f32` (`elementwise_f32`): the fused loop on eight `f32` lanes instead of
//! four `f64`, half the bytes. Their throughput is reported in `f64` bytes like the rest,
//! so the times compare directly.

#[path = "workloads/elementwise.rs"]
mod workload;

use autodiff::dynamic::no_grad;
use autodiff::nalgebra::DVector;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use workload::{
    elementwise, elementwise_copy, elementwise_f32, elementwise_f32_grad,
    elementwise_f32_grad_with, elementwise_grad, elementwise_grad_with, elementwise_handwritten,
    elementwise_handwritten_forward, elementwise_handwritten_simd, inputs, inputs_f32,
    DynamicElementwise,
};

const N: usize = 1_000_000;

fn bench_elementwise(c: &mut Criterion) {
    let (a, b, x) = inputs(N, 7);
    let dynamic = DynamicElementwise::new(&a, &b, &x);
    let mut ga = vec![0.0; N];
    let mut gb = vec![0.0; N];

    let mut g = c.benchmark_group("elementwise/1000000");
    // Bytes moved by one gradient: a, b, x read, two gradients written.
    g.throughput(Throughput::Bytes(
        (5 * N * std::mem::size_of::<f64>()) as u64,
    ));
    g.sample_size(20);
    g.bench_function("copy", |bch| {
        bch.iter(|| {
            elementwise_copy(
                black_box(a.as_slice()),
                black_box(b.as_slice()),
                black_box(x.as_slice()),
                &mut ga,
                &mut gb,
            );
            black_box((&ga, &gb));
        })
    });
    // The two hand-written gradients (scalar libm, and the vectorized kernels), writing
    // into the same buffers.
    type HandWritten = fn(&[f64], &[f64], &[f64], &mut [f64], &mut [f64]) -> f64;
    let hand_written: [(&str, HandWritten); 2] = [
        ("handwritten", elementwise_handwritten),
        ("handwritten_simd", elementwise_handwritten_simd),
    ];
    for (name, gradient) in hand_written {
        g.bench_function(name, |bch| {
            bch.iter(|| {
                let v = gradient(
                    black_box(a.as_slice()),
                    black_box(b.as_slice()),
                    black_box(x.as_slice()),
                    &mut ga,
                    &mut gb,
                );
                black_box((&ga, &gb));
                v
            })
        });
    }
    g.bench_function("handwritten_alloc", |bch| {
        bch.iter(|| {
            let mut ga = DVector::zeros(N);
            let mut gb = DVector::zeros(N);
            let v = elementwise_handwritten(
                black_box(a.as_slice()),
                black_box(b.as_slice()),
                black_box(x.as_slice()),
                ga.as_mut_slice(),
                gb.as_mut_slice(),
            );
            (v, ga, gb)
        })
    });
    g.bench_function("handwritten_forward", |bch| {
        bch.iter(|| {
            elementwise_handwritten_forward(
                black_box(a.as_slice()),
                black_box(b.as_slice()),
                black_box(x.as_slice()),
            )
        })
    });
    g.bench_function("static", |bch| {
        bch.iter(|| elementwise_grad(black_box(&a), black_box(&b), black_box(&x)))
    });
    let mut static_ws = autodiff::Workspace::new();
    g.bench_function("static_workspace", |bch| {
        bch.iter(|| {
            elementwise_grad_with(&mut static_ws, black_box(&a), black_box(&b), black_box(&x)).0
        })
    });
    g.bench_function("static_forward", |bch| {
        bch.iter(|| elementwise(black_box(&a), black_box(&b), black_box(&x)))
    });
    let (a32, b32, x32) = inputs_f32(N, 7);
    g.bench_function("static_f32", |bch| {
        bch.iter(|| elementwise_f32_grad(black_box(&a32), black_box(&b32), black_box(&x32)))
    });
    let mut static_ws_f32 = autodiff::Workspace::new();
    g.bench_function("static_f32_workspace", |bch| {
        bch.iter(|| {
            elementwise_f32_grad_with(
                &mut static_ws_f32,
                black_box(&a32),
                black_box(&b32),
                black_box(&x32),
            )
            .0
        })
    });
    g.bench_function("static_f32_forward", |bch| {
        bch.iter(|| elementwise_f32(black_box(&a32), black_box(&b32), black_box(&x32)))
    });
    g.bench_function("dynamic", |bch| {
        bch.iter(|| black_box(&dynamic).loss_grad().expect("backward"))
    });
    g.bench_function("dynamic_forward", |bch| {
        bch.iter(|| no_grad(|| black_box(&dynamic).loss().item()))
    });
    g.finish();
}

criterion_group!(benches, bench_elementwise);
criterion_main!(benches);
