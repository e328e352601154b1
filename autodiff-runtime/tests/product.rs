//! The matrix product and the dot product against central differences: random shapes,
//! matrix times vector, row times matrix, outer products, fixed-size and f32 operands,
//! and large shapes (the blocked `matrixmultiply` path) by the random-direction check.

mod common;

use autodiff_runtime::nalgebra::{DMatrix, DVector, RowDVector, SMatrix, SVector};
use autodiff_runtime::rules::*;
use common::*;
use proptest::prelude::*;

fn check_both<Op, A, B>(op: Op, a: &A, b: &B, seed: u64, tol: f64)
where
    Op: Copy,
    A: BinaryOp<Op, B> + Flat + Adjoint,
    B: Flat + Adjoint,
    A::Output: Flat,
{
    check_vjp(
        a,
        |a| binary(op, a, b),
        |a, y, g, ga| binary_vjp_lhs(op, a, b, y, g, ga),
        seed,
        tol,
    );
    check_vjp(
        b,
        |b| binary(op, a, b),
        |b, y, g, gb| binary_vjp_rhs(op, a, b, y, g, gb),
        seed ^ 1,
        tol,
    );
}

fn check_both_direction<Op, A, B>(op: Op, a: &A, b: &B, seed: u64, tol: f64)
where
    Op: Copy,
    A: BinaryOp<Op, B> + Flat + Adjoint,
    B: Flat + Adjoint,
    A::Output: Flat,
{
    check_vjp_direction(
        a,
        |a| binary(op, a, b),
        |a, y, g, ga| binary_vjp_lhs(op, a, b, y, g, ga),
        seed,
        tol,
    );
    check_vjp_direction(
        b,
        |b| binary(op, a, b),
        |b, y, g, gb| binary_vjp_rhs(op, a, b, y, g, gb),
        seed ^ 1,
        tol,
    );
}

fn product_operands() -> BoxedStrategy<(DMatrix<f64>, DMatrix<f64>)> {
    (1usize..=6, 1usize..=6, 1usize..=6)
        .prop_flat_map(|(m, k, n)| (dmat(m, k, range(-2.0, 2.0)), dmat(k, n, range(-2.0, 2.0))))
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn matrix_product((a, b) in product_operands(), seed in any::<u64>()) {
        let y = binary(Mul, &a, &b);
        let expected = &a * &b;
        prop_assert!((y - expected).amax() <= 1e-12);
        check_both(Mul, &a, &b, seed, TOL64);
    }

    #[test]
    fn vector_products(
        (a, v) in (1usize..=6, 1usize..=6).prop_flat_map(|(m, k)| (dmat(m, k, range(-2.0, 2.0)), omat(k, 1, range(-2.0, 2.0)))),
        seed in any::<u64>(),
    ) {
        let v: DVector<f64> = v;
        let r: RowDVector<f64> = v.transpose();
        let at = a.transpose();
        check_both(Mul, &a, &v, seed, TOL64); // matrix * vector
        check_both(Mul, &r, &at, seed, TOL64); // row * matrix
        check_both(Mul, &v, &r, seed, TOL64); // outer product
        check_both(Mul, &r, &v, seed, TOL64); // inner product as a 1x1 matrix
        check_both(Dot, &v, &v.map(|x| x * 0.5 + 1.0), seed, TOL64);
        check_both(Dot, &a, &a.map(|x| x.sin()), seed, TOL64);
    }

    #[test]
    fn fixed_size_products(
        a in omat(0, 0, range(-2.0, 2.0)).prop_map(|m: SMatrix<f64, 2, 3>| m),
        b in omat(0, 0, range(-2.0, 2.0)).prop_map(|m: SMatrix<f64, 3, 4>| m),
        v in omat(0, 0, range(-2.0, 2.0)).prop_map(|m: SVector<f64, 3>| m),
        seed in any::<u64>(),
    ) {
        check_both(Mul, &a, &b, seed, TOL64);
        check_both(Mul, &a, &v, seed, TOL64);
        check_both(Dot, &v, &v.map(|x| 1.0 - x), seed, TOL64);
        // Fixed times dynamic.
        let d = DMatrix::from_fn(3, 2, |i, j| i as f64 - 0.5 * j as f64);
        check_both(Mul, &a, &d, seed, TOL64);
    }

    #[test]
    fn f32_products((a, b) in product_operands(), seed in any::<u64>()) {
        check_both(Mul, &to_f32(&a), &to_f32(&b), seed, TOL32);
    }
}

