//! [`gradcheck`]: compares a gradient with central finite differences, element by
//! element, like `torch.autograd.gradcheck`.
//!
//! ```
//! use autodiff_runtime::gradcheck::gradcheck;
//! use autodiff_runtime::nalgebra::DVector;
//!
//! let f = |x: &DVector<f64>| x.map(f64::sin).sum();
//! let right = |x: &DVector<f64>| x.map(f64::cos);
//! let wrong = |x: &DVector<f64>| x.map(f64::cos) * 1.01;
//! let x = DVector::from_row_slice(&[0.1, 0.7, -1.2]);
//! assert!(gradcheck(f, right, &x, 1e-6, 1e-6).is_ok());
//! let err = gradcheck(f, wrong, &x, 1e-6, 1e-6).unwrap_err();
//! assert!(err.to_string().starts_with("gradient mismatch at the value[0]"));
//! ```

use std::fmt;

use crate::rules::Real;
use crate::tangent::{ElementLocation, StructureMismatch, Tangent};

/// Why [`gradcheck`] failed.
#[derive(Debug, Clone, PartialEq)]
pub enum GradcheckError {
    /// The analytic and numeric gradients differ by more than the tolerance.
    Mismatch {
        /// The element with the largest scaled error.
        at: ElementLocation,
        /// The gradient given by `grad` there.
        analytic: f64,
        /// The central difference there.
        numeric: f64,
        /// How many elements fail the tolerance.
        failing: usize,
        /// How many elements were checked.
        checked: usize,
        /// The tolerance used.
        tol: f64,
    },
    /// `grad(point)` does not have the structure of `point`.
    Structure(StructureMismatch),
    /// `f` returned a non-finite value at a perturbed point.
    NonFiniteValue {
        /// The element being perturbed.
        at: ElementLocation,
        /// `f(x + eps)` or `f(x - eps)`.
        value: f64,
    },
    /// `eps` is not positive and finite, or `tol` is negative or NaN.
    InvalidArgument {
        /// `"eps"` or `"tol"`.
        name: &'static str,
        /// The value given.
        value: f64,
    },
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GradcheckError::Mismatch {
                at,
                analytic,
                numeric,
                failing,
                checked,
                tol,
            } => write!(
                f,
                "gradient mismatch at {at}: analytic {analytic:e}, numeric {numeric:e} \
                 (|difference| {:e} > tol * (1 + |numeric|) with tol {tol:e}); \
                 {failing} of {checked} elements fail",
                (analytic - numeric).abs()
            ),
            GradcheckError::Structure(m) => {
                write!(f, "gradcheck: grad(point) does not match point: {m}")
            }
            GradcheckError::NonFiniteValue { at, value } => write!(
                f,
                "gradcheck: f returned {value} when perturbing {at}; use a smaller eps or a point \
                 inside the function's domain"
            ),
            GradcheckError::InvalidArgument { name, value } => write!(
                f,
                "gradcheck: invalid {name}: {value}; eps must be positive and finite, tol >= 0"
            ),
        }
    }
}

impl std::error::Error for GradcheckError {}

