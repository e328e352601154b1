//! Reductions, transpose and indexing against central differences and nalgebra's own
//! forward results.

mod common;

use autodiff_runtime::nalgebra::{DMatrix, DVector, RowDVector, SMatrix};
use autodiff_runtime::rules::*;
use common::*;
use proptest::prelude::*;

fn check_unary<Op: Copy, X>(op: Op, x: &X, seed: u64, tol: f64)
where
    X: UnaryOp<Op> + Flat + Adjoint,
    X::Output: Flat,
{
    check_vjp(
        x,
        |x| unary(op, x),
        |x, y, g, gx| unary_vjp(op, x, y, g, gx),
        seed,
        tol,
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reductions_match_nalgebra_and_differences(x in any_dmat(range(-2.0, 2.0)), seed in any::<u64>()) {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
        prop_assert!(close(unary(Sum, &x), x.sum()));
        prop_assert!(close(unary(Mean, &x), x.mean()));
        prop_assert!(close(unary(Norm, &x), x.norm()));
        prop_assert!(close(unary(NormSquared, &x), x.norm_squared()));
        prop_assert!((unary(RowSum, &x) - x.row_sum()).amax() <= 1e-12);
        prop_assert!((unary(ColumnSum, &x) - x.column_sum()).amax() <= 1e-12);
        prop_assert_eq!(unary(Transpose, &x), x.transpose());
        check_unary(Sum, &x, seed, TOL64);
        check_unary(Mean, &x, seed, TOL64);
        check_unary(Norm, &x, seed, TOL64);
        check_unary(NormSquared, &x, seed, TOL64);
        check_unary(RowSum, &x, seed, TOL64);
        check_unary(ColumnSum, &x, seed, TOL64);
        check_unary(Transpose, &x, seed, TOL64);
    }

    #[test]
    fn indexing((x, i, j) in any_dmat(range(-2.0, 2.0)).prop_flat_map(|x| { let (r, c) = x.shape(); (Just(x), 0..r, 0..c) }), seed in any::<u64>()) {
        prop_assert_eq!(unary(Index2(i, j), &x), x[(i, j)]);
        prop_assert_eq!(unary(Index(i + j * x.nrows()), &x), x[i + j * x.nrows()]);
        check_unary(Index2(i, j), &x, seed, TOL64);
        check_unary(Index(i + j * x.nrows()), &x, seed, TOL64);
    }

    #[test]
    fn fixed_size_vectors_and_f32(
        s in omat(0, 0, range(-2.0, 2.0)).prop_map(|m: SMatrix<f64, 3, 2>| m),
        v in (1usize..=6).prop_flat_map(|n| omat(n, 1, range(-2.0, 2.0))).prop_map(|v: DVector<f64>| v),
        seed in any::<u64>(),
    ) {
        check_unary(Transpose, &s, seed, TOL64);
        check_unary(RowSum, &s, seed, TOL64);
        check_unary(ColumnSum, &s, seed, TOL64);
        check_unary(Norm, &v, seed, TOL64);
        check_unary(Index(v.len() - 1), &v, seed, TOL64);
        let r: RowDVector<f64> = v.transpose();
        check_unary(Mean, &r, seed, TOL64);
        check_unary(Transpose, &r, seed, TOL64);
        let s32 = to_f32(&s);
        check_unary(Sum, &s32, seed, TOL32);
        check_unary(Norm, &s32, seed, TOL32);
        check_unary(Transpose, &s32, seed, TOL32);
        check_unary(RowSum, &s32, seed, TOL32);
    }
}

#[test]
fn large_reductions_pass_the_random_direction_check() {
    let x = DMatrix::from_fn(50, 40, |i, j| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0);
    let dir = |op_seed: u64| {
        check_vjp_direction(
            &x,
            |x| unary(Transpose, x),
            |x, y, g, gx| unary_vjp(Transpose, x, y, g, gx),
            op_seed,
            1e-7,
        );
        check_vjp_direction(
            &x,
            |x| unary(RowSum, x),
            |x, y, g, gx| unary_vjp(RowSum, x, y, g, gx),
            op_seed,
            1e-7,
        );
        check_vjp_direction(
            &x,
            |x| unary(ColumnSum, x),
            |x, y, g, gx| unary_vjp(ColumnSum, x, y, g, gx),
            op_seed,
            1e-7,
        );
        check_vjp_direction(
            &x,
            |x| unary(Norm, x),
            |x, y, g, gx| unary_vjp(Norm, x, y, g, gx),
            op_seed,
            1e-7,
        );
    };
    dir(3);
    dir(4);
}

/// PyTorch's subgradient: the norm's gradient at 0 is 0, not NaN.
#[test]
fn norm_gradient_at_zero_is_zero() {
    let x = DMatrix::<f64>::zeros(2, 3);
    let y = unary(Norm, &x);
    let mut gx: DMatrix<f64> = adjoint_zero();
    unary_vjp(Norm, &x, &y, &1.0, &mut gx);
    assert_eq!(gx, DMatrix::zeros(2, 3));
}

#[test]
#[should_panic(expected = "index (2, 0) is out of bounds for a 2x3 matrix")]
fn index_out_of_bounds_names_the_shape() {
    let _ = unary(Index2(2, 0), &DMatrix::<f64>::zeros(2, 3));
}

#[test]
#[should_panic(expected = "index 6 is out of bounds for a 2x3 matrix")]
fn linear_index_out_of_bounds_names_the_shape() {
    let _ = unary(Index(6), &DMatrix::<f64>::zeros(2, 3));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Every scalar-valued reduction and indexing op in f32, against f32 central differences.
    #[test]
    fn f32_reductions_and_indexing(x in any_dmat(range(-2.0, 2.0)), seed in any::<u64>()) {
        let x = to_f32(&x);
        let last = x.len() - 1;
        check_unary(Sum, &x, seed, TOL32);
        check_unary(Mean, &x, seed, TOL32);
        check_unary(Norm, &x, seed, TOL32);
        check_unary(NormSquared, &x, seed, TOL32);
        check_unary(ColumnSum, &x, seed, TOL32);
        check_unary(Index(last), &x, seed, TOL32);
        check_unary(Index2(0, x.ncols() - 1), &x, seed, TOL32);
        let y = x.map(|v| v * 0.5 - 0.25);
        check_vjp(&x, |x| binary(Dot, x, &y), |x, out, g, gx| binary_vjp_lhs(Dot, x, &y, out, g, gx), seed, TOL32);
    }
}
