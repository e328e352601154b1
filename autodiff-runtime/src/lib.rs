//! Runtime of the `autodiff` crate: derivative rules and kernels, graphs, the `Tangent`
//! trait, the dynamic (tape) engine, optimizers and training tools.
//!
//! Users normally depend on the `autodiff` facade crate, which re-exports everything here.
#![warn(missing_docs)]

pub mod graph;
pub mod rules;
pub mod simd;

pub use graph::Graph;
pub use nalgebra;
