//! ADBench's objectives (microsoft/ADBench, MIT-licensed; `src/cpp/shared/gmm.h`, `ba.h`
//! and `lstm.h`), written in the Rust the macro accepts, as the C++ reads them: loops over points
//! and components, local vectors written by index. Their data are ADBench's own files,
//! bundled in `data/adbench/` (origin and license in `data/README.md`).
//!
//! - GMM: the negative log-likelihood of a Gaussian mixture plus a Wishart prior, in
//!   three forms: `#[differentiable]` ([`gmm_objective`]), the same code without the
//!   attribute ([`gmm_objective_plain`]), and a hand-written gradient
//!   ([`gmm_objective_handwritten`], derivation in its comments).
//! - BA: bundle adjustment's reprojection error of one observation
//!   ([`ba_reproj`], 11 camera parameters, a 3-D point and a weight to two residuals) and
//!   its plain twin ([`ba_reproj_plain`]); the objective's Jacobian is two VJPs per
//!   observation ([`ba_jacobian`]), as ADBench's tools compute it row block by row block.
//! - LSTM: [`lstm_objective`] and [`lstm_objective_plain`] (no hand-written gradient),
//!   and its dynamic-engine recording ([`lstm_dynamic`]).
//!
//! Shared by `benches/adbench.rs` and `tests/adbench.rs` (through `#[path]`); the
//! dynamic-engine versions ([`gmm_dynamic`], [`ba_reproj_dynamic`]) record scalar tensors,
//! element by element, as a tape engine runs this code.

// Index loops on purpose: the objectives read as ADBench's C++ (and as the macro is asked
// to differentiate them), not as iterator chains; BA's 3-vectors are `vec!` locals, the
// local the macro's index writes document (`let mut out = vec![0.0; n]`), and copies
// between them are element loops too.
#![allow(
    clippy::needless_range_loop,
    clippy::useless_vec,
    clippy::manual_memcpy
)]

use autodiff::dynamic::Tensor;
use autodiff::prelude::*;
use std::f64::consts::PI;

/// `data/adbench/gmm_d2_K5.txt` (ADBench's `data/gmm/1k/`): d = 2, K = 5, n = 1000.
pub const GMM_D2_K5: &str = include_str!("../../data/adbench/gmm_d2_K5.txt");
/// `data/adbench/gmm_d10_K25.txt` (ADBench's `data/gmm/1k/`): d = 10, K = 25, n = 1000.
pub const GMM_D10_K25: &str = include_str!("../../data/adbench/gmm_d10_K25.txt");
/// `data/adbench/ba1_n49_m7776_p31843.txt` (ADBench's `data/ba/`): 49 cameras, 7,776
/// points, 31,843 observations, stored as one camera, point, weight and feature that the
/// reader replicates.
pub const BA1: &str = include_str!("../../data/adbench/ba1_n49_m7776_p31843.txt");

/// One GMM instance, as ADBench's `read_gmm_instance` reads it (no point replication).
#[derive(Debug, Clone)]
pub struct Gmm {
    /// Dimension.
    pub d: usize,
    /// Number of components.
    pub k: usize,
    /// Number of points.
    pub n: usize,
    /// `k` unnormalised log mixture weights.
    pub alphas: Vec<f64>,
    /// `d * k` means, component by component.
    pub means: Vec<f64>,
    /// `(d (d + 1) / 2) * k` inverse covariance factors: per component the `d` logs of the
    /// diagonal, then the strictly lower triangle column by column.
    pub icf: Vec<f64>,
    /// `d * n` points, point by point.
    pub x: Vec<f64>,
    /// Wishart prior's gamma.
    pub gamma: f64,
    /// Wishart prior's m.
    pub m: i32,
}

fn numbers(text: &str) -> impl Iterator<Item = &str> {
    text.split_ascii_whitespace()
}

fn parse<T: std::str::FromStr>(word: Option<&str>, what: &str) -> T {
    let word = word.unwrap_or_else(|| panic!("ADBench file ends before {what}"));
    word.parse()
        .unwrap_or_else(|_| panic!("ADBench file: `{word}` is not a valid {what}"))
}

impl Gmm {
    /// Reads ADBench's GMM text format: `d k n`, the alphas, means, icf, points, then
    /// `gamma m`.
    ///
    /// # Panics
    /// On a malformed file (the bundled files are well formed).
    pub fn parse(text: &str) -> Gmm {
        let mut w = numbers(text);
        let d: usize = parse(w.next(), "d");
        let k: usize = parse(w.next(), "k");
        let n: usize = parse(w.next(), "n");
        let icf_sz = d * (d + 1) / 2;
        let mut take = |len: usize, what: &str| -> Vec<f64> {
            (0..len).map(|_| parse(w.next(), what)).collect()
        };
        let alphas = take(k, "alpha");
        let means = take(d * k, "mean");
        let icf = take(icf_sz * k, "icf");
        let x = take(d * n, "point");
        let gamma = parse(w.next(), "gamma");
        let m = parse(w.next(), "m");
        Gmm {
            d,
            k,
            n,
            alphas,
            means,
            icf,
            x,
            gamma,
            m,
        }
    }

