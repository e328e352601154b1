//! Matrix adjoints: the empty symbolic zero, sizing on first contribution, in-place
//! accumulation into non-empty adjoints, `finish`, and op names.

use autodiff_runtime::nalgebra::{dmatrix, DMatrix, DVector, RowDVector, SMatrix};
use autodiff_runtime::rules::*;

#[test]
fn the_zero_is_empty_for_dynamic_dims_and_zeros_for_fixed_ones() {
    let d: DMatrix<f64> = adjoint_zero();
    assert_eq!(d.shape(), (0, 0));
    let v: DVector<f32> = adjoint_zero();
    assert_eq!(v.shape(), (0, 1));
    let r: RowDVector<f64> = adjoint_zero();
    assert_eq!(r.shape(), (1, 0));
    let s: SMatrix<f64, 2, 3> = adjoint_zero();
    assert_eq!(s, SMatrix::<f64, 2, 3>::zeros());
}

#[test]
fn accumulate_sizes_an_empty_accumulator_and_adds_into_a_full_one() {
    let mut acc: DMatrix<f64> = adjoint_zero();
    let c = dmatrix![1.0, 2.0; 3.0, 4.0];
    accumulate(&mut acc, &c);
    assert_eq!(acc, c);
    accumulate(&mut acc, &c);
    assert_eq!(acc, dmatrix![2.0, 4.0; 6.0, 8.0]);
    // An empty contribution (a symbolic zero) adds nothing.
    accumulate(&mut acc, &DMatrix::zeros(0, 0));
    assert_eq!(acc, dmatrix![2.0, 4.0; 6.0, 8.0]);
}

#[test]
fn finish_turns_an_empty_adjoint_into_zeros_of_the_primal_shape() {
    let primal = DMatrix::<f64>::from_element(3, 2, 7.0);
    assert_eq!(finish(adjoint_zero(), &primal), DMatrix::zeros(3, 2));
    let full = DMatrix::from_element(3, 2, 1.5);
    assert_eq!(finish(full.clone(), &primal), full);
}

#[test]
fn vjps_size_an_empty_adjoint_and_add_into_a_full_one() {
    let x = dmatrix![0.5, -1.0; 2.0, 0.25];
    let y = unary(Exp, &x);
    let g = dmatrix![1.0, 2.0; -1.0, 0.5];
    let mut gx: DMatrix<f64> = adjoint_zero();
    unary_vjp(Exp, &x, &y, &g, &mut gx);
    let once = gx.clone();
    assert_eq!(once, g.component_mul(&y));
    unary_vjp(Exp, &x, &y, &g, &mut gx);
    assert_eq!(gx, &once * 2.0);

    // Binary, product and reductions too.
    let b = dmatrix![1.0, 2.0; 3.0, 4.0];
    let p = binary(Mul, &x, &b);
    let mut gb = DMatrix::from_element(2, 2, 10.0);
    binary_vjp_rhs(Mul, &x, &b, &p, &g, &mut gb);
    assert_eq!(gb, DMatrix::from_element(2, 2, 10.0) + x.transpose() * &g);
    let mut gs: DMatrix<f64> = adjoint_zero();
    unary_vjp(Sum, &x, &x.sum(), &3.0, &mut gs);
    unary_vjp(Mean, &x, &x.mean(), &4.0, &mut gs);
    assert_eq!(gs, DMatrix::from_element(2, 2, 4.0));
}

#[test]
fn an_empty_cotangent_adds_nothing() {
    let x = dmatrix![0.5, -1.0];
    let y = unary(Tanh, &x);
    let mut gx: DMatrix<f64> = adjoint_zero();
    unary_vjp(Tanh, &x, &y, &DMatrix::zeros(0, 0), &mut gx);
    assert!(gx.is_empty());
    binary_vjp_lhs(
        Mul,
        &x,
        &x.transpose(),
        &(&x * x.transpose()),
        &DMatrix::zeros(0, 0),
        &mut gx,
    );
    assert!(gx.is_empty());
    assert_eq!(finish(gx, &x), DMatrix::zeros(1, 2));
}

#[test]
fn ensure_shape_keeps_a_matching_adjoint() {
    let mut acc = dmatrix![1.0, 2.0];
    ensure_shape(&mut acc, 1, 2);
    assert_eq!(acc, dmatrix![1.0, 2.0]);
}

#[test]
#[should_panic(expected = "the adjoint is 1x2 but its value is 2x1")]
fn ensure_shape_rejects_a_wrong_non_empty_adjoint() {
    let mut acc = dmatrix![1.0, 2.0];
    ensure_shape(&mut acc, 2, 1);
}

#[test]
#[should_panic(expected = "the adjoint is 2x2 but its value is 1x2")]
fn accumulating_different_shapes_names_both() {
    let mut acc = DMatrix::<f64>::zeros(2, 2);
    accumulate(&mut acc, &DMatrix::zeros(1, 2));
}

/// The names PyTorch 2.x prints for these ops' `grad_fn` (e.g. `x.t()` gives
/// `TBackward0`, `x[i]` gives `SelectBackward0`, `F.cross_entropy` gives
/// `NllLossBackward0`).
#[test]
fn every_marker_has_its_pytorch_name() {
    fn name<O: OpName>(_: O) -> &'static str {
        O::TORCH_NAME
    }
    let expected = [
        (name(Transpose), "TBackward0"),
        (name(Sum), "SumBackward0"),
        (name(Mean), "MeanBackward0"),
        (name(Norm), "LinalgVectorNormBackward0"),
        (name(NormSquared), "SumBackward0"),
        (name(RowSum), "SumBackward1"),
        (name(ColumnSum), "SumBackward1"),
        (name(Index(0)), "SelectBackward0"),
        (name(Index2(0, 0)), "SelectBackward0"),
        (name(Dot), "DotBackward0"),
        (name(ComponentMul), "MulBackward0"),
        (name(ComponentDiv), "DivBackward0"),
        (name(Softmax), "SoftmaxBackward0"),
        (name(LogSoftmax), "LogSoftmaxBackward0"),
        (name(LogSumExp), "LogsumexpBackward0"),
        (name(CrossEntropy), "NllLossBackward0"),
        (name(Mse), "MseLossBackward0"),
        (name(Exp), "ExpBackward0"),
        (name(PowI(2)), "PowBackward0"),
        (name(Mul), "MulBackward0"),
        (name(Powf), "PowBackward1"),
    ];
    for (got, want) in expected {
        assert_eq!(got, want);
    }
}
