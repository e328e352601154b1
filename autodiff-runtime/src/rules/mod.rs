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
mod bounds;
mod callee;
mod cast;
mod clone;
mod construct;
mod containers;
mod dispatch;
mod elementwise;
mod float_methods;
mod fused;
mod gemm;
mod index_set;
mod index_shape;
mod integers;
mod lanes;
mod map;
mod matrix;
mod matrix_binary;
mod matrix_elementwise;
mod name;
mod nn;
mod product;
mod real;
mod reductions;
mod sequence;
mod shape;
mod ternary;
mod views;

pub use binary::*;
pub use callee::{result_type, Differentiated, Probe};
pub use cast::*;
pub use clone::*;
pub use construct::*;
pub use dispatch::*;
pub use elementwise::*;
pub use float_methods::FloatMethods;
pub use fused::*;
pub use index_set::*;
pub use index_shape::*;
pub use lanes::{FusedKernel, FusedValue, Saved};
pub use map::{map, map_vjp, MapElements};
pub use matrix::ensure_shape;
pub use matrix_binary::{
    broadcast_shape, BroadcastDim, ComponentDiv, ComponentMul, ElementwiseBinary,
};
pub use name::OpName;
pub use nn::{CrossEntropy, LogSoftmax, LogSumExp, Mse, Softmax};
pub use product::{Dot, MatMul, MATMUL_TORCH_NAME, MATVEC_TORCH_NAME};
pub use real::Real;
pub use reductions::{ColumnSum, Mean, Norm, NormSquared, RowSum, Sum};
pub use sequence::{seq_adjoint, SeqAdjoint};
pub use shape::{Index, Index2, Transpose};
pub use ternary::*;
pub use views::{Column, Columns, Cross, FixedColumns, FixedRows, FixedView, Row, Rows, View};
