//! Vanishing and exploding gradients, made visible.
//!
//! 1. **Vanishing**: in a 10-layer network of sigmoids, each layer multiplies the
//!    backpropagated gradient by `sigmoid'(z) <= 1/4` times its weights, so the first
//!    layers receive gradients orders of magnitude smaller than the last ones and barely
//!    learn. The same network with ReLU (whose derivative is 1 where it is active) and
//!    He initialisation keeps the per-layer gradient norms within a small factor.
//! 2. **Exploding**: the ReLU network with weights drawn too large (2.5 times He's
//!    scale) amplifies the signal at every layer; gradients are in the thousands and
//!    plain SGD jumps far away: here the run overflows within a few steps (with other
//!    draws a jump can instead switch off every ReLU, and the network stops learning for
//!    good). `clip_grad_norm` bounds every step and the same run trains.
//!
//! The networks are plain functions with `#[differentiable(wrt(net))]` over a
//! `#[derive(Tangent)]` struct, trained on the Iris flowers (full batch). The gradient
//! health report names each layer and flags it.
//!
//! ```sh
//! cargo run --release --example gradient_problems [-- --out DIR]
//! ```
//!
//! Writes `vanishing.svg`/`.png` (gradient norm per layer, both networks) and
//! `exploding.svg`/`.png` (loss and gradient norm per step, with and without clipping)
//! into the output directory (default `target/gradient-problems/`).

use std::error::Error;
use std::path::PathBuf;

use autodiff::clip::total_norm;
use autodiff::data::{Dataset, Rng, Standardizer};
use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;
use autodiff::train::{HealthReport, HealthThresholds, LineChart};

const IRIS_CSV: &str = include_str!("../data/iris.csv");
const DEPTH: usize = 10;
const WIDTH: usize = 32;

/// Ten dense layers without biases: 4 -> 32 -> ... -> 32 -> 3.
#[derive(Debug, Clone, Tangent)]
struct DeepNet {
    w1: DMatrix<f64>,
    w2: DMatrix<f64>,
    w3: DMatrix<f64>,
    w4: DMatrix<f64>,
    w5: DMatrix<f64>,
    w6: DMatrix<f64>,
    w7: DMatrix<f64>,
    w8: DMatrix<f64>,
    w9: DMatrix<f64>,
    w10: DMatrix<f64>,
}

impl DeepNet {
    /// Layer `k` (1-based) gets weights `fan_in x fan_out` drawn by `draw(fan_in, fan_out)`.
    fn new(mut draw: impl FnMut(usize, usize) -> DMatrix<f64>) -> Self {
        let mut layer = |k: usize| {
            let fan_in = if k == 1 { 4 } else { WIDTH };
            let fan_out = if k == DEPTH { 3 } else { WIDTH };
            draw(fan_in, fan_out)
        };
        DeepNet {
            w1: layer(1),
            w2: layer(2),
            w3: layer(3),
            w4: layer(4),
            w5: layer(5),
            w6: layer(6),
            w7: layer(7),
            w8: layer(8),
            w9: layer(9),
            w10: layer(10),
        }
    }
}

/// Cross-entropy of the sigmoid network.
#[differentiable(wrt(net))]
fn sigmoid_net_loss(net: &DeepNet, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let h = sigmoid(&(x * &net.w1));
    let h = sigmoid(&(h * &net.w2));
    let h = sigmoid(&(h * &net.w3));
    let h = sigmoid(&(h * &net.w4));
    let h = sigmoid(&(h * &net.w5));
    let h = sigmoid(&(h * &net.w6));
    let h = sigmoid(&(h * &net.w7));
    let h = sigmoid(&(h * &net.w8));
    let h = sigmoid(&(h * &net.w9));
    cross_entropy(&(h * &net.w10), labels)
}

/// Cross-entropy of the ReLU network.
#[differentiable(wrt(net))]
fn relu_net_loss(net: &DeepNet, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let h = relu(&(x * &net.w1));
    let h = relu(&(h * &net.w2));
    let h = relu(&(h * &net.w3));
    let h = relu(&(h * &net.w4));
    let h = relu(&(h * &net.w5));
    let h = relu(&(h * &net.w6));
    let h = relu(&(h * &net.w7));
    let h = relu(&(h * &net.w8));
    let h = relu(&(h * &net.w9));
    cross_entropy(&(h * &net.w10), labels)
}

