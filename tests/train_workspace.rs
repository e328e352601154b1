//! `Trainer::fit_in` with `#[differentiable]` functions' `name_grad_with` and a
//! `Workspace`: the same run as `fit` with `name_grad`, bit for bit; an `f32` model
//! trained without casts; an infinite loss from the data reported as such.

use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::prelude::*;
use autodiff::train::{TrainError, Trainer};
use autodiff::Workspace;

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

#[differentiable(wrt(m))]
fn mlp_loss(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let hidden = (x * &m.w1 + &m.b1).tanh();
    cross_entropy(&(hidden * &m.w2 + &m.b2), labels)
}

fn batches() -> Vec<(DMatrix<f64>, Vec<usize>)> {
    (0..5)
        .map(|b| {
            let x = DMatrix::from_fn(12, 4, |i, j| ((12 * b + i) as f64 * 0.41 + j as f64).sin());
            let labels = (0..12)
                .map(|i| usize::from(x[(i, 0)] + x[(i, 1)] > 0.0) + usize::from(x[(i, 2)] > 0.5))
                .collect();
            (x, labels)
        })
        .collect()
}

fn model() -> Mlp {
    Mlp {
        w1: DMatrix::from_fn(4, 8, |i, j| ((i * 8 + j) as f64).sin() / 2.0),
        b1: RowDVector::zeros(8),
        w2: DMatrix::from_fn(8, 3, |i, j| ((i * 3 + j) as f64).cos() / 3.0),
        b2: RowDVector::zeros(3),
    }
}

#[test]
fn fit_in_with_a_workspace_is_fit_with_owned_gradients_bit_for_bit() {
    let batches = batches();
    let trainer = || {
        Trainer::new(Adam::new(0.02))
            .epochs(20)
            .clip_grad_norm(1.0)
            .seed(3)
            .progress(false)
    };
    let mut owned = model();
    let expected = trainer()
        .fit(&mut owned, &batches, |m, (x, labels)| {
            let (loss, g) = mlp_loss_grad(m, x, labels);
            (loss, g.m)
        })
        .unwrap();

    let mut m = model();
    let mut ws = Workspace::new();
    let history = trainer()
        .fit_in(&mut ws, &mut m, &batches, |ws, m, (x, labels)| {
            let (loss, g) = mlp_loss_grad_with(ws, m, x, labels);
            (loss, &g.m)
        })
        .unwrap();
    assert_eq!(m, owned);
    assert_eq!(history, expected);
    let (first, last) = (&history.epochs[0], history.last().unwrap());
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "{first:?} {last:?}"
    );
}

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Linear32 {
    w: DMatrix<f32>,
    b: RowDVector<f32>,
}

#[differentiable(wrt(m))]
fn mse32(m: &Linear32, x: &DMatrix<f32>, y: &DMatrix<f32>) -> f32 {
    mse(&(x * &m.w + &m.b), y)
}

#[test]
fn an_f32_model_trains_with_f32_losses() {
    // y = 2 x1 - x2 + 0.5 in f32, batches of 8 rows.
    let batches: Vec<(DMatrix<f32>, DMatrix<f32>)> = (0..4)
        .map(|b| {
            let x = DMatrix::from_fn(8, 2, |i, j| ((8 * b + i) as f32 * 0.7 + j as f32).sin());
            let y = DMatrix::from_fn(8, 1, |i, _| 2.0 * x[(i, 0)] - x[(i, 1)] + 0.5);
            (x, y)
        })
        .collect();
    let mut m = Linear32 {
        w: DMatrix::zeros(2, 1),
        b: RowDVector::zeros(1),
    };
    let mut ws = Workspace::new();
    let mut trainer = Trainer::new(Adam::new(0.05)).epochs(150).progress(false);
    let history = trainer
        .fit_in(&mut ws, &mut m, &batches, |ws, m, (x, y)| {
            let (loss, g): (f32, _) = mse32_grad_with(ws, m, x, y);
            (loss, &g.m)
        })
        .unwrap();
    assert!(
        (m.w[0] - 2.0).abs() < 1e-2 && (m.w[1] + 1.0).abs() < 1e-2,
        "{m:?}"
    );
    assert!((m.b[0] - 0.5).abs() < 1e-2, "{m:?}");
    assert!(history.last().unwrap().train_loss < 1e-4);

    // The owned form takes f32 losses too.
    let mut again = m.clone();
    Trainer::new(Sgd::new(0.01))
        .progress(false)
        .fit(&mut again, &batches, |m, (x, y)| {
            let (loss, g) = mse32_grad(m, x, y);
            (loss, g.m)
        })
        .unwrap();
}

#[derive(Debug, Clone, Tangent)]
struct Mixture {
    w: DMatrix<f64>,
}

/// The negative log-likelihood of mixture weights `w` for rows of component densities.
#[differentiable(wrt(m))]
fn neg_log_likelihood(m: &Mixture, x: &DMatrix<f64>) -> f64 {
    -(x * &m.w).map(|p| p.ln()).mean()
}

#[test]
fn a_zero_density_in_the_data_stops_training_with_advice_about_the_loss() {
    let good = DMatrix::from_row_slice(3, 2, &[0.5, 0.5, 0.2, 0.8, 0.9, 0.1]);
    let mut bad = good.clone();
    bad.row_mut(2).fill(0.0); // a sample no component explains: log(0)
    let batches = [good, bad];
    let mut m = Mixture {
        w: DMatrix::from_element(2, 1, 0.5),
    };
    // The gradient of that batch is NaN (0 * inf), a consequence of the loss.
    let (loss, g) = neg_log_likelihood_grad(&m, &batches[1]);
    assert_eq!(loss, f64::INFINITY);
    assert!(g.m.w.iter().any(|v| v.is_nan()), "{:?}", g.m.w);

    let mut ws = Workspace::new();
    let err = Trainer::new(Sgd::new(0.1))
        .shuffle(false) // so that the bad batch comes second, after one step
        .progress(false)
        .fit_in(&mut ws, &mut m, &batches, |ws, m, x| {
            let (loss, g) = neg_log_likelihood_grad_with(ws, m, x);
            (loss, &g.m)
        })
        .unwrap_err();
    assert_eq!(
        err,
        TrainError::NonFiniteLoss {
            epoch: 1,
            batch: 1,
            loss: f64::INFINITY
        }
    );
    let message = err.to_string();
    assert!(message.contains("log of 0"), "{message}");
    assert!(message.contains("check the batch's inputs"), "{message}");
}
