//! [`Sgd`]: stochastic gradient descent, as `torch.optim.SGD`.

use super::state::FlatState;
use super::{check, LearningRate, OptimError, Optimizer};
use autodiff_runtime::tangent::Tangent;

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight
/// decay, exactly as `torch.optim.SGD`:
///
/// ```text
/// g = grad (negated if maximize) + weight_decay * p
/// if momentum != 0:
///     b = g                                    on the first step
///     b = momentum * b + (1 - dampening) * g   afterwards
///     g = g + momentum * b   if nesterov, else   g = b
/// p = p - lr * g
/// ```
///
/// ```
/// use autodiff_optim::optim::{Optimizer, Sgd};
/// let mut opt = Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(1e-4);
/// let mut w = 1.0_f64;
/// opt.step(&mut w, &2.0)?;
/// assert!((w - (1.0 - 0.1 * 1.9 * (2.0 + 1e-4))).abs() < 1e-15);
/// # Ok::<(), autodiff_optim::optim::OptimError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    lr: f64,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    weight_decay: f64,
    maximize: bool,
    state: FlatState<1>,
}

impl Sgd {
    /// SGD with learning rate `lr` and torch's defaults: no momentum, no dampening, no
    /// Nesterov, no weight decay.
    pub fn new(lr: f64) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            maximize: false,
            state: FlatState::default(),
        }
    }

    /// Momentum factor (default 0).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Dampening for momentum (default 0).
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }

    /// Nesterov momentum (default false; needs momentum > 0 and dampening 0).
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// L2 penalty added to the gradient (default 0).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Maximise the objective instead of minimising it (default false).
    pub fn maximize(mut self, maximize: bool) -> Self {
        self.maximize = maximize;
        self
    }

    fn validate(&self) -> Result<(), OptimError> {
        check("lr", self.lr, self.lr >= 0.0, "lr >= 0")?;
        check(
            "momentum",
            self.momentum,
            self.momentum >= 0.0,
            "momentum >= 0",
        )?;
        check(
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            "weight_decay >= 0",
        )?;
        check(
            "dampening",
            self.dampening,
            self.dampening.is_finite(),
            "a finite dampening",
        )?;
        if self.nesterov {
            check(
                "momentum",
                self.momentum,
                self.momentum > 0.0,
                "momentum > 0 with nesterov(true)",
            )?;
            check(
                "dampening",
                self.dampening,
                self.dampening == 0.0,
                "dampening == 0 with nesterov(true)",
            )?;
        }
        Ok(())
    }
}

impl LearningRate for Sgd {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

impl<P: Tangent> Optimizer<P> for Sgd {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), OptimError> {
        self.validate()?;
        let Sgd {
            lr,
            momentum,
            dampening,
            nesterov,
            weight_decay,
            maximize,
            ..
        } = *self;
        let first = self.state.steps() == 0;
        self.state.step(params, grads, |p, g, [buf]| {
            let mut g = if maximize { -g } else { g };
            if weight_decay != 0.0 {
                g += weight_decay * p;
            }
            if momentum != 0.0 {
                *buf = if first {
                    g
                } else {
                    *buf * momentum + (1.0 - dampening) * g
                };
                g = if nesterov { g + momentum * *buf } else { *buf };
            }
            p + -lr * g
        })
    }

    fn steps_taken(&self) -> u64 {
        self.state.steps()
    }

    fn reset(&mut self) {
        self.state.reset();
    }
}

super::saved_state::optimizer_state!(Sgd, ["momentum_buffer"]);
