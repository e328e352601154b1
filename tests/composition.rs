//! Calls between differentiable functions, custom VJPs, stop_gradient, f32, graphs.

use autodiff::prelude::*;

mod shapes {
    use autodiff::prelude::*;

    #[differentiable]
    pub fn square(x: f64) -> f64 {
        x * x
    }

    #[differentiable(wrt(a))]
    pub fn scaled(a: f64, k: f64) -> f64 {
        a * k
    }
}

#[differentiable]
fn uses_square(x: f64, y: f64) -> f64 {
    let s = shapes::square(x + y);
    s * x
}

#[differentiable]
fn calls_in_loop(x: f64) -> f64 {
    let mut acc = x;
    for _ in 0..3 {
        acc = shapes::square(acc) * 0.5;
    }
    acc
}

#[differentiable(wrt(x))]
fn passes_constant(x: f64, k: f64) -> f64 {
    shapes::scaled(x, k) + x
}

/// A softplus with a hand-written backward: sigmoid(x).
#[differentiable(custom_vjp = my_softplus_backward)]
fn my_softplus(x: f64) -> f64 {
    (1.0 + x.exp()).ln()
}

fn my_softplus_backward(x: f64, d_out: f64) -> f64 {
    d_out / (1.0 + (-x).exp())
}

#[differentiable(custom_vjp = clipped_backward)]
fn clipped_product(x: f64, y: f64) -> f64 {
    x * y
}

/// A deliberately different gradient: (y, 0), to show the custom rule is used.
fn clipped_backward(_x: f64, y: f64, d_out: f64) -> (f64, f64) {
    (d_out * y, 0.0)
}

#[differentiable]
fn uses_custom(x: f64) -> f64 {
    my_softplus(x * 2.0) + clipped_product(x, 3.0)
}

#[differentiable]
fn detached(x: f64) -> f64 {
    let c = stop_gradient(x * x);
    c * x + x.floor()
}

#[differentiable]
fn single_precision(w: f32, x: f32) -> f32 {
    let y = w * x;
    (y - 5.0).powi(2)
}

#[differentiable]
fn all_scalar_ops(x: f64, y: f64) -> f64 {
    let a = x.exp() + x.ln() + x.log10() + x.log2() + x.sqrt() + x.recip();
    let b = x.sin() * x.cos() + x.tan() + x.tanh() + x.sinh() - x.cosh();
    let c = x.abs() + x.max(y) - x.min(y) + x.exp_m1() + x.ln_1p();
    let d = x.powf(y) + relu(x) + sigmoid(y) + softplus(x * y) - x / y;
    a + b + c + d
}

#[test]
fn composition_through_a_path() {
    // f = (x + y)^2 x; df/dx = 2 (x + y) x + (x + y)^2; df/dy = 2 (x + y) x.
    let (v, g) = uses_square_grad(2.0, 1.0);
    assert_eq!(v, 18.0);
    assert_eq!(g.x, 21.0);
    assert_eq!(g.y, 12.0);
}

#[test]
fn composition_inside_a_loop() {
    // a -> a^2 / 2 three times: a^8 / 128; derivative 8 a^7 / 128 = a^7 / 16.
    let x: f64 = 1.5;
    let (v, g) = calls_in_loop_grad(x);
    assert!((v - x.powi(8) / 128.0).abs() < 1e-12);
    assert!((g.x - x.powi(7) / 16.0).abs() < 1e-12);
}

#[test]
fn callee_wrt_excludes_constant_argument() {
    let (v, g) = passes_constant_grad(2.0, 3.0);
    assert_eq!(v, 8.0);
    assert_eq!(g.x, 4.0);
}

#[test]
fn custom_vjp_is_used_alone_and_composed() {
    let (v, g) = my_softplus_grad(0.0);
    assert!((v - 2f64.ln()).abs() < 1e-15);
    assert_eq!(g.x, 0.5);
    let (_, g) = clipped_product_grad(2.0, 3.0);
    assert_eq!((g.x, g.y), (3.0, 0.0));
    // d/dx softplus(2x) = 2 sigmoid(2x) = 1 at 0; the custom product gives 3.
    let (_, g) = uses_custom_grad(0.0);
    assert_eq!(g.x, 4.0);
}