/// Shapes across the blocked-kernel threshold, in f64 and f32 (the latter with a looser
/// tolerance), including the 16x150 by 150x3 shape that trips nalgebra's strided gemm.
#[test]
fn large_products_pass_the_random_direction_check() {
    for &(m, k, n) in &[
        (9, 8, 10),
        (33, 17, 12),
        (64, 40, 10),
        (16, 150, 3),
        (3, 20, 50),
        (64, 128, 10),
    ] {
        let a = DMatrix::from_fn(m, k, |i, j| ((i * 13 + j * 7) % 17) as f64 / 8.0 - 1.0);
        let b = DMatrix::from_fn(k, n, |i, j| ((i * 5 + j * 11) % 19) as f64 / 9.0 - 1.0);
        check_both_direction(Mul, &a, &b, (m * k * n) as u64, 1e-7);
        check_both_direction(Mul, &to_f32(&a), &to_f32(&b), 7, 1e-2);
    }
}

#[test]
fn large_product_adjoints_equal_the_explicit_transposed_products() {
    let (m, k, n) = (37, 29, 23);
    let a = DMatrix::from_fn(m, k, |i, j| ((i * 13 + j * 7) % 17) as f64 / 8.0 - 1.0);
    let b = DMatrix::from_fn(k, n, |i, j| ((i * 5 + j * 11) % 19) as f64 / 9.0 - 1.0);
    let g = DMatrix::from_fn(m, n, |i, j| ((i * 3 + j) % 5) as f64 - 2.0);
    let y = binary(Mul, &a, &b);
    assert!((&y - &a * &b).amax() < 1e-12);
    // Accumulate into non-empty adjoints: the result must be start + contribution.
    let start_a = DMatrix::from_element(m, k, 0.25);
    let start_b = DMatrix::from_element(k, n, -0.5);
    let (mut ga, mut gb) = (start_a.clone(), start_b.clone());
    binary_vjp_lhs(Mul, &a, &b, &y, &g, &mut ga);
    binary_vjp_rhs(Mul, &a, &b, &y, &g, &mut gb);
    assert!((ga - (start_a + &g * b.transpose())).amax() < 1e-12);
    assert!((gb - (start_b + a.transpose() * &g)).amax() < 1e-12);
}

#[test]
fn product_names_follow_pytorch() {
    assert_eq!(
        <DMatrix<f64> as BinaryOp<Mul, DMatrix<f64>>>::torch_name(),
        "MmBackward0"
    );
    assert_eq!(
        <DMatrix<f64> as BinaryOp<Mul, DVector<f64>>>::torch_name(),
        "MvBackward0"
    );
    assert_eq!(binary_torch_name(&Mul, &2.0, &3.0), "MulBackward0");
    assert_eq!(
        binary_torch_name(&Mul, &DMatrix::<f64>::zeros(2, 2), &2.0),
        "MulBackward0"
    );
    assert_eq!(
        binary_torch_name(
            &Add,
            &DMatrix::<f64>::zeros(2, 2),
            &DMatrix::<f64>::zeros(2, 2)
        ),
        "AddBackward0"
    );
}

#[test]
#[should_panic(expected = "cannot multiply a 2x3 matrix by a 4x5 matrix")]
fn incompatible_product_names_both_shapes() {
    let _ = binary(
        Mul,
        &DMatrix::<f64>::zeros(2, 3),
        &DMatrix::<f64>::zeros(4, 5),
    );
}

#[test]
#[should_panic(expected = "dot: the operands must have the same shape, but they are 3x1 and 4x1")]
fn dot_of_different_lengths_names_both() {
    let _ = binary(Dot, &DVector::<f64>::zeros(3), &DVector::<f64>::zeros(4));
}
