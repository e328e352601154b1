//! [`TrainError`]: why a training run stopped.
//!
//! The checks of one batch run in the order that finds the cause, not a consequence: a
//! non-finite parameter first (everything computed from it is non-finite too), then the
//! loss (an infinite loss, such as `log(0)` from the data, makes a NaN gradient), then the
//! gradient. Each message gives the advice that fits its cause.

use std::fmt;

use super::health::HealthReport;
use autodiff_optim::clip::ClipError;
use autodiff_optim::optim::OptimError;
use autodiff_runtime::tangent::ElementLocation;

/// Why [`Trainer::fit`](super::Trainer::fit) stopped. The parameters keep the values of
/// the last successful step.
///
/// `epoch` is 1-based and counts from [`Trainer::initial_epoch`](super::Trainer::initial_epoch);
/// `batch` is the 0-based index of the batch in the slice given to `fit` (with shuffling
/// on, not its position in the epoch), so that `batches[batch]` is the batch to inspect.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainError {
    /// A parameter is NaN or infinite before the step (a bad initialisation, or a value
    /// written outside the optimizer, which refuses non-finite updates).
    NonFiniteParameter {
        /// 1-based epoch.
        epoch: usize,
        /// Index of the batch in the slice of batches.
        batch: usize,
        /// The first bad element: its parameter and index.
        at: ElementLocation,
        /// Its value.
        value: f64,
    },
    /// The loss turned NaN or infinite, with finite parameters. The gradient is then
    /// usually NaN too, as a consequence.
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// Index of the batch in the slice of batches.
        batch: usize,
        /// The loss.
        loss: f64,
    },
    /// A gradient element turned NaN or infinite while the loss and the parameters were
    /// finite.
    NonFiniteGradient {
        /// 1-based epoch.
        epoch: usize,
        /// Index of the batch in the slice of batches.
        batch: usize,
        /// The first bad element: its parameter and index.
        at: ElementLocation,
        /// Its value.
        value: f64,
        /// The (finite) loss of that batch.
        loss: f64,
        /// The health of every parameter's gradient at that batch.
        report: HealthReport,
    },
    /// The optimizer refused the step.
    Optimizer {
        /// 1-based epoch.
        epoch: usize,
        /// Index of the batch in the slice of batches.
        batch: usize,
        /// Why.
        source: OptimError,
    },
    /// Clipping was misconfigured or failed.
    Clip(ClipError),
    /// `fit` was given no batches.
    NoBatches,
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::NonFiniteParameter {
                epoch,
                batch,
                at,
                value,
            } => write!(
                f,
                "parameter {at} is {value} at epoch {epoch}, batch {batch}, before the step; \
                 training stopped. The parameters must be finite: check their initialisation \
                 and any code that writes them outside the optimizer (which refuses updates \
                 that would make them non-finite)"
            ),
            TrainError::NonFiniteLoss { epoch, batch, loss } => write!(
                f,
                "the loss is {loss} at epoch {epoch}, batch {batch}, with finite parameters; \
                 training stopped before the step. A non-finite loss comes from the data or \
                 the loss function, not from the learning rate: look for a log of 0 (a zero \
                 input, or a probability that underflowed: use log_softmax or cross_entropy), \
                 a division by zero, or an exp that overflowed (use logsumexp), and check the \
                 batch's inputs for NaN or inf"
            ),
            TrainError::NonFiniteGradient {
                epoch,
                batch,
                at,
                value,
                loss,
                report,
            } => write!(
                f,
                "the gradient of parameter {at} is {value} at epoch {epoch}, batch {batch}, \
                 with a finite loss {loss}; training stopped before the step. The backward \
                 pass overflowed or met a point where a derivative is infinite (sqrt or a \
                 fractional power at 0, 1/x near 0): lower the learning rate or clip the \
                 gradients (clip_grad_norm) so that steps do not drive the parameters there, \
                 or guard such points in the loss\n{report}"
            ),
            TrainError::Optimizer {
                epoch,
                batch,
                source,
            } => write!(f, "epoch {epoch}, batch {batch}: {source}"),
            TrainError::Clip(e) => write!(f, "gradient clipping: {e}"),
            TrainError::NoBatches => {
                f.write_str("no batches to train on: pass at least one batch to fit")
            }
        }
    }
}

impl std::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrainError::Optimizer { source, .. } => Some(source),
            TrainError::Clip(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ClipError> for TrainError {
    fn from(e: ClipError) -> Self {
        TrainError::Clip(e)
    }
}
