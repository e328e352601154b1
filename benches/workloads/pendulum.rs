//! The damped pendulum workload: theta'' = -(g/l) sin(theta) - c theta', integrated with
//! fixed-step semi-implicit (symplectic) Euler from t = 0 while `t < t_end`, loss
//! `(theta(t_end) - target)^2 + 0.1 omega(t_end)^2`, gradient with respect to the initial
//! state and the physical parameters (`theta0, omega0, c, l`); `dt`, `t_end` and `target`
//! are constants. The trip count depends on run-time values (`t` is accumulated, as a
//! user writes it), so the generated code cannot size its loop tape up front.
//!
//! Three forms: `#[differentiable]` ([`pendulum_loss`], as a user writes it), the same code
//! without the attribute ([`pendulum_loss_plain`], for the forward overhead) and an
//! expert's hand-written adjoint ([`pendulum_loss_handwritten`]: a forward sweep that
//! stores the trajectory, a reverse sweep that propagates adjoints step by step).
//! Shared by `benches/scalar.rs` and the tests (through `#[path]`); the tests at the end
//! of this file run wherever it is included in a test target.

use autodiff::prelude::*;

/// Gravitational acceleration, m/s^2.
pub const G: f64 = 9.81;

/// The inputs of one run: `dt = 0.01`, `t_end = 10.0`, so 1,001 steps (`t` accumulated in
/// steps of 0.01 is just under 10 after 1,000 of them).
pub const INPUTS: Inputs = Inputs {
    theta0: 1.2,
    omega0: -0.3,
    c: 0.15,
    l: 1.7,
    dt: 0.01,
    t_end: 10.0,
    target: 0.25,
};

/// The arguments of the workload, by name.
#[derive(Debug, Clone, Copy)]
pub struct Inputs {
    /// Initial angle, rad.
    pub theta0: f64,
    /// Initial angular velocity, rad/s.
    pub omega0: f64,
    /// Damping coefficient, 1/s.
    pub c: f64,
    /// Length, m.
    pub l: f64,
    /// Time step, s (a constant).
    pub dt: f64,
    /// End time, s (a constant).
    pub t_end: f64,
    /// Target angle at `t_end`, rad (a constant).
    pub target: f64,
}

/// The loss, as a user writes it.
#[differentiable(wrt(theta0, omega0, c, l))]
pub fn pendulum_loss(
    theta0: f64,
    omega0: f64,
    c: f64,
    l: f64,
    dt: f64,
    t_end: f64,
    target: f64,
) -> f64 {
    let mut theta = theta0;
    let mut omega = omega0;
    let mut t = 0.0;
    while t < t_end {
        let alpha = -(G / l) * theta.sin() - c * omega;
        omega += dt * alpha;
        theta += dt * omega;
        t += dt;
    }
    (theta - target).powi(2) + 0.1 * omega * omega
}

/// The same code without the attribute: the forward pass a user would write anyway.
pub fn pendulum_loss_plain(
    theta0: f64,
    omega0: f64,
    c: f64,
    l: f64,
    dt: f64,
    t_end: f64,
    target: f64,
) -> f64 {
    let mut theta = theta0;
    let mut omega = omega0;
    let mut t = 0.0;
    while t < t_end {
        let alpha = -(G / l) * theta.sin() - c * omega;
        omega += dt * alpha;
        theta += dt * omega;
        t += dt;
    }
    (theta - target).powi(2) + 0.1 * omega * omega
}

/// The hand-written gradient: value and `[d/dtheta0, d/domega0, d/dc, d/dl]`.
///
/// Forward: the same steps as [`pendulum_loss_plain`] (bit-identical value), storing per
/// step the state it starts from and `sin(theta)`, in a buffer sized from `t_end / dt`.
/// Reverse, for step `omega' = omega + dt alpha`, `theta' = theta + dt omega'` with
/// `alpha = -(g/l) sin(theta) - c omega`, from the adjoints `(tb, ob)` of `(theta', omega')`:
/// `w = ob + dt tb` (the adjoint of `omega'`, through `theta'` too), then
/// `tb += -w dt (g/l) cos(theta)`, `ob = w (1 - dt c)`, and the parameters collect
/// `sum w omega` (for `c`) and `sum w sin(theta)` (for `l`), scaled once at the end.
pub fn pendulum_loss_handwritten(
    theta0: f64,
    omega0: f64,
    c: f64,
    l: f64,
    dt: f64,
    t_end: f64,
    target: f64,
) -> (f64, [f64; 4]) {
    let g_over_l = G / l;
    let steps_hint = if t_end > 0.0 && dt > 0.0 {
        (t_end / dt) as usize + 2
    } else {
        0
    };
    let mut tape: Vec<[f64; 3]> = Vec::with_capacity(steps_hint);
    let mut theta = theta0;
    let mut omega = omega0;
    let mut t = 0.0;
    while t < t_end {
        let s = theta.sin();
        tape.push([theta, omega, s]);
        let alpha = -g_over_l * s - c * omega;
        omega += dt * alpha;
        theta += dt * omega;
        t += dt;
    }
    let r = theta - target;
    let value = r * r + 0.1 * omega * omega;

    let mut tb = 2.0 * r;
    let mut ob = 0.2 * omega;
    let (mut sum_w_omega, mut sum_w_sin) = (0.0, 0.0);
    let damp = 1.0 - dt * c;
    let k = -dt * g_over_l;
    for &[theta, omega, s] in tape.iter().rev() {
        let w = ob + dt * tb;
        tb += w * k * theta.cos();
        ob = w * damp;
        sum_w_omega += w * omega;
        sum_w_sin += w * s;
    }
    // d alpha / d c = -omega; d alpha / d l = (g / l^2) sin(theta); both scaled by dt.
    let gc = -dt * sum_w_omega;
    let gl = dt * g_over_l / l * sum_w_sin;
    (value, [tb, ob, gc, gl])
}

