//! Project automation for `autodiff`. Two commands: the compile-time report
//! ([`compile_report`]: `cargo run --release -p xtask -- compile-report`, writes
//! `docs/compile_time.md`) and the performance report:
//!
//! ```text
//! cargo run --release -p xtask -- bench-report [--quick] [--no-run] [--no-peers] ...
//! ```
//!
//! It runs the criterion benches (`scalar`, `elementwise`, `mlp`, `training`, and the
//! macro's `expansion`) and the PyTorch / JAX peers in `benches/peers/`, each pinned to one
//! core with `taskset`, then writes `docs/benchmarks.md`, `docs/benchmarks.svg` and the
//! README's block between `<!-- bench-report:begin -->` and `<!-- bench-report:end -->`.
//! `--no-run` re-renders from existing criterion results and a peers JSON file.

#![warn(missing_docs)]

pub mod compile_report;
pub mod criterion;
pub mod machine;
pub mod peers;
pub mod reference;
pub mod render;
pub mod report;
pub mod svg;
pub mod targets;
pub mod workloads;
