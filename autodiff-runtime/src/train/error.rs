//! [`TrainError`]: why a training run stopped.

use std::fmt;

use super::health::HealthReport;
use crate::clip::ClipError;
use crate::optim::OptimError;
use crate::tangent::ElementLocation;

/// Why [`Trainer::fit`](super::Trainer::fit) stopped. The parameters keep the values of
/// the last successful step.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainError {
    /// A gradient element turned NaN or infinite.
    NonFiniteGradient {
        /// 1-based epoch.
        epoch: usize,
        /// 0-based batch index within the epoch.
        batch: usize,
        /// The first bad element: its parameter and index.
        at: ElementLocation,
        /// Its value.
        value: f64,
        /// The health of every parameter's gradient at that batch.
        report: HealthReport,
    },
    /// The loss turned NaN or infinite (with finite gradients).
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// 0-based batch index within the epoch.
        batch: usize,
        /// The loss.
        loss: f64,
    },
    /// The optimizer refused the step.
    Optimizer {
        /// 1-based epoch.
        epoch: usize,
        /// 0-based batch index within the epoch.
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
            TrainError::NonFiniteGradient {
                epoch,
                batch,
                at,
                value,
                report,
            } => write!(
                f,
                "the gradient of parameter {at} is {value} at epoch {epoch}, batch {batch}; \
                 training stopped before the step (lower the learning rate, clip the gradients, \
                 or check the loss for overflow)\n{report}"
            ),
            TrainError::NonFiniteLoss { epoch, batch, loss } => write!(
                f,
                "the loss is {loss} at epoch {epoch}, batch {batch}; training stopped \
                 (check the loss for log(0) or overflow)"
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
