//! The claims of `examples/gradient_problems.rs`, checked on the same kind of networks:
//! gradients vanish towards the input of a deep sigmoid network and not of a ReLU one,
//! the health report flags both problems, and `clip_grad_norm` keeps SGD finite where
//! the unclipped run overflows.

use autodiff::data::{Dataset, Rng, Standardizer};
use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;
use autodiff::train::{GradStatus, HealthReport, HealthThresholds};

const IRIS_CSV: &str = include_str!("../data/iris.csv");
const WIDTH: usize = 32;

/// Eight bias-free dense layers: 4 -> 32 -> ... -> 32 -> 3.
#[derive(Debug, Clone, Tangent)]
struct Deep {
    w1: DMatrix<f64>,
    w2: DMatrix<f64>,
    w3: DMatrix<f64>,
    w4: DMatrix<f64>,
    w5: DMatrix<f64>,
    w6: DMatrix<f64>,
    w7: DMatrix<f64>,
    w8: DMatrix<f64>,
}

impl Deep {
    fn new(mut draw: impl FnMut(usize, usize) -> DMatrix<f64>) -> Self {
        Deep {
            w1: draw(4, WIDTH),
            w2: draw(WIDTH, WIDTH),
            w3: draw(WIDTH, WIDTH),
            w4: draw(WIDTH, WIDTH),
            w5: draw(WIDTH, WIDTH),
            w6: draw(WIDTH, WIDTH),
            w7: draw(WIDTH, WIDTH),
            w8: draw(WIDTH, 3),
        }
    }
}

#[differentiable(wrt(n))]
fn sigmoid_loss(n: &Deep, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let h = sigmoid(&(x * &n.w1));
    let h = sigmoid(&(h * &n.w2));
    let h = sigmoid(&(h * &n.w3));
    let h = sigmoid(&(h * &n.w4));
    let h = sigmoid(&(h * &n.w5));
    let h = sigmoid(&(h * &n.w6));
    let h = sigmoid(&(h * &n.w7));
    cross_entropy(&(h * &n.w8), labels)
}

#[differentiable(wrt(n))]
fn relu_loss(n: &Deep, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let h = relu(&(x * &n.w1));
    let h = relu(&(h * &n.w2));
    let h = relu(&(h * &n.w3));
    let h = relu(&(h * &n.w4));
    let h = relu(&(h * &n.w5));
    let h = relu(&(h * &n.w6));
    let h = relu(&(h * &n.w7));
    cross_entropy(&(h * &n.w8), labels)
}

fn iris() -> (DMatrix<f64>, Vec<usize>) {
    let d = Dataset::from_csv(IRIS_CSV).unwrap();
    (
        Standardizer::fit(&d.features)
            .transform(&d.features)
            .unwrap(),
        d.labels,
    )
}

fn norms(report: &HealthReport) -> Vec<f64> {
    report.params.iter().map(|p| p.grad_norm).collect()
}

#[test]
fn sigmoid_gradients_vanish_towards_the_input_relu_gradients_do_not() {
    let (x, labels) = iris();
    let mut rng = Rng::new(0);
    let sig = Deep::new(|i, o| rng.uniform_matrix(i, o, 1.0 / (i as f64).sqrt()));
    let rel = Deep::new(|i, o| rng.normal_matrix(i, o, (2.0 / i as f64).sqrt()));
    let thresholds = HealthThresholds {
        vanishing: 1e-5,
        exploding: 1e3,
    };
    let report_s = HealthReport::new(&sig, &sigmoid_loss_grad(&sig, &x, &labels).1.n, thresholds);
    let report_r = HealthReport::new(&rel, &relu_loss_grad(&rel, &x, &labels).1.n, thresholds);
    let (s, r) = (norms(&report_s), norms(&report_r));
    // sigmoid' <= 1/4: each layer shrinks the gradient; over 7 layers by far more than 10^3.
    assert!(s[7] / s[0] > 1e3, "sigmoid norms {s:?}");
    assert!(
        s.windows(2).skip(1).all(|w| w[0] < w[1]),
        "sigmoid norms {s:?}"
    );
    assert!(r[7] / r[0] < 10.0 && r[0] / r[7] < 10.0, "ReLU norms {r:?}");
    assert_eq!(
        report_s.params[0].status,
        GradStatus::Vanishing,
        "{report_s}"
    );
    assert_eq!(report_s.params[0].name, "w1");
    assert!(report_r.is_healthy(), "{report_r}");
}

#[test]
fn clipping_keeps_sgd_finite_where_the_unclipped_run_overflows() {
    let (x, labels) = iris();
    let mut rng = Rng::new(1);
    let big = Deep::new(|i, o| rng.normal_matrix(i, o, 2.5 * (2.0 / i as f64).sqrt()));
    let (loss0, g0) = relu_loss_grad(&big, &x, &labels);
    let report = HealthReport::new(&big, &g0.n, HealthThresholds::default());
    assert!(
        report.flagged().any(|p| p.status == GradStatus::Exploding),
        "{report}"
    );

    // 20 steps of SGD; the final loss and gradient norm, or why the run stopped.
    let run = |clip: Option<f64>| -> Result<(f64, f64), String> {
        let mut n = big.clone();
        let mut opt = Sgd::new(0.02);
        let mut last = (loss0, f64::NAN);
        for _ in 0..20 {
            let (l, mut g) = relu_loss_grad(&n, &x, &labels);
            last = (l, g.n.norm_squared().sqrt());
            if let Some(max_norm) = clip {
                clip_grad_norm(&mut g.n, max_norm).map_err(|e| e.to_string())?;
            }
            opt.step(&mut n, &g.n).map_err(|e| e.to_string())?;
        }
        Ok(last)
    };
    // Without clipping the first steps are huge. Depending on the draw, the run either
    // overflows (the optimizer refuses the non-finite step) or one step switches off
    // every ReLU: the logits are all 0, the loss is stuck at ln 3 and the gradient is 0.
    match run(None) {
        Err(e) => assert!(e.contains("NaN") || e.contains("inf"), "{e}"),
        Ok((loss, grad_norm)) => {
            assert_eq!(
                grad_norm, 0.0,
                "the unclipped run still learns: loss {loss}"
            );
            assert!((loss - 3f64.ln()).abs() < 1e-12, "{loss}");
        }
    }
    // With clipping every step is at most lr * 1.0 long: the loss falls and the network
    // keeps learning.
    let (clipped, grad_norm) = run(Some(1.0)).unwrap();
    assert!(
        clipped.is_finite() && clipped < 0.5 * loss0,
        "{loss0} -> {clipped}"
    );
    assert!(grad_norm > 0.0);
}
