//! Broadcasting of two matrix shapes, PyTorch's rule on two dimensions: each dimension
//! must be equal or 1 in one operand. This covers a 1x1 scalar with anything, a `1 x n`
//! row with an `m x n` matrix (a bias) and an `m x 1` column with an `m x n` matrix.

use nalgebra::DMatrix;

use super::error::{GradError, Shape};
use super::node::GradSink;

/// What a binary op tells the user when its shapes do not broadcast.
pub(crate) const BROADCAST_HINT: &str =
    "shapes must be equal, or one operand must be 1x1, a 1 x n row or an m x 1 column that broadcasts to the other";

/// The shape of `a op b`, or the error naming both shapes.
pub(crate) fn broadcast_shape(op: &'static str, a: Shape, b: Shape) -> Result<Shape, GradError> {
    let dim = |x: usize, y: usize| match (x, y) {
        _ if x == y => Some(x),
        (1, _) => Some(y),
        (_, 1) => Some(x),
        _ => None,
    };
    match (dim(a.0, b.0), dim(a.1, b.1)) {
        (Some(rows), Some(cols)) => Ok((rows, cols)),
        _ => Err(GradError::ShapeMismatch {
            op,
            left: a,
            right: b,
            hint: BROADCAST_HINT,
        }),
    }
}

/// Reads `m` at `(i, j)` of the broadcast result: a dimension of size 1 repeats.
#[inline(always)]
pub(crate) fn at(m: &DMatrix<f64>, i: usize, j: usize) -> f64 {
    let (rows, cols) = m.shape();
    m[(if rows == 1 { 0 } else { i }, if cols == 1 { 0 } else { j })]
}

/// `f(a, b)` elementwise over the broadcast `shape`.
pub(crate) fn zip_broadcast(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    shape: Shape,
    f: impl Fn(f64, f64) -> f64,
) -> DMatrix<f64> {
    if a.shape() == b.shape() {
        a.zip_map(b, f)
    } else if b.len() == 1 && a.shape() == shape {
        let y = b[0];
        a.map(|x| f(x, y))
    } else if a.len() == 1 && b.shape() == shape {
        let x = a[0];
        b.map(|y| f(x, y))
    } else {
        DMatrix::from_fn(shape.0, shape.1, |i, j| f(at(a, i, j), at(b, i, j)))
    }
}

/// Adds `sum over the broadcast dimensions of f(i, j)` (for `(i, j)` over `out`) into
/// input `input`'s gradient, which has shape `operand`: the gradient of a broadcast
/// operand is reduced back to its own shape.
pub(crate) fn add_reduced(
    sink: &mut GradSink<'_>,
    input: usize,
    operand: Shape,
    out: Shape,
    f: impl Fn(usize, usize) -> f64,
) {
    sink.add_with(input, operand, |acc, _beta| {
        // `acc` holds zeros when beta is 0, so adding is right in both cases.
        let (rows, cols) = out;
        match operand {
            (1, 1) => {
                let mut total = 0.0;
                for j in 0..cols {
                    for i in 0..rows {
                        total += f(i, j);
                    }
                }
                acc[0] += total;
            }
            (1, _) => {
                // A row (a bias): one sum down each column.
                for (j, a) in acc.iter_mut().enumerate() {
                    let mut total = 0.0;
                    for i in 0..rows {
                        total += f(i, j);
                    }
                    *a += total;
                }
            }
            (_, 1) => {
                let acc = acc.as_mut_slice();
                for j in 0..cols {
                    for (i, a) in acc.iter_mut().enumerate() {
                        *a += f(i, j);
                    }
                }
            }
            _ => {
                let acc = acc.as_mut_slice();
                for j in 0..cols {
                    for i in 0..rows {
                        acc[i + j * rows] += f(i, j);
                    }
                }
            }
        }
    });
}
