//! A training loop for any gradient function: forward, loss, backward (the closure),
//! gradient health check, clipping, optimizer step, learning-rate schedule.
//!
//! The loop does not care where gradients come from: a `#[differentiable]` function's
//! `_grad`, the dynamic engine, or a hand-written gradient. It needs a closure
//! `FnMut(&P, &B) -> (loss, grads)` for one batch `B` and parameters `P: Tangent`.
//!
//! ```
//! use autodiff_runtime::optim::Sgd;
//! use autodiff_runtime::train::Trainer;
//!
//! // Fit y = 2x + 1 with parameters (w, b); a batch is a slice of (x, y) pairs.
//! let data: Vec<(f64, f64)> = (0..20).map(|i| (i as f64 / 10.0, 2.0 * i as f64 / 10.0 + 1.0)).collect();
//! let batches: Vec<&[(f64, f64)]> = data.chunks(5).collect();
//! let grad_fn = |p: &(f64, f64), batch: &&[(f64, f64)]| {
//!     let n = batch.len() as f64;
//!     let (mut loss, mut gw, mut gb) = (0.0, 0.0, 0.0);
//!     for &(x, y) in batch.iter() {
//!         let r = p.0 * x + p.1 - y;
//!         loss += r * r / n;
//!         gw += 2.0 * r * x / n;
//!         gb += 2.0 * r / n;
//!     }
//!     (loss, (gw, gb))
//! };
//! let mut params = (0.0, 0.0);
//! let mut trainer = Trainer::new(Sgd::new(0.2).momentum(0.5)).epochs(150).clip_grad_norm(10.0);
//! let history = trainer.fit(&mut params, &batches, grad_fn)?;
//! assert!((params.0 - 2.0).abs() < 1e-2 && (params.1 - 1.0).abs() < 1e-2);
//! assert!(history.last().unwrap().train_loss < 1e-4);
//! # Ok::<(), autodiff_runtime::train::TrainError>(())
//! ```

mod chart;
mod error;
mod health;
mod history;
mod plot;
mod progress;

pub use chart::LineChart;
pub use error::TrainError;
pub use health::{GradStatus, HealthReport, HealthThresholds, ParamHealth};
pub use history::{EpochRecord, History};
pub use plot::PlotError;

use crate::clip::{clip_grad_norm, clip_grad_value, total_norm};
use crate::optim::{LrScheduler, Optimizer};
use crate::tangent::{ElementLocation, Tangent};
use progress::Progress;

/// What an evaluation after each epoch reports (for example on a test set).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics {
    /// A loss to plot next to the training loss.
    pub loss: Option<f64>,
    /// An accuracy in `[0, 1]`, plotted in its own panel.
    pub accuracy: Option<f64>,
}

/// How gradients are clipped before each step.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Clip {
    Norm(f64),
    Value(f64),
}

/// The training loop. Build it with the optimizer, configure, then [`fit`](Trainer::fit).
///
/// Each batch: `(loss, grads) = grad_fn(&params, batch)`; a NaN or infinite gradient
/// stops the run with [`TrainError::NonFiniteGradient`] naming the parameter (and the
/// health report of that batch); a non-finite loss stops it too; the gradients are
/// clipped if configured, then the optimizer steps. After each epoch the schedule (if
/// any) steps, the evaluation closure (if any) runs, and an [`EpochRecord`] is added to
/// the [`History`]. A progress bar is drawn on stderr when it is a terminal.
pub struct Trainer<O> {
    optimizer: O,
    epochs: usize,
    clip: Option<Clip>,
    scheduler: Option<Box<dyn LrScheduler>>,
    progress: bool,
    thresholds: HealthThresholds,
}

impl<O> Trainer<O> {
    /// A trainer for one epoch, no clipping, no schedule, progress bar on.
    pub fn new(optimizer: O) -> Self {
        Trainer {
            optimizer,
            epochs: 1,
            clip: None,
            scheduler: None,
            progress: true,
            thresholds: HealthThresholds::default(),
        }
    }

    /// The number of passes over the batches.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Clip the total gradient norm to `max_norm` before each step ([`clip_grad_norm`]).
    pub fn clip_grad_norm(mut self, max_norm: f64) -> Self {
        self.clip = Some(Clip::Norm(max_norm));
        self
    }

    /// Clamp every gradient element to `[-clip_value, clip_value]` before each step.
    pub fn clip_grad_value(mut self, clip_value: f64) -> Self {
        self.clip = Some(Clip::Value(clip_value));
        self
    }

    /// A learning-rate schedule, stepped after every epoch.
    pub fn scheduler(mut self, scheduler: impl LrScheduler + 'static) -> Self {
        self.scheduler = Some(Box::new(scheduler));
        self
    }

