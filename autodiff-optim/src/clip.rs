//! Gradient clipping: [`clip_grad_norm`] and [`clip_grad_value`], as
//! `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.
//!
//! ```
//! use autodiff_optim::clip::clip_grad_norm;
//! let mut grads = [3.0_f64, 4.0];
//! let norm = clip_grad_norm(&mut grads, 1.0)?;
//! assert_eq!(norm, 5.0);
//! assert!((grads[0] - 0.6).abs() < 1e-6 && (grads[1] - 0.8).abs() < 1e-6);
//! # Ok::<(), autodiff_optim::clip::ClipError>(())
//! ```

use std::fmt;

use autodiff_runtime::rules::Real;
use autodiff_runtime::tangent::{ElementLocation, Tangent};

/// Why clipping left the gradients untouched.
#[derive(Debug, Clone, PartialEq)]
pub enum ClipError {
    /// The total norm is NaN or infinite; `at` is the first non-finite element, if any
    /// (a norm can also overflow from finite elements).
    NonFiniteNorm {
        /// The total norm computed.
        norm: f64,
        /// The first NaN or infinite gradient element.
        at: Option<ElementLocation>,
    },
    /// A gradient element is NaN, which no threshold can clamp.
    NaNGradient {
        /// Where.
        at: ElementLocation,
    },
    /// The threshold is negative or NaN.
    InvalidThreshold {
        /// `"max_norm"` or `"clip_value"`.
        name: &'static str,
        /// The value given.
        value: f64,
    },
}

impl fmt::Display for ClipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClipError::NonFiniteNorm { norm, at } => {
                write!(f, "the total gradient norm is {norm}")?;
                if let Some(at) = at {
                    write!(f, " (first non-finite element: {at})")?;
                }
                write!(
                    f,
                    "; the gradients were left untouched (skip this batch, lower the learning \
                     rate, or look for an overflow in the loss)"
                )
            }
            ClipError::NaNGradient { at } => write!(
                f,
                "the gradient of {at} is NaN and cannot be clipped; the gradients were left untouched"
            ),
            ClipError::InvalidThreshold { name, value } => {
                write!(f, "invalid {name}: {value}; expected a number >= 0")
            }
        }
    }
}

impl std::error::Error for ClipError {}

/// Scales `grads` so that their total L2 norm is at most `max_norm`, and returns the
/// total norm *before* clipping, exactly as `torch.nn.utils.clip_grad_norm_`:
///
/// ```text
/// total = || (||leaf_1||, ..., ||leaf_k||) ||      (the norm of the per-leaf norms)
/// coef  = max_norm / (total + 1e-6)
/// grads *= coef                                      only when coef < 1
/// ```
///
/// A NaN or infinite total norm is an error and the gradients are left untouched (torch
/// with `error_if_nonfinite=True`). Norms are accumulated in `f64`.
pub fn clip_grad_norm<P: Tangent>(grads: &mut P, max_norm: f64) -> Result<f64, ClipError> {
    if max_norm.is_nan() || max_norm < 0.0 {
        return Err(ClipError::InvalidThreshold {
            name: "max_norm",
            value: max_norm,
        });
    }
    let norm = total_norm(grads);
    if !norm.is_finite() {
        let at = grads
            .first_non_finite()
            .map(|(i, _)| ElementLocation::of(grads, i));
        return Err(ClipError::NonFiniteNorm { norm, at });
    }
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        let coef = <P::Scalar as Real>::c(coef);
        grads.visit_mut(&mut |leaf| leaf.iter_mut().for_each(|x| *x *= coef));
    }
    Ok(norm)
}

/// The L2 norm of the per-leaf L2 norms, as torch computes the total norm.
pub fn total_norm<P: Tangent + ?Sized>(grads: &P) -> f64 {
    let mut sum = 0.0;
    grads.visit(&mut |leaf| {
        let leaf_sq: f64 = leaf
            .iter()
            .map(|x| {
                let x = x.to_f64_lossless();
                x * x
            })
            .sum();
        let leaf_norm = leaf_sq.sqrt();
        sum += leaf_norm * leaf_norm;
    });
    sum.sqrt()
}

