//! Every control-flow construct in one program, lint-clean under `deny(warnings, clippy::all)`.
#![deny(warnings, clippy::all)]

use autodiff::prelude::*;

/// How a value is squashed.
#[derive(Clone, Copy)]
pub enum Squash {
    /// `tanh`.
    Tanh,
    /// `x * s`.
    Scale(f64),
    /// Unchanged.
    Identity,
}

/// `while`, `loop` with `break` and `continue`, `match`, `if let`, `let .. else` and
/// early `return`s.
#[differentiable(wrt(x))]
pub fn everything(x: f64, n: usize, squash: Squash, offset: Option<f64>) -> f64 {
    let Some(offset) = offset else {
        return x * 2.0;
    };
    let mut s = x + offset;
    while s < 10.0 {
        s = s * 1.5 + 0.1;
    }
    let mut i = 0;
    loop {
        i += 1;
        if i > n {
            break;
        }
        if i % 2 == 0 {
            continue;
        }
        s = s.sin() + x * 0.5;
        if s > 100.0 {
            return s;
        }
    }
    let y = match squash {
        Squash::Tanh => s.tanh(),
        Squash::Scale(k) if k > 0.0 => s * k,
        Squash::Scale(_) => return -s,
        Squash::Identity => s,
    };
    if let Some(o) = Some(offset) {
        y + o
    } else {
        y
    }
}


/// A `loop` whose value is the `break`'s, with a labelled `continue` from a nested loop.
#[differentiable(wrt(x))]
pub fn loop_value(x: f64, n: usize) -> f64 {
    let mut s = x;
    let mut k = 0;
    let r = 'outer: loop {
        k += 1;
        for j in 0..n {
            if j == k {
                continue 'outer;
            }
            s = s * 1.01 + x * 0.1;
        }
        if k > 3 {
            break s * 2.0;
        }
    };
    r + s
}

fn main() {
    let (v, g) = everything_grad(1.0, 5, Squash::Scale(2.0), Some(0.5));
    assert!(v.is_finite() && g.x.is_finite());
    assert_eq!(everything_grad(1.0, 5, Squash::Tanh, None).1.x, 2.0);
    assert!(everything_grad(1.0, 3, Squash::Identity, Some(0.5)).1.x.is_finite());
    assert!(loop_value_grad(1.0, 5).1.x > 0.0);
}
