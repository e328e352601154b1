//! The static engine (`name_grad`) against the dynamic engine (`Tensor::backward`): values
//! and gradients agree to 1e-10 (relative to the gradient's size, plus 1e-10 absolute)
//! for every scalar op under proptest, the tutorial loss, the elementwise workload
//! `sum(tanh(a .* x + b)^2)`, and both MLP workloads. The two engines share the
//! derivative formulas (`autodiff::rules`) but not the code that chains them, so this
//! checks the macro's reverse pass against the tape's.
//!
//! The workloads are the benches' own (`benches/workloads/`), so the hand-written
//! gradients the benches time are checked here too.

#[path = "../benches/workloads/elementwise.rs"]
#[allow(dead_code)] // the copy helper is for the bench
mod elementwise;
#[path = "../benches/workloads/mlp.rs"]
#[allow(dead_code)] // the forward-only and training helpers are for the benches
mod mlp;

use autodiff::dynamic::Tensor;
use autodiff::prelude::*;
use proptest::prelude::*;

const TOL: f64 = 1e-10;

fn agree(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * (1.0 + a.abs().max(b.abs()))
}

/// Value and gradient of a one-input scalar function on the dynamic engine.
fn dynamic_unary(f: impl Fn(&Tensor) -> Tensor, x: f64) -> (f64, f64) {
    let t = Tensor::scalar(x).requires_grad();
    let y = f(&t);
    y.backward().expect("backward");
    // No gradient at all means the output does not depend on x: 0.
    (y.item(), t.grad().map_or(0.0, |g| g.item()))
}

/// Value and gradients of a two-input scalar function on the dynamic engine.
fn dynamic_binary(f: impl Fn(&Tensor, &Tensor) -> Tensor, a: f64, b: f64) -> (f64, f64, f64) {
    let ta = Tensor::scalar(a).requires_grad();
    let tb = Tensor::scalar(b).requires_grad();
    let y = f(&ta, &tb);
    y.backward().expect("backward");
    let grad = |t: &Tensor| t.grad().map_or(0.0, |g| g.item());
    (y.item(), grad(&ta), grad(&tb))
}

/// `unary_case!(name, range, |x| static body, |t| dynamic body)`.
macro_rules! unary_case {
    ($name:ident, $range:expr, |$x:ident| $body:expr, |$t:ident| $dyn_body:expr) => {
        mod $name {
            use super::*;

            #[differentiable]
            fn f($x: f64) -> f64 {
                $body
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(300))]
                #[test]
                fn static_matches_dynamic(x in $range) {
                    let (v, g) = f_grad(x);
                    prop_assert_eq!(v.to_bits(), f(x).to_bits());
                    let (dv, dg) = dynamic_unary(|$t: &Tensor| $dyn_body, x);
                    prop_assert!(agree(v, dv), "x = {}: value {} vs {}", x, v, dv);
                    prop_assert!(agree(g.x, dg), "x = {}: gradient {} vs {}", x, g.x, dg);
                }
            }
        }
    };
}

/// `binary_case!(name, range a, range b, skip, |a, b| static body, |ta, tb| dynamic body)`.
macro_rules! binary_case {
    (
        $name:ident, $ra:expr, $rb:expr, $skip:expr,
        |$a:ident, $b:ident| $body:expr, |$ta:ident, $tb:ident| $dyn_body:expr
    ) => {
        mod $name {
            use super::*;

            #[differentiable]
            fn f($a: f64, $b: f64) -> f64 {
                $body
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(300))]
                #[test]
                fn static_matches_dynamic(a in $ra, b in $rb) {
                    let skip: fn(f64, f64) -> bool = $skip;
                    prop_assume!(!skip(a, b));
                    let (v, g) = f_grad(a, b);
                    prop_assert_eq!(v.to_bits(), f(a, b).to_bits());
                    let (dv, da, db) = dynamic_binary(|$ta: &Tensor, $tb: &Tensor| $dyn_body, a, b);
                    prop_assert!(agree(v, dv), "({}, {}): value {} vs {}", a, b, v, dv);
                    prop_assert!(agree(g.$a, da), "({}, {}): d/da {} vs {}", a, b, g.$a, da);
                    prop_assert!(agree(g.$b, db), "({}, {}): d/db {} vs {}", a, b, g.$b, db);
                }
            }
        }
    };
}

