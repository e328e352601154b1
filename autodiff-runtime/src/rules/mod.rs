//! Derivative rules: the one place where every derivative formula lives.
//!
//! Rules come in the shapes JAX uses: [`ElementwiseRule`] (a unary map `f` with its
//! derivative `df`, which may read the input or the output) and [`BinaryRule`] (a
//! scalar function of two arguments with both partial derivatives). Both engines read
//! these tables: the static macro dispatches through [`UnaryOp`] / [`BinaryOp`], the
//! dynamic engine applies the same formulas to its tensors. Each rule also carries the
//! name of PyTorch's backward node, used in graphs.
//!
//! Subgradients at singular points follow PyTorch: `relu'(0) = 0`, `abs'(0) = 0`,
//! `max`/`min` ties split the gradient evenly, `powi(x, 0)' = 0`, `sqrt'(0) = inf`.

mod binary;
mod dispatch;
mod elementwise;
mod real;

pub use binary::*;
pub use dispatch::*;
pub use elementwise::*;
pub use real::Real;
