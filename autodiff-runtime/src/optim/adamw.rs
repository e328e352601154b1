//! [`AdamW`]: Adam with decoupled weight decay, as `torch.optim.AdamW`.

use super::adam::{adam_step, AdamHyper};
use super::state::FlatState;
use super::{LearningRate, OptimError, Optimizer};
use crate::tangent::Tangent;

/// Adam with decoupled weight decay (Loshchilov and Hutter), exactly as
/// `torch.optim.AdamW`: each step first shrinks the parameter, `p *= 1 - lr *
/// weight_decay`, then applies the [`Adam`](super::Adam) update to the raw gradient.
///
/// Defaults: betas (0.9, 0.999), eps 1e-8, weight decay **0.01**, amsgrad off.
#[derive(Debug, Clone)]
pub struct AdamW {
    hyper: AdamHyper,
    state: FlatState<3>,
}

impl AdamW {
    /// AdamW with learning rate `lr` and torch's defaults (weight decay 0.01).
    pub fn new(lr: f64) -> Self {
        AdamW {
            hyper: AdamHyper::new(lr, 0.01, true),
            state: FlatState::default(),
        }
    }

    /// Coefficients of the running averages of the gradient and its square (default (0.9, 0.999)).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.hyper.beta1 = beta1;
        self.hyper.beta2 = beta2;
        self
    }

    /// Added to the denominator for numerical stability (default 1e-8).
    pub fn eps(mut self, eps: f64) -> Self {
        self.hyper.eps = eps;
        self
    }

    /// Decoupled weight decay coefficient (default 0.01).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// Use the AMSGrad variant (default false).
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.hyper.amsgrad = amsgrad;
        self
    }

    /// Maximise the objective instead of minimising it (default false).
    pub fn maximize(mut self, maximize: bool) -> Self {
        self.hyper.maximize = maximize;
        self
    }
}

impl LearningRate for AdamW {
    fn lr(&self) -> f64 {
        self.hyper.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.hyper.lr = lr;
    }
}

impl<P: Tangent> Optimizer<P> for AdamW {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), OptimError> {
        adam_step(&self.hyper, &mut self.state, params, grads)
    }
    fn steps_taken(&self) -> u64 {
        self.state.steps()
    }
    fn reset(&mut self) {
        self.state.reset();
    }
}
