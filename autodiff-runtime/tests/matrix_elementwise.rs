//! Elementwise rules on matrices against central differences: every `ElementwiseRule`,
//! on `DMatrix` of random shapes, on fixed-size `SMatrix` and vectors, in f64 and f32.

mod common;

use autodiff_runtime::nalgebra::{DMatrix, DVector, RowDVector, SMatrix, SVector};
use autodiff_runtime::rules::*;
use common::*;
use proptest::prelude::*;

macro_rules! elementwise_tests {
    ($($name:ident: $rule:expr, $elem:expr;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            $(
                #[test]
                fn $name(x in any_dmat($elem), seed in any::<u64>()) {
                    let op = $rule;
                    check_vjp(&x, |x: &DMatrix<f64>| unary(op, x), |x, y, g, gx| unary_vjp(op, x, y, g, gx), seed, TOL64);
                }
            )*
        }
    };
}

elementwise_tests! {
    neg: Neg, range(-3.0, 3.0);
    exp: Exp, range(-3.0, 3.0);
    ln: Ln, range(0.2, 5.0);
    log10: Log10, range(0.2, 5.0);
    log2: Log2, range(0.2, 5.0);
    sqrt: Sqrt, range(0.2, 5.0);
    recip: Recip, away_from_zero(0.3, 3.0);
    sin: Sin, range(-3.0, 3.0);
    cos: Cos, range(-3.0, 3.0);
    tan: Tan, range(-1.2, 1.2);
    tanh: Tanh, range(-3.0, 3.0);
    sinh: Sinh, range(-3.0, 3.0);
    cosh: Cosh, range(-3.0, 3.0);
    abs: Abs, away_from_zero(0.01, 3.0);
    exp_m1: ExpM1, range(-3.0, 3.0);
    ln_1p: Ln1p, range(-0.7, 3.0);
    relu: Relu, away_from_zero(0.01, 3.0);
    sigmoid: Sigmoid, range(-6.0, 6.0);
    softplus: Softplus, range(-6.0, 6.0);
    powi_3: PowI(3), range(-2.0, 2.0);
    powi_neg_2: PowI(-2), away_from_zero(0.3, 2.0);
    powi_0: PowI(0), range(-2.0, 2.0);
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
