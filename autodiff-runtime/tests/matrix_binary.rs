//! Binary rules on matrices against central differences: elementwise with every
//! broadcast combination (equal shapes, row, column, 1x1, outer), scalar with matrix in
//! both orders, fixed-size and mixed types, f64 and f32; shape errors.

mod common;

use autodiff_runtime::nalgebra::{DMatrix, DVector, RowDVector, RowSVector, SMatrix, SVector};
use autodiff_runtime::rules::*;
use common::*;
use proptest::prelude::*;

/// The operand shapes of broadcast case `mode` for an `m x n` result.
fn shapes(m: usize, n: usize, mode: usize) -> ((usize, usize), (usize, usize)) {
    match mode {
        0 => ((m, n), (m, n)),
        1 => ((m, n), (1, n)), // bias row on the right
        2 => ((1, n), (m, n)), // row on the left
        3 => ((m, n), (m, 1)), // column on the right
        4 => ((m, 1), (m, n)),
        5 => ((m, n), (1, 1)),
        6 => ((1, 1), (m, n)),
        _ => ((m, 1), (1, n)), // outer broadcast
    }
}

/// Two `DMatrix` operands in a random broadcast relation.
fn pair(
    ea: BoxedStrategy<f64>,
    eb: BoxedStrategy<f64>,
) -> BoxedStrategy<(DMatrix<f64>, DMatrix<f64>)> {
    (1usize..=6, 1usize..=6, 0usize..8)
        .prop_flat_map(move |(m, n, mode)| {
            let ((ar, ac), (br, bc)) = shapes(m, n, mode);
            (dmat(ar, ac, ea.clone()), dmat(br, bc, eb.clone()))
        })
        .boxed()
}

/// No element of `a` within `gap` of an element of `b` (so `max`/`min` are smooth).
fn apart(a: &DMatrix<f64>, b: &DMatrix<f64>, gap: f64) -> bool {
    a.iter().all(|x| b.iter().all(|y| (x - y).abs() > gap))
}

/// Checks both adjoints of `op(a, b)` against central differences.
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

macro_rules! broadcast_tests {
    ($($name:ident: $op:expr, $ea:expr, $eb:expr;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            $(
                #[test]
                fn $name((a, b) in pair($ea, $eb), seed in any::<u64>()) {
                    prop_assume!(apart(&a, &b, 1e-3));
                    check_both($op, &a, &b, seed, TOL64);
                }
            )*
        }
    };
}

broadcast_tests! {
    add_broadcast: Add, range(-2.0, 2.0), range(-2.0, 2.0);
    sub_broadcast: Sub, range(-2.0, 2.0), range(-2.0, 2.0);
    div_broadcast: Div, range(-2.0, 2.0), away_from_zero(0.3, 2.0);
    powf_broadcast: Powf, range(0.3, 2.0), range(-2.0, 2.0);
    max_broadcast: Max, range(-2.0, 2.0), range(-2.0, 2.0);
    min_broadcast: Min, range(-2.0, 2.0), range(-2.0, 2.0);
    component_mul_broadcast: ComponentMul, range(-2.0, 2.0), range(-2.0, 2.0);
    component_div_broadcast: ComponentDiv, range(-2.0, 2.0), away_from_zero(0.3, 2.0);
}

macro_rules! scalar_tests {
    ($($name:ident: $op:expr, $em:expr, $es:expr;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            $(
                #[test]
                fn $name(m in any_dmat($em), s in $es, seed in any::<u64>()) {
                    prop_assume!(m.iter().all(|x| (x - s).abs() > 1e-3));
                    check_both($op, &m, &s, seed, TOL64);
                    check_both($op, &s, &m, seed, TOL64);
                }
            )*
        }
    };
}

