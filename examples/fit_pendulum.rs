//! Fitting a damped pendulum to noisy observations with argmin's L-BFGS.
//!
//! `cargo run --release --example fit_pendulum`
//!
//! A pendulum of unknown length `l` and damping `c`, released from 1.2 rad at rest, is
//! observed every 0.1 s for 10 s with Gaussian noise (sd 0.02 rad, a seeded generator).
//! The misfit integrates the equation of motion `theta'' = -(g/l) sin(theta) - c theta'`
//! with semi-implicit Euler (1,000 steps of 0.01 s) and sums the squared differences at
//! the observation times. L-BFGS minimises it twice from the same start: with the exact
//! gradient of `#[differentiable]` (through `autodiff::argmin::Problem`) and with central
//! finite differences (argmin's `finitediff`), and the example prints the iterations,
//! function runs and time of each.

use std::time::{Duration, Instant};

use autodiff::argmin::core::{CostFunction, Error, Executor, Gradient, State};
use autodiff::argmin::solver::linesearch::condition::ArmijoCondition;
use autodiff::argmin::solver::linesearch::BacktrackingLineSearch;
use autodiff::argmin::solver::quasinewton::LBFGS;
use autodiff::argmin::Problem;
use autodiff::prelude::*;

/// Gravitational acceleration, m/s^2.
const G: f64 = 9.81;
/// Integration step, s.
const DT: f64 = 0.01;
/// Integration steps between two observations.
const STRIDE: usize = 10;
/// Initial angle, rad (known).
const THETA0: f64 = 1.2;

/// The unknown physical parameters, as logarithms (both are positive; the solver works on
/// the whole real line).
#[derive(Debug, Clone, Tangent)]
struct Pendulum {
    /// ln of the damping coefficient (1/s).
    ln_c: f64,
    /// ln of the length (m).
    ln_l: f64,
}

impl Pendulum {
    fn new(c: f64, l: f64) -> Self {
        Self {
            ln_c: c.ln(),
            ln_l: l.ln(),
        }
    }
}

/// Sum of squared differences between the simulated angle and the observations.
#[differentiable(wrt(p))]
fn misfit(p: &Pendulum, observed: &[f64]) -> f64 {
    let c = p.ln_c.exp();
    let l = p.ln_l.exp();
    let mut theta = THETA0;
    let mut omega = 0.0;
    let mut loss = 0.0;
    for k in 0..observed.len() {
        for _ in 0..STRIDE {
            let alpha = -(G / l) * theta.sin() - c * omega;
            omega += DT * alpha;
            theta += DT * omega;
        }
        loss += (theta - observed[k]).powi(2);
    }
    loss
}

/// The same misfit as a plain function of a flat `[ln c, ln l]`, for finite differences.
struct FiniteDifferences<'a> {
    observed: &'a [f64],
}

impl CostFunction for FiniteDifferences<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(misfit(
            &Pendulum {
                ln_c: x[0],
                ln_l: x[1],
            },
            self.observed,
        ))
    }
}

impl Gradient for FiniteDifferences<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        finitediff::vec::central_diff(&|x: &Vec<f64>| self.cost(x))(x)
    }
}

