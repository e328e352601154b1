//! The examples of `autodiff`, a package of their own so that running one builds only the
//! library, not the tools of the tests and benches: `cargo run --release --example train`
//! in the repository's root runs the main one.
