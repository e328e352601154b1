//! Every scalar op of the static engine against central finite differences at 10,000
//! random points each (f64), plus an f32 spot check per op.

use autodiff::prelude::*;
use proptest::prelude::*;

/// Central difference with a step scaled to `x`; error O(h^2) plus rounding O(eps/h).
fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

fn close(analytic: f64, numeric: f64) -> bool {
    (analytic - numeric).abs() <= 1e-5 * (1.0 + analytic.abs().max(numeric.abs()))
}

macro_rules! unary_case {
    ($name:ident, $range:expr, |$x:ident| $body:expr) => {
        mod $name {
            use super::*;

            #[differentiable]
            fn f($x: f64) -> f64 {
                $body
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(10_000))]
                #[test]
                fn gradient_matches_finite_differences(x in $range) {
                    let (v, g) = f_grad(x);
                    prop_assert_eq!(v.to_bits(), f(x).to_bits());
                    let numeric = fd(f, x);
                    prop_assert!(close(g.x, numeric), "x = {}: analytic {} vs numeric {}", x, g.x, numeric);
                }
            }
        }
    };
}

macro_rules! binary_case {
    ($name:ident, $ra:expr, $rb:expr, $skip:expr, |$a:ident, $b:ident| $body:expr) => {
        mod $name {
            use super::*;

            #[differentiable]
            fn f($a: f64, $b: f64) -> f64 {
                $body
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(10_000))]
                #[test]
                fn gradient_matches_finite_differences(a in $ra, b in $rb) {
                    let skip: fn(f64, f64) -> bool = $skip;
                    prop_assume!(!skip(a, b));
                    let (v, g) = f_grad(a, b);
                    prop_assert_eq!(v.to_bits(), f(a, b).to_bits());
                    let da = fd(|a| f(a, b), a);
                    let db = fd(|b| f(a, b), b);
                    prop_assert!(close(g.$a, da), "({}, {}): d/da {} vs {}", a, b, g.$a, da);
                    prop_assert!(close(g.$b, db), "({}, {}): d/db {} vs {}", a, b, g.$b, db);
                }
            }
        }
    };
}

unary_case!(neg, -5.0..5.0f64, |x| -x);
unary_case!(exp, -5.0..5.0f64, |x| x.exp());
unary_case!(ln, 0.1..10.0f64, |x| x.ln());
unary_case!(log10, 0.1..10.0f64, |x| x.log10());
unary_case!(log2, 0.1..10.0f64, |x| x.log2());
unary_case!(sqrt, 0.1..10.0f64, |x| x.sqrt());
unary_case!(recip, 0.1..10.0f64, |x| x.recip());
unary_case!(sin, -5.0..5.0f64, |x| x.sin());
unary_case!(cos, -5.0..5.0f64, |x| x.cos());
unary_case!(tan, -1.2..1.2f64, |x| x.tan());
unary_case!(tanh, -5.0..5.0f64, |x| x.tanh());
unary_case!(sinh, -5.0..5.0f64, |x| x.sinh());
unary_case!(cosh, -5.0..5.0f64, |x| x.cosh());
unary_case!(abs, prop_oneof![-5.0..-1e-3f64, 1e-3..5.0f64], |x| x.abs());
unary_case!(exp_m1, -5.0..5.0f64, |x| x.exp_m1());
unary_case!(ln_1p, -0.9..10.0f64, |x| x.ln_1p());
unary_case!(powi_3, -5.0..5.0f64, |x| x.powi(3));
unary_case!(powi_neg2, prop_oneof![-5.0..-0.2f64, 0.2..5.0f64], |x| x
    .powi(-2));
unary_case!(
    relu_op,
    prop_oneof![-5.0..-1e-3f64, 1e-3..5.0f64],
    |x| relu(x)
);
unary_case!(sigmoid_op, -30.0..30.0f64, |x| sigmoid(x));
unary_case!(softplus_op, -30.0..30.0f64, |x| softplus(x));
unary_case!(div_const, -5.0..5.0f64, |x| 3.0 / (x * x + 1.0));
unary_case!(literal_left, -5.0..5.0f64, |x| 2.0 * x - 1.0);

binary_case!(add, -5.0..5.0f64, -5.0..5.0f64, |_, _| false, |a, b| a + b);
binary_case!(sub, -5.0..5.0f64, -5.0..5.0f64, |_, _| false, |a, b| a - b);
binary_case!(mul, -5.0..5.0f64, -5.0..5.0f64, |_, _| false, |a, b| a * b);
binary_case!(div, -5.0..5.0f64, 0.2..5.0f64, |_, _| false, |a, b| a / b);
binary_case!(powf, 0.1..5.0f64, -3.0..3.0f64, |_, _| false, |a, b| a
    .powf(b));
binary_case!(
    max,
    -5.0..5.0f64,
    -5.0..5.0f64,
    |a, b| (a - b).abs() < 1e-3,
    |a, b| a.max(b)
);
binary_case!(
    min,
    -5.0..5.0f64,
    -5.0..5.0f64,
    |a, b| (a - b).abs() < 1e-3,
    |a, b| a.min(b)
);
binary_case!(
    same_operand,
    -5.0..5.0f64,
    -5.0..5.0f64,
    |_, _| false,
    |a, b| a * a + b * a
);

#[differentiable]
fn f32_chain(x: f32) -> f32 {
    let a = x.exp() + x.ln() + x.sqrt() + x.sin() * x.cos() + x.tanh() + x.recip();
    a + x.powi(3) + x.powf(1.5) + x.abs() + x.exp_m1() + x.ln_1p() + sigmoid(x) + softplus(x)
}

#[test]
fn f32_matches_f64_rules() {
    // The same expression in f64 by hand: derivative of each term.
    for &x in &[0.3f32, 1.1, 2.7] {
        let (_, g) = f32_chain_grad(x);
        let xd = x as f64;
        let s = 1.0 / (1.0 + (-xd).exp());
        let expected = xd.exp()
            + 1.0 / xd
            + 0.5 / xd.sqrt()
            + (xd.cos().powi(2) - xd.sin().powi(2))
            + (1.0 - xd.tanh().powi(2))
            - 1.0 / (xd * xd)
            + 3.0 * xd * xd
            + 1.5 * xd.sqrt()
            + 1.0
            + xd.exp()
            + 1.0 / (1.0 + xd)
            + s * (1.0 - s)
            + s;
        assert!(
            ((g.x as f64) - expected).abs() < 1e-4 * expected.abs(),
            "x={x}: {} vs {expected}",
            g.x
        );
    }
}