/// One `unary_case!` per unary row of the op table, on its `smooth` interval (the
/// bodies spelled in the arms, where the attribute sees them).
macro_rules! table_case {
    ($u:ident, operator $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
        unary_case!($u, $lo..$hi, |x| -x, |t| -t);
    };
    ($u:ident, method $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
        unary_case!($u, $lo..$hi, |x| x.$name(), |t| t.$name());
    };
    ($u:ident, function $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
        unary_case!($u, $lo..$hi, |x| $name(x), |t| t.$name());
    };
}

autodiff_ops::for_each_unary_row!(table_case);
unary_case!(powi_3, -5.0..5.0f64, |x| x.powi(3), |t| t.powi(3));
unary_case!(
    powi_neg2,
    prop_oneof![-5.0..-0.2f64, 0.2..5.0f64],
    |x| x.powi(-2),
    |t| t.powi(-2)
);
unary_case!(powf_const, 0.1..5.0f64, |x| x.powf(2.5), |t| t.powf(2.5));
unary_case!(relu, -5.0..5.0f64, |x| relu(x), |t| t.relu());
unary_case!(sigmoid, -30.0..30.0f64, |x| sigmoid(x), |t| t.sigmoid());
unary_case!(softplus, -30.0..30.0f64, |x| softplus(x), |t| t.softplus());
unary_case!(
    constants,
    -5.0..5.0f64,
    |x| 3.0 / (x * x + 1.0) - 2.0 * x + 0.5,
    |t| 3.0 / (t * t + 1.0) - 2.0 * t + 0.5
);

binary_case!(
    add,
    -5.0..5.0f64,
    -5.0..5.0f64,
    |_, _| false,
    |a, b| a + b,
    |a, b| a + b
);
binary_case!(
    sub,
    -5.0..5.0f64,
    -5.0..5.0f64,
    |_, _| false,
    |a, b| a - b,
    |a, b| a - b
);
binary_case!(
    mul,
    -5.0..5.0f64,
    -5.0..5.0f64,
    |_, _| false,
    |a, b| a * b,
    |a, b| a * b
);
binary_case!(
    div,
    -5.0..5.0f64,
    0.2..5.0f64,
    |_, _| false,
    |a, b| a / b,
    |a, b| a / b
);
binary_case!(
    powf,
    0.1..5.0f64,
    -3.0..3.0f64,
    |_, _| false,
    |a, b| a.powf(b),
    |a, b| a.pow(b)
);
// Ties (a == b) split the gradient in both engines; random f64 pairs never tie, so the
// tie is pinned separately below.
binary_case!(
    max,
    -5.0..5.0f64,
    -5.0..5.0f64,
    |_, _| false,
    |a, b| a.max(b),
    |a, b| a.maximum(b)
);
binary_case!(
    min,
    -5.0..5.0f64,
    -5.0..5.0f64,
    |_, _| false,
    |a, b| a.min(b),
    |a, b| a.minimum(b)
);
binary_case!(
    same_operand,
    -5.0..5.0f64,
    -5.0..5.0f64,
    |_, _| false,
    |a, b| a * a + b * a - (a - b).tanh(),
    |a, b| a * a + b * a - (a - b).tanh()
);

#[differentiable]
fn max_tie(a: f64, b: f64) -> f64 {
    a.max(b) + a.min(b) * 2.0
}

#[test]
fn max_and_min_ties_split_the_gradient_in_both_engines() {
    // max'(a, a) = (0.5, 0.5) and min'(a, a) = (0.5, 0.5), so each partial is 0.5 + 1.0.
    let (v, g) = max_tie_grad(1.5, 1.5);
    let (dv, da, db) = dynamic_binary(|a, b| a.maximum(b) + a.minimum(b) * 2.0, 1.5, 1.5);
    assert_eq!((v, g.a, g.b), (4.5, 1.5, 1.5));
    assert_eq!((dv, da, db), (v, g.a, g.b));
}

