//! Learning-rate schedules with the semantics of `torch.optim.lr_scheduler`.
//!
//! A schedule reads the optimizer's learning rate when it is created (torch's
//! `initial_lr`), and each [`LrScheduler::step`] (once per epoch, after the optimizer's
//! steps) moves to the next epoch and sets the optimizer's learning rate. Like torch's
//! default ("chainable") form, each step updates the learning rate the optimizer has now.
//! [`LrScheduler::state`] / [`LrScheduler::set_state`] take out and put back what a
//! resumed run needs (`io::save_scheduler` / `io::load_scheduler` write it to a file).
//!
//! ```
//! use autodiff_optim::optim::{LearningRate, LrScheduler, Sgd, StepLr};
//! let mut opt = Sgd::new(1.0);
//! let mut schedule = StepLr::new(&opt, 2, 0.5);
//! let lrs: Vec<f64> = (0..5).map(|_| { schedule.step(&mut opt); opt.lr() }).collect();
//! assert_eq!(lrs, [1.0, 0.5, 0.5, 0.25, 0.25]);
//! ```

use std::f64::consts::PI;

use super::LearningRate;

/// A learning-rate schedule driven once per epoch.
pub trait LrScheduler {
    /// Advances one epoch and sets the optimizer's learning rate for it.
    fn step(&mut self, optimizer: &mut dyn LearningRate);
    /// The number of epochs stepped so far (torch's `last_epoch`, starting at 0).
    fn last_epoch(&self) -> u64;
    /// The schedule's name in `torch.optim.lr_scheduler` (`StepLR`): the kind a saved
    /// [`ScheduleState`] belongs to.
    fn kind(&self) -> &'static str;
    /// What a resumed run needs to continue the schedule bit for bit (the hyperparameters
    /// are not part of it: build the schedule with the same ones before restoring).
    fn state(&self) -> ScheduleState;
    /// Restores a state taken from a schedule of the same kind. `Err` (and nothing
    /// changed) when the state lacks what this schedule needs.
    fn set_state(&mut self, state: ScheduleState) -> Result<(), String>;
}

/// The state of a schedule, detached from it (`io::save_scheduler` writes it): the epochs
/// stepped and, for a schedule that computes from it, the initial learning rate (torch's
/// `base_lrs`). The optimizer's current learning rate is the optimizer's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleState {
    /// [`LrScheduler::last_epoch`].
    pub last_epoch: u64,
    /// The learning rate the schedule started from, for [`CosineAnnealingLr`]; `None`
    /// for schedules that only scale the current rate.
    pub base_lr: Option<f64>,
}

/// `state` and `set_state` of a schedule whose only state is `last_epoch`.
macro_rules! epoch_only_state {
    () => {
        fn state(&self) -> ScheduleState {
            ScheduleState {
                last_epoch: self.last_epoch,
                base_lr: None,
            }
        }
        fn set_state(&mut self, state: ScheduleState) -> Result<(), String> {
            self.last_epoch = state.last_epoch;
            Ok(())
        }
    };
}

/// Multiplies the learning rate by `gamma` every `step_size` epochs (`torch.optim.lr_scheduler.StepLR`).
#[derive(Debug, Clone)]
pub struct StepLr {
    step_size: u64,
    gamma: f64,
    last_epoch: u64,
}

impl StepLr {
    /// A schedule for `optimizer` that decays by `gamma` (torch's default 0.1) every `step_size` epochs.
    ///
    /// # Panics
    /// When `step_size` is 0.
    pub fn new(optimizer: &dyn LearningRate, step_size: u64, gamma: f64) -> Self {
        assert!(step_size > 0, "StepLr: step_size must be at least 1");
        let _ = optimizer;
        StepLr {
            step_size,
            gamma,
            last_epoch: 0,
        }
    }
}

impl LrScheduler for StepLr {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.last_epoch += 1;
        if self.last_epoch.checked_rem(self.step_size) == Some(0) {
            optimizer.set_lr(optimizer.lr() * self.gamma);
        }
    }
    fn last_epoch(&self) -> u64 {
        self.last_epoch
    }
    fn kind(&self) -> &'static str {
        "StepLR"
    }
    epoch_only_state!();
}

