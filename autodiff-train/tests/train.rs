//! The training loop end to end on a small logistic regression with hand-written gradients.

use autodiff_optim::optim::{Adam, LearningRate, Sgd, StepLr};
use autodiff_runtime::nalgebra::{DMatrix, DVector};
use autodiff_runtime::tangent::Tangent;
use autodiff_train::train::{GradStatus, Metrics, TrainError, Trainer};

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
    // In the order of the slice: the 6th call is then epoch 2, batch 1.
    let mut trainer = Trainer::new(Sgd::new(0.1))
        .epochs(3)
        .shuffle(false)
        .progress(false);
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
    // In the order of the slice, so that the first batch is batch 0.
    let mut trainer = Trainer::new(Sgd::new(0.1)).shuffle(false).progress(false);
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

    let empty = autodiff_train::train::History::default();
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
    use autodiff_optim::optim::{Optimizer, Sgd};
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

/// A positive-data model `loss = -mean(log(w . x))` (the log-likelihood of a mixture
/// weight), with its gradient written out: `dL/dw = -mean(x / (w . x))`.
fn log_loss_grad(w: &DVector<f64>, batch: &DMatrix<f64>) -> (f64, DVector<f64>) {
    let n = batch.nrows() as f64;
    let (mut loss, mut grad) = (0.0, DVector::zeros(w.len()));
    for row in batch.row_iter() {
        let p = row.transpose().dot(w);
        loss -= p.ln() / n;
        grad -= row.transpose() / (p * n);
    }
    (loss, grad)
}

#[test]
fn a_zero_under_a_log_in_the_data_is_reported_as_a_non_finite_loss() {
    // The second row of batch 1 is all zeros: log(0) = -inf, so the loss is +inf and the
    // gradient 0 / 0 = NaN. The cause is the loss (the data), not the learning rate.
    let good = DMatrix::from_row_slice(2, 2, &[0.5, 0.5, 0.2, 0.8]);
    let bad = DMatrix::from_row_slice(2, 2, &[0.6, 0.4, 0.0, 0.0]);
    let batches = [good.clone(), bad, good];
    assert!(log_loss_grad(&DVector::from_element(2, 0.5), &batches[1])
        .1
        .iter()
        .any(|g| g.is_nan()));
    let mut w = DVector::from_element(2, 0.5);
    let err = Trainer::new(Sgd::new(0.01))
        .progress(false)
        .fit(&mut w, &batches, log_loss_grad)
        .unwrap_err();
    let TrainError::NonFiniteLoss { epoch, batch, loss } = err else {
        panic!("expected a non-finite loss, got {err:?}")
    };
    assert_eq!((epoch, batch, loss), (1, 1, f64::INFINITY));
    let message = err.to_string();
    assert!(
        message.starts_with("the loss is inf at epoch 1, batch 1, with finite parameters"),
        "{message}"
    );
    for advice in ["log of 0", "division by zero", "inputs for NaN or inf"] {
        assert!(message.contains(advice), "{message}");
    }
    assert!(!message.contains("lower the learning rate"), "{message}");
}

#[test]
fn a_nan_gradient_with_a_finite_loss_points_at_the_steps_and_the_backward() {
    // sqrt(w) at w = 0: the loss is 0, the derivative 1 / (2 sqrt(0)) = inf.
    let batches = [(), ()];
    let mut w = vec![1.0_f64, 0.0];
    let sqrt_grad = |w: &Vec<f64>, _: &()| {
        let loss: f64 = w.iter().map(|x| x.sqrt()).sum();
        (loss, w.iter().map(|x| 0.5 / x.sqrt()).collect::<Vec<f64>>())
    };
    let err = Trainer::new(Sgd::new(0.1))
        .progress(false)
        .fit(&mut w, &batches, sqrt_grad)
        .unwrap_err();
    let TrainError::NonFiniteGradient {
        at, value, loss, ..
    } = &err
    else {
        panic!("expected a non-finite gradient, got {err:?}")
    };
    assert_eq!((at.index, *value, *loss), (1, f64::INFINITY, 1.0));
    let message = err.to_string();
    assert!(message.contains("with a finite loss 1;"), "{message}");
    for advice in ["lower the learning rate", "clip the gradients", "sqrt"] {
        assert!(message.contains(advice), "{message}");
    }
    assert_eq!(w, [1.0, 0.0], "stopped before the step");
}

#[test]
fn non_finite_parameters_are_named_as_the_cause() {
    let train = batches();
    let mut params: Params = (DVector::from_row_slice(&[f64::NAN, 0.2]), 0.3);
    let err = Trainer::new(Sgd::new(0.1))
        .progress(false)
        .fit(&mut params, &train, loss_grad)
        .unwrap_err();
    let TrainError::NonFiniteParameter { epoch, at, .. } = &err else {
        panic!("expected a non-finite parameter, got {err:?}")
    };
    assert_eq!((*epoch, at.parameter.as_str(), at.index), (1, "0", 0));
    let message = err.to_string();
    assert!(message.starts_with("parameter `0`[0]"), "{message}");
    assert!(message.contains("check their initialisation"), "{message}");

    // With finite parameters, a NaN loss with a NaN gradient is a loss error: the cause
    // comes before its consequence.
    let mut params: Params = (DVector::from_row_slice(&[-0.5, 0.2]), 0.3);
    let cell = std::cell::Cell::new(0);
    let err = Trainer::new(Sgd::new(0.1))
        .epochs(2)
        .progress(false)
        .fit_in(
            &mut params.clone(),
            &mut params,
            &train,
            |scratch: &mut Params, p: &Params, b: &Batch| {
                cell.set(cell.get() + 1);
                *scratch = loss_grad(p, b).1;
                if cell.get() == 3 {
                    scratch.0[0] = f64::NAN;
                }
                (f64::NAN, &*scratch)
            },
        )
        .unwrap_err();
    assert!(matches!(err, TrainError::NonFiniteLoss { .. }), "{err:?}");
}

