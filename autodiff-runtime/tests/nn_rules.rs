//! Neural-network ops against central differences and closed forms: softmax,
//! log-softmax, logsumexp, cross-entropy and mse; stability at logits of +-1000; the op
//! functions on scalars and matrices.

mod common;

use autodiff_runtime::nalgebra::{dmatrix, dvector, DMatrix, DVector, SMatrix};
use autodiff_runtime::ops;
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

/// Logits with one label per row.
fn logits_and_labels() -> BoxedStrategy<(DMatrix<f64>, Vec<usize>)> {
    (1usize..=6, 1usize..=6)
        .prop_flat_map(|(m, n)| {
            (
                dmat(m, n, range(-4.0, 4.0)),
                proptest::collection::vec(0..n, m),
            )
        })
        .boxed()
}

/// The naive softmax of each row, `e^x / sum e^x`, as an independent reference.
fn naive_softmax(x: &DMatrix<f64>) -> DMatrix<f64> {
    let e = x.map(f64::exp);
    let sums = e.column_sum();
    DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| e[(i, j)] / sums[i])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn softmax_family(x in any_dmat(range(-4.0, 4.0)), seed in any::<u64>()) {
        let p = unary(Softmax, &x);
        prop_assert!((&p - naive_softmax(&x)).amax() <= 1e-14);
        prop_assert!((unary(LogSoftmax, &x) - naive_softmax(&x).map(f64::ln)).amax() <= 1e-12);
        let lse = x.map(f64::exp).sum().ln();
        prop_assert!((unary(LogSumExp, &x) - lse).abs() <= 1e-12 * lse.abs().max(1.0));
        check_unary(Softmax, &x, seed, TOL64);
        check_unary(LogSoftmax, &x, seed, TOL64);
        check_unary(LogSumExp, &x, seed, TOL64);
    }

    #[test]
    fn cross_entropy_matches_log_softmax_and_differences((x, labels) in logits_and_labels(), seed in any::<u64>()) {
        let ls = naive_softmax(&x).map(f64::ln);
        let expected = -labels.iter().enumerate().map(|(i, &l)| ls[(i, l)]).sum::<f64>() / x.nrows() as f64;
        let y = binary(CrossEntropy, &x, &labels);
        prop_assert!((y - expected).abs() <= 1e-12 * expected.abs().max(1.0));
        check_vjp(&x, |x| binary(CrossEntropy, x, &labels), |x, y, g, gx| binary_vjp_lhs(CrossEntropy, x, &labels, y, g, gx), seed, TOL64);
        let x32 = to_f32(&x);
        let l: &[usize] = &labels;
        check_vjp(&x32, |x| binary(CrossEntropy, x, &l), |x, y, g, gx| binary_vjp_lhs(CrossEntropy, x, &l, y, g, gx), seed, TOL32);
    }

    #[test]
    fn mse_both_sides(p in any_dmat(range(-2.0, 2.0)), seed in any::<u64>()) {
        let t = p.map(|v| (3.0 * v).sin());
        let expected = (&p - &t).map(|d| d * d).mean();
        prop_assert!((binary(Mse, &p, &t) - expected).abs() <= 1e-14);
        check_vjp(&p, |p| binary(Mse, p, &t), |p, y, g, gp| binary_vjp_lhs(Mse, p, &t, y, g, gp), seed, TOL64);
        check_vjp(&t, |t| binary(Mse, &p, t), |t, y, g, gt| binary_vjp_rhs(Mse, &p, t, y, g, gt), seed, TOL64);
        let (p32, t32) = (to_f32(&p), to_f32(&t));
        check_vjp(&p32, |p| binary(Mse, p, &t32), |p, y, g, gp| binary_vjp_lhs(Mse, p, &t32, y, g, gp), seed, TOL32);
        let (a, b) = (p[0], t[0]);
        check_vjp(&a, |a| binary(Mse, a, &b), |a, y, g, ga| binary_vjp_lhs(Mse, a, &b, y, g, ga), seed, TOL64);
        check_vjp(&b, |b| binary(Mse, &a, b), |b, y, g, gb| binary_vjp_rhs(Mse, &a, b, y, g, gb), seed, TOL64);
    }

    #[test]
    fn vectors_and_fixed_sizes(
        v in (1usize..=6).prop_flat_map(|n| omat(n, 1, range(-4.0, 4.0))).prop_map(|v: DVector<f64>| v),
        s in omat(0, 0, range(-4.0, 4.0)).prop_map(|m: SMatrix<f64, 3, 4>| m),
        seed in any::<u64>(),
    ) {
        // A column-vector type is one group, like PyTorch's 1-D tensor.
        let p = unary(Softmax, &v);
        let e = v.map(f64::exp);
        prop_assert!((&p - &e / e.sum()).amax() <= 1e-14);
        check_unary(Softmax, &v, seed, TOL64);
        check_unary(LogSoftmax, &v, seed, TOL64);
        let label = [v.len() - 1];
        check_vjp(&v, |v| binary(CrossEntropy, v, &label), |v, y, g, gv| binary_vjp_lhs(CrossEntropy, v, &label, y, g, gv), seed, TOL64);
        check_unary(Softmax, &s, seed, TOL64);
        check_unary(LogSoftmax, &s, seed, TOL64);
        check_unary(LogSumExp, &s, seed, TOL64);
        let s32 = to_f32(&s);
        check_unary(Softmax, &s32, seed, TOL32);
        check_unary(LogSoftmax, &s32, seed, TOL32);
    }
}

