//! A training loop for any gradient function: forward, loss, backward (the closure),
//! gradient health check, clipping, optimizer step, learning-rate schedule, with batches
//! reshuffled every epoch, a progress bar and a [`History`].
//!
//! The loop does not care where gradients come from: a `#[differentiable]` function's
//! `name_grad` or `name_grad_with`, the dynamic engine, or a hand-written gradient. It
//! takes one closure per batch `B` for parameters `P: Tangent`, in one of two forms:
//!
//! | entry | closure | the gradient |
//! | --- | --- | --- |
//! | [`Trainer::fit`], [`Trainer::fit_with_eval`] | `FnMut(&P, &B) -> (loss, P)` | a new value per batch (`name_grad`) |
//! | [`Trainer::fit_in`], [`Trainer::fit_in_with_eval`] | `FnMut(&mut S, &P, &B) -> (loss, &P)` | lives in `S`, a buffer the caller owns: a `Workspace` with `name_grad_with`, or a gradient of its own; not cloned |
//!
//! The loss is `f32` or `f64` (any `Into<f64>`). With `#[differentiable]` and a
//! `Workspace`, the zero-copy form reads
//!
//! ```text
//! let mut ws = Workspace::new();
//! trainer.fit_in(&mut ws, &mut model, &batches, |ws, m, (x, labels)| {
//!     let (loss, g) = mlp_loss_grad_with(ws, m, x, labels);
//!     (loss, &g.m)
//! })?;
//! ```
//!
//! and, from the second epoch on, calls the allocator only where `mlp_loss_grad_with`
//! does (for an MLP like this one, never; an epoch's end keeps its [`HealthReport`]).
//!
//! The batches are visited in a new order every epoch, drawn from [`Trainer::seed`]
//! (like `DataLoader(shuffle=True)`; [`Trainer::shuffle`]`(false)` keeps the slice's
//! order). A run can be stopped and resumed bit for bit: save the parameters, the
//! optimizer and the schedule with `io::save`, `io::save_optimizer` and
//! `io::save_scheduler`, load them into new objects built with the same settings, and
//! pass the epochs done to [`Trainer::initial_epoch`] (`tests/train_resume.rs`).
//!
//! On a terminal a progress bar is drawn on stderr; lines printed with [`println()`] (or
//! inside [`suspend`]) from the closures appear above it, as the epoch lines do, and the
//! bar is replaced by one summary line when the run ends.
//!
//! ```
//! use autodiff_optim::optim::Sgd;
//! use autodiff_train::train::Trainer;
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
//!
//! // The same fit with the gradient in a buffer the caller owns: nothing is allocated
//! // per batch. The trainer continues where the first fit stopped (epoch 151).
//! let mut grad = (0.0, 0.0);
//! let mut trainer = trainer.epochs(10);
//! let history = trainer.fit_in(&mut grad, &mut params, &batches, |g, p, batch| {
//!     let (loss, fresh) = grad_fn(p, batch);
//!     *g = fresh;
//!     (loss, &*g)
//! })?;
//! assert_eq!(history.epochs[0].epoch, 151);
//! # Ok::<(), autodiff_train::train::TrainError>(())
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

pub use progress::{println, suspend};

use crate::data::Rng;
use autodiff_optim::clip::{clip_grad_norm, clip_grad_value, total_norm};
use autodiff_optim::optim::{LrScheduler, Optimizer};
use autodiff_runtime::tangent::{ElementLocation, Tangent};
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

/// The seed of the batch order when none is given with [`Trainer::seed`].
pub const DEFAULT_SEED: u64 = 0;

/// The training loop. Build it with the optimizer, configure, then [`fit`](Trainer::fit)
/// (the closure returns an owned gradient) or [`fit_in`](Trainer::fit_in) (the closure
/// returns a reference to a gradient that lives in a [`Workspace`](autodiff_runtime::Workspace) or
/// another buffer of the caller's).
///
/// Each epoch visits every batch once, in an order drawn from the seeded generator
/// ([`shuffle`](Trainer::shuffle), on by default). Each batch: `(loss, grads) =
/// grad_fn(&params, batch)`; a non-finite parameter, loss or gradient stops the run with
/// [`TrainError::NonFiniteParameter`], [`TrainError::NonFiniteLoss`] or
/// [`TrainError::NonFiniteGradient`] (checked in that order, so that the error names the
/// cause and not its consequence); the gradients are clipped if configured, then the
/// optimizer steps. After each epoch the schedule (if any) steps, the evaluation closure
/// (if any) runs, and an [`EpochRecord`] is added to the [`History`]. A progress bar is
/// drawn on stderr when it is a terminal; print from the closures with [`println()`] or
/// [`suspend`] to keep lines above it.
///
/// The trainer counts the epochs it has run ([`epochs_done`](Trainer::epochs_done)): a
/// second `fit` continues the numbering, the schedule and the shuffle order where the first
/// stopped, so two `fit`s of 5 epochs give the run of one `fit` of 10.
pub struct Trainer<O> {
    optimizer: O,
    epochs: usize,
    clip: Option<Clip>,
    scheduler: Option<Box<dyn LrScheduler>>,
    progress: bool,
    thresholds: HealthThresholds,
    shuffle: bool,
    seed: u64,
    epochs_done: usize,
}

