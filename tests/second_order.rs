//! The `jvp` and `hvp` options: `name_jvp` (forward mode), `name_hvp` (forward over
//! reverse) and `name_hessian`, checked against the seed's numbers, against central
//! finite differences of the exact gradient, and against each other, for `f64`, `f32` and
//! generic functions, scalars, matrices, slices, control flow and calls.

use autodiff::nalgebra::{DMatrix, DVector, RowDVector};
use autodiff::prelude::*;

#[differentiable(jvp, hvp)]
fn cube(x: f64) -> f64 {
    x * x * x
}

#[differentiable(jvp, hvp)]
fn cube_powi(x: f64) -> f64 {
    x.powi(3)
}

#[test]
fn the_seed_second_derivative_of_x_cubed_at_2_is_12() {
    let (y, dy) = cube_jvp(2.0, &CubeGrad { x: 1.0 });
    assert_eq!((y, dy), (8.0, 12.0));
    let (y, g, hv) = cube_hvp(2.0, &CubeGrad { x: 1.0 });
    assert_eq!((y, g.x, hv.x), (8.0, 12.0, 12.0));
    let (y, g, h) = cube_hessian(2.0);
    assert_eq!((y, g.x, h[(0, 0)]), (8.0, 12.0, 12.0));
    assert_eq!(h.shape(), (1, 1));
    let (_, g, h) = cube_powi_hessian(2.0);
    assert_eq!((g.x, h[(0, 0)]), (12.0, 12.0));
}

/// Scalars, transcendental functions, a branch, a loop, a literal conversion.
#[differentiable(wrt(x, y), jvp, hvp)]
fn mixed(x: f64, y: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        let k = i as f64 + 1.0;
        if x > 0.0 {
            s += (x * k).sin() * y.exp() / k;
        } else {
            s -= x * x * y;
        }
    }
    s + f64::max(x, y).powi(2) + (x * y).tanh() + std::f64::consts::PI * y.ln()
}

fn fd_gradient(f: impl Fn(f64, f64) -> f64, x: f64, y: f64) -> (f64, f64) {
    let h = 1e-6;
    (
        (f(x + h, y) - f(x - h, y)) / (2.0 * h),
        (f(x, y + h) - f(x, y - h)) / (2.0 * h),
    )
}

#[test]
fn scalar_jvp_hvp_and_hessian_match_finite_differences_of_the_gradient() {
    for &(x, y) in &[(0.7, 1.3), (-0.4, 0.9), (1.9, 0.3)] {
        let (v, g) = mixed_grad(x, y, 4);
        // jvp = <gradient, tangent>.
        let t = MixedGrad { x: 0.3, y: -1.1 };
        let (vj, dj) = mixed_jvp(x, y, 4, &t);
        assert_eq!(vj.to_bits(), v.to_bits());
        assert!((dj - (g.x * t.x + g.y * t.y)).abs() < 1e-12 * dj.abs().max(1.0));
        // The Hessian's columns: differences of the exact gradient.
        let gx = |x: f64, y: f64| mixed_grad(x, y, 4).1.x;
        let gy = |x: f64, y: f64| mixed_grad(x, y, 4).1.y;
        let (hxx, hxy) = fd_gradient(gx, x, y);
        let (hyx, hyy) = fd_gradient(gy, x, y);
        let (vh, gh, h) = mixed_hessian(x, y, 4);
        assert_eq!(vh.to_bits(), v.to_bits());
        assert_eq!(
            (gh.x.to_bits(), gh.y.to_bits()),
            (g.x.to_bits(), g.y.to_bits())
        );
        for (got, want) in [
            (h[(0, 0)], hxx),
            (h[(0, 1)], hyx),
            (h[(1, 0)], hxy),
            (h[(1, 1)], hyy),
        ] {
            assert!(
                (got - want).abs() < 1e-6 * want.abs().max(1.0),
                "{got} vs {want} at {x}, {y}"
            );
        }
        assert!((h[(0, 1)] - h[(1, 0)]).abs() < 1e-12 * h[(0, 1)].abs().max(1.0));
        // hvp along t is H t.
        let (_, _, hv) = mixed_hvp(x, y, 4, &t);
        let want = &h * DVector::from_vec(vec![t.x, t.y]);
        assert!((hv.x - want[0]).abs() < 1e-12 * want[0].abs().max(1.0));
        assert!((hv.y - want[1]).abs() < 1e-12 * want[1].abs().max(1.0));
    }
}

