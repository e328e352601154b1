//! [`RmsProp`], as `torch.optim.RMSprop`.

use super::state::FlatState;
use super::{check, lerp, LearningRate, OptimError, Optimizer};
use autodiff_runtime::tangent::Tangent;

/// RMSprop with optional momentum, centering and L2 weight decay, exactly as
/// `torch.optim.RMSprop`:
///
/// ```text
/// g = grad (negated if maximize) + weight_decay * p
/// s = alpha * s + (1 - alpha) * g * g
/// avg = sqrt(s - a * a) + eps, with a = lerp(a, g, 1 - alpha)   if centered
/// avg = sqrt(s) + eps                                           otherwise
/// b = momentum * b + g / avg;  p = p - lr * b                   if momentum > 0
/// p = p - lr * g / avg                                          otherwise
/// ```
///
/// Defaults: alpha 0.99, eps 1e-8, weight decay 0, momentum 0, not centered.
#[derive(Debug, Clone)]
pub struct RmsProp {
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    maximize: bool,
    state: FlatState<3>,
}

impl RmsProp {
    /// RMSprop with learning rate `lr` and torch's defaults.
    pub fn new(lr: f64) -> Self {
        RmsProp {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
            state: FlatState::default(),
        }
    }

    /// Smoothing constant of the running average of squared gradients (default 0.99).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Added to the denominator for numerical stability (default 1e-8).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// L2 penalty added to the gradient (default 0).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Momentum factor (default 0).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Normalise by an estimate of the gradient's variance instead of its second moment
    /// (default false).
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }

    /// Maximise the objective instead of minimising it (default false).
    pub fn maximize(mut self, maximize: bool) -> Self {
        self.maximize = maximize;
        self
    }

    fn validate(&self) -> Result<(), OptimError> {
        check("lr", self.lr, self.lr >= 0.0, "lr >= 0")?;
        check("eps", self.eps, self.eps >= 0.0, "eps >= 0")?;
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
        check("alpha", self.alpha, self.alpha >= 0.0, "alpha >= 0")
    }
}

impl LearningRate for RmsProp {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

impl<P: Tangent> Optimizer<P> for RmsProp {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), OptimError> {
        self.validate()?;
        let RmsProp {
            lr,
            alpha,
            eps,
            weight_decay,
            momentum,
            centered,
            maximize,
            ..
        } = *self;
        self.state
            .step(params, grads, |p, g, [square_avg, grad_avg, buf]| {
                let mut g = if maximize { -g } else { g };
                if weight_decay != 0.0 {
                    g += weight_decay * p;
                }
                *square_avg = *square_avg * alpha + (1.0 - alpha) * g * g;
                let avg = if centered {
                    *grad_avg = lerp(*grad_avg, g, 1.0 - alpha);
                    (*square_avg + -(*grad_avg) * *grad_avg).sqrt()
                } else {
                    square_avg.sqrt()
                } + eps;
                if momentum > 0.0 {
                    *buf = *buf * momentum + g / avg;
                    p + -lr * *buf
                } else {
                    p + -lr * (g / avg)
                }
            })
    }
    fn steps_taken(&self) -> u64 {
        self.state.steps()
    }
    fn reset(&mut self) {
        self.state.reset();
    }
}

super::saved_state::optimizer_state!(RmsProp, ["square_avg", "grad_avg", "momentum_buffer"]);
