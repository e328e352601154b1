//! The benches of `autodiff`, a package of their own so that criterion is built only for
//! them: `cargo bench -p autodiff-benches` runs them all, `cargo run --release -p xtask --
//! bench-report` runs them with the PyTorch and JAX peers and writes the report. The
//! workloads they share with the tests are in `workloads/`.

pub mod fused_tanh;