/// Checks `grad(point)` against central differences of `f` for every element of the
/// flat view of `point`:
///
/// ```text
/// numeric_i = (f(x + h e_i) - f(x - h e_i)) / ((x_i + h) - (x_i - h)),   h = eps
/// passes when |analytic_i - numeric_i| <= tol * (1 + |numeric_i|)
/// ```
///
/// (the denominator is the step actually taken, which matters for `f32`). On failure
/// the error names the worst element (largest `|a - n| / (1 + |n|)`): its flat index,
/// its leaf and index there, both values, and how many elements fail. Typical settings:
/// `eps = 1e-6, tol = 1e-5` for `f64`; `eps = 1e-2, tol = 1e-2` for `f32`.
pub fn gradcheck<P, F, G>(
    f: F,
    grad: G,
    point: &P,
    eps: f64,
    tol: f64,
) -> Result<(), GradcheckError>
where
    P: Tangent + Clone,
    F: Fn(&P) -> f64,
    G: Fn(&P) -> P,
{
    if !(eps > 0.0 && eps.is_finite()) {
        return Err(GradcheckError::InvalidArgument {
            name: "eps",
            value: eps,
        });
    }
    if tol.is_nan() || tol < 0.0 {
        return Err(GradcheckError::InvalidArgument {
            name: "tol",
            value: tol,
        });
    }
    let analytic = grad(point);
    point
        .check_structure(&analytic)
        .map_err(GradcheckError::Structure)?;
    let analytic = flatten(&analytic);
    let h = <P::Scalar as Real>::c(eps);

    let mut x = point.clone();
    let mut worst: Option<(usize, f64, f64, f64)> = None;
    let mut failing = 0;
    let checked = analytic.len();
    for (i, &a) in analytic.iter().enumerate() {
        let xi = get_flat(&x, i);
        let (up, down) = (xi + h, xi - h);
        set_flat(&mut x, i, up);
        let f_up = f(&x);
        set_flat(&mut x, i, down);
        let f_down = f(&x);
        set_flat(&mut x, i, xi);
        for value in [f_up, f_down] {
            if !value.is_finite() {
                let at = ElementLocation::of(point, i);
                return Err(GradcheckError::NonFiniteValue { at, value });
            }
        }
        let numeric = (f_up - f_down) / (up - down).to_f64_lossless();
        let scaled = (a - numeric).abs() / (1.0 + numeric.abs());
        // NaN in the analytic gradient counts as the worst possible error.
        let scaled = if scaled.is_nan() {
            f64::INFINITY
        } else {
            scaled
        };
        if scaled > tol {
            failing += 1;
        }
        if worst.is_none_or(|(_, _, _, w)| scaled > w) {
            worst = Some((i, a, numeric, scaled));
        }
    }
    match worst {
        Some((i, analytic, numeric, scaled)) if scaled > tol => Err(GradcheckError::Mismatch {
            at: ElementLocation::of(point, i),
            analytic,
            numeric,
            failing,
            checked,
            tol,
        }),
        _ => Ok(()),
    }
}

fn flatten<P: Tangent>(p: &P) -> Vec<f64> {
    let mut out = Vec::with_capacity(p.num_elements());
    p.visit(&mut |leaf| out.extend(leaf.iter().map(|x| x.to_f64_lossless())));
    out
}

fn get_flat<P: Tangent>(p: &P, index: usize) -> P::Scalar {
    let mut start = 0;
    let mut value = P::Scalar::c(0.0);
    p.visit(&mut |leaf| {
        if (start..start + leaf.len()).contains(&index) {
            value = leaf[index - start];
        }
        start += leaf.len();
    });
    value
}

