//! The checkpointed pendulum workload: `n` steps of a pendulum (symplectic Euler) as one
//! loop ([`final_angle_flat`]), as `segments` segments of `steps` steps
//! ([`final_angle_kept`]), and as the same segments each a `checkpoint` function
//! ([`final_angle`]: callers keep one state per segment and recompute its steps in the
//! reverse pass). Shared by `benches/second_order.rs` and `tests/checkpoint.rs` (through
//! `#[path]`).

use autodiff::prelude::*;

/// `steps` steps of a pendulum (symplectic Euler), from angle `theta` and velocity `omega`.
#[differentiable(wrt(theta, omega, g), checkpoint)]
pub fn segment(theta: f64, omega: f64, g: f64, dt: f64, steps: usize) -> (f64, f64) {
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
pub fn segment_kept(theta: f64, omega: f64, g: f64, dt: f64, steps: usize) -> (f64, f64) {
    let mut th = theta;
    let mut om = omega;
    for _ in 0..steps {
        om -= dt * g * th.sin();
        th += dt * om;
    }
    (th, om)
}

/// The squared final angle after `segments` checkpointed segments of `steps` steps.
#[differentiable(wrt(theta0, g))]
pub fn final_angle(theta0: f64, g: f64, dt: f64, segments: usize, steps: usize) -> f64 {
    let mut th = theta0;
    let mut om = 0.0;
    for _ in 0..segments {
        let (a, b) = segment(th, om, g, dt, steps);
        th = a;
        om = b;
    }
    th * th
}

/// [`final_angle`] with segments that keep their intermediates.
#[differentiable(wrt(theta0, g))]
pub fn final_angle_kept(theta0: f64, g: f64, dt: f64, segments: usize, steps: usize) -> f64 {
    let mut th = theta0;
    let mut om = 0.0;
    for _ in 0..segments {
        let (a, b) = segment_kept(th, om, g, dt, steps);
        th = a;
        om = b;
    }
    th * th
}

/// The same simulation as one loop of `n` steps.
#[differentiable(wrt(theta0, g))]
pub fn final_angle_flat(theta0: f64, g: f64, dt: f64, n: usize) -> f64 {
    let mut th = theta0;
    let mut om = 0.0;
    for _ in 0..n {
        om -= dt * g * th.sin();
        th += dt * om;
    }
    th * th
}
