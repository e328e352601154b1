//! Scalar workloads: the generated gradient against a hand-written one of the same function.
//!
//! Each group has `handwritten` and `static` entries over the same inputs; the target is
//! a ratio static / handwritten of at most 1.1. The tutorial loss also has a `dynamic`
//! entry (the tape engine: record, `backward()`, read the gradients), against which the
//! target is static at least 20x faster. The tutorial loss also has forward-only entries
//! (`*_forward`) for the gradient/forward ratio.
//!
//! `scalar/pendulum_while` is a damped pendulum integrated by a `while t < t_end` loop
//! (1,001 steps, trip count known only at run time; `workloads/pendulum.rs`): the
//! generated gradient against an expert's hand-written adjoint (trajectory buffer, reverse
//! sweep), target static / handwritten at most 1.5, and the generated forward function
//! (`static_forward`) against the same code without the attribute (`plain_forward`).

#[path = "workloads/pendulum.rs"]
mod pendulum;

use autodiff::dynamic::{no_grad, Tensor};
use autodiff::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

#[differentiable]
fn tutorial_loss(w: f64, x: f64) -> f64 {
    let y = w * x;
    (y - 5.0).powi(2)
}

fn tutorial_loss_handwritten_forward(w: f64, x: f64) -> f64 {
    let r = w * x - 5.0;
    r * r
}

fn tutorial_loss_handwritten(w: f64, x: f64) -> (f64, f64, f64) {
    let r = w * x - 5.0;
    (r * r, 2.0 * r * x, 2.0 * r * w)
}

/// Rosenbrock over 10 pairs, written out: sum (1 - x_i)^2 + 100 (y_i - x_i^2)^2.
#[differentiable]
#[allow(clippy::too_many_arguments)]
fn rosenbrock20(
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    x3: f64,
    y3: f64,
    x4: f64,
    y4: f64,
    x5: f64,
    y5: f64,
    x6: f64,
    y6: f64,
    x7: f64,
    y7: f64,
    x8: f64,
    y8: f64,
    x9: f64,
    y9: f64,
) -> f64 {
    (1.0 - x0).powi(2)
        + 100.0 * (y0 - x0 * x0).powi(2)
        + (1.0 - x1).powi(2)
        + 100.0 * (y1 - x1 * x1).powi(2)
        + (1.0 - x2).powi(2)
        + 100.0 * (y2 - x2 * x2).powi(2)
        + (1.0 - x3).powi(2)
        + 100.0 * (y3 - x3 * x3).powi(2)
        + (1.0 - x4).powi(2)
        + 100.0 * (y4 - x4 * x4).powi(2)
        + (1.0 - x5).powi(2)
        + 100.0 * (y5 - x5 * x5).powi(2)
        + (1.0 - x6).powi(2)
        + 100.0 * (y6 - x6 * x6).powi(2)
        + (1.0 - x7).powi(2)
        + 100.0 * (y7 - x7 * x7).powi(2)
        + (1.0 - x8).powi(2)
        + 100.0 * (y8 - x8 * x8).powi(2)
        + (1.0 - x9).powi(2)
        + 100.0 * (y9 - x9 * x9).powi(2)
}

/// The hand-written gradient; the value is summed in the same order as the function is
/// written, so both compute bit-identical values.
fn rosenbrock20_handwritten(p: &[f64; 20]) -> (f64, [f64; 20]) {
    let mut value = 0.0;
    let mut grad = [0.0; 20];
    for i in 0..10 {
        let (x, y) = (p[2 * i], p[2 * i + 1]);
        let a = 1.0 - x;
        let b = y - x * x;
        value = value + a * a + 100.0 * (b * b);
        grad[2 * i] = -2.0 * a - 400.0 * x * b;
        grad[2 * i + 1] = 200.0 * b;
    }
    (value, grad)
}

/// The same hand-written gradient taking the generated function's signature (20 scalars).
#[allow(clippy::too_many_arguments)]
#[inline]
fn rosenbrock20_handwritten_args(
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    x3: f64,
    y3: f64,
    x4: f64,
    y4: f64,
    x5: f64,
    y5: f64,
    x6: f64,
    y6: f64,
    x7: f64,
    y7: f64,
    x8: f64,
    y8: f64,
    x9: f64,
    y9: f64,
) -> (f64, [f64; 20]) {
    rosenbrock20_handwritten(&[
        x0, y0, x1, y1, x2, y2, x3, y3, x4, y4, x5, y5, x6, y6, x7, y7, x8, y8, x9, y9,
    ])
}

