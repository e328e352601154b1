//! Optimizers, learning-rate schedules and gradient clipping of the `autodiff` crate, and
//! (feature `safetensors`, on by default) saving parameters and optimizer state.
//!
//! Everything here works on any [`Tangent`](autodiff_runtime::Tangent) value: the
//! gradients `#[differentiable]` returns, `Tensor`s of the dynamic engine, structs with
//! `#[derive(Tangent)]`. Users normally depend on the `autodiff` facade crate, which
//! re-exports it as `autodiff::optim`, `autodiff::clip` and `autodiff::io`.
#![warn(missing_docs)]

pub mod clip;
#[cfg(feature = "safetensors")]
pub mod io;
pub mod optim;

pub use clip::{clip_grad_norm, clip_grad_value, ClipError};
pub use optim::{Adam, AdamW, LearningRate, LrScheduler, OptimError, Optimizer, RmsProp, Sgd};