    /// The first `n` points only (for tests at debug speed).
    pub fn first_points(&self, n: usize) -> Gmm {
        let n = n.min(self.n);
        Gmm {
            n,
            x: self.x[..n * self.d].to_vec(),
            ..self.clone()
        }
    }

    /// [`gmm_objective`] on this instance.
    pub fn objective(&self) -> f64 {
        gmm_objective(
            self.d,
            self.k,
            self.n,
            &self.alphas,
            &self.means,
            &self.icf,
            &self.x,
            self.gamma,
            self.m,
        )
    }

    /// [`gmm_objective_plain`] on this instance.
    pub fn objective_plain(&self) -> f64 {
        gmm_objective_plain(
            self.d,
            self.k,
            self.n,
            &self.alphas,
            &self.means,
            &self.icf,
            &self.x,
            self.gamma,
            self.m,
        )
    }

    /// [`gmm_objective_grad`] on this instance: value and the gradients with respect to
    /// alphas, means and icf.
    pub fn gradient(&self) -> (f64, GmmGradient) {
        let (v, g) = gmm_objective_grad(
            self.d,
            self.k,
            self.n,
            &self.alphas,
            &self.means,
            &self.icf,
            &self.x,
            self.gamma,
            self.m,
        );
        (
            v,
            GmmGradient {
                alphas: g.alphas,
                means: g.means,
                icf: g.icf,
            },
        )
    }

    /// [`gmm_objective_handwritten`] on this instance.
    pub fn gradient_handwritten(&self) -> (f64, GmmGradient) {
        gmm_objective_handwritten(self)
    }
}

/// The gradient of the GMM objective, by parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct GmmGradient {
    /// With respect to the alphas.
    pub alphas: Vec<f64>,
    /// With respect to the means.
    pub means: Vec<f64>,
    /// With respect to the inverse covariance factors.
    pub icf: Vec<f64>,
}

/// `ln Gamma(x)` for `x` a positive integer or half-integer (all the Wishart constant
/// needs: its arguments are `n/2 + (1 - j)/2`), by `Gamma(x + 1) = x Gamma(x)` from
/// `Gamma(1) = 1` and `Gamma(1/2) = sqrt(pi)`.
pub fn ln_gamma_half_integer(x: f64) -> f64 {
    let mut out = 0.0;
    let mut y = x;
    while y > 1.25 {
        y -= 1.0;
        out += y.ln();
    }
    if (y - 0.5).abs() < 0.25 {
        out + 0.5 * PI.ln()
    } else {
        out
    }
}

/// ADBench's `log_gamma_distrib(a, p)`: the log of the multivariate gamma function.
pub fn log_gamma_distrib(a: f64, p: usize) -> f64 {
    let mut out = 0.25 * (p * (p - 1)) as f64 * PI.ln();
    for j in 1..=p {
        out += ln_gamma_half_integer(a + 0.5 * (1.0 - j as f64));
    }
    out
}

/// The Wishart prior's constant `C` of ADBench's `log_wishart_prior` (no parameter enters).
pub fn wishart_constant(d: usize, gamma: f64, m: i32) -> f64 {
    let n = d as i32 + m + 1;
    (n as f64) * (d as f64) * (gamma.ln() - 0.5 * 2f64.ln()) - log_gamma_distrib(0.5 * n as f64, d)
}

