//! The training loop end to end on a small logistic regression with hand-written gradients.

use autodiff_runtime::nalgebra::{DMatrix, DVector};
use autodiff_runtime::optim::{Adam, LearningRate, Sgd, StepLr};
use autodiff_runtime::train::{GradStatus, Metrics, TrainError, Trainer};

/// Weights and bias of `p(y = 1 | x) = sigmoid(x w + b)`.
type Params = (DVector<f64>, f64);

struct Batch {
    x: DMatrix<f64>,
    y: Vec<f64>,
}

/// Two separable clusters around (1, 1) and (-1, -1), spread deterministically.
fn data(n: usize, offset: usize) -> Batch {
    let mut x = DMatrix::zeros(n, 2);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let k = (i + offset) as f64;
        let label = (i % 2) as f64;
        let sign = if label == 1.0 { 1.0 } else { -1.0 };
        x[(i, 0)] = sign + 0.6 * (1.7 * k).sin();
        x[(i, 1)] = sign + 0.6 * (2.3 * k).cos();
        y.push(label);
    }
    Batch { x, y }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Mean binary cross-entropy and its gradient: dL/dz = (p - y) / n.
fn loss_grad(p: &Params, batch: &Batch) -> (f64, Params) {
    let n = batch.y.len() as f64;
    let z = &batch.x * &p.0 + DVector::from_element(batch.y.len(), p.1);
    let mut loss = 0.0;
    let mut dz = DVector::zeros(batch.y.len());
    for (i, &y) in batch.y.iter().enumerate() {
        let q = sigmoid(z[i]);
        loss -= (y * q.ln() + (1.0 - y) * (1.0 - q).ln()) / n;
        dz[i] = (q - y) / n;
    }
    (loss, (batch.x.tr_mul(&dz), dz.sum()))
}

fn accuracy(p: &Params, batch: &Batch) -> f64 {
    let z = &batch.x * &p.0;
    let correct = batch
        .y
        .iter()
        .enumerate()
        .filter(|(i, &y)| (sigmoid(z[*i] + p.1) > 0.5) == (y == 1.0))
        .count();
    correct as f64 / batch.y.len() as f64
}

fn batches() -> Vec<Batch> {
    (0..4).map(|k| data(16, 16 * k)).collect()
}

#[test]
fn training_reduces_the_loss_and_records_the_history() {
    let train = batches();
    let test = data(40, 1000);
    let mut params: Params = (DVector::from_row_slice(&[-0.5, 0.2]), 0.3);
    let opt = Sgd::new(0.5);
    let schedule = StepLr::new(&opt, 4, 0.5);
    let mut trainer = Trainer::new(opt)
        .epochs(10)
        .clip_grad_norm(5.0)
        .scheduler(schedule)
        .progress(false);
    let history = trainer
        .fit_with_eval(&mut params, &train, loss_grad, |p| Metrics {
            loss: Some(loss_grad(p, &test).0),
            accuracy: Some(accuracy(p, &test)),
        })
        .unwrap();

    assert_eq!(history.epochs.len(), 10);
    assert_eq!(history.batch_losses.len(), 40);
    let first = &history.epochs[0];
    let last = history.last().unwrap();
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "{} vs {}",
        last.train_loss,
        first.train_loss
    );
    assert_eq!(last.eval_accuracy, Some(1.0));
    // StepLr(4, 0.5): epochs 1-4 at 0.5, 5-8 at 0.25, 9-10 at 0.125.
    let lrs: Vec<f64> = history.epochs.iter().map(|e| e.lr).collect();
    assert_eq!(
        lrs,
        [0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125]
    );
    assert_eq!(trainer.optimizer().lr(), 0.125); // next decay after epoch 12
                                                 // The epoch mean is the mean of the batch losses.
    let mean: f64 = history.batch_losses[..4].iter().sum::<f64>() / 4.0;
    assert!((first.train_loss - mean).abs() < 1e-15);
    let names: Vec<&str> = last.health.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["0", "1"]);
    assert!(last.health.params.iter().all(|p| p.grad_norm > 0.0));
}

#[test]
fn clipping_by_norm_is_counted() {
    let train = batches();
    let mut params: Params = (DVector::from_row_slice(&[-0.5, 0.2]), 0.3);
    let mut trainer = Trainer::new(Adam::new(0.05))
        .epochs(2)
        .clip_grad_norm(1e-3)
        .progress(false);
    let history = trainer.fit(&mut params, &train, loss_grad).unwrap();
    assert!(history.epochs.iter().all(|e| e.clipped_batches == 4));
    assert!(history.epochs[0].mean_grad_norm > 1e-3);
}

