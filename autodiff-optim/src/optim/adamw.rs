//! [`AdamW`]: Adam with decoupled weight decay, as `torch.optim.AdamW`.

use super::adam::AdamHyper;
use super::state::FlatState;

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

    /// Decoupled weight decay coefficient (default 0.01).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }
}

super::adam::adam_family!(AdamW);