/// Stamps one function twice: with `#[differentiable(..)]` as `$name`, and as the same
/// code without the attribute as `$plain`, so the plain reference is the user's code by
/// construction. The signature comes from the call site (macro hygiene keeps the
/// parameters visible to the body).
macro_rules! with_plain_twin {
    (
        differentiable $args:tt;
        $(#[$attr:meta])*
        pub fn $name:ident / $plain:ident ($($params:tt)*) -> $ret:tt { $($body:tt)* }
    ) => {
        #[differentiable $args]
        $(#[$attr])*
        pub fn $name($($params)*) -> $ret {
            $($body)*
        }

        #[doc = concat!("[`", stringify!($name), "`] without the attribute: the forward's reference.")]
        #[allow(clippy::too_many_arguments)]
        pub fn $plain($($params)*) -> $ret {
            $($body)*
        }
    };
}

with_plain_twin! {
    differentiable(wrt(alphas, means, icf));
    /// ADBench's `gmm_objective` (gmm.h), loops over points and components, as a user
    /// writes it.
    #[allow(clippy::too_many_arguments)]
    pub fn gmm_objective / gmm_objective_plain(
        d: usize,
        k: usize,
        n: usize,
        alphas: &[f64],
        means: &[f64],
        icf: &[f64],
        x: &[f64],
        gamma: f64,
        m: i32,
    ) -> f64 {
    let icf_sz = d * (d + 1) / 2;
    let constant = -(n as f64) * (d as f64) * 0.5 * (2.0 * PI).ln();

    // preprocess_qs
    let mut qdiags = vec![0.0f64; d * k];
    let mut sum_qs = vec![0.0f64; k];
    for ik in 0..k {
        for id in 0..d {
            let q = icf[ik * icf_sz + id];
            sum_qs[ik] += q;
            qdiags[ik * d + id] = q.exp();
        }
    }

    let mut xcentered = vec![0.0f64; d];
    let mut qxcentered = vec![0.0f64; d];
    let mut main_term = vec![0.0f64; k];
    let mut slse = 0.0f64;
    for ix in 0..n {
        for ik in 0..k {
            // subtract
            for id in 0..d {
                xcentered[id] = x[ix * d + id] - means[ik * d + id];
            }
            // Qtimesx
            for id in 0..d {
                qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
            }
            let mut lparamsidx = 0;
            for i in 0..d {
                for j in (i + 1)..d {
                    qxcentered[j] += icf[ik * icf_sz + d + lparamsidx] * xcentered[i];
                    lparamsidx += 1;
                }
            }
            // sqnorm
            let mut sqnorm = 0.0f64;
            for id in 0..d {
                sqnorm += qxcentered[id] * qxcentered[id];
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
        }
        // logsumexp(main_term)
        let mut mx = main_term[0];
        for ik in 1..k {
            mx = mx.max(main_term[ik]);
        }
        let mut semx = 0.0f64;
        for ik in 0..k {
            semx += (main_term[ik] - mx).exp();
        }
        slse += semx.ln() + mx;
    }

    // logsumexp(alphas)
    let mut mx = alphas[0];
    for ik in 1..k {
        mx = mx.max(alphas[ik]);
    }
    let mut semx = 0.0f64;
    for ik in 0..k {
        semx += (alphas[ik] - mx).exp();
    }
    let lse_alphas = semx.ln() + mx;

    // log_wishart_prior
    let c = wishart_constant(d, gamma, m);
    let mut prior = 0.0f64;
    for ik in 0..k {
        let mut frobenius = 0.0f64;
        for id in 0..d {
            frobenius += qdiags[ik * d + id] * qdiags[ik * d + id];
        }
        for i in d..icf_sz {
            frobenius += icf[ik * icf_sz + i] * icf[ik * icf_sz + i];
        }
        prior += 0.5 * gamma * gamma * frobenius - (m as f64) * sum_qs[ik];
    }

    constant + slse - (n as f64) * lse_alphas + (prior - (k as f64) * c)
    }
}

/// The GMM objective and its gradient by hand (what ADBench's "Manual" tool does).
///
/// With `y = Q_k (x_i - mu_k)` (`Q_k` lower triangular, diagonal `exp(q_kj)`, strictly
/// lower part `L_k`), `t_ik = alpha_k + sum_j q_kj - |y|^2 / 2` and `p_ik` the softmax of
/// `t_i.` over `k`:
/// - `d/d alpha_k = sum_i p_ik - n softmax(alpha)_k`;
/// - `d/d mu_k = sum_i p_ik Q_k^T y`;
/// - `d/d q_kj = sum_i p_ik (1 - y_j xc_j exp(q_kj)) + gamma^2 exp(2 q_kj) - m`;
/// - `d/d L_k[j, l] = -sum_i p_ik y_j xc_l + gamma^2 L_k[j, l]` (`j > l`).
pub fn gmm_objective_handwritten(g: &Gmm) -> (f64, GmmGradient) {
    let (d, k, n) = (g.d, g.k, g.n);
    let icf_sz = d * (d + 1) / 2;
    let mut d_alphas = vec![0.0; k];
    let mut d_means = vec![0.0; d * k];
    let mut d_icf = vec![0.0; icf_sz * k];

    let mut qdiags = vec![0.0; d * k];
    let mut sum_qs = vec![0.0; k];
    for ik in 0..k {
        for id in 0..d {
            let q = g.icf[ik * icf_sz + id];
            sum_qs[ik] += q;
            qdiags[ik * d + id] = q.exp();
        }
    }

    // Per point: the centred points and their products with Q (k * d each), the terms.
    let mut xc = vec![0.0; d * k];
    let mut y = vec![0.0; d * k];
    let mut t = vec![0.0; k];
    let mut slse = 0.0;
    for ix in 0..n {
        let xi = &g.x[ix * d..(ix + 1) * d];
        for ik in 0..k {
            let icf_k = &g.icf[ik * icf_sz..(ik + 1) * icf_sz];
            let (xck, yk) = (&mut xc[ik * d..(ik + 1) * d], &mut y[ik * d..(ik + 1) * d]);
            for id in 0..d {
                xck[id] = xi[id] - g.means[ik * d + id];
                yk[id] = qdiags[ik * d + id] * xck[id];
            }
            let mut l = d;
            for i in 0..d {
                for j in (i + 1)..d {
                    yk[j] += icf_k[l] * xck[i];
                    l += 1;
                }
            }
            let sq: f64 = yk.iter().map(|v| v * v).sum();
            t[ik] = g.alphas[ik] + sum_qs[ik] - 0.5 * sq;
        }
        let mx = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let semx: f64 = t.iter().map(|v| (v - mx).exp()).sum();
        slse += semx.ln() + mx;
        for ik in 0..k {
            let p = (t[ik] - mx).exp() / semx;
            d_alphas[ik] += p;
            let (xck, yk) = (&xc[ik * d..(ik + 1) * d], &y[ik * d..(ik + 1) * d]);
            let d_icf_k = &mut d_icf[ik * icf_sz..(ik + 1) * icf_sz];
            let icf_k = &g.icf[ik * icf_sz..(ik + 1) * icf_sz];
            let d_mu = &mut d_means[ik * d..(ik + 1) * d];
            for id in 0..d {
                // The diagonal: dt/dq_j = 1 - y_j xc_j exp(q_j); dt/dxc_j = -Q_jj y_j.
                d_icf_k[id] += p * (1.0 - yk[id] * xck[id] * qdiags[ik * d + id]);
                d_mu[id] += p * qdiags[ik * d + id] * yk[id];
            }
            let mut l = d;
            for i in 0..d {
                for j in (i + 1)..d {
                    d_icf_k[l] -= p * yk[j] * xck[i];
                    d_mu[i] += p * icf_k[l] * yk[j];
                    l += 1;
                }
            }
        }
    }

    let mx = g.alphas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let semx: f64 = g.alphas.iter().map(|v| (v - mx).exp()).sum();
    let lse_alphas = semx.ln() + mx;
    for ik in 0..k {
        d_alphas[ik] -= n as f64 * (g.alphas[ik] - mx).exp() / semx;
    }

    let c = wishart_constant(d, g.gamma, g.m);
    let gg = g.gamma * g.gamma;
    let mut prior = 0.0;
    for ik in 0..k {
        let mut frobenius = 0.0;
        for id in 0..d {
            let qd = qdiags[ik * d + id];
            frobenius += qd * qd;
            d_icf[ik * icf_sz + id] += gg * qd * qd - g.m as f64;
        }
        for i in d..icf_sz {
            let l = g.icf[ik * icf_sz + i];
            frobenius += l * l;
            d_icf[ik * icf_sz + i] += gg * l;
        }
        prior += 0.5 * gg * frobenius - (g.m as f64) * sum_qs[ik];
    }
    let constant = -(n as f64) * (d as f64) * 0.5 * (2.0 * PI).ln();
    let value = constant + slse - (n as f64) * lse_alphas + (prior - (k as f64) * c);
    (
        value,
        GmmGradient {
            alphas: d_alphas,
            means: d_means,
            icf: d_icf,
        },
    )
}

/// The GMM objective on the dynamic engine, one scalar tensor per parameter element and
/// the same loops: the value and the gradient (after `backward`).
pub fn gmm_dynamic(g: &Gmm) -> (f64, GmmGradient) {
    let leaves = |v: &[f64]| -> Vec<Tensor> {
        v.iter()
            .map(|&e| Tensor::scalar(e).requires_grad())
            .collect()
    };
    let (alphas, means, icf) = (leaves(&g.alphas), leaves(&g.means), leaves(&g.icf));
    let loss = gmm_dynamic_loss(g, &alphas, &means, &icf);
    loss.backward().expect("backward of the GMM tape");
    let grads = |ts: &[Tensor]| -> Vec<f64> {
        ts.iter()
            .map(|t| t.grad().map_or(0.0, |g| g.item()))
            .collect()
    };
    (
        loss.item(),
        GmmGradient {
            alphas: grads(&alphas),
            means: grads(&means),
            icf: grads(&icf),
        },
    )
}

fn logsumexp_dynamic(xs: &[Tensor]) -> Tensor {
    let mut mx = xs[0].clone();
    for x in &xs[1..] {
        mx = mx.maximum(x);
    }
    let mut semx = (&xs[0] - &mx).exp();
    for x in &xs[1..] {
        semx = semx + (x - &mx).exp();
    }
    semx.ln() + mx
}

/// The dynamic engine's recording of [`gmm_objective`] (scalar tensors, same loops).
pub fn gmm_dynamic_loss(g: &Gmm, alphas: &[Tensor], means: &[Tensor], icf: &[Tensor]) -> Tensor {
    let (d, k, n) = (g.d, g.k, g.n);
    let icf_sz = d * (d + 1) / 2;
    let qdiags: Vec<Tensor> = (0..k * d)
        .map(|i| icf[(i / d) * icf_sz + i % d].exp())
        .collect();
    let sum_qs: Vec<Tensor> = (0..k)
        .map(|ik| {
            let mut s = icf[ik * icf_sz].clone();
            for id in 1..d {
                s = s + &icf[ik * icf_sz + id];
            }
            s
        })
        .collect();
    let mut slse: Option<Tensor> = None;
    for ix in 0..n {
        let mut main_term = Vec::with_capacity(k);
        for ik in 0..k {
            let xc: Vec<Tensor> = (0..d)
                .map(|id| -(&means[ik * d + id]) + g.x[ix * d + id])
                .collect();
            let mut qx: Vec<Tensor> = (0..d).map(|id| &qdiags[ik * d + id] * &xc[id]).collect();
            let mut l = d;
            for i in 0..d {
                for j in (i + 1)..d {
                    qx[j] = &qx[j] + &icf[ik * icf_sz + l] * &xc[i];
                    l += 1;
                }
            }
            let mut sq = &qx[0] * &qx[0];
            for q in &qx[1..] {
                sq = sq + q * q;
            }
            main_term.push(&alphas[ik] + &sum_qs[ik] - sq * 0.5);
        }
        let lse = logsumexp_dynamic(&main_term);
        slse = Some(match slse {
            None => lse,
            Some(s) => s + lse,
        });
    }
    let lse_alphas = logsumexp_dynamic(alphas);
    let c = wishart_constant(d, g.gamma, g.m);
    let mut prior: Option<Tensor> = None;
    for ik in 0..k {
        let mut frobenius = &qdiags[ik * d] * &qdiags[ik * d];
        for id in 1..d {
            frobenius = frobenius + &qdiags[ik * d + id] * &qdiags[ik * d + id];
        }
        for i in d..icf_sz {
            frobenius = frobenius + &icf[ik * icf_sz + i] * &icf[ik * icf_sz + i];
        }
        let term = frobenius * (0.5 * g.gamma * g.gamma) - &sum_qs[ik] * g.m as f64;
        prior = Some(match prior {
            None => term,
            Some(p) => p + term,
        });
    }
    let constant = -(n as f64) * (d as f64) * 0.5 * (2.0 * PI).ln();
    let slse = slse.expect("at least one point");
    let prior = prior.expect("at least one component");
    slse + constant - lse_alphas * n as f64 + (prior - k as f64 * c)
}

/// One BA instance, as ADBench's `read_ba_instance` builds it from its file (one camera,
/// point, weight and feature, replicated; observation `i` pairs camera `i % n` with point
/// `i % m`).
#[derive(Debug, Clone)]
pub struct Ba {
    /// Number of cameras.
    pub n: usize,
    /// Number of points.
    pub m: usize,
    /// Number of observations.
    pub p: usize,
    /// `11 n` camera parameters: rotation (angle-axis, 3), centre (3), focal length,
    /// principal point (2), radial distortion (2).
    pub cams: Vec<f64>,
    /// `3 m` point coordinates.
    pub x: Vec<f64>,
    /// `p` weights.
    pub w: Vec<f64>,
    /// `2 p` camera and point indices.
    pub obs: Vec<usize>,
    /// `2 p` measured features.
    pub feats: Vec<f64>,
}

/// Camera parameters per camera.
pub const BA_NCAMPARAMS: usize = 11;

impl Ba {
    /// Reads ADBench's BA text format and replicates it as `read_ba_instance` does.
    ///
    /// # Panics
    /// On a malformed file (the bundled file is well formed).
    pub fn parse(text: &str) -> Ba {
        let mut w = numbers(text);
        let n: usize = parse(w.next(), "n");
        let m: usize = parse(w.next(), "m");
        let p: usize = parse(w.next(), "p");
        let cam: Vec<f64> = (0..BA_NCAMPARAMS)
            .map(|_| parse(w.next(), "camera parameter"))
            .collect();
        let point: Vec<f64> = (0..3).map(|_| parse(w.next(), "point")).collect();
        let weight: f64 = parse(w.next(), "weight");
        let feat: Vec<f64> = (0..2).map(|_| parse(w.next(), "feature")).collect();
        Ba {
            n,
            m,
            p,
            cams: cam.repeat(n),
            x: point.repeat(m),
            w: vec![weight; p],
            obs: (0..p).flat_map(|i| [i % n, i % m]).collect(),
            feats: feat.repeat(p),
        }
    }

    /// The first `p` observations only (for tests at debug speed).
    pub fn first_observations(&self, p: usize) -> Ba {
        let p = p.min(self.p);
        Ba {
            p,
            w: self.w[..p].to_vec(),
            obs: self.obs[..2 * p].to_vec(),
            feats: self.feats[..2 * p].to_vec(),
            ..self.clone()
        }
    }

    /// Observation `i`'s camera, point, weight and feature.
    pub fn observation(&self, i: usize) -> (&[f64], &[f64], f64, [f64; 2]) {
        let (c, pt) = (self.obs[2 * i], self.obs[2 * i + 1]);
        (
            &self.cams[c * BA_NCAMPARAMS..(c + 1) * BA_NCAMPARAMS],
            &self.x[pt * 3..pt * 3 + 3],
            self.w[i],
            [self.feats[2 * i], self.feats[2 * i + 1]],
        )
    }
}

with_plain_twin! {
    differentiable(wrt(cam, x, w));
    /// ADBench's `computeReprojError` (ba.h: `project` with `rodrigues_rotate_point` and
    /// `radial_distort`) for one observation: the two weighted residuals.
    pub fn ba_reproj / ba_reproj_plain(
        cam: &[f64],
        x: &[f64],
        w: f64,
        feat0: f64,
        feat1: f64,
    ) -> (f64, f64) {
    // Xo = X - C
    let mut xo = vec![0.0f64; 3];
    for i in 0..3 {
        xo[i] = x[i] - cam[3 + i];
    }
    // rodrigues_rotate_point(&cam[0], Xo, Xcam)
    let mut sqtheta = 0.0f64;
    for i in 0..3 {
        sqtheta += cam[i] * cam[i];
    }
    let mut xcam = vec![0.0f64; 3];
    if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let theta_inverse = 1.0 / theta;
        let mut rw = vec![0.0f64; 3];
        for i in 0..3 {
            rw[i] = cam[i] * theta_inverse;
        }
        let mut w_cross_pt = vec![0.0f64; 3];
        w_cross_pt[0] = rw[1] * xo[2] - rw[2] * xo[1];
        w_cross_pt[1] = rw[2] * xo[0] - rw[0] * xo[2];
        w_cross_pt[2] = rw[0] * xo[1] - rw[1] * xo[0];
        let tmp = (rw[0] * xo[0] + rw[1] * xo[1] + rw[2] * xo[2]) * (1.0 - costheta);
        for i in 0..3 {
            xcam[i] = xo[i] * costheta + w_cross_pt[i] * sintheta + rw[i] * tmp;
        }
    } else {
        let mut rot_cross_pt = vec![0.0f64; 3];
        rot_cross_pt[0] = cam[1] * xo[2] - cam[2] * xo[1];
        rot_cross_pt[1] = cam[2] * xo[0] - cam[0] * xo[2];
        rot_cross_pt[2] = cam[0] * xo[1] - cam[1] * xo[0];
        for i in 0..3 {
            xcam[i] = xo[i] + rot_cross_pt[i];
        }
    }
    // projective2euclidean, radial_distort(&cam[9], proj)
    let mut proj0 = xcam[0] / xcam[2];
    let mut proj1 = xcam[1] / xcam[2];
    let rsq = proj0 * proj0 + proj1 * proj1;
    let l = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
    proj0 *= l;
    proj1 *= l;
    proj0 = proj0 * cam[6] + cam[7];
    proj1 = proj1 * cam[6] + cam[8];
    (w * (proj0 - feat0), w * (proj1 - feat1))
    }
}

/// ADBench's `ba_objective`: every observation's two residuals (`2 p`) and every weight's
/// error `1 - w^2` (`p`), with the plain forward.
pub fn ba_objective_plain(ba: &Ba) -> (Vec<f64>, Vec<f64>) {
    let mut reproj = Vec::with_capacity(2 * ba.p);
    for i in 0..ba.p {
        let (cam, x, w, f) = ba.observation(i);
        let (e0, e1) = ba_reproj_plain(cam, x, w, f[0], f[1]);
        reproj.push(e0);
        reproj.push(e1);
    }
    (reproj, ba.w.iter().map(|w| 1.0 - w * w).collect())
}

/// [`ba_objective_plain`] with the generated forward ([`ba_reproj`]).
pub fn ba_objective(ba: &Ba) -> (Vec<f64>, Vec<f64>) {
    let mut reproj = Vec::with_capacity(2 * ba.p);
    for i in 0..ba.p {
        let (cam, x, w, f) = ba.observation(i);
        let (e0, e1) = ba_reproj(cam, x, w, f[0], f[1]);
        reproj.push(e0);
        reproj.push(e1);
    }
    (reproj, ba.w.iter().map(|w| 1.0 - w * w).collect())
}

/// Columns of one observation's Jacobian block: 11 camera parameters, 3 point
/// coordinates, the weight.
pub const BA_BLOCK_COLS: usize = BA_NCAMPARAMS + 3 + 1;

/// The reprojection part of BA's Jacobian as ADBench stores it (a block of two rows and
/// [`BA_BLOCK_COLS`] columns per observation, row-major), by two VJPs of [`ba_reproj`]
/// per observation; the weight errors' derivatives `-2 w` are appended (`p` of them).
pub fn ba_jacobian(ba: &Ba) -> Vec<f64> {
    let mut jac = Vec::with_capacity(2 * BA_BLOCK_COLS * ba.p + ba.p);
    for i in 0..ba.p {
        let (cam, x, w, f) = ba.observation(i);
        for seed in [(1.0, 0.0), (0.0, 1.0)] {
            let (_, g) = ba_reproj_vjp(cam, x, w, f[0], f[1], seed);
            jac.extend_from_slice(&g.cam);
            jac.extend_from_slice(&g.x);
            jac.push(g.w);
        }
    }
    jac.extend(ba.w.iter().map(|w| -2.0 * w));
    jac
}

/// [`ba_jacobian`] on the dynamic engine: per observation, 15 scalar leaves, the same
/// code recorded once, and two backward passes (the first keeping the tape).
pub fn ba_jacobian_dynamic(ba: &Ba) -> Vec<f64> {
    let mut jac = Vec::with_capacity(2 * BA_BLOCK_COLS * ba.p + ba.p);
    for i in 0..ba.p {
        let (cam, x, w, f) = ba.observation(i);
        let leaves: Vec<Tensor> = cam
            .iter()
            .chain(x)
            .chain(std::iter::once(&w))
            .map(|&v| Tensor::scalar(v).requires_grad())
            .collect();
        let (e0, e1) = ba_reproj_dynamic(
            &leaves[..BA_NCAMPARAMS],
            &leaves[BA_NCAMPARAMS..BA_NCAMPARAMS + 3],
            &leaves[BA_BLOCK_COLS - 1],
            f,
        );
        e0.backward_retain_graph().expect("backward of the BA tape");
        for t in &leaves {
            jac.push(t.grad().map_or(0.0, |g| g.item()));
            t.zero_grad();
        }
        e1.backward().expect("backward of the BA tape");
        jac.extend(leaves.iter().map(|t| t.grad().map_or(0.0, |g| g.item())));
    }
    jac.extend(ba.w.iter().map(|w| -2.0 * w));
    jac
}

/// The dynamic engine's recording of [`ba_reproj`] (scalar tensors, same steps).
pub fn ba_reproj_dynamic(
    cam: &[Tensor],
    x: &[Tensor],
    w: &Tensor,
    feat: [f64; 2],
) -> (Tensor, Tensor) {
    let xo: Vec<Tensor> = (0..3).map(|i| &x[i] - &cam[3 + i]).collect();
    let sqtheta = &cam[0] * &cam[0] + &cam[1] * &cam[1] + &cam[2] * &cam[2];
    let cross = |a: &[Tensor], b: &[Tensor]| -> Vec<Tensor> {
        vec![
            &a[1] * &b[2] - &a[2] * &b[1],
            &a[2] * &b[0] - &a[0] * &b[2],
            &a[0] * &b[1] - &a[1] * &b[0],
        ]
    };
    let xcam: Vec<Tensor> = if sqtheta.item() != 0.0 {
        let theta = sqtheta.sqrt();
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let theta_inverse = 1.0 / &theta;
        let rw: Vec<Tensor> = (0..3).map(|i| &cam[i] * &theta_inverse).collect();
        let w_cross_pt = cross(&rw, &xo);
        let tmp = (&rw[0] * &xo[0] + &rw[1] * &xo[1] + &rw[2] * &xo[2]) * (1.0 - &costheta);
        (0..3)
            .map(|i| &xo[i] * &costheta + &w_cross_pt[i] * &sintheta + &rw[i] * &tmp)
            .collect()
    } else {
        let rot_cross_pt = cross(&cam[..3], &xo);
        (0..3).map(|i| &xo[i] + &rot_cross_pt[i]).collect()
    };
    let proj0 = &xcam[0] / &xcam[2];
    let proj1 = &xcam[1] / &xcam[2];
    let rsq = &proj0 * &proj0 + &proj1 * &proj1;
    let l = &cam[9] * &rsq + &cam[10] * &rsq * &rsq + 1.0;
    let proj0 = &proj0 * &l * &cam[6] + &cam[7];
    let proj1 = &proj1 * &l * &cam[6] + &cam[8];
    (w * (proj0 - feat[0]), w * (proj1 - feat[1]))
}

/// `data/adbench/lstm_l2_c1024.txt` (ADBench's `data/lstm/`): 2 layers, 1,024 characters
/// of 14 bits.
pub const LSTM_L2_C1024: &str = include_str!("../../data/adbench/lstm_l2_c1024.txt");

/// One LSTM instance, as ADBench's `read_lstm_instance` reads it.
#[derive(Debug, Clone)]
pub struct Lstm {
    /// Number of layers.
    pub l: usize,
    /// Number of characters in the sequence.
    pub c: usize,
    /// Bits per character (the hidden size).
    pub b: usize,
    /// `8 b` per layer: the weights of the forget, input, output and change gates, then
    /// their biases (`b` each).
    pub main_params: Vec<f64>,
    /// `3 b`: input weights, output weights, output biases.
    pub extra_params: Vec<f64>,
    /// `2 b` per layer: hidden state, then cell state.
    pub state: Vec<f64>,
    /// `c b`: the sequence, character by character.
    pub sequence: Vec<f64>,
}

impl Lstm {
    /// Reads ADBench's LSTM text format: `l c b`, then main parameters, extra
    /// parameters, state and sequence.
    ///
    /// # Panics
    /// On a malformed file (the bundled file is well formed).
    pub fn parse(text: &str) -> Lstm {
        let mut w = numbers(text);
        let l: usize = parse(w.next(), "l");
        let c: usize = parse(w.next(), "c");
        let b: usize = parse(w.next(), "b");
        let mut take = |len: usize, what: &str| -> Vec<f64> {
            (0..len).map(|_| parse(w.next(), what)).collect()
        };
        let main_params = take(8 * l * b, "main parameter");
        let extra_params = take(3 * b, "extra parameter");
        let state = take(2 * l * b, "state");
        let sequence = take(c * b, "sequence");
        Lstm {
            l,
            c,
            b,
            main_params,
            extra_params,
            state,
            sequence,
        }
    }

    /// The first `c` characters only (for tests at debug speed).
    pub fn first_characters(&self, c: usize) -> Lstm {
        let c = c.min(self.c);
        Lstm {
            c,
            sequence: self.sequence[..c * self.b].to_vec(),
            ..self.clone()
        }
    }

    /// [`lstm_objective`] on this instance.
    pub fn objective(&self) -> f64 {
        lstm_objective(
            self.l,
            self.c,
            self.b,
            &self.main_params,
            &self.extra_params,
            &self.state,
            &self.sequence,
        )
    }

    /// [`lstm_objective_plain`] on this instance.
    pub fn objective_plain(&self) -> f64 {
        lstm_objective_plain(
            self.l,
            self.c,
            self.b,
            &self.main_params,
            &self.extra_params,
            &self.state,
            &self.sequence,
        )
    }

    /// [`lstm_objective_grad`] on this instance: the value and the gradients with respect
    /// to the main and the extra parameters.
    pub fn gradient(&self) -> (f64, Vec<f64>, Vec<f64>) {
        let (v, g) = lstm_objective_grad(
            self.l,
            self.c,
            self.b,
            &self.main_params,
            &self.extra_params,
            &self.state,
            &self.sequence,
        );
        (v, g.main_params, g.extra_params)
    }
}

with_plain_twin! {
    differentiable(wrt(main_params, extra_params));
    /// ADBench's `lstm_objective` (lstm.h, with `lstm_predict` and `lstm_model` inlined):
    /// the mean negative log-likelihood of each next character, loops over characters,
    /// layers and cells, the state a local vector written by index.
    pub fn lstm_objective / lstm_objective_plain(
        l: usize,
        c: usize,
        b: usize,
        main_params: &[f64],
        extra_params: &[f64],
        state0: &[f64],
        sequence: &[f64],
    ) -> f64 {
        let mut state = vec![0.0f64; 2 * l * b];
        for i in 0..2 * l * b {
            state[i] = state0[i];
        }
        let mut layer_output = vec![0.0f64; b];
        let mut ypred = vec![0.0f64; b];
        let mut total = 0.0f64;
        let mut count = 0;
        for t in 0..(c - 1) {
            // lstm_predict
            for i in 0..b {
                layer_output[i] = sequence[t * b + i] * extra_params[i];
            }
            for li in 0..l {
                let p = 8 * b * li;
                let s = 2 * b * li;
                // lstm_model
                for i in 0..b {
                    let forget = 1.0
                        / (1.0 + (-(layer_output[i] * main_params[p + i] + main_params[p + 4 * b + i])).exp());
                    let ingate = 1.0
                        / (1.0 + (-(state[s + i] * main_params[p + b + i] + main_params[p + 5 * b + i])).exp());
                    let outgate = 1.0
                        / (1.0
                            + (-(layer_output[i] * main_params[p + 2 * b + i] + main_params[p + 6 * b + i]))
                                .exp());
                    let change = (state[s + i] * main_params[p + 3 * b + i] + main_params[p + 7 * b + i]).tanh();
                    state[s + b + i] = state[s + b + i] * forget + ingate * change;
                    state[s + i] = outgate * state[s + b + i].tanh();
                }
                for i in 0..b {
                    layer_output[i] = state[s + i];
                }
            }
            for i in 0..b {
                ypred[i] = layer_output[i] * extra_params[b + i] + extra_params[2 * b + i];
            }
            // logsumexp (ADBench's: log(sum(exp(y)) + 2))
            let mut sum = 0.0f64;
            for i in 0..b {
                sum += ypred[i].exp();
            }
            sum += 2.0;
            let lse = sum.ln();
            for i in 0..b {
                total += sequence[(t + 1) * b + i] * (ypred[i] - lse);
            }
            count += b;
        }
        -total / (count as f64)
    }
}

/// [`lstm_objective`] on the dynamic engine, one scalar tensor per parameter and the
/// same loops: the value and the gradients with respect to the main and extra parameters.
pub fn lstm_dynamic(s: &Lstm) -> (f64, Vec<f64>, Vec<f64>) {
    let leaves = |v: &[f64]| -> Vec<Tensor> {
        v.iter()
            .map(|&e| Tensor::scalar(e).requires_grad())
            .collect()
    };
    let (mp, ep) = (leaves(&s.main_params), leaves(&s.extra_params));
    let (l, c, b) = (s.l, s.c, s.b);
    let sigmoid = |x: Tensor| 1.0 / ((-x).exp() + 1.0);
    let mut state: Vec<Tensor> = s.state.iter().map(|&v| Tensor::scalar(v)).collect();
    let mut total: Option<Tensor> = None;
    for t in 0..(c - 1) {
        let mut layer_output: Vec<Tensor> =
            (0..b).map(|i| &ep[i] * s.sequence[t * b + i]).collect();
        for li in 0..l {
            let (p, st) = (8 * b * li, 2 * b * li);
            for i in 0..b {
                let forget = sigmoid(&layer_output[i] * &mp[p + i] + &mp[p + 4 * b + i]);
                let ingate = sigmoid(&state[st + i] * &mp[p + b + i] + &mp[p + 5 * b + i]);
                let outgate = sigmoid(&layer_output[i] * &mp[p + 2 * b + i] + &mp[p + 6 * b + i]);
                let change = (&state[st + i] * &mp[p + 3 * b + i] + &mp[p + 7 * b + i]).tanh();
                state[st + b + i] = &state[st + b + i] * &forget + &ingate * &change;
                state[st + i] = &outgate * &state[st + b + i].tanh();
            }
            layer_output = state[st..st + b].to_vec();
        }
        let ypred: Vec<Tensor> = (0..b)
            .map(|i| &layer_output[i] * &ep[b + i] + &ep[2 * b + i])
            .collect();
        let mut sum = ypred[0].exp();
        for y in &ypred[1..] {
            sum = sum + y.exp();
        }
        let lse = (sum + 2.0).ln();
        for i in 0..b {
            let term = (&ypred[i] - &lse) * s.sequence[(t + 1) * b + i];
            total = Some(match total {
                None => term,
                Some(acc) => acc + term,
            });
        }
    }
    let loss = -total.expect("at least two characters") / ((b * (c - 1)) as f64);
    loss.backward().expect("backward of the LSTM tape");
    let grads = |ts: &[Tensor]| -> Vec<f64> {
        ts.iter()
            .map(|t| t.grad().map_or(0.0, |g| g.item()))
            .collect()
    };
    (loss.item(), grads(&mp), grads(&ep))
}