scalar_tests! {
    add_scalar: Add, range(-2.0, 2.0), range(-2.0, 2.0);
    sub_scalar: Sub, range(-2.0, 2.0), range(-2.0, 2.0);
    mul_scalar: Mul, range(-2.0, 2.0), range(-2.0, 2.0);
    div_scalar: Div, away_from_zero(0.3, 2.0), away_from_zero(0.3, 2.0);
    powf_scalar: Powf, range(0.3, 2.0), range(0.3, 2.0);
    max_scalar: Max, range(-2.0, 2.0), range(-2.0, 2.0);
    min_scalar: Min, range(-2.0, 2.0), range(-2.0, 2.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn static_and_mixed_types(
        m in omat(0, 0, range(-2.0, 2.0)).prop_map(|m: SMatrix<f64, 3, 4>| m),
        m2 in omat(0, 0, range(-2.0, 2.0)).prop_map(|m: SMatrix<f64, 3, 4>| m),
        row in omat(0, 0, range(0.5, 2.0)).prop_map(|m: RowSVector<f64, 4>| m),
        col in omat(0, 0, range(-2.0, 2.0)).prop_map(|m: SVector<f64, 3>| m),
        n in 1usize..=6,
        k in 1usize..=6,
        seed in any::<u64>(),
    ) {
        check_both(Add, &m, &m2, seed, TOL64);
        check_both(Add, &m, &row, seed, TOL64); // SMatrix + RowSVector: bias add
        check_both(Div, &m, &row, seed, TOL64);
        check_both(Sub, &m, &col, seed, TOL64); // SMatrix - SVector: column broadcast
        check_both(Mul, &m, &2.5, seed, TOL64);
        check_both(Sub, &1.5, &m, seed, TOL64);
        // Dynamic types: DMatrix + RowDVector, RowDVector + DMatrix, DVector + RowDVector.
        let d = DMatrix::from_fn(n, k, |i, j| (i as f64 * 0.7 - j as f64 * 0.3).sin());
        let r = RowDVector::from_fn(k, |_, j| 0.2 * j as f64 - 0.5);
        let c = DVector::from_fn(n, |i, _| 0.1 * i as f64 + 0.3);
        check_both(Add, &d, &r, seed, TOL64);
        check_both(Sub, &r, &d, seed, TOL64);
        check_both(ComponentMul, &c, &r, seed, TOL64);
        // Fixed with dynamic: SMatrix<3, 4> + RowDVector of width 4.
        let r4 = RowDVector::from_fn(4, |_, j| 0.5 - 0.1 * j as f64);
        check_both(Add, &m, &r4, seed, TOL64);
    }

    #[test]
    fn f32_broadcast((a, b) in pair(range(-2.0, 2.0), away_from_zero(0.5, 2.0)), s in away_from_zero(0.5, 2.0), seed in any::<u64>()) {
        let (a, b, s) = (to_f32(&a), to_f32(&b), s as f32);
        check_both(Add, &a, &b, seed, TOL32);
        check_both(ComponentDiv, &a, &b, seed, TOL32);
        check_both(Mul, &a, &s, seed, TOL32);
        check_both(Div, &s, &b, seed, TOL32);
    }
}

#[test]
fn large_broadcasts_pass_the_random_direction_check() {
    let a = DMatrix::from_fn(40, 30, |i, j| ((i * 31 + j * 17) % 23) as f64 / 7.0 - 1.5);
    let b = RowDVector::from_fn(30, |_, j| 0.5 + (j % 7) as f64 / 5.0);
    let dir = |seed: u64| {
        check_vjp_direction(
            &a,
            |a| binary(Div, a, &b),
            |a, y, g, ga| binary_vjp_lhs(Div, a, &b, y, g, ga),
            seed,
            1e-7,
        );
        check_vjp_direction(
            &b,
            |b| binary(Div, &a, b),
            |b, y, g, gb| binary_vjp_rhs(Div, &a, b, y, g, gb),
            seed,
            1e-7,
        );
    };
    dir(1);
    dir(2);
}

#[test]
fn bias_row_adjoint_is_the_column_sums() {
    let x = DMatrix::from_fn(4, 3, |i, j| (i + 10 * j) as f64);
    let b = RowDVector::from_vec(vec![1.0, 2.0, 3.0]);
    let y = binary(Add, &x, &b);
    assert_eq!(
        y,
        DMatrix::from_fn(4, 3, |i, j| (i + 10 * j) as f64 + (j + 1) as f64)
    );
    let g = DMatrix::from_fn(4, 3, |i, j| (i * 3 + j) as f64);
    let mut gb: RowDVector<f64> = adjoint_zero();
    binary_vjp_rhs(Add, &x, &b, &y, &g, &mut gb);
    assert_eq!(gb, g.row_sum());
}

#[test]
fn row_on_the_left_of_a_dynamic_matrix_gives_a_dynamic_matrix() {
    let r = RowDVector::from_vec(vec![1.0, 2.0]);
    let m = DMatrix::from_row_slice(3, 2, &[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
    let y: DMatrix<f64> = binary(Sub, &r, &m);
    assert_eq!(
        y,
        DMatrix::from_row_slice(3, 2, &[0.0, 1.0, -1.0, 0.0, -2.0, -1.0])
    );
}

#[test]
#[should_panic(expected = "Add: cannot broadcast a 2x3 matrix with a 4x3 matrix")]
fn incompatible_shapes_name_both() {
    let _ = binary(
        Add,
        &DMatrix::<f64>::zeros(2, 3),
        &DMatrix::<f64>::zeros(4, 3),
    );
}

#[test]
#[should_panic(expected = "does not fit its fixed-size type (1x4)")]
fn a_fixed_row_cannot_grow_on_the_left() {
    let _ = binary(
        Add,
        &RowSVector::<f64, 4>::zeros(),
        &SMatrix::<f64, 3, 4>::zeros(),
    );
}

#[test]
#[should_panic(expected = "the cotangent is 2x2 but the op's result is 3x2")]
fn a_cotangent_of_the_wrong_shape_is_caught() {
    let a = DMatrix::<f64>::zeros(3, 2);
    let y = binary(Add, &a, &a);
    let mut ga: DMatrix<f64> = adjoint_zero();
    binary_vjp_lhs(Add, &a, &a, &y, &DMatrix::zeros(2, 2), &mut ga);
}
