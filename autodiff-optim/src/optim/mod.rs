//! Optimizers with PyTorch's update rules and defaults, and learning-rate schedules.
//!
//! | optimizer | torch | state per element |
//! | --- | --- | --- |
//! | [`Sgd`] | `torch.optim.SGD` (momentum, dampening, Nesterov, weight decay) | momentum buffer |
//! | [`Adam`] | `torch.optim.Adam` (amsgrad, L2 weight decay) | `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` |
//! | [`AdamW`] | `torch.optim.AdamW` (decoupled weight decay, 0.01 by default) | as Adam |
//! | [`RmsProp`] | `torch.optim.RMSprop` (momentum, centered) | `square_avg`, `grad_avg`, momentum buffer |
//!
//! The state (step count, learning rate, buffers) can be taken out and put back
//! ([`OptimizerState`]) and saved to a file (`io::save_optimizer`, `io::load_optimizer`)
//! to resume a run exactly.
//!
//! Constructors take the learning rate; builder methods are named after torch's
//! arguments and everything else starts at torch's default. With the same settings, the
//! trajectories equal `torch.optim`'s in `f64` (the tests compare 10 steps with numbers
//! produced by torch itself).
//!
//! ```
//! use autodiff_runtime::nalgebra::DVector;
//! use autodiff_optim::optim::{Adam, Optimizer};
//!
//! // minimise |x - 3|^2
//! let mut x = DVector::from_element(2, 0.0_f64);
//! let mut opt = Adam::new(0.1);
//! for _ in 0..500 {
//!     let grad = (&x - DVector::from_element(2, 3.0)) * 2.0;
//!     opt.step(&mut x, &grad)?;
//! }
//! assert!((x[0] - 3.0).abs() < 1e-3);
//! # Ok::<(), autodiff_optim::optim::OptimError>(())
//! ```
//!
//! # Never a silent NaN
//!
//! [`Optimizer::step`] returns a `Result`. Before it changes anything it checks that the
//! gradients have the parameters' structure, that the state (created lazily on the first
//! step, one flat buffer per kind of state) still fits, and that every gradient and
//! parameter is finite. It then computes the new parameters and state into scratch
//! buffers and commits them only if all of them are finite. On any error the parameters
//! and the state are exactly as before the call, and the error names the parameter and
//! element at fault ([`OptimError`]). (PyTorch would write the NaN and carry on.)
//!
//! State is kept and updates are computed in `f64` whatever the parameters' scalar
//! type; an `f32` parameter is rounded once per step.
//!
//! # Learning-rate schedules
//!
//! [`StepLr`], [`ExponentialLr`] and [`CosineAnnealingLr`] follow torch's
//! `lr_scheduler` classes: create one from the optimizer, call
//! [`LrScheduler::step`] once per epoch after the optimizer steps.

mod adam;
mod adamw;
mod error;
mod rmsprop;
mod saved_state;
mod schedule;
mod sgd;
mod state;

pub use adam::Adam;
pub use adamw::AdamW;
pub use error::OptimError;
pub use rmsprop::RmsProp;
pub use saved_state::{OptimizerState, SavedState};
pub use schedule::{CosineAnnealingLr, ExponentialLr, LrScheduler, ScheduleState, StepLr};
pub use sgd::Sgd;

use autodiff_runtime::tangent::Tangent;

/// Anything with a learning rate that a schedule can change.
pub trait LearningRate {
    /// The current learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate used by the next steps.
    fn set_lr(&mut self, lr: f64);
}

/// A first-order optimizer for parameters of type `P`.
///
/// The state (momentum and moment estimates) is created on the first
/// [`step`](Optimizer::step) with the structure of the parameters; use one optimizer per
/// model, or [`reset`](Optimizer::reset) it.
pub trait Optimizer<P: Tangent>: LearningRate {
    /// Updates `params` in place from `grads` (gradients of the loss, same structure).
    ///
    /// On `Err` nothing was changed; see the [module docs](self) for what is checked.
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), OptimError>;

    /// The number of successful steps since creation or the last [`reset`](Optimizer::reset).
    fn steps_taken(&self) -> u64;

    /// Drops the state, as if the optimizer were new (the learning rate is kept).
    fn reset(&mut self);
}

impl<L: LearningRate + ?Sized> LearningRate for Box<L> {
    fn lr(&self) -> f64 {
        (**self).lr()
    }
    fn set_lr(&mut self, lr: f64) {
        (**self).set_lr(lr)
    }
}

/// A boxed optimizer is an optimizer, so one chosen at run time
/// (`Box<dyn Optimizer<P>>`) works wherever a concrete one does, the training loop included.
impl<P: Tangent, O: Optimizer<P> + ?Sized> Optimizer<P> for Box<O> {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), OptimError> {
        (**self).step(params, grads)
    }
    fn steps_taken(&self) -> u64 {
        (**self).steps_taken()
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}

/// `torch.lerp(start, end, weight)` as ATen computes it on the CPU.
#[inline(always)]
pub(crate) fn lerp(start: f64, end: f64, weight: f64) -> f64 {
    if weight.abs() < 0.5 {
        start + weight * (end - start)
    } else {
        end - (end - start) * (1.0 - weight)
    }
}

/// Checks a hyperparameter against a predicate, with torch's wording of the range.
pub(crate) fn check(
    name: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<(), OptimError> {
    if ok {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperparameter {
            name,
            value,
            expected,
        })
    }
}