#[test]
fn large_shapes_pass_the_random_direction_check() {
    let x = DMatrix::from_fn(64, 10, |i, j| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let labels: Vec<usize> = (0..64).map(|i| (i * 3) % 10).collect();
    for seed in [1, 2] {
        check_vjp_direction(
            &x,
            |x| unary(Softmax, x),
            |x, y, g, gx| unary_vjp(Softmax, x, y, g, gx),
            seed,
            1e-7,
        );
        check_vjp_direction(
            &x,
            |x| unary(LogSoftmax, x),
            |x, y, g, gx| unary_vjp(LogSoftmax, x, y, g, gx),
            seed,
            1e-7,
        );
        check_vjp_direction(
            &x,
            |x| binary(CrossEntropy, x, &labels),
            |x, y, g, gx| binary_vjp_lhs(CrossEntropy, x, &labels, y, g, gx),
            seed,
            1e-7,
        );
    }
}

fn grad_of<Op: Copy, X: UnaryOp<Op> + Adjoint>(op: Op, x: &X, g: &X::Output) -> X {
    let y = unary(op, x);
    let mut gx = X::adjoint_zero();
    unary_vjp(op, x, &y, g, &mut gx);
    gx.finish(x)
}

fn all_finite(m: &DMatrix<f64>) -> bool {
    m.iter().all(|v| v.is_finite())
}

/// Closed forms at logits of +-1000, where `e^1000` overflows: `softmax([1000, 0]) =
/// [1, e^-1000] = [1, 0]` in f64, `log_softmax([1000, 0]) = [0, -1000]`,
/// `logsumexp([1000, 1000]) = 1000 + ln 2`, and the cross-entropy of `[[1000, 0],
/// [0, 1000]]` against labels `[0, 0]` is `(0 + 1000) / 2` with gradient
/// `(softmax - onehot) / 2 = [[0, 0], [-0.5, 0.5]]`.
#[test]
fn logits_of_1000_give_finite_values_and_gradients() {
    let x = dmatrix![1000.0, 0.0; -1000.0, -1000.0];
    let p = unary(Softmax, &x);
    assert_eq!(p, dmatrix![1.0, 0.0; 0.5, 0.5]);
    let ls = unary(LogSoftmax, &x);
    assert_eq!(ls, dmatrix![0.0, -1000.0; -(2f64.ln()), -(2f64.ln())]);
    let g = dmatrix![1.0, -2.0; 0.5, 3.0];
    assert!(all_finite(&grad_of(Softmax, &x, &g)));
    assert!(all_finite(&grad_of(LogSoftmax, &x, &g)));

    let big = dmatrix![1000.0, 1000.0];
    assert_eq!(unary(LogSumExp, &big), 1000.0 + 2f64.ln());
    // e^(x - y) with y rounded to the spacing of 1000 (1.1e-13), as in PyTorch.
    assert!((grad_of(LogSumExp, &big, &1.0) - dmatrix![0.5, 0.5]).amax() < 1e-12);

    let logits = dmatrix![1000.0, 0.0; 0.0, 1000.0];
    let labels = [0usize, 0];
    assert_eq!(binary(CrossEntropy, &logits, &labels), 500.0);
    let mut gx: DMatrix<f64> = adjoint_zero();
    binary_vjp_lhs(CrossEntropy, &logits, &labels, &500.0, &1.0, &mut gx);
    assert_eq!(gx, dmatrix![0.0, 0.0; -0.5, 0.5]);

    // f32 overflows at e^89: the same holds there.
    let x32 = dmatrix![1000.0f32, 0.0];
    assert_eq!(unary(Softmax, &x32), dmatrix![1.0f32, 0.0]);
    assert_eq!(binary(CrossEntropy, &x32, &[1usize]), 1000.0f32);
}

#[test]
fn the_op_functions_run_the_rules() {
    let x = dmatrix![-1.5, 0.0, 2.0; 3.0, -700.0, 700.0];
    assert_eq!(ops::relu(&x), unary(Relu, &x));
    assert_eq!(ops::sigmoid(&x), unary(Sigmoid, &x));
    assert_eq!(ops::softplus(&x), unary(Softplus, &x));
    assert!(all_finite(&ops::sigmoid(&x)) && all_finite(&ops::softplus(&x)));
    assert_eq!(ops::softplus(800.0), 800.0);
    assert_eq!(ops::sigmoid(-800.0f32), 0.0);
    assert_eq!(ops::relu(-2.0f32), 0.0);
    // By value: updated in place, same result.
    let s = SMatrix::<f64, 2, 2>::new(-1.0, 1.0, 2.0, -2.0);
    assert_eq!(ops::relu(s), SMatrix::<f64, 2, 2>::new(0.0, 1.0, 2.0, 0.0));
    assert_eq!(ops::softmax(&x), unary(Softmax, &x));
    assert_eq!(ops::log_softmax(&x), unary(LogSoftmax, &x));
    assert_eq!(ops::logsumexp(&x), unary(LogSumExp, &x));
    let labels = vec![2usize, 0];
    assert_eq!(
        ops::cross_entropy(&x, &labels),
        binary(CrossEntropy, &x, &labels)
    );
    assert_eq!(
        ops::cross_entropy(&x, labels.as_slice()),
        binary(CrossEntropy, &x, &labels)
    );
    assert_eq!(ops::mse(&dvector![1.0, 3.0], &dvector![0.0, 0.0]), 5.0);
}

#[test]
fn labels_are_constants() {
    let x = dmatrix![1.0, 2.0];
    let mut labels = vec![1usize];
    binary_vjp_rhs(CrossEntropy, &x, &labels.clone(), &0.0, &1.0, &mut labels);
    assert_eq!(labels, vec![1]);
}

#[test]
#[should_panic(expected = "cross_entropy: 3 labels for logits of shape 2x4 (2 samples)")]
fn wrong_label_count_is_named() {
    let _ = binary(CrossEntropy, &DMatrix::<f64>::zeros(2, 4), &[0usize, 1, 2]);
}

#[test]
#[should_panic(expected = "cross_entropy: label 4 of sample 1 is out of range for 4 classes")]
fn out_of_range_label_is_named() {
    let _ = binary(CrossEntropy, &DMatrix::<f64>::zeros(2, 4), &[0usize, 4]);
}

#[test]
#[should_panic(expected = "mse: the prediction is 2x3 but the target is 3x2")]
fn mse_shape_mismatch_names_both() {
    let _ = binary(
        Mse,
        &DMatrix::<f64>::zeros(2, 3),
        &DMatrix::<f64>::zeros(3, 2),
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn f32_logsumexp_and_mse(x in any_dmat(range(-4.0, 4.0)), seed in any::<u64>()) {
        let x = to_f32(&x);
        check_unary(LogSumExp, &x, seed, TOL32);
        let t = x.map(|v| v.cos());
        check_vjp(&t, |t| binary(Mse, &x, t), |t, y, g, gt| binary_vjp_rhs(Mse, &x, t, y, g, gt), seed, TOL32);
    }
}

/// `forward_vjp_lhs` (one softmax for the loss and its gradient, used when the loss is a
/// function's result) agrees with `forward` then `vjp_lhs`: the value bit for bit, the
/// gradient to rounding; also for rows of huge, infinite and one-column logits.
#[test]
fn cross_entropy_value_and_gradient_in_one_call_match_the_separate_ones() {
    let cases: Vec<(DMatrix<f64>, Vec<usize>)> = vec![
        (
            dmatrix![0.3, -1.2, 2.0; 1000.0, -1000.0, 0.0; 0.5, 0.5, 0.5; -3.0, 4.0, 1.0],
            vec![2, 0, 1, 1],
        ),
        (
            dmatrix![0.1, f64::INFINITY; f64::NEG_INFINITY, 2.0; -0.7, 0.4],
            vec![0, 1, 0],
        ),
        (dmatrix![1.5; -2.0; 0.25], vec![0, 0, 0]),
    ];
    for (x, labels) in cases {
        let g = 0.75;
        let y = binary(CrossEntropy, &x, &labels);
        let mut separate = DMatrix::zeros(0, 0);
        binary_vjp_lhs(CrossEntropy, &x, &labels, &y, &g, &mut separate);
        let mut together = DMatrix::zeros(0, 0);
        let y2 = binary_forward_vjp_lhs(CrossEntropy, &x, &labels, &g, &mut together);
        assert_eq!(y.to_bits(), y2.to_bits(), "{x}");
        for (a, b) in together.iter().zip(separate.iter()) {
            assert!(
                (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-15 * (1.0 + b.abs()),
                "{a} vs {b} for\n{x}"
            );
        }
    }
    // A DVector of logits is one group (PyTorch's 1-D input).
    let v: DVector<f64> = dvector![0.2, -0.4, 1.3];
    let labels = [2usize];
    let y = binary(CrossEntropy, &v, &labels);
    let mut separate = DVector::<f64>::zeros(0);
    binary_vjp_lhs(CrossEntropy, &v, &labels, &y, &1.0, &mut separate);
    let mut together = DVector::<f64>::zeros(0);
    let y2 = binary_forward_vjp_lhs(CrossEntropy, &v, &labels, &1.0, &mut together);
    assert_eq!(y.to_bits(), y2.to_bits());
    for (a, b) in together.iter().zip(separate.iter()) {
        assert!((a - b).abs() <= 1e-15, "{a} vs {b}");
    }
}