fn set_flat<P: Tangent>(p: &mut P, index: usize, value: P::Scalar) {
    let mut start = 0;
    p.visit_mut(&mut |leaf| {
        if (start..start + leaf.len()).contains(&index) {
            leaf[index - start] = value;
        }
        start += leaf.len();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nalgebra::{DMatrix, RowDVector};

    type Layer = (DMatrix<f64>, RowDVector<f64>);

    /// `L(W, b) = sum(tanh(x W + b))` for a fixed 2x2 input `x`.
    fn loss(p: &Layer) -> f64 {
        let x = DMatrix::from_row_slice(2, 2, &[0.5, -1.0, 2.0, 0.25]);
        let z = x * &p.0 + DMatrix::from_rows(&[p.1.clone(), p.1.clone()]);
        z.map(f64::tanh).sum()
    }

    /// dL/dZ = 1 - tanh(Z)^2; dL/dW = x^T dZ; dL/db = column sums of dZ.
    fn loss_grad(p: &Layer) -> Layer {
        let x = DMatrix::from_row_slice(2, 2, &[0.5, -1.0, 2.0, 0.25]);
        let z = &x * &p.0 + DMatrix::from_rows(&[p.1.clone(), p.1.clone()]);
        let dz = z.map(|v| 1.0 - v.tanh().powi(2));
        (x.transpose() * &dz, dz.row_sum())
    }

    fn point() -> Layer {
        (
            DMatrix::from_row_slice(2, 3, &[0.1, -0.3, 0.2, 0.4, 0.0, -0.5]),
            RowDVector::from_row_slice(&[0.05, -0.1, 0.3]),
        )
    }

    #[test]
    fn a_correct_gradient_passes() {
        gradcheck(loss, loss_grad, &point(), 1e-6, 1e-6).unwrap();
    }

    #[test]
    fn a_wrong_gradient_is_caught_at_the_right_element() {
        // Deliberate bug: the bias gradient of the last column is doubled.
        let wrong = |p: &Layer| {
            let mut g = loss_grad(p);
            g.1[2] *= 2.0;
            g
        };
        let err = gradcheck(loss, wrong, &point(), 1e-6, 1e-6).unwrap_err();
        let GradcheckError::Mismatch {
            at,
            analytic,
            numeric,
            failing,
            checked,
            ..
        } = &err
        else {
            panic!("unexpected {err:?}")
        };
        assert_eq!(
            (at.parameter.as_str(), at.index, at.flat_index),
            ("1", 2, 8)
        );
        assert_eq!((*failing, *checked), (1, 9));
        assert!(
            (analytic - 2.0 * numeric).abs() < 1e-6,
            "{analytic} vs {numeric}"
        );
        assert!(
            err.to_string()
                .starts_with("gradient mismatch at `1`[2] (flat index 8): analytic"),
            "{err}"
        );
    }

    #[test]
    fn a_transposed_weight_gradient_is_caught() {
        // A classic bug: using x instead of x^T in dW (wrong whenever x is not symmetric).
        let wrong = |p: &Layer| {
            let x = DMatrix::from_row_slice(2, 2, &[0.5, -1.0, 2.0, 0.25]);
            let z = &x * &p.0 + DMatrix::from_rows(&[p.1.clone(), p.1.clone()]);
            let dz = z.map(|v| 1.0 - v.tanh().powi(2));
            (&x * &dz, dz.row_sum())
        };
        let err = gradcheck(loss, wrong, &point(), 1e-6, 1e-6).unwrap_err();
        let GradcheckError::Mismatch { at, failing, .. } = err else {
            panic!("unexpected {err:?}")
        };
        assert_eq!(at.parameter, "0");
        assert_eq!(failing, 6);
    }

    #[test]
    fn f32_points_use_the_step_actually_taken() {
        let f = |x: &Vec<f32>| x.iter().map(|v| (*v as f64).powi(3)).sum::<f64>();
        let g = |x: &Vec<f32>| x.iter().map(|v| 3.0 * v * v).collect::<Vec<f32>>();
        gradcheck(f, g, &vec![0.5_f32, -1.5, 2.0], 1e-3, 1e-4).unwrap();
    }

    #[test]
    fn bad_inputs_are_errors() {
        let f = |x: &f64| x.ln();
        let g = |x: &f64| 1.0 / x;
        assert!(matches!(
            gradcheck(f, g, &1e-9, 1e-6, 1e-6),
            Err(GradcheckError::NonFiniteValue { .. })
        ));
        assert!(matches!(
            gradcheck(f, g, &1.0, 0.0, 1e-6),
            Err(GradcheckError::InvalidArgument { name: "eps", .. })
        ));
        let short = |_: &Vec<f64>| vec![1.0];
        let err = gradcheck(|_: &Vec<f64>| 0.0, short, &vec![1.0, 2.0], 1e-6, 1e-6).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a Vec of length 2, found a Vec of length 1"),
            "{err}"
        );
    }
}