#[test]
fn a_non_finite_gradient_stops_training_and_names_the_parameter() {
    let train = batches();
    let mut params: Params = (DVector::from_row_slice(&[-0.5, 0.2]), 0.3);
    let mut calls = 0;
    let mut saved = params.clone();
    let poisoned = |p: &Params, b: &Batch| {
        calls += 1;
        let (loss, mut g) = loss_grad(p, b);
        if calls == 6 {
            saved = p.clone();
            g.0[1] = f64::NAN;
        }
        (loss, g)
    };
    let mut trainer = Trainer::new(Sgd::new(0.1)).epochs(3).progress(false);
    let err = trainer.fit(&mut params, &train, poisoned).unwrap_err();
    let TrainError::NonFiniteGradient {
        epoch,
        batch,
        at,
        report,
        ..
    } = &err
    else {
        panic!("unexpected {err:?}")
    };
    assert_eq!((*epoch, *batch), (2, 1));
    assert_eq!((at.parameter.as_str(), at.index), ("0", 1));
    assert_eq!(report.params[0].status, GradStatus::NonFinite);
    assert_eq!(report.params[1].status, GradStatus::Healthy);
    assert!(
        err.to_string().starts_with(
            "the gradient of parameter `0`[1] (flat index 1) is NaN at epoch 2, batch 1"
        ),
        "{err}"
    );
    // Stopped before the step: the parameters are those the poisoned batch saw.
    assert_eq!(params, saved);
}

#[test]
fn a_non_finite_loss_and_empty_input_are_errors() {
    let train = batches();
    let mut params: Params = (DVector::zeros(2), 0.0);
    let mut trainer = Trainer::new(Sgd::new(0.1)).progress(false);
    let inf_loss = |p: &Params, b: &Batch| (f64::INFINITY, loss_grad(p, b).1);
    let err = trainer.fit(&mut params, &train, inf_loss).unwrap_err();
    assert_eq!(
        err,
        TrainError::NonFiniteLoss {
            epoch: 1,
            batch: 0,
            loss: f64::INFINITY
        }
    );
    let none: Vec<Batch> = Vec::new();
    assert_eq!(
        trainer.fit(&mut params, &none, loss_grad).unwrap_err(),
        TrainError::NoBatches
    );
}

#[test]
fn the_history_plots_to_svg_and_png() {
    let train = batches();
    let test = data(40, 1000);
    let mut params: Params = (DVector::from_row_slice(&[-0.5, 0.2]), 0.3);
    let mut trainer = Trainer::new(Adam::new(0.05)).epochs(5).progress(false);
    let history = trainer
        .fit_with_eval(&mut params, &train, loss_grad, |p| Metrics {
            loss: Some(loss_grad(p, &test).0),
            accuracy: Some(accuracy(p, &test)),
        })
        .unwrap();

    let svg = history.to_svg().unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..60.min(svg.len())]);
    for text in ["loss", "accuracy", "epoch", "train (epoch mean)", "eval"] {
        assert!(
            svg.contains(&format!(">{text}<")) || svg.contains(text),
            "missing {text}"
        );
    }
    let dir = std::env::temp_dir().join(format!("autodiff-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (svg_path, png_path) = (dir.join("loss.svg"), dir.join("loss.png"));
    history.save_svg(&svg_path).unwrap();
    history.save_png(&png_path).unwrap();
    assert_eq!(std::fs::read_to_string(&svg_path).unwrap(), svg);
    let png = std::fs::read(&png_path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 5_000,
        "suspiciously small PNG: {} bytes",
        png.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let empty = autodiff_runtime::train::History::default();
    assert!(empty
        .to_svg()
        .unwrap_err()
        .to_string()
        .contains("history is empty"));
}

/// An update that would overflow (a huge learning rate) is refused as a whole: the
/// optimizer returns an error and no parameter changes, so no inf or NaN is written.
#[test]
fn an_overflowing_update_is_refused_and_leaves_parameters_untouched() {
    use autodiff_runtime::optim::{Optimizer, Sgd};
    let mut params = vec![1.0f64, 2.0, 3.0];
    let before = params.clone();
    let grads = vec![1e300f64, 1.0, 1.0];
    let mut opt = Sgd::new(1e10);
    let err = opt.step(&mut params, &grads);
    assert!(
        err.is_err(),
        "an update to {:e} must be refused",
        1.0 - 1e10 * 1e300
    );
    assert_eq!(params, before);
}