// Cargo passes `--cfg test` to `harness = false` benches too, which drop the `#[test]`
// functions: there the helpers are unused.
#[cfg(test)]
#[allow(dead_code)]
mod tests {
    use super::*;

    /// The generated gradient as an array in the order of [`pendulum_loss_handwritten`].
    fn pendulum_loss_static(p: &Inputs) -> (f64, [f64; 4]) {
        let (v, g) = pendulum_loss_grad(p.theta0, p.omega0, p.c, p.l, p.dt, p.t_end, p.target);
        (v, [g.theta0, g.omega0, g.c, g.l])
    }

    fn rel_err(a: f64, b: f64) -> f64 {
        (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
    }

    fn plain(p: &Inputs) -> f64 {
        pendulum_loss_plain(p.theta0, p.omega0, p.c, p.l, p.dt, p.t_end, p.target)
    }

    fn handwritten(p: &Inputs) -> (f64, [f64; 4]) {
        pendulum_loss_handwritten(p.theta0, p.omega0, p.c, p.l, p.dt, p.t_end, p.target)
    }

    /// The inputs of the bench and a few others (a short run, a stiffer, more damped one,
    /// and one with no steps at all).
    fn cases() -> Vec<Inputs> {
        vec![
            INPUTS,
            Inputs {
                t_end: 0.5,
                ..INPUTS
            },
            Inputs {
                theta0: -2.0,
                omega0: 1.5,
                c: 0.8,
                l: 0.4,
                dt: 0.005,
                t_end: 3.0,
                target: -0.1,
            },
            Inputs {
                t_end: 0.0,
                ..INPUTS
            },
        ]
    }

    #[test]
    fn pendulum_step_count_depends_on_the_run_time_end() {
        let steps = |p: &Inputs| {
            let mut t = 0.0;
            let mut n = 0;
            while t < p.t_end {
                t += p.dt;
                n += 1;
            }
            n
        };
        assert_eq!(steps(&INPUTS), 1001);
    }

    #[test]
    fn pendulum_handwritten_matches_static_to_1e_10() {
        for p in cases() {
            let (vs, gs) = pendulum_loss_static(&p);
            let (vh, gh) = handwritten(&p);
            assert_eq!(vs.to_bits(), plain(&p).to_bits(), "static value, {p:?}");
            assert_eq!(
                vh.to_bits(),
                plain(&p).to_bits(),
                "hand-written value, {p:?}"
            );
            for i in 0..4 {
                assert!(
                    rel_err(gs[i], gh[i]) <= 1e-10,
                    "component {i}: static {} vs hand-written {}, {p:?}",
                    gs[i],
                    gh[i]
                );
            }
        }
    }

    #[test]
    fn pendulum_gradients_match_central_differences() {
        for p in cases() {
            let (_, gs) = pendulum_loss_static(&p);
            let (_, gh) = handwritten(&p);
            for i in 0..4 {
                let at = |delta: f64| {
                    let mut q = p;
                    match i {
                        0 => q.theta0 += delta,
                        1 => q.omega0 += delta,
                        2 => q.c += delta,
                        _ => q.l += delta,
                    }
                    plain(&q)
                };
                let h = 1e-6;
                let fd = (at(h) - at(-h)) / (2.0 * h);
                // Central differences: O(h^2) truncation plus O(eps / h) rounding.
                let tol = 1e-6 * (1.0 + fd.abs());
                assert!(
                    (gs[i] - fd).abs() <= tol,
                    "component {i}: static {} vs fd {fd}, {p:?}",
                    gs[i]
                );
                assert!(
                    (gh[i] - fd).abs() <= tol,
                    "component {i}: hand-written {} vs fd {fd}, {p:?}",
                    gh[i]
                );
            }
        }
    }
}
