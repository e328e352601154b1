//! Calls by bare name find their differentiable callees through the traits those emit:
//! in the same module, through a glob import of another module, and for a `custom_vjp`
//! function; a plain helper called on constants only stays an ordinary call.

use autodiff::prelude::*;

mod physics {
    use autodiff::prelude::*;

    #[differentiable]
    pub fn energy(x: f64, k: f64) -> f64 {
        0.5 * k * x * x
    }

    #[differentiable(wrt(x))]
    pub fn damped(x: f64, c: f64) -> f64 {
        x * (-c).exp()
    }
}

use physics::*;

/// A plain helper: no gradient flows through it, and none is asked for.
fn stiffness(n: usize) -> f64 {
    1.0 + n as f64
}

fn halve_backward(_x: f64, d_out: f64) -> f64 {
    0.5 * d_out
}

#[differentiable(custom_vjp = halve_backward)]
fn halve(x: f64) -> f64 {
    x * 0.5
}

#[differentiable(wrt(x))]
fn total(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s += energy(x, stiffness(i)) + damped(x * x, stiffness(i) * 0.1);
    }
    halve(s) + x.sin()
}

#[test]
fn bare_calls_through_a_glob_import_and_custom_vjp_match_finite_differences() {
    let h = 1e-6;
    for &(x, n) in &[(0.7, 3), (-1.3, 1), (2.0, 4)] {
        let (v, g) = total_grad(x, n);
        assert_eq!(v, total(x, n));
        let fd = (total(x + h, n) - total(x - h, n)) / (2.0 * h);
        assert!(
            (g.x - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "{x}: {} vs {fd}",
            g.x
        );
    }
}

#[test]
fn the_graph_names_the_callees() {
    let ops: Vec<String> = total_graph().nodes().iter().map(|n| n.op.clone()).collect();
    assert!(ops.contains(&"EnergyBackward0".to_string()), "{ops:?}");
    assert!(ops.contains(&"DampedBackward0".to_string()), "{ops:?}");
}

mod forces {
    use autodiff::prelude::*;

    #[differentiable]
    pub fn spring(x: f64, k: f64) -> f64 {
        0.5 * k * x * x
    }

    #[differentiable(wrt(x))]
    pub fn drag<T: Real>(x: T, c: T) -> T {
        c * x * x.abs()
    }

    pub mod deep {
        use autodiff::prelude::*;

        #[differentiable]
        pub fn wave(x: f64) -> f64 {
            x.sin() * 2.0
        }
    }
}

// Imports by name, not glob: `use` brings the function's trait along with it.
use forces::deep::wave;
use forces::{drag, spring};

#[differentiable(wrt(x, k))]
fn named_imports(x: f64, k: f64, n: usize) -> f64 {
    let mut s = spring(x, k);
    for i in 0..n {
        s += drag(x * (i as f64 + 1.0), 0.3) + wave(s * 0.1);
    }
    s
}

#[test]
fn bare_calls_through_named_imports_match_finite_differences() {
    let h = 1e-6;
    for &(x, k, n) in &[(0.7, 2.0, 3), (-1.3, 0.5, 1), (0.2, 1.5, 0)] {
        let (v, g) = named_imports_grad(x, k, n);
        assert_eq!(v, named_imports(x, k, n));
        let fx = (named_imports(x + h, k, n) - named_imports(x - h, k, n)) / (2.0 * h);
        let fk = (named_imports(x, k + h, n) - named_imports(x, k - h, n)) / (2.0 * h);
        assert!(
            (g.x - fx).abs() < 1e-6 * (1.0 + fx.abs()),
            "{x}: {} vs {fx}",
            g.x
        );
        assert!(
            (g.k - fk).abs() < 1e-6 * (1.0 + fk.abs()),
            "{x}: {} vs {fk}",
            g.k
        );
    }
    let ops: Vec<String> = named_imports_graph()
        .nodes()
        .iter()
        .map(|n| n.op.clone())
        .collect();
    for op in ["SpringBackward0", "DragBackward0", "WaveBackward0"] {
        assert!(ops.contains(&op.to_string()), "{ops:?}");
    }
}
