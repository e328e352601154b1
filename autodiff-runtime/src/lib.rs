//! The engines of the `autodiff` crate: derivative rules and kernels, SIMD math, the
//! workspace, graphs, the `Tangent` trait, the dynamic (tape) engine and gradient
//! checking. Optimizers and clipping are in `autodiff-optim`, the training loop, data and
//! plots in `autodiff-train`; this crate depends on neither, nor on any plotting or
//! progress-bar crate.
//!
//! Users normally depend on the `autodiff` facade crate, which re-exports everything here.
#![warn(missing_docs)]

pub mod broadcast;
pub mod dual;
pub mod dynamic;
pub mod gradcheck;
pub mod graph;
mod graph_svg;
pub mod ops;
pub mod rules;
pub mod second_order;
pub mod simd;
pub mod tangent;
pub mod tape;
pub mod threads;
pub mod workspace;

/// The table of operations both engines are built from (the `autodiff-ops` crate).
pub use autodiff_ops as op_table;
pub use broadcast::{Broadcast, MatrixProduct};
pub use dual::{Dual, DualParts};
pub use gradcheck::{gradcheck, GradcheckError};
pub use graph::Graph;
pub use nalgebra;
pub use tangent::Tangent;
pub use threads::{num_threads, set_num_threads};
pub use workspace::Workspace;