#[differentiable]
fn tutorial_loss(w: f64, x: f64) -> f64 {
    let y = w * x;
    (y - 5.0).powi(2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn tutorial_loss_agrees(w in -10.0..10.0f64, x in -10.0..10.0f64) {
        let (v, g) = tutorial_loss_grad(w, x);
        let (dv, dw, dx) = dynamic_binary(|w, x| (w * x - 5.0).powi(2), w, x);
        prop_assert!(agree(v, dv));
        prop_assert!(agree(g.w, dw), "d/dw {} vs {}", g.w, dw);
        prop_assert!(agree(g.x, dx), "d/dx {} vs {}", g.x, dx);
    }
}

#[test]
fn tutorial_numbers_in_both_engines() {
    // (1 * 2 - 5)^2 = 9; d/dw = 2 (w x - 5) x = -12.
    assert_eq!(tutorial_loss_grad(1.0, 2.0).1.w, -12.0);
    assert_eq!(
        dynamic_binary(|w, x| (w * x - 5.0).powi(2), 1.0, 2.0),
        (9.0, -12.0, -6.0)
    );
}

/// Loops, branches on active values, `stop_gradient`: the static engine replays a tape of
/// branches and iterations; the dynamic engine records whatever Rust executed.
#[differentiable(wrt(x, y))]
fn control_flow(x: f64, y: f64, n: usize) -> f64 {
    let mut a = x;
    let mut s = 0.0;
    for _i in 0..n {
        if a > 0.0 {
            s = s + a.sin() * y;
        } else {
            s = s + (a * y).tanh();
        }
        a = a * 0.9 - y * 0.3;
    }
    s + stop_gradient(x * x) * y
}

fn control_flow_dynamic(x: &Tensor, y: &Tensor, n: usize) -> Tensor {
    let mut a = x.clone();
    let mut s = Tensor::scalar(0.0);
    for _ in 0..n {
        s = if a.item() > 0.0 {
            &s + &(a.sin() * y)
        } else {
            &s + &(&a * y).tanh()
        };
        a = &a * 0.9 - y * 0.3;
    }
    s + (x * x).detach() * y
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn control_flow_agrees(x in -3.0..3.0f64, y in -3.0..3.0f64, n in 0usize..12) {
        let (v, g) = control_flow_grad(x, y, n);
        prop_assert_eq!(v.to_bits(), control_flow(x, y, n).to_bits());
        let (dv, dx, dy) = dynamic_binary(|x, y| control_flow_dynamic(x, y, n), x, y);
        prop_assert!(agree(v, dv), "value {} vs {}", v, dv);
        prop_assert!(agree(g.x, dx), "d/dx {} vs {}", g.x, dx);
        prop_assert!(agree(g.y, dy), "d/dy {} vs {}", g.y, dy);
    }
}

/// The largest |a - b| over two slices, relative to the largest |a|.
fn slice_error(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths");
    let scale = 1.0 + a.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]
    #[test]
    fn elementwise_agrees(n in 1usize..64, seed in any::<u64>()) {
        let (a, b, x) = elementwise::inputs(n, seed);
        let (v, g) = elementwise::elementwise_grad(&a, &b, &x);
        prop_assert_eq!(v, elementwise::elementwise(&a, &b, &x));

        let dynamic = elementwise::DynamicElementwise::new(&a, &b, &x);
        let dv = dynamic.loss_grad().expect("backward");
        let da = dynamic.a.grad().expect("a has a gradient").value();
        let db = dynamic.b.grad().expect("b has a gradient").value();
        prop_assert!(agree(v, dv), "value {} vs {}", v, dv);
        prop_assert!(slice_error(g.a.as_slice(), da.as_slice()) <= TOL);
        prop_assert!(slice_error(g.b.as_slice(), db.as_slice()) <= TOL);

        let (mut ha, mut hb) = (vec![0.0; n], vec![0.0; n]);
        let hv = elementwise::elementwise_handwritten(a.as_slice(), b.as_slice(), x.as_slice(), &mut ha, &mut hb);
        prop_assert!(agree(v, hv), "hand-written value {} vs {}", hv, v);
        prop_assert!(slice_error(g.a.as_slice(), &ha) <= TOL);
        prop_assert!(slice_error(g.b.as_slice(), &hb) <= TOL);

        // The vectorized hand-written loop overwrites whatever its buffers held.
        let (mut sa, mut sb) = (vec![f64::NAN; n], vec![f64::NAN; n]);
        let sv = elementwise::elementwise_handwritten_simd(a.as_slice(), b.as_slice(), x.as_slice(), &mut sa, &mut sb);
        prop_assert!(agree(v, sv), "hand-written SIMD value {} vs {}", sv, v);
        prop_assert!(slice_error(g.a.as_slice(), &sa) <= TOL);
        prop_assert!(slice_error(g.b.as_slice(), &sb) <= TOL);
    }

    /// The workload on `f32` inputs (fused on eight `f32` lanes) against the `f64`
    /// gradient of the same rounded inputs: agreement to `f32` precision.
    #[test]
    fn elementwise_f32_agrees_with_f64(n in 1usize..64, seed in any::<u64>()) {
        let (a, b, x) = elementwise::inputs_f32(n, seed);
        let (v, g) = elementwise::elementwise_f32_grad(&a, &b, &x);
        prop_assert_eq!(v, elementwise::elementwise_f32(&a, &b, &x));
        let wide = |m: &autodiff::nalgebra::DVector<f32>| m.map(f64::from);
        let (v64, g64) = elementwise::elementwise_grad(&wide(&a), &wide(&b), &wide(&x));
        let tol = 1e-5 * (1.0 + n as f64);
        prop_assert!((f64::from(v) - v64).abs() <= tol, "value {} vs {}", v, v64);
        for (g32, g64) in [(&g.a, &g64.a), (&g.b, &g64.b)] {
            let g32: Vec<f64> = g32.iter().map(|&v| f64::from(v)).collect();
            prop_assert!(slice_error(&g32, g64.as_slice()) <= 1e-5);
        }
    }
}

