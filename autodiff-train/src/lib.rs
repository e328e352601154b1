//! Training tools of the `autodiff` crate: the training loop ([`train::Trainer`]) with
//! its progress bar (indicatif), history and loss plots (plotters), and datasets
//! ([`data`]: CSV loading, shuffling, batching, standardizing).
//!
//! These are the heavy dependencies of the workspace, so they sit in a crate of their
//! own: the `autodiff` facade re-exports it as `autodiff::train` and `autodiff::data`
//! behind its default feature `train`, and `default-features = false` builds the engines
//! without it.
#![warn(missing_docs)]

pub mod data;
pub mod train;
