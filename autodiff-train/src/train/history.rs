//! [`History`]: what a training run measured, epoch by epoch.

use std::path::Path;

use super::health::HealthReport;
use super::plot::{self, PlotError};

/// The record of one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Loss reported by the evaluation closure after the epoch, if any.
    pub eval_loss: Option<f64>,
    /// Accuracy (0 to 1) reported by the evaluation closure after the epoch, if any.
    pub eval_accuracy: Option<f64>,
    /// The learning rate used during the epoch.
    pub lr: f64,
    /// Mean total gradient norm before clipping.
    pub mean_grad_norm: f64,
    /// How many batches had their gradients scaled down by norm clipping.
    pub clipped_batches: usize,
    /// Gradient health at the epoch's last batch (before clipping).
    pub health: HealthReport,
}

/// Loss and accuracy over a training run; drawable to SVG and PNG.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// One record per finished epoch.
    pub epochs: Vec<EpochRecord>,
    /// The loss of every batch, in order.
    pub batch_losses: Vec<f64>,
}

impl History {
    /// The last finished epoch.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The plot (loss, and accuracy when recorded) as an SVG document.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        plot::svg_string(self)
    }

    /// Writes the plot as an SVG file.
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let svg = self.to_svg()?;
        std::fs::write(path.as_ref(), svg).map_err(|e| PlotError::io(path.as_ref(), e))
    }

    /// Writes the plot as a PNG file.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        plot::png_file(self, path.as_ref())
    }
}