    /// Show the progress bar (default true; it is hidden anyway when stderr is not a terminal).
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    /// Thresholds of the gradient-health flags.
    pub fn health_thresholds(mut self, thresholds: HealthThresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// The optimizer (for its learning rate or state).
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The optimizer, mutably.
    pub fn optimizer_mut(&mut self) -> &mut O {
        &mut self.optimizer
    }

    /// Trains `params` on `batches` for the configured epochs.
    pub fn fit<P, B, F>(
        &mut self,
        params: &mut P,
        batches: &[B],
        grad_fn: F,
    ) -> Result<History, TrainError>
    where
        P: Tangent,
        O: Optimizer<P>,
        F: FnMut(&P, &B) -> (f64, P),
    {
        self.fit_with_eval(params, batches, grad_fn, |_| Metrics::default())
    }

    /// Like [`fit`](Trainer::fit), and calls `eval(&params)` after every epoch; its
    /// [`Metrics`] go into the history and the plot.
    pub fn fit_with_eval<P, B, F, E>(
        &mut self,
        params: &mut P,
        batches: &[B],
        mut grad_fn: F,
        mut eval: E,
    ) -> Result<History, TrainError>
    where
        P: Tangent,
        O: Optimizer<P>,
        F: FnMut(&P, &B) -> (f64, P),
        E: FnMut(&P) -> Metrics,
    {
        if batches.is_empty() {
            return Err(TrainError::NoBatches);
        }
        let mut history = History::default();
        let progress = Progress::new((self.epochs * batches.len()) as u64, self.progress);
        for epoch in 1..=self.epochs {
            progress.epoch(epoch, self.epochs);
            let lr = self.optimizer.lr();
            let (mut loss_sum, mut norm_sum, mut clipped) = (0.0, 0.0, 0);
            let mut health = HealthReport::default();
            for (index, batch) in batches.iter().enumerate() {
                let (loss, mut grads) = grad_fn(params, batch);
                if let Some((i, value)) = grads.first_non_finite() {
                    let report = HealthReport::new(params, &grads, self.thresholds);
                    progress.finish();
                    return Err(TrainError::NonFiniteGradient {
                        epoch,
                        batch: index,
                        at: ElementLocation::of(&grads, i),
                        value,
                        report,
                    });
                }
                if !loss.is_finite() {
                    progress.finish();
                    return Err(TrainError::NonFiniteLoss {
                        epoch,
                        batch: index,
                        loss,
                    });
                }
                if index + 1 == batches.len() {
                    health = HealthReport::new(params, &grads, self.thresholds);
                }
                let norm = match self.clip {
                    Some(Clip::Norm(max_norm)) => {
                        let norm = clip_grad_norm(&mut grads, max_norm)?;
                        clipped += usize::from(max_norm / (norm + 1e-6) < 1.0);
                        norm
                    }
                    Some(Clip::Value(v)) => {
                        let norm = total_norm(&grads);
                        clip_grad_value(&mut grads, v)?;
                        norm
                    }
                    None => total_norm(&grads),
                };
                self.optimizer
                    .step(params, &grads)
                    .map_err(|source| TrainError::Optimizer {
                        epoch,
                        batch: index,
                        source,
                    })?;
                loss_sum += loss;
                norm_sum += norm;
                history.batch_losses.push(loss);
                progress.batch(loss_sum / (index + 1) as f64);
            }
            if let Some(scheduler) = &mut self.scheduler {
                scheduler.step(&mut self.optimizer);
            }
            let metrics = eval(params);
            let n = batches.len() as f64;
            let record = EpochRecord {
                epoch,
                train_loss: loss_sum / n,
                eval_loss: metrics.loss,
                eval_accuracy: metrics.accuracy,
                lr,
                mean_grad_norm: norm_sum / n,
                clipped_batches: clipped,
                health,
            };
            progress.println(&epoch_line(&record));
            history.epochs.push(record);
        }
        progress.finish();
        Ok(history)
    }
}

/// `epoch 3: train loss 0.1234, eval loss 0.2, accuracy 91.0%, lr 1e-3`.
fn epoch_line(r: &EpochRecord) -> String {
    let mut line = format!("epoch {}: train loss {:.4}", r.epoch, r.train_loss);
    if let Some(l) = r.eval_loss {
        line += &format!(", eval loss {l:.4}");
    }
    if let Some(a) = r.eval_accuracy {
        line += &format!(", accuracy {:.1}%", 100.0 * a);
    }
    line += &format!(", lr {:e}", r.lr);
    for p in r.health.flagged() {
        line += &format!(", {} {}", health::display_name(&p.name), p.status);
    }
    line
}