/// Clamps every gradient element to `[-clip_value, clip_value]`, as
/// `torch.nn.utils.clip_grad_value_`. Infinite elements are clamped too; a NaN element is
/// an error and the gradients are left untouched.
pub fn clip_grad_value<P: Tangent>(grads: &mut P, clip_value: f64) -> Result<(), ClipError> {
    if clip_value.is_nan() || clip_value < 0.0 {
        return Err(ClipError::InvalidThreshold {
            name: "clip_value",
            value: clip_value,
        });
    }
    let mut nan = None;
    let mut start = 0;
    grads.visit(&mut |leaf| {
        if nan.is_none() {
            nan = leaf
                .iter()
                .position(|x| num_traits::Float::is_nan(*x))
                .map(|i| start + i);
        }
        start += leaf.len();
    });
    if let Some(i) = nan {
        return Err(ClipError::NaNGradient {
            at: ElementLocation::of(grads, i),
        });
    }
    let hi = <P::Scalar as Real>::c(clip_value);
    let lo = -hi;
    grads.visit_mut(&mut |leaf| {
        for x in leaf {
            if *x > hi {
                *x = hi;
            } else if *x < lo {
                *x = lo;
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use autodiff_runtime::nalgebra::{DMatrix, DVector};

    // Both cases were produced by torch.nn.utils.clip_grad_norm_ in float64 (see
    // tests/reference/torch_optim.py, which prints them as CLIP_3_4 and CLIP_MULTI).
    #[test]
    fn three_four_clipped_to_one_is_torch_s_result() {
        let mut g = DVector::from_row_slice(&[3.0_f64, 4.0]);
        let norm = clip_grad_norm(&mut g, 1.0).unwrap();
        assert_eq!(norm, 5.0);
        assert_eq!(g.as_slice(), [0.599999880000024, 0.799999840000032]);
    }

    #[test]
    fn several_leaves_use_the_norm_of_leaf_norms() {
        let mut g = (
            DMatrix::from_row_slice(2, 2, &[0.3_f64, -1.7, 2.2, 0.4]),
            DVector::from_row_slice(&[1.1, -0.9, 0.05]),
        );
        let norm = clip_grad_norm(&mut g, 0.5).unwrap();
        assert!((norm - 3.162672920173694).abs() < 1e-15, "{norm}");
        let torch = [
            0.04742822174717336,
            -0.26875992323398235,
            0.3478069594792713,
            0.06323762899623114,
            0.17390347973963566,
            -0.1422846652415201,
            0.007904703624528893,
        ];
        let ours = [
            g.0[(0, 0)],
            g.0[(0, 1)],
            g.0[(1, 0)],
            g.0[(1, 1)],
            g.1[0],
            g.1[1],
            g.1[2],
        ];
        for (a, e) in ours.iter().zip(torch) {
            assert!((a - e).abs() < 1e-15, "{a} vs {e}");
        }
    }

    #[test]
    fn small_gradients_are_left_alone() {
        let mut g = vec![0.3_f32, -0.4];
        let norm = clip_grad_norm(&mut g, 1.0).unwrap();
        assert!((norm - 0.5).abs() < 1e-7, "{norm}");
        assert_eq!(g, [0.3, -0.4]);
    }

    #[test]
    fn a_non_finite_norm_is_an_error_and_leaves_the_gradients() {
        let mut g = (1.0_f64, vec![2.0_f64, f64::INFINITY]);
        let err = clip_grad_norm(&mut g, 1.0).unwrap_err();
        assert_eq!(g, (1.0, vec![2.0, f64::INFINITY]));
        assert!(
            err.to_string().starts_with(
                "the total gradient norm is inf (first non-finite element: `1`[1] (flat index 2))"
            ),
            "{err}"
        );
        // Finite elements whose squares overflow.
        let mut big = [1e200_f64, 1e200];
        let err = clip_grad_norm(&mut big, 1.0).unwrap_err();
        assert_eq!(
            err,
            ClipError::NonFiniteNorm {
                norm: f64::INFINITY,
                at: None
            }
        );
        assert_eq!(big, [1e200, 1e200]);
        assert!(matches!(
            clip_grad_norm(&mut big, f64::NAN),
            Err(ClipError::InvalidThreshold {
                name: "max_norm",
                ..
            })
        ));
    }

    #[test]
    fn clip_by_value_clamps_every_element() {
        let mut g = (
            DMatrix::from_row_slice(1, 3, &[-5.0_f64, 0.2, 7.0]),
            f64::NEG_INFINITY,
        );
        clip_grad_value(&mut g, 1.0).unwrap();
        assert_eq!(g.0.as_slice(), [-1.0, 0.2, 1.0]);
        assert_eq!(g.1, -1.0);

        let mut nan = vec![1.0_f32, f32::NAN, 9.0];
        let err = clip_grad_value(&mut nan, 1.0).unwrap_err();
        assert_eq!(nan[2], 9.0);
        assert_eq!(err.to_string(), "the gradient of the value[1] (flat index 1) is NaN and cannot be clipped; the gradients were left untouched");
        assert!(clip_grad_value(&mut nan, -1.0).is_err());
    }
}