/// Every leaf of two parameter sets, flattened in the same order.
fn flat(m: &mlp::Mlp) -> Vec<f64> {
    let mut out = Vec::new();
    m.visit(&mut |leaf| out.extend_from_slice(leaf));
    out
}

/// Static, dynamic and hand-written gradients of one MLP size agree.
fn check_mlp(rows: usize, inputs: usize, hidden: usize, classes: usize, seed: u64) {
    let m = mlp::Mlp::random(inputs, hidden, classes, seed);
    let batch = mlp::Batch::random(rows, inputs, classes, seed + 1);
    let (x, labels) = (&batch.x, batch.labels.as_slice());

    let (v, g) = mlp::mlp_loss_grad(&m, x, labels);
    assert_eq!(v, mlp::mlp_loss(&m, x, labels));
    let gs = flat(&g.m);

    let dynamic = mlp::DynamicMlp::new(&m);
    let dv = dynamic
        .loss_grad(&Tensor::from(x.clone()), labels)
        .expect("backward");
    assert!(
        agree(v, dv),
        "{rows}x{inputs}-{hidden}-{classes}: value {v} vs {dv}"
    );
    let err = slice_error(&gs, &flat(&dynamic.grads()));
    assert!(
        err <= TOL,
        "{rows}x{inputs}-{hidden}-{classes}: dynamic gradient off by {err:e}"
    );

    let mut ws = mlp::Workspace::new(&m, rows);
    let mut hand = m.zero_like();
    let hv = ws.loss_grad(&m, x, labels, &mut hand);
    assert!(agree(v, hv), "hand-written value {hv} vs {v}");
    assert!(agree(v, ws.loss(&m, x, labels)), "hand-written forward");
    let err = slice_error(&gs, &flat(&hand));
    assert!(
        err <= TOL,
        "{rows}x{inputs}-{hidden}-{classes}: hand-written gradient off by {err:e}"
    );

    let mut ws = mlp::Workspace::new_simd(&m, rows);
    let mut hand = m.zero_like();
    let hv = ws.loss_grad(&m, x, labels, &mut hand);
    assert!(agree(v, hv), "hand-written SIMD value {hv} vs {v}");
    let err = slice_error(&gs, &flat(&hand));
    assert!(
        err <= TOL,
        "{rows}x{inputs}-{hidden}-{classes}: hand-written SIMD gradient off by {err:e}"
    );
}

#[test]
fn mlp_small_agrees() {
    // X 150x4, hidden 16, 3 classes: the bench's size.
    for seed in [1, 10, 100] {
        check_mlp(150, 4, 16, 3, seed);
    }
}

#[test]
fn mlp_agrees_at_a_reduced_size() {
    // The bench runs X 64x784, hidden 128; the test keeps the 784 inputs and 10 classes
    // and shrinks batch and hidden layer so it stays fast in debug builds.
    check_mlp(8, 784, 24, 10, 3);
}

#[test]
fn mlp_agrees_at_the_bench_size() {
    check_mlp(64, 784, 128, 10, 5);
}

#[test]
fn gradients_are_not_trivially_zero() {
    // Guards the comparisons above against agreeing on nothing.
    let m = mlp::Mlp::random(4, 16, 3, 1);
    let batch = mlp::Batch::random(150, 4, 3, 2);
    let (_, g) = mlp::mlp_loss_grad(&m, &batch.x, &batch.labels);
    assert!(flat(&g.m).iter().filter(|e| e.abs() > 1e-6).count() > 50);
}