/// A loop-carried chain with a run-time trip count: the same Rosenbrock terms on a
/// sequence generated from (x, y), exercising the loop tape.
#[differentiable(wrt(x, y))]
fn rosenbrock_chain(x: f64, y: f64, n: usize) -> f64 {
    let mut a = x;
    let mut b = y;
    let mut s = 0.0;
    for _i in 0..n {
        s = s + (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
        let t = a;
        a = 0.5 * b + 0.25;
        b = 0.5 * t - 0.25;
    }
    s
}

fn rosenbrock_chain_handwritten(x: f64, y: f64, n: usize) -> (f64, f64, f64) {
    // Forward: the sequence is affine in (x, y), so track d(a, b)/d(x, y) alongside.
    let (mut a, mut b) = (x, y);
    let (mut da_dx, mut da_dy, mut db_dx, mut db_dy) = (1.0, 0.0, 0.0, 1.0);
    let (mut s, mut gx, mut gy) = (0.0, 0.0, 0.0);
    for _ in 0..n {
        let u = 1.0 - a;
        let v = b - a * a;
        s += u * u + 100.0 * v * v;
        let ds_da = -2.0 * u - 400.0 * a * v;
        let ds_db = 200.0 * v;
        gx += ds_da * da_dx + ds_db * db_dx;
        gy += ds_da * da_dy + ds_db * db_dy;
        let (na, nb) = (0.5 * b + 0.25, 0.5 * a - 0.25);
        let (nda_dx, nda_dy, ndb_dx, ndb_dy) = (0.5 * db_dx, 0.5 * db_dy, 0.5 * da_dx, 0.5 * da_dy);
        a = na;
        b = nb;
        da_dx = nda_dx;
        da_dy = nda_dy;
        db_dx = ndb_dx;
        db_dy = ndb_dy;
    }
    (s, gx, gy)
}

fn bench_tutorial(c: &mut Criterion) {
    let mut g = c.benchmark_group("scalar/tutorial_loss");
    g.bench_function("handwritten", |b| {
        b.iter(|| tutorial_loss_handwritten(black_box(1.0), black_box(2.0)))
    });
    g.bench_function("static", |b| {
        b.iter(|| {
            let (v, grad) = tutorial_loss_grad(black_box(1.0), black_box(2.0));
            (v, grad.w, grad.x)
        })
    });
    // Leaves built once, as the other entries' inputs; each call clears their gradients.
    let (w, x) = (
        Tensor::scalar(1.0).requires_grad(),
        Tensor::scalar(2.0).requires_grad(),
    );
    g.bench_function("dynamic", |b| {
        b.iter(|| {
            let (w, x) = black_box((&w, &x));
            w.zero_grad();
            x.zero_grad();
            let loss = (w * x - 5.0).powi(2);
            loss.backward().expect("backward");
            let grad = |t: &Tensor| t.grad().map_or(0.0, |g| g.item());
            (loss.item(), grad(w), grad(x))
        })
    });
    g.bench_function("handwritten_forward", |b| {
        b.iter(|| tutorial_loss_handwritten_forward(black_box(1.0), black_box(2.0)))
    });
    g.bench_function("static_forward", |b| {
        b.iter(|| tutorial_loss(black_box(1.0), black_box(2.0)))
    });
    g.bench_function("dynamic_forward", |b| {
        b.iter(|| {
            no_grad(|| {
                let (w, x) = black_box((&w, &x));
                (w * x - 5.0).powi(2).item()
            })
        })
    });
    g.finish();
}

fn bench_rosenbrock(c: &mut Criterion) {
    let p: [f64; 20] = std::array::from_fn(|i| 0.1 * i as f64 - 0.7);
    let mut g = c.benchmark_group("scalar/rosenbrock20");
    g.bench_function("handwritten", |b| {
        b.iter(|| rosenbrock20_handwritten(black_box(&p)))
    });
    g.bench_function("handwritten_scalar_args", |b| {
        b.iter(|| {
            let q = black_box(&p);
            rosenbrock20_handwritten_args(
                q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10], q[11], q[12],
                q[13], q[14], q[15], q[16], q[17], q[18], q[19],
            )
        })
    });
    g.bench_function("static", |b| {
        b.iter(|| {
            let q = black_box(&p);
            rosenbrock20_grad(
                q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10], q[11], q[12],
                q[13], q[14], q[15], q[16], q[17], q[18], q[19],
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("scalar/rosenbrock_chain_10");
    g.bench_function("handwritten", |b| {
        b.iter(|| rosenbrock_chain_handwritten(black_box(0.3), black_box(-0.2), black_box(10)))
    });
    g.bench_function("static", |b| {
        b.iter(|| rosenbrock_chain_grad(black_box(0.3), black_box(-0.2), black_box(10)))
    });
    g.finish();
}

fn bench_pendulum(c: &mut Criterion) {
    use pendulum::{
        pendulum_loss, pendulum_loss_grad, pendulum_loss_handwritten, pendulum_loss_plain, INPUTS,
    };
    let p = INPUTS;
    let mut g = c.benchmark_group("scalar/pendulum_while");
    g.bench_function("handwritten", |b| {
        b.iter(|| {
            let p = black_box(&p);
            pendulum_loss_handwritten(p.theta0, p.omega0, p.c, p.l, p.dt, p.t_end, p.target)
        })
    });
    g.bench_function("static", |b| {
        b.iter(|| {
            let p = black_box(&p);
            let (v, grad) =
                pendulum_loss_grad(p.theta0, p.omega0, p.c, p.l, p.dt, p.t_end, p.target);
            (v, [grad.theta0, grad.omega0, grad.c, grad.l])
        })
    });
    g.bench_function("plain_forward", |b| {
        b.iter(|| {
            let p = black_box(&p);
            pendulum_loss_plain(p.theta0, p.omega0, p.c, p.l, p.dt, p.t_end, p.target)
        })
    });
    g.bench_function("static_forward", |b| {
        b.iter(|| {
            let p = black_box(&p);
            pendulum_loss(p.theta0, p.omega0, p.c, p.l, p.dt, p.t_end, p.target)
        })
    });
    g.finish();
}

criterion_group!(benches, bench_tutorial, bench_rosenbrock, bench_pendulum);
criterion_main!(benches);