#[test]
fn stop_gradient_and_floor_carry_no_gradient() {
    // c is a constant x^2: d/dx (c x) = c = 9 at 3; floor carries zero gradient.
    let (v, g) = detached_grad(3.0);
    assert_eq!(v, 30.0);
    assert_eq!(g.x, 9.0);
}

#[test]
fn f32_functions() {
    let (v, g) = single_precision_grad(1.0, 2.0);
    assert_eq!(v, 9.0f32);
    assert_eq!(g.w, -12.0f32);
}

#[test]
fn vjp_scales_the_gradient() {
    let (v, g) = shapes::square_vjp(3.0, 0.5);
    assert_eq!(v, 9.0);
    assert_eq!(g.x, 3.0);
}

#[test]
fn every_scalar_op_matches_finite_differences_at_one_point() {
    let (x, y) = (0.7, 1.3);
    let (v, g) = all_scalar_ops_grad(x, y);
    assert_eq!(v, all_scalar_ops(x, y));
    let h = 1e-6;
    let dx = (all_scalar_ops(x + h, y) - all_scalar_ops(x - h, y)) / (2.0 * h);
    let dy = (all_scalar_ops(x, y + h) - all_scalar_ops(x, y - h)) / (2.0 * h);
    assert!((g.x - dx).abs() < 1e-6, "{} vs {dx}", g.x);
    assert!((g.y - dy).abs() < 1e-6, "{} vs {dy}", g.y);
}

#[test]
fn graph_names_follow_pytorch() {
    let g = uses_square_graph();
    let dot = g.to_dot();
    assert!(dot.contains("AddBackward0"), "{dot}");
    assert!(dot.contains("SquareBackward0"), "{dot}");
    assert!(dot.contains("MulBackward0"), "{dot}");
    let ops: Vec<&str> = g.nodes().iter().map(|n| n.op.as_str()).collect();
    assert_eq!(
        ops,
        [
            "AccumulateGrad",
            "AccumulateGrad",
            "AddBackward0",
            "SquareBackward0",
            "MulBackward0"
        ]
    );
}

mod lending {
    use autodiff::nalgebra::DVector;
    use autodiff::prelude::*;

    #[differentiable]
    pub fn energy(v: &DVector<f64>) -> f64 {
        v.norm_squared() * 0.5
    }

    /// Lends a local to a differentiable callee (`energy(&s)`): the callee's pullback
    /// borrows `s`, which the caller's own pullback cannot both own and lend (this did not
    /// compile).
    #[differentiable]
    pub fn lends(v: &DVector<f64>) -> f64 {
        let s = (v * 3.0).map(|e| e.sin());
        energy(&s) + v.sum()
    }

    /// Calls `lends` in turn, so that its pullback form is used as well.
    #[differentiable]
    pub fn calls_lends(v: &DVector<f64>, k: f64) -> f64 {
        lends(v) * k
    }
}

#[test]
fn a_local_lent_to_a_callee_is_differentiated_through() {
    use autodiff::nalgebra::DVector;
    let v = DVector::from_vec(vec![0.3, -0.7, 1.1]);
    let k = 1.5;
    let (value, g) = lending::calls_lends_grad(&v, k);
    let expected: f64 = v
        .iter()
        .map(|&x| 0.5 * (3.0 * x).sin().powi(2) + x)
        .sum::<f64>()
        * k;
    assert!((value - expected).abs() < 1e-12, "{value} vs {expected}");
    for i in 0..3 {
        let x = v[i];
        let d = k * ((3.0 * x).sin() * (3.0 * x).cos() * 3.0 + 1.0);
        assert!((g.v[i] - d).abs() < 1e-12, "{} vs {d}", g.v[i]);
    }
    assert!((g.k - expected / k).abs() < 1e-12);
}
