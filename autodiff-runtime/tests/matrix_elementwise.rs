//! Elementwise rules on matrices against central differences: every `ElementwiseRule`,
//! on `DMatrix` of random shapes, on fixed-size `SMatrix` and vectors, in f64 and f32.

mod common;

use autodiff_runtime::nalgebra::{DMatrix, DVector, RowDVector, SMatrix, SVector};
use autodiff_runtime::rules::*;
use common::*;
use proptest::prelude::*;

/// Elements in `[lo, hi]` at least 0.1 from 0 (where `abs` and `relu` have kinks).
fn smooth(lo: f64, hi: f64) -> BoxedStrategy<f64> {
    range(lo, hi)
        .prop_filter("away from 0", |v| v.abs() >= 0.1)
        .boxed()
}

/// One central-difference test per unary row of the op table, on inputs from its
/// `smooth` interval.
macro_rules! elementwise_test {
    ($u:ident, $syn:ident $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            #[test]
            #[allow(non_snake_case)]
            fn $u(x in any_dmat(super::smooth($lo, $hi)), seed in any::<u64>()) {
                let op = autodiff_runtime::rules::$u;
                check_vjp(&x, |x: &DMatrix<f64>| unary(op, x), |x, y, g, gx| unary_vjp(op, x, y, g, gx), seed, TOL64);
            }
        }
    };
}

// In a module of their own: the tests are named after the rules they check.
mod rows {
    use super::*;
    autodiff_ops::for_each_unary_row!(elementwise_test);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn powi_3(x in any_dmat(range(-2.0, 2.0)), seed in any::<u64>()) {
        check_vjp(&x, |x: &DMatrix<f64>| unary(PowI(3), x), |x, y, g, gx| unary_vjp(PowI(3), x, y, g, gx), seed, TOL64);
    }
    #[test]
    fn powi_neg_2(x in any_dmat(away_from_zero(0.3, 2.0)), seed in any::<u64>()) {
        check_vjp(&x, |x: &DMatrix<f64>| unary(PowI(-2), x), |x, y, g, gx| unary_vjp(PowI(-2), x, y, g, gx), seed, TOL64);
    }
    #[test]
    fn powi_0(x in any_dmat(range(-2.0, 2.0)), seed in any::<u64>()) {
        check_vjp(&x, |x: &DMatrix<f64>| unary(PowI(0), x), |x, y, g, gx| unary_vjp(PowI(0), x, y, g, gx), seed, TOL64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn static_matrix_and_vectors(
        m in omat::<_, _>(0, 0, range(-2.0, 2.0)).prop_map(|m: SMatrix<f64, 3, 4>| m),
        v in omat(0, 0, range(-2.0, 2.0)).prop_map(|v: SVector<f64, 5>| v),
        dv in (1usize..=6).prop_flat_map(|n| omat(n, 1, range(-2.0, 2.0))).prop_map(|v: DVector<f64>| v),
        rv in (1usize..=6).prop_flat_map(|n| omat(1, n, range(-2.0, 2.0))).prop_map(|v: RowDVector<f64>| v),
        seed in any::<u64>(),
    ) {
        check_vjp(&m, |x| unary(Tanh, x), |x, y, g, gx| unary_vjp(Tanh, x, y, g, gx), seed, TOL64);
        check_vjp(&v, |x| unary(Exp, x), |x, y, g, gx| unary_vjp(Exp, x, y, g, gx), seed, TOL64);
        check_vjp(&dv, |x| unary(Sigmoid, x), |x, y, g, gx| unary_vjp(Sigmoid, x, y, g, gx), seed, TOL64);
        check_vjp(&rv, |x| unary(Sin, x), |x, y, g, gx| unary_vjp(Sin, x, y, g, gx), seed, TOL64);
    }

    #[test]
    fn f32_matrices(x in any_dmat(range(-2.0, 2.0)), s in omat(0, 0, range(0.2, 3.0)).prop_map(|m: SMatrix<f64, 2, 3>| m), seed in any::<u64>()) {
        let x = to_f32(&x);
        let s = to_f32(&s);
        check_vjp(&x, |x| unary(Tanh, x), |x, y, g, gx| unary_vjp(Tanh, x, y, g, gx), seed, TOL32);
        check_vjp(&x, |x| unary(Exp, x), |x, y, g, gx| unary_vjp(Exp, x, y, g, gx), seed, TOL32);
        check_vjp(&s, |x| unary(Ln, x), |x, y, g, gx| unary_vjp(Ln, x, y, g, gx), seed, TOL32);
        check_vjp(&s, |x| unary(PowI(2), x), |x, y, g, gx| unary_vjp(PowI(2), x, y, g, gx), seed, TOL32);
    }
}

#[test]
fn forward_is_the_scalar_rule_elementwise() {
    let x = DMatrix::from_fn(3, 4, |i, j| i as f64 - j as f64 * 0.5);
    let y = unary(Tanh, &x);
    for (yv, xv) in y.iter().zip(x.iter()) {
        assert_eq!(*yv, xv.tanh());
    }
}
