//! Second order on the bundled Iris data (`data/iris.csv`):
//!
//! 1. Newton's method with `name_hessian`: a multinomial logistic regression (4 features,
//!    3 classes, 15 parameters, a small L2 penalty) converges to a gradient of 1e-12 in a
//!    handful of steps, each `p -= H^-1 g` with the Hessian's Cholesky factor.
//! 2. Truncated Newton with `name_hvp`: the Iris MLP (4-16-3, tanh, 131 parameters) trained
//!    by conjugate gradients on Hessian-vector products (damped, `(H + lambda I) p = -g`,
//!    stopped at negative curvature), without ever forming the Hessian.
//!
//! Run with `cargo run --release --example second_order`.

use autodiff::data::{Dataset, Rng, Standardizer};
use autodiff::nalgebra::{DMatrix, DVector, RowDVector};
use autodiff::prelude::*;

const IRIS_CSV: &str = include_str!("../data/iris.csv");

/// Mean cross-entropy of `x w + b` plus `lambda / 2 (|w|^2 + |b|^2)`.
#[differentiable(wrt(w, b), hvp)]
fn logistic_loss(
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    x: &DMatrix<f64>,
    labels: &[usize],
    lambda: f64,
) -> f64 {
    let penalty = 0.5 * lambda * (w.norm_squared() + b.norm_squared());
    cross_entropy(&(x * w + b), labels) + penalty
}

/// The Iris MLP's loss, `tanh(x w1 + b1) w2 + b2` under cross-entropy.
#[differentiable(wrt(w1, b1, w2, b2), hvp)]
fn mlp_loss(
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    x: &DMatrix<f64>,
    labels: &[usize],
) -> f64 {
    let hidden = (x * w1 + b1).tanh();
    cross_entropy(&(hidden * w2 + b2), labels)
}

/// The scalars of `t` in `Tangent` order (the Hessian's order).
fn flat<T: Tangent<Scalar = f64>>(t: &T) -> DVector<f64> {
    let mut v = Vec::new();
    t.visit(&mut |leaf| v.extend_from_slice(leaf));
    DVector::from_vec(v)
}

/// `t + s * d`, `d` flat in `Tangent` order.
fn add_flat<T: Tangent<Scalar = f64> + Clone>(t: &T, s: f64, d: &DVector<f64>) -> T {
    let mut out = t.clone();
    let mut k = 0;
    out.visit_mut(&mut |leaf| {
        for e in leaf.iter_mut() {
            *e += s * d[k];
            k += 1;
        }
    });
    out
}

fn newton_logistic(x: &DMatrix<f64>, labels: &[usize]) {
    println!("Newton's method, logistic regression (15 parameters, name_hessian):");
    let lambda = 1e-2;
    let mut p = LogisticLossGrad {
        w: DMatrix::zeros(4, 3),
        b: RowDVector::zeros(3),
    };
    for step in 0..20 {
        let (loss, g, h) = logistic_loss_hessian(&p.w, &p.b, x, labels, lambda);
        let g = flat(&g);
        println!(
            "  step {step:2}: loss {loss:.12}, |gradient| {:.3e}",
            g.norm()
        );
        if g.norm() < 1e-12 {
            break;
        }
        let chol = h
            .cholesky()
            .expect("the penalised logistic loss has a positive definite Hessian");
        p = add_flat(&p, -1.0, &chol.solve(&g));
    }
}

/// Conjugate gradients on `(H + lambda I) p = -g`, at most `iterations`, stopping at
/// negative curvature (then returning the last direction that had positive curvature).
fn truncated_newton_direction(
    hvp: impl Fn(&DVector<f64>) -> DVector<f64>,
    g: &DVector<f64>,
    lambda: f64,
    iterations: usize,
) -> DVector<f64> {
    let mut p = DVector::zeros(g.len());
    let mut r = -g;
    let mut d = r.clone();
    let mut rr = r.dot(&r);
    for _ in 0..iterations {
        let hd = hvp(&d) + &d * lambda;
        let curvature = d.dot(&hd);
        if curvature <= 0.0 {
            break;
        }
        let alpha = rr / curvature;
        p += &d * alpha;
        r -= &hd * alpha;
        let rr_next = r.dot(&r);
        if rr_next.sqrt() < 1e-10 * g.norm() {
            break;
        }
        d = &r + &d * (rr_next / rr);
        rr = rr_next;
    }
    p
}

fn truncated_newton_mlp(x: &DMatrix<f64>, labels: &[usize]) {
    println!("Truncated Newton, Iris MLP 4-16-3 (131 parameters, name_hvp):");
    let mut rng = Rng::new(7);
    let mut p = MlpLossGrad {
        w1: rng.normal_matrix(4, 16, 0.5),
        b1: RowDVector::zeros(16),
        w2: rng.normal_matrix(16, 3, 0.5),
        b2: RowDVector::zeros(3),
    };
    let mut lambda = 1.0;
    let loss_at = |p: &MlpLossGrad| mlp_loss(&p.w1, &p.b1, &p.w2, &p.b2, x, labels);
    for step in 0..25 {
        let (loss, g) = mlp_loss_grad(&p.w1, &p.b1, &p.w2, &p.b2, x, labels);
        let gf = flat(&g);
        let hvp = |d: &DVector<f64>| {
            let v = add_flat(&g.zero_like(), 1.0, d);
            flat(&mlp_loss_hvp(&p.w1, &p.b1, &p.w2, &p.b2, x, labels, &v).2)
        };
        let d = truncated_newton_direction(hvp, &gf, lambda, 20);
        let candidate = add_flat(&p, 1.0, &d);
        let new_loss = loss_at(&candidate);
        if new_loss < loss {
            p = candidate;
            lambda = (lambda * 0.5).max(1e-6);
        } else {
            lambda *= 4.0;
        }
        if step % 5 == 0 || step == 24 {
            println!(
                "  step {step:2}: loss {:.6}, |gradient| {:.3e}, damping {lambda:.1e}",
                loss_at(&p),
                gf.norm()
            );
        }
    }
    let hidden = x.matmul(&p.w1).add_row(&p.b1).map(f64::tanh);
    let logits = hidden.matmul(&p.w2).add_row(&p.b2);
    let correct = (0..x.nrows())
        .filter(|&i| logits.row(i).transpose().argmax().0 == labels[i])
        .count();
    println!("  training accuracy {correct}/{}", x.nrows());
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iris = Dataset::from_csv(IRIS_CSV)?;
    let x = Standardizer::fit(&iris.features).transform(&iris.features)?;
    newton_logistic(&x, &iris.labels);
    truncated_newton_mlp(&x, &iris.labels);
    Ok(())
}
