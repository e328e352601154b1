//! The matrix product kernel of the dynamic engine: `C = alpha op(A) op(B) + beta C`
//! with either operand transposed for free (by strides), on column-major `DMatrix`.
//!
//! nalgebra 0.35 has no `A * B^T` without materializing the transpose, and a strided
//! transposed view passed to its `gemm` reads out of bounds for small sizes, so this
//! calls `matrixmultiply::dgemm` (the kernel nalgebra itself uses) with explicit strides.

use nalgebra::DMatrix;

/// `c = alpha * op(a) * op(b) + beta * c`, where `op(m)` is `m^T` when its flag is set.
/// With `beta == 0` the old contents of `c` are ignored (even NaN).
///
/// # Panics
/// If the inner dimensions differ or `c` does not have the product's shape.
pub(crate) fn gemm(
    alpha: f64,
    a: &DMatrix<f64>,
    transpose_a: bool,
    b: &DMatrix<f64>,
    transpose_b: bool,
    beta: f64,
    c: &mut DMatrix<f64>,
) {
    let (m, k) = if transpose_a {
        (a.ncols(), a.nrows())
    } else {
        a.shape()
    };
    let (kb, n) = if transpose_b {
        (b.ncols(), b.nrows())
    } else {
        b.shape()
    };
    assert_eq!(k, kb, "gemm: inner dimensions {k} and {kb} differ");
    assert_eq!(
        c.shape(),
        (m, n),
        "gemm: output shape {:?} is not ({m}, {n})",
        c.shape()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta == 0.0 {
            c.fill(0.0);
        } else {
            *c *= beta;
        }
        return;
    }
    // Column-major storage: element (i, j) of an r x _ matrix is at i + j * r, so its
    // (row stride, column stride) is (1, r), and its transpose's is (r, 1).
    let strides = |rows: usize, transposed: bool| -> (isize, isize) {
        if transposed {
            (rows as isize, 1)
        } else {
            (1, rows as isize)
        }
    };
    let (rsa, csa) = strides(a.nrows(), transpose_a);
    let (rsb, csb) = strides(b.nrows(), transpose_b);
    // SAFETY: with the shapes asserted above, op(a) is m x k, op(b) is k x n and c is
    // m x n; every index i < m, p < k, j < n maps through these strides to an offset
    // below the length of the matching contiguous column-major buffer, and `c` is
    // borrowed mutably so it aliases neither input.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            1,
            m as isize,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &DMatrix<f64>, ta: bool, b: &DMatrix<f64>, tb: bool) -> DMatrix<f64> {
        let a = if ta { a.transpose() } else { a.clone() };
        let b = if tb { b.transpose() } else { b.clone() };
        DMatrix::from_fn(a.nrows(), b.ncols(), |i, j| {
            (0..a.ncols()).map(|p| a[(i, p)] * b[(p, j)]).sum()
        })
    }

    #[test]
    fn matches_the_definition_for_every_transpose_and_small_shape() {
        let fill = |r: usize, c: usize, seed: f64| {
            DMatrix::from_fn(r, c, |i, j| ((i * 7 + j * 3) as f64 + seed).sin())
        };
        for m in 1..7 {
            for k in 0..7 {
                for n in 1..7 {
                    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                        let a = if ta { fill(k, m, 0.1) } else { fill(m, k, 0.1) };
                        let b = if tb { fill(n, k, 0.7) } else { fill(k, n, 0.7) };
                        let expected = naive(&a, ta, &b, tb);
                        let mut c = DMatrix::from_element(m, n, f64::NAN);
                        gemm(1.0, &a, ta, &b, tb, 0.0, &mut c);
                        assert!(
                            (&c - &expected).abs().max() < 1e-12,
                            "{m} {k} {n} {ta} {tb}"
                        );
                        let mut acc = fill(m, n, 2.0);
                        let start = acc.clone();
                        gemm(0.5, &a, ta, &b, tb, 1.0, &mut acc);
                        assert!((&acc - (start + &expected * 0.5)).abs().max() < 1e-12);
                    }
                }
            }
        }
    }
}
