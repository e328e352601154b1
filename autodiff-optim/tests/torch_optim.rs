//! Optimizers, schedules and clipping against numbers produced by real PyTorch.
//!
//! The constants in `reference/torch_optim_data.rs` were printed by
//! `reference/torch_optim.py`, which runs `torch.optim` (torch 2.15.0, CPU, float64) on
//! a fixed problem: parameters `W` (2x3) and `b` (3) with the elementwise gradient
//! `g(x) = c*x + 0.1*(x*x*x) - d`. The same gradient is computed here with the same
//! floating-point operations, so any difference comes from the optimizers. They are meant
//! to follow `torch.optim`'s trajectory to 1e-12 in f64; the tolerance below is relative,
//! `1e-12 * max(1, |x|)`.

use autodiff_optim::clip::clip_grad_norm;
use autodiff_optim::optim::{
    Adam, AdamW, CosineAnnealingLr, ExponentialLr, LearningRate, LrScheduler, Optimizer, RmsProp,
    Sgd, StepLr,
};
use autodiff_runtime::nalgebra::{DMatrix, DVector};

#[rustfmt::skip] // generated: keep the script's layout
#[path = "reference/torch_optim_data.rs"]
mod torch;

type Params = (DMatrix<f64>, DVector<f64>);

const W0: [f64; 6] = [0.5, -1.2, 2.0, 0.0, 1.5, -0.3];
const B0: [f64; 3] = [0.8, -2.5, 0.1];
const CW: [f64; 6] = [1.0, 0.5, 2.0, 0.3, 1.5, 0.8];
const CB: [f64; 3] = [1.2, 0.7, 2.5];
const DW: [f64; 6] = [0.2, -0.4, 0.1, 0.5, 0.0, -0.6];
const DB: [f64; 3] = [0.3, -0.1, 0.05];

fn grad_of(x: f64, c: f64, d: f64) -> f64 {
    c * x + 0.1 * (x * x * x) - d
}

fn gradient(p: &Params) -> Params {
    let (cw, dw) = (
        DMatrix::from_row_slice(2, 3, &CW),
        DMatrix::from_row_slice(2, 3, &DW),
    );
    let w = p.0.zip_zip_map(&cw, &dw, grad_of);
    let b = DVector::from_fn(3, |i, _| grad_of(p.1[i], CB[i], DB[i]));
    (w, b)
}

/// `W` row-major then `b`, as the Python script records them.
fn torch_order(p: &Params) -> [f64; 9] {
    let mut out = [0.0; 9];
    for i in 0..2 {
        for j in 0..3 {
            out[i * 3 + j] = p.0[(i, j)];
        }
    }
    out[6..].copy_from_slice(p.1.as_slice());
    out
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    let tol = 1e-12 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: got {actual:e}, torch {expected:e} (diff {:e})",
        (actual - expected).abs()
    );
}

fn check_trajectory<O: Optimizer<Params>>(mut opt: O, expected: &[[f64; 9]; 10], name: &str) {
    let mut p: Params = (
        DMatrix::from_row_slice(2, 3, &W0),
        DVector::from_row_slice(&B0),
    );
    for (step, row) in expected.iter().enumerate() {
        let g = gradient(&p);
        opt.step(&mut p, &g).unwrap();
        for (k, (a, e)) in torch_order(&p).iter().zip(row).enumerate() {
            assert_close(*a, *e, &format!("{name} step {} element {k}", step + 1));
        }
    }
    assert_eq!(opt.steps_taken(), 10);
}

