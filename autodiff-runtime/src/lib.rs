//! Runtime of the `autodiff` crate: derivative rules and kernels, graphs, the `Tangent`
//! trait, the dynamic (tape) engine, optimizers and training tools.
//!
//! Users normally depend on the `autodiff` facade crate, which re-exports everything here.
#![warn(missing_docs)]

pub mod broadcast;
pub mod clip;
pub mod data;
pub mod dynamic;
pub mod gradcheck;
pub mod graph;
mod graph_svg;
#[cfg(feature = "safetensors")]
pub mod io;
pub mod ops;
pub mod optim;
pub mod rules;
pub mod simd;
pub mod tangent;
pub mod train;
pub mod workspace;

/// The table of operations both engines are built from (the `autodiff-ops` crate).
pub use autodiff_ops as op_table;
pub use broadcast::{Broadcast, MatrixProduct};
pub use clip::{clip_grad_norm, clip_grad_value, ClipError};
pub use gradcheck::{gradcheck, GradcheckError};
pub use graph::Graph;
pub use nalgebra;
pub use optim::{Adam, AdamW, LearningRate, LrScheduler, OptimError, Optimizer, RmsProp, Sgd};
pub use tangent::Tangent;
pub use workspace::Workspace;
