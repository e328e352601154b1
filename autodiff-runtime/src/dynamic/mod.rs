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
//! # Ops
//!
//! | op | `grad_fn` | notes |
//! | --- | --- | --- |
//! | `a + b`, `a - b` | `AddBackward0`, `SubBackward0` (`RsubBackward1` for `c - x`) | broadcasting |
//! | `a * b`, `a / b` | `MulBackward0`, `DivBackward0` | elementwise, broadcasting |
//! | `-a` | `NegBackward0` | |
//! | `matmul`, `t` | `MmBackward0`, `TBackward0` | matrix product, transpose |
//! | `powi(n)`, `powf(e)`, `pow(&t)` | `PowBackward0`, `PowBackward0`, `PowBackward1` | |
//! | every unary function of the op table (`exp`, `ln`, `sin`, `atan`, `relu`, `sigmoid`, ...) | the table's name (`ExpBackward0`, ...) | elementwise |
//! | its binary functions with a `Tensor` name (`atan2`, `hypot`) | the table's name (`Atan2Backward0`, ...) | elementwise, broadcasting |
//! | `maximum`, `minimum` | `MaximumBackward0`, `MinimumBackward0` | ties split the gradient |
//! | `sum`, `mean` | `SumBackward0`, `MeanBackward0` | over all elements, 1x1 result |
//! | `softmax`, `log_softmax` | `SoftmaxBackward0`, `LogSoftmaxBackward0` | per row, stable |
//! | `cross_entropy(&labels)` | `NllLossBackward0` | mean over rows, one fused node |
//! | `mse(&target)` | `MseLossBackward0` | mean |
//! | `add_`, `sub_`, `mul_`, `div_` | `AddBackward0`, `SubBackward0`, `MulBackward0`, `DivBackward0` | in place, recorded on a tensor with a `grad_fn` |
//! | `exp_`, `tanh_`, `sigmoid_`, `relu_` | the out-of-place op's name | in place, as above |
//! | `zero_`, `copy_(&src)` | `ZeroBackward0`, `CopyBackwards` | in place, as above |
//!
//! The elementwise functions, their derivatives and PyTorch names are generated from the
//! op table ([`autodiff_ops::OPS`], rendered by [`autodiff_ops::markdown_table`] and shown
//! in the `autodiff` crate's documentation and `README.md`); their `Tensor` methods are
//! expanded from its rows, so a new row is a new method.
//!
//! Broadcasting follows PyTorch on two dimensions: each dimension of the two operands
//! is equal or 1 in one of them (a 1x1 scalar, a `1 x n` row such as a bias, an `m x 1`
//! column); the gradient of a broadcast operand is summed back to its shape. An `f64`
//! on either side of an operator is a 1x1 constant. Operators and the methods above
//! panic on shapes they cannot combine, with a message naming both shapes; `try_add`,
//! `try_sub`, `try_mul`, `try_div`, `try_matmul`, `try_mse` and `try_cross_entropy` return the
//! [`GradError`] instead.
//!
//! # Semantics
//!
//! As in PyTorch:
//! - a result requires grad (and records a node, its `grad_fn`) when grad mode is on
//!   and one of its inputs requires grad;
//! - `backward()` adds into the `grad` of every leaf that requires grad, so gradients
//!   accumulate across calls until `zero_grad()`;
//! - `backward()` frees the values the graph saved; backpropagating through them again
//!   is [`GradError::GraphFreed`] unless the first call was `backward_retain_graph()`
//!   (`AddBackward0`, `SubBackward0` and `NegBackward0`, which save nothing, can run
//!   again);
//! - in-place updates of a leaf that requires grad must run under [`no_grad`];
//! - an in-place op (`add_`, `sub_`, `mul_`, `div_`, `zero_`, `copy_`, `exp_`, `tanh_`,
//!   `sigmoid_`, `relu_`) on a tensor with a `grad_fn`, or with an operand that requires
//!   grad, is recorded: the tensor's `grad_fn` becomes the op's node (`AddBackward0`,
//!   `MulBackward0`, `ZeroBackward0`, `CopyBackwards`, ...), a `retain_grad()` moves to
//!   it, and hooks registered before stay with the value before the update;
//! - every in-place update (also under `no_grad`, and through
//!   [`Tangent::visit_mut`](crate::tangent::Tangent::visit_mut), as an optimizer step)
//!   advances the tensor's [`Tensor::version`]. Each op records the version of each
//!   value its backward reads (`x * y` saves both, `x * 2.0` and `x + y` nothing, `exp`
//!   its result), and a backward pass that reaches one updated since returns
//!   [`GradError::ModifiedInPlace`] before any gradient moves;
//! - [`Tensor::detach`] shares the value and the version counter with its source;
//! - [`Tensor::register_hook`] returns a [`HookHandle`] whose `remove()` unregisters
//!   the hook.
//!
//! ```
//! use autodiff_runtime::dynamic::{GradError, Tensor};
//!
//! let x = Tensor::vector(&[1.0, 2.0]).requires_grad();
//! let z = &x * 2.0;
//! let w = &z * &x;               // MulBackward0 saves z at version 0
//! z.add_(&Tensor::scalar(1.0))?; // recorded; z is now at version 1
//! assert_eq!(z.grad_fn(), Some("AddBackward0"));
//! let err = w.sum().backward().unwrap_err();
//! assert!(matches!(
//!     err,
//!     GradError::ModifiedInPlace { op: "MulBackward0", version: 1, expected: 0, .. }
//! ));
//! z.sum().backward()?;           // z's own graph does not need the old value
//! assert_eq!(x.grad().unwrap().value().as_slice(), &[2.0, 2.0]);
//! # Ok::<(), GradError>(())
//! ```
//!
//! # Gradients as values, and second order
//!
//! [`grad`] returns the gradients of a one-element output with respect to chosen
//! tensors without touching any `.grad()` (`torch.autograd.grad`; zeros for a tensor the
//! output does not depend on). [`grad_create_graph`] returns them recorded
//! (`create_graph=True`): they have a `grad_fn` and can be differentiated again, and the
//! graph stays usable. [`Tensor::backward_create_graph`] is `backward(create_graph=True)`:
//! the gradients accumulated into `.grad()` are recorded. In those passes every op's
//! backward runs as `Tensor` ops (written once per op in `double_backward.rs`); a plain
//! `backward()` or [`grad`] does not, and costs what it did.
//!
//! A Hessian-vector product is two lines, the gradient's dot product with `v`
//! differentiated once more ([`hvp`] does the same):
//!
//! ```
//! use autodiff_runtime::dynamic::{grad, grad_create_graph, Tensor};
//!
//! // f(w) = sum(tanh(X w)^2), a Hessian-vector product at w along v.
//! let x = Tensor::from_row_slice(2, 2, &[1.0, 2.0, -1.0, 0.5]);
//! let w = Tensor::vector(&[0.3, -0.2]).requires_grad();
//! let v = Tensor::vector(&[1.0, 0.0]);
//! let f = x.matmul(&w).tanh().powi(2).sum();
//!
//! let g = grad_create_graph(&f, &[&w])?;
//! let hv = grad(&(&g[0] * &v).sum(), &[&w])?;
//!
//! // Against finite differences of the gradient along v.
//! let grad_at = |s: f64| {
//!     let ws = Tensor::vector(&[0.3 + s, -0.2]).requires_grad();
//!     grad(&x.matmul(&ws).tanh().powi(2).sum(), &[&ws]).unwrap().remove(0).value()
//! };
//! let fd = (grad_at(1e-6) - grad_at(-1e-6)) / 2e-6;
//! assert!((&hv[0].value() - fd).amax() < 1e-6);
//! # Ok::<(), autodiff_runtime::dynamic::GradError>(())
//! ```
//!
//! Tensors implement [`Tangent`](crate::tangent::Tangent): the optimizers, clipping and
//! the training loop drive a `Vec<Tensor>` or a `#[derive(Tangent)]` struct of tensors,
//! with [`Tensor::grad_or_zeros`] giving the matching gradients.
//!
//! Differences from PyTorch: a value saved by the graph is copied on write (the version
//! check refuses to use it, as PyTorch does, but it is never overwritten); there are no
//! views, so in-place updates through a view do not exist; in-place ops take a tensor
//! operand (`z.add_(&Tensor::scalar(2.0))` for PyTorch's `z.add_(2)`); [`grad`] gives zeros
//! for an input the output does not depend on, where PyTorch raises an error unless
//! `allow_unused=True`.

mod backward;
mod display;
mod double_backward;
mod error;
mod grad;
mod graph;
mod hook;
mod matrix_ops;
mod no_grad;
mod node;
mod ops;
mod ptr_map;
mod storage;
mod tangent;
mod tensor;

pub use error::{GradError, Shape};
pub use grad::{grad, grad_create_graph, hvp};
pub use hook::HookHandle;
pub use no_grad::{is_grad_enabled, no_grad, NoGradGuard};
pub use tensor::Tensor;