#[test]
fn sgd_matches_torch() {
    check_trajectory(Sgd::new(0.1), &torch::SGD_PLAIN, "SGD");
    check_trajectory(
        Sgd::new(0.05)
            .momentum(0.9)
            .dampening(0.1)
            .weight_decay(1e-2),
        &torch::SGD_MOMENTUM,
        "SGD momentum",
    );
    check_trajectory(
        Sgd::new(0.05)
            .momentum(0.9)
            .nesterov(true)
            .weight_decay(1e-4),
        &torch::SGD_NESTEROV,
        "SGD nesterov",
    );
    check_trajectory(
        Sgd::new(0.01).momentum(0.5).maximize(true),
        &torch::SGD_MAXIMIZE,
        "SGD maximize",
    );
}

#[test]
fn adam_matches_torch() {
    check_trajectory(Adam::new(0.1), &torch::ADAM_DEFAULT, "Adam");
    check_trajectory(
        Adam::new(0.05)
            .betas(0.8, 0.99)
            .eps(1e-6)
            .weight_decay(0.1)
            .amsgrad(true),
        &torch::ADAM_AMSGRAD,
        "Adam amsgrad",
    );
}

#[test]
fn adamw_matches_torch() {
    check_trajectory(AdamW::new(0.1), &torch::ADAMW_DEFAULT, "AdamW");
    check_trajectory(
        AdamW::new(0.05)
            .betas(0.85, 0.995)
            .weight_decay(0.1)
            .amsgrad(true),
        &torch::ADAMW_AMSGRAD,
        "AdamW amsgrad",
    );
}

#[test]
fn rmsprop_matches_torch() {
    check_trajectory(RmsProp::new(0.01), &torch::RMSPROP_DEFAULT, "RMSprop");
    check_trajectory(
        RmsProp::new(0.01)
            .alpha(0.9)
            .eps(1e-6)
            .momentum(0.9)
            .centered(true)
            .weight_decay(0.1),
        &torch::RMSPROP_CENTERED_MOMENTUM,
        "RMSprop centered momentum",
    );
}

fn check_schedule<S: LrScheduler>(make: impl Fn(&Sgd) -> S, expected: &[f64; 12], name: &str) {
    let mut opt = Sgd::new(0.5);
    let mut schedule = make(&opt);
    for (epoch, e) in expected.iter().enumerate() {
        schedule.step(&mut opt);
        assert_close(opt.lr(), *e, &format!("{name} epoch {}", epoch + 1));
    }
    assert_eq!(schedule.last_epoch(), 12);
}

#[test]
fn schedules_match_torch() {
    check_schedule(|o| StepLr::new(o, 3, 0.5), &torch::STEP_LR, "StepLR");
    check_schedule(
        |o| ExponentialLr::new(o, 0.9),
        &torch::EXPONENTIAL_LR,
        "ExponentialLR",
    );
    check_schedule(
        |o| CosineAnnealingLr::new(o, 4, 0.01),
        &torch::COSINE_LR,
        "CosineAnnealingLR",
    );
}

#[test]
fn clip_grad_norm_matches_torch() {
    let mut g = DVector::from_row_slice(&[3.0, 4.0]);
    assert_eq!(clip_grad_norm(&mut g, 1.0).unwrap(), torch::CLIP_3_4_NORM);
    for (a, e) in g.iter().zip(torch::CLIP_3_4) {
        assert_close(*a, e, "clip [3, 4]");
    }
    // Two tensors: torch takes the norm of the per-tensor norms.
    let mut g: Params = (
        DMatrix::from_row_slice(2, 2, &[0.3, -1.7, 2.2, 0.4]),
        DVector::from_row_slice(&[1.1, -0.9, 0.05]),
    );
    let norm = clip_grad_norm(&mut g, 0.5).unwrap();
    assert_close(norm, torch::CLIP_MULTI_NORM, "clip norm");
    let ours = [
        g.0[(0, 0)],
        g.0[(0, 1)],
        g.0[(1, 0)],
        g.0[(1, 1)],
        g.1[0],
        g.1[1],
        g.1[2],
    ];
    for (a, e) in ours.iter().zip(torch::CLIP_MULTI) {
        assert_close(*a, e, "clip two tensors");
    }
}