/// A small MLP with matrix parameters: products, broadcasting, tanh, cross-entropy.
#[differentiable(wrt(w1, b1, w2), jvp, hvp)]
fn mlp_loss(
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    x: &DMatrix<f64>,
    labels: &[usize],
) -> f64 {
    let hidden = (x * w1 + b1).tanh();
    cross_entropy(&(hidden * w2), labels)
}

/// The MLP's parameters, inputs and labels.
type MlpInputs = (
    DMatrix<f64>,
    RowDVector<f64>,
    DMatrix<f64>,
    DMatrix<f64>,
    Vec<usize>,
);

fn mlp_inputs() -> MlpInputs {
    let w1 = DMatrix::from_fn(3, 4, |i, j| ((i * 4 + j) as f64 * 0.37).sin() * 0.5);
    let b1 = RowDVector::from_fn(4, |_, j| 0.1 * j as f64 - 0.15);
    let w2 = DMatrix::from_fn(4, 2, |i, j| ((i * 2 + j) as f64 * 0.91).cos() * 0.4);
    let x = DMatrix::from_fn(5, 3, |i, j| ((i * 3 + j) as f64 * 0.53).sin());
    (w1, b1, w2, x, vec![0, 1, 1, 0, 1])
}

#[test]
fn matrix_hvp_matches_finite_differences_of_the_gradient_along_v() {
    let (w1, b1, w2, x, labels) = mlp_inputs();
    let v = MlpLossGrad {
        w1: DMatrix::from_fn(3, 4, |i, j| (i as f64 - j as f64) * 0.1),
        b1: RowDVector::from_fn(4, |_, j| 0.2 - 0.05 * j as f64),
        w2: DMatrix::from_fn(4, 2, |i, j| 0.1 * (i + j) as f64 - 0.2),
    };
    let (value, g, hv) = mlp_loss_hvp(&w1, &b1, &w2, &x, &labels, &v);
    let (value0, g0) = mlp_loss_grad(&w1, &b1, &w2, &x, &labels);
    assert!((value - value0).abs() < 1e-15);
    assert!((&g.w1 - &g0.w1).amax() < 1e-14);
    // (grad(p + h v) - grad(p - h v)) / 2h.
    let h = 1e-5;
    let at = |s: f64| {
        mlp_loss_grad(
            &(&w1 + &v.w1 * s),
            &(&b1 + &v.b1 * s),
            &(&w2 + &v.w2 * s),
            &x,
            &labels,
        )
        .1
    };
    let (gp, gm) = (at(h), at(-h));
    let fd_w1 = (&gp.w1 - &gm.w1) / (2.0 * h);
    let fd_b1 = (&gp.b1 - &gm.b1) / (2.0 * h);
    let fd_w2 = (&gp.w2 - &gm.w2) / (2.0 * h);
    assert!((&hv.w1 - &fd_w1).amax() < 1e-7, "{} vs {}", hv.w1, fd_w1);
    assert!((&hv.b1 - &fd_b1).amax() < 1e-7);
    assert!((&hv.w2 - &fd_w2).amax() < 1e-7);
    // jvp = <gradient, v>.
    let (_, d) = mlp_loss_jvp(&w1, &b1, &w2, &x, &labels, &v);
    let dot = g0.w1.dot(&v.w1) + g0.b1.dot(&v.b1) + g0.w2.dot(&v.w2);
    assert!((d - dot).abs() < 1e-13, "{d} vs {dot}");
    // The Hessian is 12 + 4 + 8 = 24 square, symmetric, and H v is the hvp.
    let (_, _, hess) = mlp_loss_hessian(&w1, &b1, &w2, &x, &labels);
    assert_eq!(hess.shape(), (24, 24));
    assert!((&hess - hess.transpose()).amax() < 1e-12);
    let mut flat_v = Vec::new();
    v.visit(&mut |leaf| flat_v.extend_from_slice(leaf));
    let mut flat_hv = Vec::new();
    hv.visit(&mut |leaf| flat_hv.extend_from_slice(leaf));
    let product = &hess * DVector::from_vec(flat_v);
    for (a, b) in product.iter().zip(&flat_hv) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

/// A matrix-valued function: jvp of the whole matrix.
#[differentiable(jvp)]
fn squash(w: &DMatrix<f64>, x: &[f64]) -> DMatrix<f64> {
    let s = x.iter().sum::<f64>();
    w.map(|e| (e * s).sin())
}

#[test]
fn jvp_of_a_matrix_result_with_a_slice_parameter() {
    let w = DMatrix::from_row_slice(2, 2, &[0.1, -0.4, 0.7, 0.2]);
    let x = [0.5, 1.5, -0.25];
    let t = SquashGrad {
        w: DMatrix::from_row_slice(2, 2, &[1.0, 0.0, -1.0, 0.5]),
        x: vec![0.2, 0.0, -0.1],
    };
    let (y, dy) = squash_jvp(&w, &x, &t);
    let s: f64 = x.iter().sum();
    let ds: f64 = t.x.iter().sum();
    for i in 0..2 {
        for j in 0..2 {
            assert_eq!(y[(i, j)], (w[(i, j)] * s).sin());
            let want = (w[(i, j)] * s).cos() * (t.w[(i, j)] * s + w[(i, j)] * ds);
            assert!((dy[(i, j)] - want).abs() < 1e-15);
        }
    }
}

/// Generic over the scalar: instantiated for f32 and f64.
#[differentiable(jvp, hvp)]
fn rosen<T: Real>(x: T, y: T) -> T {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

#[differentiable(jvp, hvp)]
fn rosen32(x: f32, y: f32) -> f32 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

#[test]
fn generic_and_f32_hessians_are_rosenbrocks() {
    // H = [[2 - 400 (y - 3x^2), -400 x], [-400 x, 200]].
    let (x, y) = (0.5, 1.25);
    let want = [
        2.0 - 400.0 * (y - 3.0 * x * x),
        -400.0 * x,
        -400.0 * x,
        200.0,
    ];
    let (_, _, h) = rosen_hessian(x, y);
    assert_eq!(h.as_slice(), &want);
    let (_, _, h32) = rosen_hessian::<f32>(x as f32, y as f32);
    let want32: Vec<f32> = want.iter().map(|&w| w as f32).collect();
    assert_eq!(h32.as_slice(), &want32[..]);
    let (_, _, h32) = rosen32_hessian(x as f32, y as f32);
    assert_eq!(h32.as_slice(), &want32[..]);
    let (_, d) = rosen_jvp(x, y, &RosenGrad { x: 1.0, y: 0.0 });
    let (_, g) = rosen_grad(x, y);
    assert_eq!(d, g.x);
}

/// A call of a generic differentiable function from one with `hvp`.
#[differentiable]
fn softplus_sum<T: Real>(a: T, b: T) -> T {
    (a.exp() + 1.0).ln() + (b.exp() + 1.0).ln()
}

#[differentiable(hvp)]
fn calls_generic(a: f64, b: f64) -> f64 {
    softplus_sum(a * b, a - b) * 2.0
}

#[test]
fn hvp_through_a_call_of_a_generic_function() {
    let (a, b) = (0.3, -0.8);
    let (_, _, h) = calls_generic_hessian(a, b);
    let ga = |a: f64, b: f64| calls_generic_grad(a, b).1.a;
    let gb = |a: f64, b: f64| calls_generic_grad(a, b).1.b;
    let (haa, hab) = fd_gradient(ga, a, b);
    let (hba, hbb) = fd_gradient(gb, a, b);
    for (got, want) in [
        (h[(0, 0)], haa),
        (h[(0, 1)], hba),
        (h[(1, 0)], hab),
        (h[(1, 1)], hbb),
    ] {
        assert!(
            (got - want).abs() < 1e-6 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
}

/// The MLP as users write it: a `#[derive(Tangent)]` struct of parameters.
#[derive(Debug, Clone, Tangent)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
}

#[differentiable(wrt(m), jvp, hvp)]
fn struct_loss(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let hidden = (x * &m.w1 + &m.b1).tanh();
    cross_entropy(&(hidden * &m.w2), labels)
}

#[test]
fn a_struct_parameter_gives_the_same_second_order_as_its_fields() {
    let (w1, b1, w2, x, labels) = mlp_inputs();
    let m = Mlp {
        w1: w1.clone(),
        b1: b1.clone(),
        w2: w2.clone(),
    };
    let v = Mlp {
        w1: DMatrix::from_fn(3, 4, |i, j| (i as f64 - j as f64) * 0.1),
        b1: RowDVector::from_fn(4, |_, j| 0.2 - 0.05 * j as f64),
        w2: DMatrix::from_fn(4, 2, |i, j| 0.1 * (i + j) as f64 - 0.2),
    };
    let (value, g, hv) = struct_loss_hvp(&m, &x, &labels, &StructLossGrad { m: v.clone() });
    let fields_v = MlpLossGrad {
        w1: v.w1.clone(),
        b1: v.b1.clone(),
        w2: v.w2.clone(),
    };
    let (value_f, g_f, hv_f) = mlp_loss_hvp(&w1, &b1, &w2, &x, &labels, &fields_v);
    assert_eq!(value.to_bits(), value_f.to_bits());
    assert_eq!((g.m.w1, g.m.b1, g.m.w2), (g_f.w1, g_f.b1, g_f.w2));
    assert_eq!((hv.m.w1, hv.m.b1, hv.m.w2), (hv_f.w1, hv_f.b1, hv_f.w2));
    let (_, d) = struct_loss_jvp(&m, &x, &labels, &StructLossGrad { m: v });
    let (_, d_f) = mlp_loss_jvp(&w1, &b1, &w2, &x, &labels, &fields_v);
    assert_eq!(d.to_bits(), d_f.to_bits());
    let (_, _, h) = struct_loss_hessian(&m, &x, &labels);
    let (_, _, h_f) = mlp_loss_hessian(&w1, &b1, &w2, &x, &labels);
    assert_eq!(h, h_f);
}

/// The static `hvp` and the tape's (`autodiff::dynamic::hvp`: recorded gradients
/// differentiated again) on the same MLP.
#[test]
fn static_hvp_equals_the_tape_hvp() {
    use autodiff::dynamic::{self, Tensor};
    let (w1, b1, w2, x, labels) = mlp_inputs();
    let v = MlpLossGrad {
        w1: DMatrix::from_fn(3, 4, |i, j| (i as f64 - j as f64) * 0.1),
        b1: RowDVector::from_fn(4, |_, j| 0.2 - 0.05 * j as f64),
        w2: DMatrix::from_fn(4, 2, |i, j| 0.1 * (i + j) as f64 - 0.2),
    };
    let (value, g, hv) = mlp_loss_hvp(&w1, &b1, &w2, &x, &labels, &v);
    let row = |r: &RowDVector<f64>| DMatrix::from_row_slice(1, r.len(), r.as_slice());
    let tw1 = Tensor::from(w1.clone()).requires_grad();
    let tb1 = Tensor::from(row(&b1)).requires_grad();
    let tw2 = Tensor::from(w2.clone()).requires_grad();
    let tx = Tensor::from(x.clone());
    let loss = (&tx.matmul(&tw1) + &tb1)
        .tanh()
        .matmul(&tw2)
        .cross_entropy(&labels);
    assert!((loss.item() - value).abs() < 1e-14);
    let (vw1, vb1, vw2) = (
        Tensor::from(v.w1.clone()),
        Tensor::from(row(&v.b1)),
        Tensor::from(v.w2.clone()),
    );
    // The first gradient keeps the graph (recorded); `hvp` then frees it, as `grad` does.
    let first = dynamic::grad_create_graph(&loss, &[&tw1]).unwrap();
    assert!((first[0].value() - &g.w1).amax() < 1e-14);
    let tape = dynamic::hvp(&loss, &[&tw1, &tb1, &tw2], &[&vw1, &vb1, &vw2]).unwrap();
    assert!((tape[0].value() - &hv.w1).amax() < 1e-13);
    assert!((tape[1].value() - row(&hv.b1)).amax() < 1e-13);
    assert!((tape[2].value() - &hv.w2).amax() < 1e-13);
    // The seed's x^3 on the tape: 12 and 12.
    let x = Tensor::scalar(2.0).requires_grad();
    let y = x.powi(3);
    let dy = dynamic::grad_create_graph(&y, &[&x]).unwrap();
    let d2y = dynamic::grad(&dy[0], &[&x]).unwrap();
    assert_eq!((dy[0].item(), d2y[0].item()), (12.0, 12.0));
}

/// `while`, `match`, an early `return`, a `Vec` by value and a tuple result, in forward
/// mode.
#[differentiable(wrt(x, w), jvp)]
fn trajectory(x: f64, w: Vec<f64>, mode: u8) -> (f64, f64) {
    let mut s = x;
    let mut t = 0.0;
    let mut i = 0;
    while i < w.len() {
        s = match mode {
            0 => s * w[i] + 0.5,
            _ => (s * w[i]).sin(),
        };
        t += s * s;
        i += 1;
    }
    if t > 1e6 {
        return (s, 0.0);
    }
    (s, t.sqrt())
}

#[test]
fn jvp_through_while_match_and_a_tuple_result_matches_finite_differences() {
    let w = vec![0.9, -1.1, 0.7, 1.3];
    let t = TrajectoryGrad {
        x: 0.4,
        w: vec![0.1, 0.0, -0.2, 0.3],
    };
    for mode in [0u8, 1] {
        let at = |h: f64| {
            let wh: Vec<f64> = w.iter().zip(&t.w).map(|(a, b)| a + h * b).collect();
            trajectory(0.8 + h * t.x, wh, mode)
        };
        let ((y0, y1), (d0, d1)) = trajectory_jvp(0.8, w.clone(), mode, &t);
        assert_eq!((y0, y1), trajectory(0.8, w.clone(), mode));
        let h = 1e-6;
        let (p, m) = (at(h), at(-h));
        let (f0, f1) = ((p.0 - m.0) / (2.0 * h), (p.1 - m.1) / (2.0 * h));
        assert!((d0 - f0).abs() < 1e-7 * f0.abs().max(1.0), "{d0} vs {f0}");
        assert!((d1 - f1).abs() < 1e-7 * f1.abs().max(1.0), "{d1} vs {f1}");
    }
}

/// A float that is not differentiated is a constant of the dual computation.
#[differentiable(wrt(x), hvp)]
fn scaled(x: f64, k: f64) -> f64 {
    (k * x).exp() + k * x * x
}

#[test]
fn a_parameter_outside_wrt_is_a_constant_of_the_hessian() {
    let (x, k) = (0.3, 1.7);
    let (_, g, h) = scaled_hessian(x, k);
    assert!((g.x - (k * (k * x).exp() + 2.0 * k * x)).abs() < 1e-14);
    let want = k * k * (k * x).exp() + 2.0 * k;
    assert!(
        (h[(0, 0)] - want).abs() < 1e-13 * want,
        "{} vs {want}",
        h[(0, 0)]
    );
    assert_eq!(h.shape(), (1, 1));
}

/// A generic `checkpoint` function called from an `hvp` function: the Hessian is the
/// same with and without checkpointing.
#[differentiable(checkpoint)]
fn chunk<T: Real>(a: T, b: T) -> T {
    (a * b).sin() + a * a
}

#[differentiable]
fn chunk_kept<T: Real>(a: T, b: T) -> T {
    (a * b).sin() + a * a
}

#[differentiable(hvp)]
fn two_chunks(a: f64, b: f64) -> f64 {
    chunk(chunk(a, b), b) * b
}

#[differentiable(hvp)]
fn two_chunks_kept(a: f64, b: f64) -> f64 {
    chunk_kept(chunk_kept(a, b), b) * b
}

#[test]
fn checkpointed_calls_give_the_same_hessian() {
    let (_, g, h) = two_chunks_hessian(0.6, -0.9);
    let (_, gk, hk) = two_chunks_kept_hessian(0.6, -0.9);
    assert_eq!((g.a, g.b), (gk.a, gk.b));
    assert_eq!(h, hk);
}
