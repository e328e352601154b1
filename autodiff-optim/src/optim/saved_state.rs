//! [`OptimizerState`]: an optimizer's state (step count, learning rate, per-element
//! buffers) taken out and put back, so that a run can be saved and resumed exactly
//! (`io::save_optimizer` / `io::load_optimizer` write it as a safetensors file).

use super::LearningRate;

/// The state of an optimizer, detached from it: what `torch.optim`'s `state_dict` holds.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedState {
    /// Successful steps so far ([`Optimizer::steps_taken`](super::Optimizer::steps_taken)).
    pub steps: u64,
    /// The learning rate (a schedule may have changed it).
    pub lr: f64,
    /// The per-element buffers, named as in [`OptimizerState::buffer_names`], each one
    /// value per parameter element in the flat order of `Tangent`; `None` before the
    /// first step.
    pub buffers: Option<Vec<Vec<f64>>>,
}

/// An optimizer whose state can be taken out ([`state`](OptimizerState::state)) and put
/// back ([`set_state`](OptimizerState::set_state)); then steps continue bit for bit as
/// they would have. Hyperparameters other than the learning rate are not part of the
/// state: build the optimizer with the same settings before restoring.
pub trait OptimizerState: LearningRate {
    /// The names of the per-element buffers, in order (Adam: `exp_avg`, `exp_avg_sq`,
    /// `max_exp_avg_sq`, as torch names them).
    fn buffer_names(&self) -> &'static [&'static str];

    /// A copy of the state.
    fn state(&self) -> SavedState;

    /// Replaces the state. `Err` (and nothing changed) when `state.buffers` does not have
    /// one buffer per name, all of the same length.
    fn set_state(&mut self, state: SavedState) -> Result<(), String>;
}

/// `OptimizerState` for an optimizer whose field `state` is a `FlatState<K>` and whose
/// learning rate is its `LearningRate`.
macro_rules! optimizer_state {
    ($ty:ident, [$($name:literal),+ $(,)?]) => {
        impl $crate::optim::OptimizerState for $ty {
            fn buffer_names(&self) -> &'static [&'static str] {
                &[$($name),+]
            }
            fn state(&self) -> $crate::optim::SavedState {
                let (steps, buffers) = self.state.snapshot();
                $crate::optim::SavedState {
                    steps,
                    lr: $crate::optim::LearningRate::lr(self),
                    buffers: buffers.map(|b| b.to_vec()),
                }
            }
            fn set_state(&mut self, state: $crate::optim::SavedState) -> Result<(), String> {
                self.state.restore(state.steps, state.buffers)?;
                $crate::optim::LearningRate::set_lr(self, state.lr);
                Ok(())
            }
        }
    };
}
pub(super) use optimizer_state;
