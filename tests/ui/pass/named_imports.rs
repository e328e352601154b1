//! A differentiable function imported by name (`use module::g;`, not a glob) is called by
//! its bare name, generic or not, under `#![deny(warnings, clippy::all)]`; a generic
//! function's graph needs no turbofish.
#![deny(warnings, clippy::all)]

use autodiff::prelude::*;

mod shapes {
    use autodiff::prelude::*;

    /// A differentiable callee.
    #[differentiable]
    pub fn area(r: f64) -> f64 {
        3.0 * r * r
    }

    /// A generic differentiable callee.
    #[differentiable]
    pub fn cube<T: Real>(x: T) -> T {
        x * x * x
    }
}

use shapes::{area, cube};

/// Calls both by bare name.
#[differentiable]
pub fn total<T: Real>(r: T) -> T {
    cube(r) + r
}

/// Calls the non-generic one.
#[differentiable]
pub fn both(r: f64) -> f64 {
    area(r) + cube(r)
}

fn main() {
    let (v, g) = total_grad(2.0f64);
    assert_eq!((v, g.r), (10.0, 13.0));
    let (v, g) = both_grad(1.0);
    assert_eq!((v, g.r), (4.0, 9.0));
    assert!(total_graph().to_dot().contains("CubeBackward0"));
}
