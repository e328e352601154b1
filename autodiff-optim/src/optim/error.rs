//! [`OptimError`]: why an optimizer step changed nothing.

use std::fmt;

use autodiff_runtime::tangent::{ElementLocation, StructureMismatch};

/// Why [`Optimizer::step`](super::Optimizer::step) refused to update. The parameters and
/// the optimizer state are unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimError {
    /// The gradients do not have the parameters' structure.
    Structure(StructureMismatch),
    /// The parameters no longer fit the state created on the first step.
    StateMismatch {
        /// Elements the state was created for.
        state: usize,
        /// Elements the parameters have now.
        params: usize,
    },
    /// A gradient element is NaN or infinite.
    NonFiniteGradient {
        /// Where.
        at: ElementLocation,
        /// The value found.
        value: f64,
    },
    /// A parameter element is NaN or infinite before the step.
    NonFiniteParameter {
        /// Where.
        at: ElementLocation,
        /// The value found.
        value: f64,
    },
    /// The update itself overflowed or produced NaN (finite inputs, non-finite result).
    NonFiniteUpdate {
        /// The first element whose new parameter or state is not finite.
        at: ElementLocation,
    },
    /// A hyperparameter is out of range (checked like torch's constructors).
    InvalidHyperparameter {
        /// Its torch name (`lr`, `momentum`, `betas[0]`, ...).
        name: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range.
        expected: &'static str,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimError::Structure(m) => write!(f, "optimizer step: {m}"),
            OptimError::StateMismatch { state, params } => write!(
                f,
                "optimizer step: the state was created for {state} elements but the parameters \
                 have {params}; use a new optimizer (or `reset()` it) for a different model"
            ),
            OptimError::NonFiniteGradient { at, value } => write!(
                f,
                "optimizer step: the gradient of {at} is {value}; nothing was updated \
                 (clip the gradients, lower the learning rate, or check the loss for overflow)"
            ),
            OptimError::NonFiniteParameter { at, value } => write!(
                f,
                "optimizer step: parameter {at} is {value} before the step; nothing was updated"
            ),
            OptimError::NonFiniteUpdate { at } => write!(
                f,
                "optimizer step: the update of {at} is not finite (overflow); nothing was updated \
                 (lower the learning rate or clip the gradients)"
            ),
            OptimError::InvalidHyperparameter {
                name,
                value,
                expected,
            } => write!(f, "invalid {name}: {value}; expected {expected}"),
        }
    }
}

impl std::error::Error for OptimError {}

impl From<StructureMismatch> for OptimError {
    fn from(m: StructureMismatch) -> Self {
        OptimError::Structure(m)
    }
}
