//! A `#[derive(Tangent)]` model through the whole training toolbox: gradcheck, clipping,
//! the optimizers and the training loop, whose health report names the struct's fields.

use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::prelude::*;
use autodiff::train::{GradStatus, Metrics, TrainError, Trainer};

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

struct Batch {
    x: DMatrix<f64>,
    y: DMatrix<f64>,
}

fn broadcast(m: DMatrix<f64>, row: &RowDVector<f64>) -> DMatrix<f64> {
    let mut m = m;
    for mut r in m.row_iter_mut() {
        r += row;
    }
    m
}

/// Mean squared error of a 2-8-1 tanh network.
fn loss(m: &Mlp, b: &Batch) -> f64 {
    let h = broadcast(&b.x * &m.w1, &m.b1).map(f64::tanh);
    let z = broadcast(&h * &m.w2, &m.b2);
    (z - &b.y).map(|e| e * e).mean()
}

/// Backpropagation by hand: dZ = 2 (Z - Y) / n, dW2 = H^T dZ, db2 = colsum dZ,
/// dA = (dZ W2^T) .* (1 - H^2), dW1 = X^T dA, db1 = colsum dA.
fn loss_grad(m: &Mlp, b: &Batch) -> (f64, Mlp) {
    let h = broadcast(&b.x * &m.w1, &m.b1).map(f64::tanh);
    let z = broadcast(&h * &m.w2, &m.b2);
    let r = &z - &b.y;
    let n = r.len() as f64;
    let dz = &r * (2.0 / n);
    let da = (&dz * m.w2.transpose()).component_mul(&h.map(|v| 1.0 - v * v));
    let grads = Mlp {
        w1: b.x.tr_mul(&da),
        b1: da.row_sum(),
        w2: h.tr_mul(&dz),
        b2: dz.row_sum(),
    };
    (r.map(|e| e * e).mean(), grads)
}

fn model() -> Mlp {
    Mlp {
        w1: DMatrix::from_fn(2, 8, |i, j| 0.7 * ((3 * i + 5 * j) as f64).sin()),
        b1: RowDVector::from_fn(8, |_, j| 0.1 * (j as f64).cos()),
        w2: DMatrix::from_fn(8, 1, |i, _| 0.5 * ((2 * i + 1) as f64).cos()),
        b2: RowDVector::zeros(1),
    }
}

/// y = x0 * x1 on a 6x6 grid of [-1, 1]^2 (a saddle: needs the hidden layer).
fn batch(shift: usize) -> Batch {
    let pts: Vec<(f64, f64)> = (0..36)
        .filter(|k| k % 2 == shift)
        .map(|k| (-1.0 + 0.4 * (k / 6) as f64, -1.0 + 0.4 * (k % 6) as f64))
        .collect();
    let x = DMatrix::from_fn(
        pts.len(),
        2,
        |i, j| if j == 0 { pts[i].0 } else { pts[i].1 },
    );
    let y = DMatrix::from_fn(pts.len(), 1, |i, _| pts[i].0 * pts[i].1);
    Batch { x, y }
}

#[test]
fn the_hand_written_gradient_passes_gradcheck() {
    let b = batch(0);
    gradcheck(
        |m| loss(m, &b),
        |m| loss_grad(m, &b).1,
        &model(),
        1e-6,
        1e-6,
    )
    .unwrap();
    // ... and one that is 10% off in `w1` does not, and the error points there.
    let wrong = |m: &Mlp| {
        let mut g = loss_grad(m, &b).1;
        g.w1 = g.w1.map(|v| v * 1.1);
        g
    };
    let err = gradcheck(|m| loss(m, &b), wrong, &model(), 1e-6, 1e-6).unwrap_err();
    assert!(
        err.to_string().starts_with("gradient mismatch at `w1`["),
        "{err}"
    );
}

#[test]
fn adam_with_clipping_fits_the_saddle() {
    let batches = [batch(0), batch(1)];
    let mut m = model();
    let initial = loss(&m, &batches[0]);
    let mut trainer = Trainer::new(Adam::new(0.02))
        .epochs(300)
        .clip_grad_norm(1.0)
        .progress(false);
    let history = trainer
        .fit_with_eval(&mut m, &batches, loss_grad, |m| Metrics {
            loss: Some(loss(m, &batch(1))),
            accuracy: None,
        })
        .unwrap();
    let last = history.last().unwrap();
    assert!(
        last.train_loss < 0.05 * initial,
        "{} vs {initial}",
        last.train_loss
    );
    let names: Vec<&str> = last.health.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["w1", "b1", "w2", "b2"]);
}

#[test]
fn a_nan_in_one_field_stops_training_with_that_field_named() {
    let batches = [batch(0)];
    let mut m = model();
    let poisoned = |m: &Mlp, b: &Batch| {
        let (l, mut g) = loss_grad(m, b);
        g.w2[(3, 0)] = f64::NAN;
        (l, g)
    };
    let err = Trainer::new(Sgd::new(0.1))
        .progress(false)
        .fit(&mut m, &batches, poisoned)
        .unwrap_err();
    let TrainError::NonFiniteGradient { at, report, .. } = &err else {
        panic!("unexpected {err:?}")
    };
    assert_eq!((at.parameter.as_str(), at.index), ("w2", 3));
    assert_eq!(report.first_non_finite().unwrap().name, "w2");
    assert_eq!(report.params[0].status, GradStatus::Healthy);
    assert_eq!(m, model());
}

#[test]
fn clipping_and_optimizers_accept_the_struct() {
    let (_, mut g) = loss_grad(&model(), &batch(0));
    let before = g.norm_squared().sqrt();
    let norm = clip_grad_norm(&mut g, before / 2.0).unwrap();
    assert_eq!(norm, before);
    assert!((g.norm_squared().sqrt() - before / 2.0).abs() < 1e-6);
    clip_grad_value(&mut g, 1e-3).unwrap();
    let mut max = 0.0_f64;
    g.visit(&mut |leaf| max = leaf.iter().fold(max, |m, v| m.max(v.abs())));
    assert!(max <= 1e-3);

    let mut m = model();
    let mut opt = AdamW::new(0.01);
    opt.step(&mut m, &g).unwrap();
    assert_ne!(m, model());
    let mut other = RmsProp::new(0.01).momentum(0.9);
    other.step(&mut m, &g).unwrap();
    assert_eq!(Optimizer::<Mlp>::steps_taken(&other), 1);
}