impl<O> Trainer<O> {
    /// A trainer for one epoch, no clipping, no schedule, batches shuffled with seed
    /// [`DEFAULT_SEED`], progress bar on.
    pub fn new(optimizer: O) -> Self {
        Trainer {
            optimizer,
            epochs: 1,
            clip: None,
            scheduler: None,
            progress: true,
            thresholds: HealthThresholds::default(),
            shuffle: true,
            seed: DEFAULT_SEED,
            epochs_done: 0,
        }
    }

    /// The number of passes over the batches that each `fit` runs.
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

    /// Visit the batches in a new random order every epoch (default true, like
    /// `DataLoader(shuffle=True)`); `false` visits them in the order of the slice.
    ///
    /// The order of epoch `e` is a function of the [`seed`](Trainer::seed) and `e` alone
    /// (a Fisher-Yates shuffle of `0..n` by [`crate::data::Rng`] seeded from both),
    /// so the same seed gives the same run, and a run resumed at epoch `e` (see
    /// [`initial_epoch`](Trainer::initial_epoch)) visits the batches as the
    /// uninterrupted run would.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// The seed of the batch order (default [`DEFAULT_SEED`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The number of epochs already run, when resuming a saved run (Keras' `initial_epoch`):
    /// the next epoch is `epochs + 1`, for the numbering of the history and of errors and
    /// for the shuffle order. The optimizer and the schedule carry their own state (load it
    /// with `io::load_optimizer` and `io::load_scheduler`).
    pub fn initial_epoch(mut self, epochs: usize) -> Self {
        self.epochs_done = epochs;
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

    /// The learning-rate schedule, if one was given (to save it with `io::save_scheduler`).
    pub fn lr_scheduler(&self) -> Option<&dyn LrScheduler> {
        self.scheduler.as_deref()
    }

    /// The learning-rate schedule, mutably (to load a saved state into it).
    pub fn lr_scheduler_mut(&mut self) -> Option<&mut (dyn LrScheduler + 'static)> {
        self.scheduler.as_deref_mut()
    }

    /// The epochs finished so far: [`initial_epoch`](Trainer::initial_epoch) plus those of
    /// every `fit` (an epoch stopped by an error does not count).
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// Trains `params` on `batches` for the configured epochs; `grad_fn(&params, batch)`
    /// returns the loss (`f32` or `f64`) and a new gradient.
    ///
    /// With `#[differentiable]`: `|m, (x, y)| { let (loss, g) = loss_grad(m, x, y); (loss,
    /// g.m) }`. To reuse the gradient's buffers from step to step, use
    /// [`fit_in`](Trainer::fit_in) with `loss_grad_with` and a `Workspace`.
    pub fn fit<P, B, L, F>(
        &mut self,
        params: &mut P,
        batches: &[B],
        grad_fn: F,
    ) -> Result<History, TrainError>
    where
        P: Tangent,
        O: Optimizer<P>,
        L: Into<f64>,
        F: FnMut(&P, &B) -> (L, P),
    {
        self.fit_with_eval(params, batches, grad_fn, |_| Metrics::default())
    }

    /// Like [`fit`](Trainer::fit), and calls `eval(&params)` after every epoch; its
    /// [`Metrics`] go into the history and the plot.
    pub fn fit_with_eval<P, B, L, F, E>(
        &mut self,
        params: &mut P,
        batches: &[B],
        mut grad_fn: F,
        eval: E,
    ) -> Result<History, TrainError>
    where
        P: Tangent,
        O: Optimizer<P>,
        L: Into<f64>,
        F: FnMut(&P, &B) -> (L, P),
        E: FnMut(&P) -> Metrics,
    {
        let mut last: Option<P> = None;
        self.run(
            &mut last,
            params,
            batches,
            |last: &mut Option<P>, p: &P, b: &B| {
                let (loss, grads) = grad_fn(p, b);
                (loss, Grads::Owned(last.insert(grads)))
            },
            eval,
        )
    }

    /// Trains `params` on `batches` with gradients that live in `state`, a buffer the
    /// caller owns (a [`Workspace`](autodiff_runtime::Workspace), or a gradient of its own):
    /// `grad_fn(&mut state, &params, batch)` returns the loss (`f32` or `f64`) and a
    /// reference into `state`. Nothing is cloned: the optimizer reads the gradient where
    /// it lives. With clipping configured, the trainer copies it into one buffer of its
    /// own (made on the first batch, reused after) and clips that, since the reference
    /// is shared.
    ///
    /// With `#[differentiable]` and a `Workspace`, a training step from the second one on
    /// calls the allocator only where `name_grad_with` does (see `docs/workspace.md`): the
    /// loop itself allocates nothing per batch (`tests/trainer_allocations.rs`).
    ///
    /// ```
    /// use autodiff_optim::optim::Adam;
    /// use autodiff_train::train::Trainer;
    ///
    /// // Least squares for y = 2x - 1 with a gradient buffer the caller owns.
    /// let data: Vec<(f32, f32)> = (0..32).map(|i| (i as f32 / 16.0, i as f32 / 8.0 - 1.0)).collect();
    /// let batches: Vec<&[(f32, f32)]> = data.chunks(8).collect();
    /// let mut grad = [0.0_f32; 2];
    /// let mut params = [0.0_f32; 2];
    /// let mut trainer = Trainer::new(Adam::new(0.1)).epochs(200).progress(false);
    /// let history = trainer.fit_in(&mut grad, &mut params, &batches, |g, p, batch| {
    ///     let n = batch.len() as f32;
    ///     *g = [0.0; 2];
    ///     let mut loss = 0.0_f32; // an f32 loss: no cast
    ///     for &(x, y) in batch.iter() {
    ///         let r = p[0] * x + p[1] - y;
    ///         loss += r * r / n;
    ///         g[0] += 2.0 * r * x / n;
    ///         g[1] += 2.0 * r / n;
    ///     }
    ///     (loss, &*g)
    /// })?;
    /// assert!((params[0] - 2.0).abs() < 1e-2 && (params[1] + 1.0).abs() < 1e-2);
    /// assert!(history.last().unwrap().train_loss < 1e-4);
    /// # Ok::<(), autodiff_train::train::TrainError>(())
    /// ```
    pub fn fit_in<S, P, B, L, F>(
        &mut self,
        state: &mut S,
        params: &mut P,
        batches: &[B],
        grad_fn: F,
    ) -> Result<History, TrainError>
    where
        S: ?Sized,
        P: Tangent,
        O: Optimizer<P>,
        L: Into<f64>,
        F: for<'s> FnMut(&'s mut S, &P, &B) -> (L, &'s P),
    {
        self.fit_in_with_eval(state, params, batches, grad_fn, |_| Metrics::default())
    }

    /// Like [`fit_in`](Trainer::fit_in), and calls `eval(&params)` after every epoch; its
    /// [`Metrics`] go into the history and the plot.
    pub fn fit_in_with_eval<S, P, B, L, F, E>(
        &mut self,
        state: &mut S,
        params: &mut P,
        batches: &[B],
        mut grad_fn: F,
        eval: E,
    ) -> Result<History, TrainError>
    where
        S: ?Sized,
        P: Tangent,
        O: Optimizer<P>,
        L: Into<f64>,
        F: for<'s> FnMut(&'s mut S, &P, &B) -> (L, &'s P),
        E: FnMut(&P) -> Metrics,
    {
        self.run(
            state,
            params,
            batches,
            |s: &mut S, p: &P, b: &B| {
                let (loss, grads) = grad_fn(s, p, b);
                (loss, Grads::Shared(grads))
            },
            eval,
        )
    }

    /// The loop behind every `fit`.
    fn run<S, P, B, L, F, E>(
        &mut self,
        state: &mut S,
        params: &mut P,
        batches: &[B],
        mut grad_fn: F,
        mut eval: E,
    ) -> Result<History, TrainError>
    where
        S: ?Sized,
        P: Tangent,
        O: Optimizer<P>,
        L: Into<f64>,
        F: for<'s> FnMut(&'s mut S, &P, &B) -> (L, Grads<'s, P>),
        E: FnMut(&P) -> Metrics,
    {
        if batches.is_empty() {
            return Err(TrainError::NoBatches);
        }
        let n = batches.len();
        // Everything a run keeps growing is sized up front, so that the steady state does
        // not call the allocator.
        let mut history = History::default();
        history.epochs.reserve_exact(self.epochs);
        history.batch_losses.reserve_exact(self.epochs * n);
        let mut order: Vec<usize> = (0..n).collect();
        let mut clip_buffer: Option<P> = None;
        let first = self.epochs_done + 1;
        let last = self.epochs_done + self.epochs;
        let mut progress = Progress::new((self.epochs * n) as u64, self.progress);
        for epoch in first..=last {
            progress.epoch(epoch, last);
            if self.shuffle {
                batch_order(&mut order, self.seed, epoch);
            }
            if epoch == first {
                if let Some((i, value)) = params.first_non_finite() {
                    let at = ElementLocation::of(params, i);
                    let batch = order[0];
                    return Err(TrainError::NonFiniteParameter {
                        epoch,
                        batch,
                        at,
                        value,
                    });
                }
            }
            let lr = self.optimizer.lr();
            let (mut loss_sum, mut norm_sum, mut clipped) = (0.0, 0.0, 0);
            let mut health = HealthReport::default();
            for (position, &batch) in order.iter().enumerate() {
                let (loss, grads) = grad_fn(state, params, &batches[batch]);
                let loss: f64 = loss.into();
                let check = check_batch(params, loss, grads.get(), self.thresholds);
                if let Err(cause) = check {
                    return Err(cause.at(epoch, batch));
                }
                if position + 1 == n {
                    health = HealthReport::new(params, grads.get(), self.thresholds);
                }
                let (grads, norm) = match self.clip {
                    None => {
                        let grads = grads.get();
                        (grads, total_norm(grads))
                    }
                    Some(clip) => {
                        let grads = grads.into_mut(&mut clip_buffer);
                        let norm = match clip {
                            Clip::Norm(max_norm) => {
                                let norm = clip_grad_norm(grads, max_norm)?;
                                clipped += usize::from(max_norm / (norm + 1e-6) < 1.0);
                                norm
                            }
                            Clip::Value(v) => {
                                let norm = total_norm(grads);
                                clip_grad_value(grads, v)?;
                                norm
                            }
                        };
                        (&*grads, norm)
                    }
                };
                self.optimizer
                    .step(params, grads)
                    .map_err(|source| TrainError::Optimizer {
                        epoch,
                        batch,
                        source,
                    })?;
                loss_sum += loss;
                norm_sum += norm;
                history.batch_losses.push(loss);
                progress.batch(loss_sum / (position + 1) as f64, position + 1 == n);
            }
            if let Some(scheduler) = &mut self.scheduler {
                scheduler.step(&mut self.optimizer);
            }
            self.epochs_done = epoch;
            let metrics = eval(params);
            let record = EpochRecord {
                epoch,
                train_loss: loss_sum / n as f64,
                eval_loss: metrics.loss,
                eval_accuracy: metrics.accuracy,
                lr,
                mean_grad_norm: norm_sum / n as f64,
                clipped_batches: clipped,
                health,
            };
            progress.println(|| epoch_line(&record));
            history.epochs.push(record);
        }
        progress.finish(|elapsed| final_line(&history, elapsed));
        Ok(history)
    }
}

/// A batch's gradient as the closure gave it: in a buffer the trainer owns (the owned
/// `fit`), or borrowed from the caller's state (`fit_in`).
enum Grads<'s, P> {
    Owned(&'s mut P),
    Shared(&'s P),
}

impl<'s, P: Tangent> Grads<'s, P> {
    fn get(&self) -> &P {
        match self {
            Grads::Owned(g) => g,
            Grads::Shared(g) => g,
        }
    }

    /// The gradient, mutably: in place when owned, else copied into `buffer` (made on
    /// the first call, reused after).
    fn into_mut<'b>(self, buffer: &'b mut Option<P>) -> &'b mut P
    where
        's: 'b,
    {
        match self {
            Grads::Owned(g) => g,
            Grads::Shared(g) => {
                let reusable = buffer
                    .as_ref()
                    .is_some_and(|b| b.check_structure(g).is_ok());
                if !reusable {
                    *buffer = Some(g.zero_like());
                }
                let copy = buffer.as_mut().expect("the buffer was just made");
                copy.visit_zip_mut(g, &mut |dst, src| dst.copy_from_slice(src));
                copy
            }
        }
    }
}

/// What is wrong with a batch, before the epoch and batch index are known.
enum BatchFault {
    Parameter(ElementLocation, f64),
    Loss(f64),
    Gradient(ElementLocation, f64, f64, HealthReport),
}

impl BatchFault {
    fn at(self, epoch: usize, batch: usize) -> TrainError {
        match self {
            BatchFault::Parameter(at, value) => TrainError::NonFiniteParameter {
                epoch,
                batch,
                at,
                value,
            },
            BatchFault::Loss(loss) => TrainError::NonFiniteLoss { epoch, batch, loss },
            BatchFault::Gradient(at, value, loss, report) => TrainError::NonFiniteGradient {
                epoch,
                batch,
                at,
                value,
                loss,
                report,
            },
        }
    }
}

/// The checks of one batch, cause before consequence: the parameters (only when the loss
/// or the gradient is bad: the optimizer keeps them finite), the loss, the gradient.
fn check_batch<P: Tangent>(
    params: &P,
    loss: f64,
    grads: &P,
    thresholds: HealthThresholds,
) -> Result<(), BatchFault> {
    let bad_grad = grads.first_non_finite();
    if loss.is_finite() && bad_grad.is_none() {
        return Ok(());
    }
    if let Some((i, value)) = params.first_non_finite() {
        return Err(BatchFault::Parameter(ElementLocation::of(params, i), value));
    }
    if !loss.is_finite() {
        return Err(BatchFault::Loss(loss));
    }
    let (i, value) = bad_grad.expect("the gradient is the remaining fault");
    let report = HealthReport::new(params, grads, thresholds);
    Err(BatchFault::Gradient(
        ElementLocation::of(grads, i),
        value,
        loss,
        report,
    ))
}

/// Writes the visiting order of `epoch` into `order`: `0..n` shuffled by a generator
/// seeded from `seed` and `epoch` only, so any epoch's order can be made again alone.
fn batch_order(order: &mut [usize], seed: u64, epoch: usize) {
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    // An odd multiplier keeps the epochs' inputs distinct, and one SplitMix64 output
    // (a bijective mix) spreads them over the generator's states.
    let mixed = seed ^ (epoch as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    let epoch_seed = Rng::new(mixed).next_u64();
    Rng::new(epoch_seed).shuffle(order);
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

/// The line left in place of the bar: `trained 60 epochs (240 batches) in 3s, final train loss 0.0521`.
fn final_line(history: &History, elapsed: std::time::Duration) -> String {
    let epochs = history.epochs.len();
    let mut line = format!(
        "trained {epochs} epoch{} ({} batches) in {}",
        if epochs == 1 { "" } else { "s" },
        history.batch_losses.len(),
        progress::duration_text(elapsed)
    );
    if let Some(last) = history.last() {
        line += &format!(", final train loss {:.4}", last.train_loss);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_epoch_has_its_own_order_fixed_by_the_seed() {
        let mut a = vec![0; 10];
        let mut b = vec![0; 10];
        batch_order(&mut a, 7, 3);
        batch_order(&mut b, 7, 3);
        assert_eq!(a, b, "the same seed and epoch give the same order");
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>(), "a permutation");
        batch_order(&mut b, 7, 4);
        assert_ne!(a, b, "the next epoch has another order");
        batch_order(&mut b, 8, 3);
        assert_ne!(a, b, "another seed has another order");
        // Whatever the slice held before.
        let mut c = vec![9; 10];
        batch_order(&mut c, 7, 3);
        assert_eq!(a, c);
    }

    #[test]
    fn the_final_line_sums_up_the_run() {
        let mut history = History {
            batch_losses: vec![1.0; 8],
            ..History::default()
        };
        history.epochs.push(EpochRecord {
            epoch: 1,
            train_loss: 0.25,
            eval_loss: None,
            eval_accuracy: None,
            lr: 0.1,
            mean_grad_norm: 1.0,
            clipped_batches: 0,
            health: HealthReport::default(),
        });
        assert_eq!(
            final_line(&history, std::time::Duration::from_secs(3)),
            "trained 1 epoch (8 batches) in 3s, final train loss 0.2500"
        );
        assert_eq!(
            epoch_line(&history.epochs[0]),
            "epoch 1: train loss 0.2500, lr 1e-1"
        );
    }
}
