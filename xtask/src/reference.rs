//! Reference values for the cross-check of the peers: each workload's loss and the sum of
//! squares of its gradient, computed by the static engine with the benches' own workload
//! code and inputs (`benches/workloads/`, included by path), and the loss after the
//! 1000-step training loop of `benches/training.rs`. A peer whose numbers agree ran the
//! same function on the same inputs.

#[path = "../../benches/workloads/elementwise.rs"]
#[allow(dead_code)] // the hand-written and dynamic forms are for the benches
mod elementwise;
#[path = "../../benches/workloads/mlp.rs"]
#[allow(dead_code)]
mod mlp;

use autodiff::prelude::*;
use std::collections::BTreeMap;

/// The loss (training: after training) and the gradient's sum of squares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    /// The loss at the workload's inputs; for the training loop, after training.
    pub value: f64,
    /// The sum of squares of every gradient element (none for the training loop).
    pub grad_sq: Option<f64>,
}

/// Two numbers agree when their relative difference is at most this (summation order
/// differs between libraries; 1000 training steps amplify it a little).
pub const RELATIVE_TOLERANCE: f64 = 1e-6;

/// Whether `a` and `b` agree within [`RELATIVE_TOLERANCE`].
pub fn agrees(a: f64, b: f64) -> bool {
    (a - b).abs() <= RELATIVE_TOLERANCE * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

/// `benches/scalar.rs`'s tutorial loss.
#[differentiable]
fn tutorial_loss(w: f64, x: f64) -> f64 {
    let y = w * x;
    (y - 5.0).powi(2)
}

/// The reference of every workload, by criterion group name. Takes about a second in a
/// release build (mostly the 10^6-element workload and the training loop).
pub fn compute() -> Result<BTreeMap<String, Reference>, String> {
    let mut out = BTreeMap::new();
    let (value, g) = tutorial_loss_grad(1.0, 2.0);
    out.insert(
        "scalar/tutorial_loss".to_owned(),
        Reference {
            value,
            grad_sq: Some(g.w * g.w + g.x * g.x),
        },
    );

    let (a, b, x) = elementwise::inputs(1_000_000, 7);
    let (value, g) = elementwise::elementwise_grad(&a, &b, &x);
    out.insert(
        "elementwise/1000000".to_owned(),
        Reference {
            value,
            grad_sq: Some(g.a.norm_squared() + g.b.norm_squared()),
        },
    );

    for (group, rows, inputs, hidden, classes) in
        [("mlp", 64, 784, 128, 10), ("mlp_small", 150, 4, 16, 3)]
    {
        let m = mlp::Mlp::random(inputs, hidden, classes, 1);
        let batch = mlp::Batch::random(rows, inputs, classes, 2);
        let (value, g) = mlp::mlp_loss_grad(&m, &batch.x, &batch.labels);
        out.insert(
            group.to_owned(),
            Reference {
                value,
                grad_sq: Some(g.m.norm_squared()),
            },
        );
    }

    // benches/training.rs: Adam(0.01), clip to norm 1, 1000 steps, static gradient.
    let mut m = mlp::Mlp::random(4, 16, 3, 1);
    let batch = mlp::Batch::random(150, 4, 3, 2);
    let mut opt = Adam::new(0.01);
    for _ in 0..1000 {
        let (_, g) = mlp::mlp_loss_grad(&m, &batch.x, &batch.labels);
        let mut g = g.m;
        clip_grad_norm(&mut g, 1.0).map_err(|e| format!("training reference: {e}"))?;
        opt.step(&mut m, &g)
            .map_err(|e| format!("training reference: {e}"))?;
    }
    out.insert(
        "training/mlp_small_adam_1000".to_owned(),
        Reference {
            value: mlp::mlp_loss(&m, &batch.x, &batch.labels),
            grad_sq: None,
        },
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_is_relative() {
        assert!(agrees(1.0, 1.0 + 1e-7));
        assert!(!agrees(1.0, 1.0 + 1e-5));
        assert!(agrees(1e-9, 1e-9 * (1.0 + 1e-7)));
        assert!(!agrees(1e-9, 2e-9));
        assert!(agrees(0.0, 0.0));
    }

    #[test]
    fn tutorial_reference_by_hand() {
        // (1 * 2 - 5)^2 = 9; d/dw = 2 (w x - 5) x = -12, d/dx = 2 (w x - 5) w = -6.
        let (value, g) = tutorial_loss_grad(1.0, 2.0);
        assert_eq!((value, g.w * g.w + g.x * g.x), (9.0, 180.0));
    }
}