/// Multiplies the learning rate by `gamma` every epoch (`torch.optim.lr_scheduler.ExponentialLR`).
#[derive(Debug, Clone)]
pub struct ExponentialLr {
    gamma: f64,
    last_epoch: u64,
}

impl ExponentialLr {
    /// A schedule for `optimizer` that decays by `gamma` every epoch.
    pub fn new(optimizer: &dyn LearningRate, gamma: f64) -> Self {
        let _ = optimizer;
        ExponentialLr {
            gamma,
            last_epoch: 0,
        }
    }
}

impl LrScheduler for ExponentialLr {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.last_epoch += 1;
        optimizer.set_lr(optimizer.lr() * self.gamma);
    }
    fn last_epoch(&self) -> u64 {
        self.last_epoch
    }
    fn kind(&self) -> &'static str {
        "ExponentialLR"
    }
    epoch_only_state!();
}

/// Cosine annealing from the initial learning rate down to `eta_min` over `t_max`
/// epochs, then back up, periodically (`torch.optim.lr_scheduler.CosineAnnealingLR`,
/// without restarts):
/// `lr(t) = eta_min + (lr0 - eta_min) * (1 + cos(pi * t / t_max)) / 2`,
/// computed with torch's recursive form.
#[derive(Debug, Clone)]
pub struct CosineAnnealingLr {
    t_max: u64,
    eta_min: f64,
    base_lr: f64,
    last_epoch: u64,
}

impl CosineAnnealingLr {
    /// A schedule for `optimizer` with half-period `t_max` epochs and floor `eta_min`
    /// (torch's default 0).
    ///
    /// # Panics
    /// When `t_max` is 0.
    pub fn new(optimizer: &dyn LearningRate, t_max: u64, eta_min: f64) -> Self {
        assert!(t_max > 0, "CosineAnnealingLr: t_max must be at least 1");
        CosineAnnealingLr {
            t_max,
            eta_min,
            base_lr: optimizer.lr(),
            last_epoch: 0,
        }
    }
}

impl LrScheduler for CosineAnnealingLr {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.last_epoch += 1;
        let (t, t_max) = (self.last_epoch as f64, self.t_max as f64);
        let (lr, eta_min) = (optimizer.lr(), self.eta_min);
        let period = 2 * self.t_max;
        let new = if (self.last_epoch as i128 - 1 - self.t_max as i128).rem_euclid(period as i128)
            == 0
        {
            lr + (self.base_lr - eta_min) * (1.0 - (PI / t_max).cos()) / 2.0
        } else {
            (1.0 + (PI * t / t_max).cos()) / (1.0 + (PI * (t - 1.0) / t_max).cos()) * (lr - eta_min)
                + eta_min
        };
        optimizer.set_lr(new);
    }
    fn last_epoch(&self) -> u64 {
        self.last_epoch
    }
    fn kind(&self) -> &'static str {
        "CosineAnnealingLR"
    }
    fn state(&self) -> ScheduleState {
        ScheduleState {
            last_epoch: self.last_epoch,
            base_lr: Some(self.base_lr),
        }
    }
    fn set_state(&mut self, state: ScheduleState) -> Result<(), String> {
        let base_lr = state
            .base_lr
            .ok_or("a CosineAnnealingLR state needs its base_lr")?;
        self.last_epoch = state.last_epoch;
        self.base_lr = base_lr;
        Ok(())
    }
}

impl<S: LrScheduler + ?Sized> LrScheduler for Box<S> {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        (**self).step(optimizer)
    }
    fn last_epoch(&self) -> u64 {
        (**self).last_epoch()
    }
    fn kind(&self) -> &'static str {
        (**self).kind()
    }
    fn state(&self) -> ScheduleState {
        (**self).state()
    }
    fn set_state(&mut self, state: ScheduleState) -> Result<(), String> {
        (**self).set_state(state)
    }
}