/// The indices of the batches in the order `fit` visited them.
fn visiting_order(trainer: &mut Trainer<Sgd>, epochs_of: usize) -> Vec<usize> {
    let ids: Vec<usize> = (0..8).collect();
    let mut seen = Vec::new();
    let mut w = 0.0_f64;
    trainer
        .fit(&mut w, &ids, |_, &id| {
            seen.push(id);
            (0.0, 0.0)
        })
        .unwrap();
    assert_eq!(seen.len(), 8 * epochs_of);
    seen
}

#[test]
fn batches_are_reshuffled_every_epoch_from_the_seed() {
    let order = |seed| {
        visiting_order(
            &mut Trainer::new(Sgd::new(0.1))
                .epochs(3)
                .seed(seed)
                .progress(false),
            3,
        )
    };
    let a = order(1);
    assert_eq!(a, order(1), "the same seed, the same order");
    assert_ne!(a, order(2), "another seed, another order");
    let epochs: Vec<&[usize]> = a.chunks(8).collect();
    for e in &epochs {
        let mut sorted = e.to_vec();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..8).collect::<Vec<_>>(),
            "every batch once per epoch"
        );
    }
    assert!(
        epochs[0] != epochs[1] && epochs[1] != epochs[2],
        "{epochs:?}"
    );

    let mut fixed = Trainer::new(Sgd::new(0.1))
        .epochs(2)
        .shuffle(false)
        .progress(false);
    let expected: Vec<usize> = (0..8).chain(0..8).collect();
    assert_eq!(
        visiting_order(&mut fixed, 2),
        expected,
        "shuffle(false): the slice's order"
    );
}

#[test]
fn the_same_seed_gives_the_same_trajectory_and_fits_continue_one_another() {
    let train = batches();
    let run = |seed: u64, split: bool| {
        let mut params: Params = (DVector::from_row_slice(&[-0.5, 0.2]), 0.3);
        let opt = Adam::new(0.05);
        let schedule = StepLr::new(&opt, 3, 0.5);
        let mut trainer = Trainer::new(opt)
            .seed(seed)
            .clip_grad_norm(2.0)
            .scheduler(schedule)
            .progress(false);
        let mut losses = Vec::new();
        if split {
            trainer = trainer.epochs(4);
            for _ in 0..2 {
                losses.extend(
                    trainer
                        .fit(&mut params, &train, loss_grad)
                        .unwrap()
                        .batch_losses,
                );
            }
        } else {
            trainer = trainer.epochs(8);
            let history = trainer.fit(&mut params, &train, loss_grad).unwrap();
            assert_eq!(history.epochs.last().unwrap().epoch, 8);
            losses = history.batch_losses;
        }
        assert_eq!(trainer.epochs_done(), 8);
        (params, losses)
    };
    let (p, losses) = run(5, false);
    let (q, again) = run(5, false);
    assert_eq!((&p, &losses), (&q, &again), "bit for bit");
    let (r, split) = run(5, true);
    assert_eq!(
        (&p, &losses),
        (&r, &split),
        "two fits of 4 epochs are one of 8"
    );
    let (other, _) = run(6, false);
    assert_ne!(p, other, "another seed, another trajectory");
}

#[test]
fn fit_in_reads_the_gradient_where_it_lives_and_matches_fit() {
    let train = batches();
    for clip in [None, Some(0.05)] {
        let trainer = || {
            let t = Trainer::new(Adam::new(0.05)).epochs(6).progress(false);
            match clip {
                Some(c) => t.clip_grad_norm(c),
                None => t,
            }
        };
        let start: Params = (DVector::from_row_slice(&[-0.5, 0.2]), 0.3);
        let mut owned = start.clone();
        let expected = trainer().fit(&mut owned, &train, loss_grad).unwrap();

        let mut borrowed = start.clone();
        let mut grad = start.zero_like();
        let history = trainer()
            .fit_in(
                &mut grad,
                &mut borrowed,
                &train,
                |g: &mut Params, p: &Params, b: &Batch| {
                    let (loss, fresh) = loss_grad(p, b);
                    *g = fresh;
                    (loss, &*g)
                },
            )
            .unwrap();
        assert_eq!(borrowed, owned, "clip {clip:?}");
        assert_eq!(history, expected, "clip {clip:?}");
        if clip.is_some() {
            assert!(history.epochs.iter().all(|e| e.clipped_batches == 4));
            // The caller's gradient is not clipped: the trainer clipped its own copy.
            assert!(grad.norm_squared().sqrt() > 0.05);
        }
    }
}
