//! Gradient health: per-parameter gradient norms, their ratio to the parameter's norm,
//! and flags for vanishing, exploding and non-finite gradients.

use std::fmt;

use autodiff_runtime::rules::Real;
use autodiff_runtime::tangent::Tangent;

/// What a parameter's gradient looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradStatus {
    /// Within the thresholds.
    Healthy,
    /// Norm below [`HealthThresholds::vanishing`]: the parameter barely learns.
    Vanishing,
    /// Norm above [`HealthThresholds::exploding`]: steps will overshoot; clip.
    Exploding,
    /// Some element is NaN or infinite.
    NonFinite,
}

impl fmt::Display for GradStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GradStatus::Healthy => "ok",
            GradStatus::Vanishing => "VANISHING",
            GradStatus::Exploding => "EXPLODING",
            GradStatus::NonFinite => "NON-FINITE",
        })
    }
}

/// Where "vanishing" and "exploding" start, on a parameter's gradient L2 norm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthThresholds {
    /// A gradient norm below this is flagged vanishing (default `1e-7`).
    pub vanishing: f64,
    /// A gradient norm above this is flagged exploding (default `1e3`).
    pub exploding: f64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        HealthThresholds {
            vanishing: 1e-7,
            exploding: 1e3,
        }
    }
}

/// The health of one parameter's gradient (one leaf of the [`Tangent`] tree).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamHealth {
    /// The leaf's name (`w1`, `layers.0.w`).
    pub name: String,
    /// L2 norm of the gradient (NaN or infinite when non-finite).
    pub grad_norm: f64,
    /// L2 norm of the parameter.
    pub param_norm: f64,
    /// `grad_norm / param_norm` (infinite for a zero parameter with a non-zero gradient).
    pub ratio: f64,
    /// The flag.
    pub status: GradStatus,
    /// For [`GradStatus::NonFinite`]: the first bad element's index in the leaf and its value.
    pub first_non_finite: Option<(usize, f64)>,
}

/// The gradient health of every parameter, in the flat order.
///
/// ```
/// use autodiff_train::train::{GradStatus, HealthReport, HealthThresholds};
/// let params = (vec![1.0_f64, 1.0], vec![2.0_f64]);
/// let grads = (vec![1e-9_f64, 0.0], vec![f64::NAN]);
/// let report = HealthReport::new(&params, &grads, HealthThresholds::default());
/// assert_eq!(report.params[0].status, GradStatus::Vanishing);
/// assert_eq!(report.first_non_finite().unwrap().name, "1");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthReport {
    /// One entry per leaf.
    pub params: Vec<ParamHealth>,
}

impl HealthReport {
    /// Measures `grads` against `params` (same structure; leaves are paired in order).
    pub fn new<P: Tangent>(params: &P, grads: &P, thresholds: HealthThresholds) -> Self {
        let mut param_norms = Vec::new();
        params.visit(&mut |leaf| param_norms.push(leaf_norm(leaf)));
        let mut out = Vec::with_capacity(param_norms.len());
        grads.visit_named("", &mut |name, leaf| {
            let grad_norm = leaf_norm(leaf);
            let param_norm = param_norms.get(out.len()).copied().unwrap_or(f64::NAN);
            let first_non_finite = leaf
                .iter()
                .position(|x| !num_traits::Float::is_finite(*x))
                .map(|i| (i, leaf[i].to_f64_lossless()));
            let status = if first_non_finite.is_some() || !grad_norm.is_finite() {
                GradStatus::NonFinite
            } else if grad_norm > thresholds.exploding {
                GradStatus::Exploding
            } else if grad_norm < thresholds.vanishing {
                GradStatus::Vanishing
            } else {
                GradStatus::Healthy
            };
            out.push(ParamHealth {
                name: name.to_string(),
                grad_norm,
                param_norm,
                ratio: grad_norm / param_norm,
                status,
                first_non_finite,
            });
        });
        HealthReport { params: out }
    }

