// The crate's front page is the README: the guide, the table of accepted constructs and
// of operations, training, saving, solvers and how it works. Its code blocks run as
// doctests (`cargo test --doc -p autodiff`).
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[cfg(feature = "argmin")]
pub mod argmin;

pub use autodiff_macros::differentiable;
/// Saving and loading parameters as safetensors files (`autodiff::io::{save, load}`;
/// the default feature `safetensors`).
#[cfg(feature = "safetensors")]
pub use autodiff_optim::io;
pub use autodiff_optim::{clip, optim};
pub use autodiff_runtime::dual::{Dual, DualParts};
pub use autodiff_runtime::dynamic;
pub use autodiff_runtime::graph::{Graph, Node, NodeKind};
pub use autodiff_runtime::nalgebra;
/// The table of operations: every op `#[differentiable]` and `Tensor` know, with its
/// properties (`autodiff::op_table::OPS`, `autodiff::op_table::markdown_table()`).
pub use autodiff_runtime::op_table;
pub use autodiff_runtime::rules;
pub use autodiff_runtime::rules::Real;
pub use autodiff_runtime::simd;
pub use autodiff_runtime::threads::{num_threads, set_num_threads};
pub use autodiff_runtime::workspace::Workspace;
pub use autodiff_runtime::{broadcast, gradcheck, tangent, tape, threads, workspace};
/// Datasets: CSV loading, shuffling, batching, standardizing (the default feature `train`).
#[cfg(feature = "train")]
pub use autodiff_train::data;
/// The training loop with its progress bar, history and loss plots (the default feature
/// `train`).
#[cfg(feature = "train")]
pub use autodiff_train::train;

/// Everything a user of `#[differentiable]` needs: `use autodiff::prelude::*;`.
pub mod prelude {
    pub use crate::differentiable;
    pub use crate::Graph;
    pub use autodiff_macros::Tangent;
    pub use autodiff_optim::clip::{clip_grad_norm, clip_grad_value};
    pub use autodiff_optim::optim::{Adam, AdamW, LearningRate, Optimizer, RmsProp, Sgd};
    pub use autodiff_runtime::broadcast::{Broadcast, MatrixProduct};
    pub use autodiff_runtime::gradcheck::gradcheck;
    pub use autodiff_runtime::ops::{
        cross_entropy, log_softmax, logsumexp, mse, relu, sigmoid, softmax, softplus,
    };
    pub use autodiff_runtime::rules::stop_gradient;
    pub use autodiff_runtime::rules::Real;
    pub use autodiff_runtime::workspace::Workspace;
    pub use autodiff_runtime::Tangent;
}

/// Implementation details used by the code `#[differentiable]` generates. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use autodiff_runtime::dual::{split_eps, split_re, Dual, DualParts};
    pub use autodiff_runtime::graph::Graph;
    pub use autodiff_runtime::rules::*;
    pub use autodiff_runtime::second_order::{
        dual_constant, dual_lift, dual_split, hessian_columns, DualArg, DualSplit, DualStruct,
    };
    pub use autodiff_runtime::tangent::{
        child_path as tangent_child_path, fields_accumulate, fields_adjoint_zero, fields_finish,
        fields_recycle, FieldMuts, FieldRefs, StructureMismatch, Tangent, TangentFields,
    };
    pub use autodiff_runtime::tape::{Tape, TapeHint};
    pub use autodiff_runtime::workspace::{recycle_value, Workspace};
}

/// The examples of `docs/workspace.md`, compiled and run as doctests.
#[doc = include_str!("../docs/workspace.md")]
#[cfg(doctest)]
pub struct WorkspaceDoctests;
