//! The dynamic engine: tensors that record a graph as they compute, with PyTorch
//! autograd's semantics (`requires_grad`, `grad_fn`, `backward()`, `no_grad`, hooks).
//!
//! It is the engine for code whose graph changes at run time, and the baseline that the
//! compile-time `#[differentiable]` engine is measured against. Values are
//! `nalgebra::DMatrix<f64>` (a scalar is 1x1); derivatives come from the shared rules in
//! [`crate::rules`].
//!
//! ```
//! use autodiff_runtime::dynamic::{no_grad, Tensor};
//!
//! let w = Tensor::scalar(1.0).requires_grad();
//! let x = Tensor::scalar(2.0);
//! let y = &w * &x;
//! let loss = (&y - 5.0).powi(2);
//! assert_eq!(loss.to_string(), "tensor([9.], grad_fn=<PowBackward0>)");
//! loss.backward()?;
//! assert_eq!(w.grad().unwrap().item(), -12.0);
//!
//! // A gradient step: in-place updates of a leaf that requires grad need no_grad.
//! no_grad(|| w.sub_(&(w.grad().unwrap() * 0.1)))?;
//! w.zero_grad();
//! assert_eq!(w.item(), 2.2);
//! # Ok::<(), autodiff_runtime::dynamic::GradError>(())
//! ```
//!
//! Semantics, as in PyTorch:
//! - a result requires grad (and records a node, its `grad_fn`) when grad mode is on
//!   and one of its inputs requires grad;
//! - `backward()` adds into the `grad` of every leaf that requires grad, so gradients
//!   accumulate across calls until `zero_grad()`;
//! - `backward()` frees the values the graph saved; backpropagating through them again
//!   is [`GradError::GraphFreed`] unless the first call was `backward_retain_graph()`
//!   (ops that save nothing, like `AddBackward0`, can run again);
//! - in-place updates of a leaf that requires grad must run under [`no_grad`].
//!
//! Differences: in-place ops are never recorded (outside `no_grad` they are refused on
//! anything a graph would need), and a value saved by the graph is copied on write, so
//! an in-place update never corrupts a pending `backward()`; `detach()` shares the value
//! until one of the two is updated in place.

mod backward;
mod broadcast;
mod display;
mod error;
mod formulas;
mod gemm;
mod graph;
mod no_grad;
mod node;
mod ops;
mod ptr_map;
mod tensor;

pub use error::{GradError, Shape};
pub use no_grad::{is_grad_enabled, no_grad, NoGradGuard};
pub use tensor::Tensor;