    /// The parameters whose status is not [`GradStatus::Healthy`].
    pub fn flagged(&self) -> impl Iterator<Item = &ParamHealth> {
        self.params
            .iter()
            .filter(|p| p.status != GradStatus::Healthy)
    }

    /// The first parameter with a NaN or infinite gradient.
    pub fn first_non_finite(&self) -> Option<&ParamHealth> {
        self.params
            .iter()
            .find(|p| p.status == GradStatus::NonFinite)
    }

    /// Whether every parameter is [`GradStatus::Healthy`].
    pub fn is_healthy(&self) -> bool {
        self.flagged().next().is_none()
    }
}

impl fmt::Display for HealthReport {
    /// A table: parameter, gradient norm, parameter norm, ratio, status.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .params
            .iter()
            .map(|p| display_name(&p.name).len())
            .chain([9])
            .max()
            .unwrap_or(9);
        writeln!(
            f,
            "{:<width$}  {:>11}  {:>11}  {:>11}  status",
            "parameter", "grad norm", "param norm", "ratio"
        )?;
        for p in &self.params {
            writeln!(
                f,
                "{:<width$}  {:>11.4e}  {:>11.4e}  {:>11.4e}  {}",
                display_name(&p.name),
                p.grad_norm,
                p.param_norm,
                p.ratio,
                p.status
            )?;
        }
        Ok(())
    }
}

/// `(root)` for the unnamed leaf of a bare matrix or scalar.
pub(crate) fn display_name(name: &str) -> &str {
    if name.is_empty() {
        "(root)"
    } else {
        name
    }
}

fn leaf_norm<S: Real>(leaf: &[S]) -> f64 {
    leaf.iter()
        .map(|x| {
            let x = x.to_f64_lossless();
            x * x
        })
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use autodiff_runtime::nalgebra::DMatrix;

    #[test]
    fn each_leaf_gets_norms_ratio_and_a_flag() {
        let params = (
            DMatrix::from_element(2, 2, 1.0_f64),
            vec![3.0_f64, 4.0],
            0.0_f64,
            1.0_f64,
        );
        let grads = (
            DMatrix::from_element(2, 2, 0.5_f64),
            vec![3e3_f64, 4e3],
            1e-9_f64,
            f64::INFINITY,
        );
        let r = HealthReport::new(&params, &grads, HealthThresholds::default());
        let summary: Vec<(&str, f64, f64, GradStatus)> = r
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.grad_norm, p.param_norm, p.status))
            .collect();
        assert_eq!(
            summary,
            [
                ("0", 1.0, 2.0, GradStatus::Healthy),
                ("1", 5e3, 5.0, GradStatus::Exploding),
                ("2", 1e-9, 0.0, GradStatus::Vanishing),
                ("3", f64::INFINITY, 1.0, GradStatus::NonFinite),
            ]
        );
        assert_eq!(r.params[0].ratio, 0.5);
        assert_eq!(r.params[2].ratio, f64::INFINITY);
        assert_eq!(r.params[3].first_non_finite, Some((0, f64::INFINITY)));
        assert_eq!(r.flagged().count(), 3);
        assert_eq!(r.first_non_finite().unwrap().name, "3");
        let table = r.to_string();
        assert!(table.starts_with("parameter"), "{table}");
        assert!(
            table.contains("EXPLODING") && table.contains("NON-FINITE"),
            "{table}"
        );
    }

    #[test]
    fn custom_thresholds_apply() {
        let t = HealthThresholds {
            vanishing: 0.1,
            exploding: 1.0,
        };
        let r = HealthReport::new(&vec![1.0_f64], &vec![0.05_f64], t);
        assert_eq!(r.params[0].status, GradStatus::Vanishing);
        assert_eq!(display_name(&r.params[0].name), "(root)");
        assert!(!r.is_healthy());
    }
}