/// Observations of the true pendulum (`c = 0.3`, `l = 1.5`) with Gaussian noise.
fn observations() -> Vec<f64> {
    let (c, l) = (0.3, 1.5);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        // xorshift64*, mapped to (0, 1)
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        ((state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let (mut theta, mut omega) = (THETA0, 0.0);
    (0..100)
        .map(|_| {
            for _ in 0..STRIDE {
                let alpha = -(G / l) * theta.sin() - c * omega;
                omega += DT * alpha;
                theta += DT * omega;
            }
            // Box-Muller
            let noise = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
            theta + 0.02 * noise
        })
        .collect()
}

/// The solver: L-BFGS with 7 correction pairs and a backtracking (Armijo) line search,
/// which steps back from points where the simulation overflows.
type Solver = LBFGS<
    BacktrackingLineSearch<Vec<f64>, Vec<f64>, ArmijoCondition<f64>, f64>,
    Vec<f64>,
    Vec<f64>,
    f64,
>;

fn lbfgs() -> Result<Solver, Error> {
    Ok(LBFGS::new(
        BacktrackingLineSearch::new(ArmijoCondition::new(1e-4)?),
        7,
    ))
}

/// The outcome of one fit.
struct Fit {
    iterations: u64,
    c: f64,
    l: f64,
    misfit: f64,
    /// What the solver ran, in words.
    runs: String,
}

/// Fits with the exact gradient of `misfit_grad`.
fn fit_exact(observed: &[f64], start: &Pendulum) -> Result<Fit, Error> {
    let problem = Problem::new(start, |p: &Pendulum| {
        let (value, g) = misfit_grad(p, observed);
        (value, g.p)
    })
    // The line search's trial points need only the value: the plain function.
    .with_value(|p: &Pendulum| misfit(p, observed));
    let x0 = problem.flatten(start);
    let result = Executor::new(&problem, lbfgs()?)
        .configure(|s| s.param(x0).max_iters(200))
        .run()?;
    let state = result.state();
    let best = problem.unflatten(state.get_best_param().expect("L-BFGS keeps its best point"));
    Ok(Fit {
        iterations: state.get_iter(),
        c: best.ln_c.exp(),
        l: best.ln_l.exp(),
        misfit: state.get_best_cost(),
        runs: format!(
            "{} runs of misfit_grad, {} of misfit",
            problem.evaluations(),
            problem.value_evaluations()
        ),
    })
}

/// Fits with central finite differences of `misfit`.
fn fit_finite_differences(observed: &[f64], start: &Pendulum) -> Result<Fit, Error> {
    let result = Executor::new(FiniteDifferences { observed }, lbfgs()?)
        .configure(|s| s.param(vec![start.ln_c, start.ln_l]).max_iters(200))
        .run()?;
    let state = result.state();
    let best = state.get_best_param().expect("L-BFGS keeps its best point");
    let count = |name| result.problem().counts.get(name).copied().unwrap_or(0);
    let (costs, gradients) = (count("cost_count"), count("gradient_count"));
    Ok(Fit {
        iterations: state.get_iter(),
        c: best[0].exp(),
        l: best[1].exp(),
        misfit: state.get_best_cost(),
        runs: format!(
            "{} runs of misfit ({costs} costs, {gradients} gradients of 4 runs each)",
            costs + 4 * gradients
        ),
    })
}

/// Runs `fit` 21 times; the last outcome and the median time.
fn timed(fit: impl Fn() -> Result<Fit, Error>) -> Result<(Fit, Duration), Error> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..21 {
        let clock = Instant::now();
        last = Some(fit()?);
        times.push(clock.elapsed());
    }
    times.sort();
    Ok((last.expect("21 runs"), times[times.len() / 2]))
}

fn main() -> Result<(), Error> {
    let observed = observations();
    let start = Pendulum::new(0.2, 1.3);
    println!(
        "fitting c and l of a damped pendulum to {} noisy angles",
        observed.len()
    );
    println!("truth c = 0.3, l = 1.5; start c = 0.2, l = 1.3; times are medians of 21 fits\n");
    println!(
        "{:<20} {:>5} {:>9} {:>9} {:>11} {:>9}",
        "gradient", "iters", "c", "l", "misfit", "time"
    );
    let rows = [
        ("#[differentiable]", timed(|| fit_exact(&observed, &start))?),
        (
            "finite differences",
            timed(|| fit_finite_differences(&observed, &start))?,
        ),
    ];
    for (name, (fit, time)) in &rows {
        println!(
            "{name:<20} {:>5} {:>9.6} {:>9.6} {:>11.5e} {:>9.2?}   {}",
            fit.iterations, fit.c, fit.l, fit.misfit, time, fit.runs
        );
    }
    Ok(())
}