/// The gradient norm of each layer, first to last, from the health report.
fn layer_norms(report: &HealthReport) -> Vec<(f64, f64)> {
    report
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| ((i + 1) as f64, p.grad_norm))
        .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = match std::env::args().nth(1).as_deref() {
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/gradient-problems"),
        Some("--out") => PathBuf::from(std::env::args().nth(2).ok_or("--out needs a directory")?),
        Some(other) => {
            return Err(format!(
                "unknown argument `{other}`; usage: cargo run --release --example gradient_problems [-- --out DIR]"
            )
            .into())
        }
    };
    std::fs::create_dir_all(&out)?;

    let iris = Dataset::from_csv(IRIS_CSV)?;
    let x = Standardizer::fit(&iris.features).transform(&iris.features)?;
    let labels = iris.labels;
    let mut rng = Rng::new(0);
    // Stricter than the default (1e-7), so that the report flags the layers that barely learn.
    let thresholds = HealthThresholds {
        vanishing: 1e-5,
        exploding: 1e3,
    };

    println!("== 1. Vanishing gradients: 10 sigmoid layers against 10 ReLU layers ==");
    // torch.nn.Linear's default for the sigmoid net, He (Kaiming) normal for the ReLU net.
    let sigmoid_net = DeepNet::new(|i, o| {
        let bound = 1.0 / (i as f64).sqrt();
        rng.uniform_matrix(i, o, bound)
    });
    let relu_net = DeepNet::new(|i, o| rng.normal_matrix(i, o, (2.0 / i as f64).sqrt()));
    let (loss_s, g_s) = sigmoid_net_loss_grad(&sigmoid_net, &x, &labels);
    let (loss_r, g_r) = relu_net_loss_grad(&relu_net, &x, &labels);
    let report_s = HealthReport::new(&sigmoid_net, &g_s.net, thresholds);
    let report_r = HealthReport::new(&relu_net, &g_r.net, thresholds);
    println!("sigmoid network, loss {loss_s:.4}, gradient health at initialisation:\n{report_s}");
    println!("ReLU network, loss {loss_r:.4}, gradient health at initialisation:\n{report_r}");
    let (s, r) = (layer_norms(&report_s), layer_norms(&report_r));
    println!(
        "last layer / first layer gradient norm: sigmoid {:.1e}, ReLU {:.1}",
        s[DEPTH - 1].1 / s[0].1,
        r[DEPTH - 1].1 / r[0].1
    );
    let chart = LineChart::new("gradient norm per layer at initialisation (10-layer networks)")
        .x_label("layer (1 = input side)")
        .y_label("L2 norm of the weight gradient")
        .log_y(true)
        .series("sigmoid", s)
        .series("ReLU (He init)", r);
    chart.save_svg(out.join("vanishing.svg"))?;
    chart.save_png(out.join("vanishing.png"))?;

    println!("\n== 2. Exploding gradients: ReLU layers initialised 2.5x too large ==");
    let big = DeepNet::new(|i, o| rng.normal_matrix(i, o, 2.5 * (2.0 / i as f64).sqrt()));
    let (loss_big, g_big) = relu_net_loss_grad(&big, &x, &labels);
    println!(
        "loss {loss_big:.4e}, gradient health at initialisation:\n{}",
        HealthReport::new(&big, &g_big.net, thresholds)
    );

    let steps = 300;
    let lr = 0.02;
    let mut curves = Vec::new();
    for clip in [None, Some(1.0)] {
        let mut net = big.clone();
        let mut opt = Sgd::new(lr);
        let (mut losses, mut norms) = (Vec::new(), Vec::new());
        let label = match clip {
            None => "no clipping".to_string(),
            Some(c) => format!("clip_grad_norm({c})"),
        };
        for step in 0..steps {
            let (loss, mut g) = relu_net_loss_grad(&net, &x, &labels);
            let norm = match clip {
                Some(max_norm) => clip_grad_norm(&mut g.net, max_norm),
                // The same measurement (the norm before clipping), changing nothing.
                None => Ok(total_norm(&g.net)),
            };
            let norm = match norm {
                Ok(norm) => norm,
                Err(e) => {
                    println!("  {label}: step {step}: {e}");
                    break;
                }
            };
            if !loss.is_finite() || !norm.is_finite() {
                println!(
                    "  {label}: step {step}: the loss is {loss}, the gradient norm {norm}; stopping"
                );
                break;
            }
            losses.push((step as f64, loss));
            norms.push((step as f64, norm));
            if let Err(e) = opt.step(&mut net, &g.net) {
                println!("  {label}: step {step}: the optimizer refused the step: {e}");
                break;
            }
        }
        let (first, last) = (losses[0].1, losses[losses.len() - 1].1);
        println!(
            "  {label}: {} steps of SGD(lr {lr}), loss {first:.3e} -> {last:.3e}, gradient norm {:.3e} -> {:.3e}",
            losses.len(),
            norms[0].1,
            norms[norms.len() - 1].1
        );
        curves.push((label, losses, norms));
    }
    let mut chart =
        LineChart::new("exploding gradients: SGD on a badly initialised 10-layer ReLU net")
            .x_label("step")
            .y_label("loss, gradient norm")
            .log_y(true);
    for (label, losses, norms) in curves {
        chart = chart
            .series(format!("loss, {label}"), losses)
            .series(format!("gradient norm, {label}"), norms);
    }
    chart.save_svg(out.join("exploding.svg"))?;
    chart.save_png(out.join("exploding.png"))?;

    println!("\nwrote");
    for f in [
        "vanishing.svg",
        "vanishing.png",
        "exploding.svg",
        "exploding.png",
    ] {
        println!("  {}", out.join(f).display());
    }
    Ok(())
}
