//! The while-loop pendulum workload of `benches/scalar.rs`: the hand-written adjoint the
//! bench times against the `#[differentiable]` gradient and central differences.

#[path = "../benches/workloads/pendulum.rs"]
#[allow(dead_code)] // the forward-only entries are for the bench
mod pendulum;
