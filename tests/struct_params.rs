//! A `#[derive(Tangent)]` model struct as a parameter: read by field, gradient is the struct.

use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::prelude::*;

#[derive(Debug, Clone, Tangent)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

#[differentiable(wrt(m))]
fn mlp_loss(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let h = (x * &m.w1 + &m.b1).tanh();
    let logits = h * &m.w2 + &m.b2;
    cross_entropy(&logits, labels)
}

#[differentiable(wrt(m))]
fn uses_only_w2(m: &Mlp, x: &DMatrix<f64>) -> f64 {
    (x * &m.w1 * &m.w2).sum() * 0.0 + m.w2.norm_squared()
}

fn random(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let mut state = seed;
    DMatrix::from_fn(rows, cols, |_, _| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

fn model() -> Mlp {
    Mlp {
        w1: random(4, 6, 1),
        b1: RowDVector::from_iterator(6, random(1, 6, 2).iter().copied()),
        w2: random(6, 3, 3),
        b2: RowDVector::from_iterator(3, random(1, 3, 4).iter().copied()),
    }
}

#[test]
fn struct_gradient_matches_gradcheck() {
    let m = model();
    let x = random(5, 4, 5);
    let labels = [0, 1, 2, 1, 0];
    let (v, g) = mlp_loss_grad(&m, &x, &labels);
    assert_eq!(v, mlp_loss(&m, &x, &labels));
    // g.m is an Mlp; gradcheck compares it with central differences element by element.
    gradcheck(
        |p: &Mlp| mlp_loss(p, &x, &labels),
        |p: &Mlp| mlp_loss_grad(p, &x, &labels).1.m,
        &m,
        1e-6,
        1e-6,
    )
    .unwrap();
    assert_eq!(g.m.w1.shape(), (4, 6));
}

#[test]
fn unused_fields_get_zero_gradients_of_their_shape() {
    let m = model();
    let x = random(5, 4, 6);
    let (_, g) = uses_only_w2_grad(&m, &x);
    assert_eq!(g.m.b1.shape(), (1, 6));
    assert!(g.m.b1.iter().all(|&e| e == 0.0));
    assert_eq!(g.m.w2, &m.w2 * 2.0);
}

/// The same field read twice inside one fused chain: both reads share the field's
/// adjoint, which the chain's reverse loop must borrow once (this failed to compile).
#[differentiable(wrt(m))]
fn field_read_twice(m: &Mlp) -> f64 {
    (m.w2.component_mul(&m.w2) + &m.b2).tanh().sum()
}

#[test]
fn a_field_read_twice_in_a_fused_chain_gets_both_contributions() {
    let m = model();
    let (v, g) = field_read_twice_grad(&m);
    let mut expected_w2 = m.w2.clone();
    let mut value = 0.0;
    for j in 0..m.w2.ncols() {
        for i in 0..m.w2.nrows() {
            let w = m.w2[(i, j)];
            let t = (w * w + m.b2[j]).tanh();
            value += t;
            expected_w2[(i, j)] = (1.0 - t * t) * 2.0 * w;
        }
    }
    assert!((v - value).abs() < 1e-12, "{v} vs {value}");
    for (a, b) in g.m.w2.iter().zip(expected_w2.iter()) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

/// Scalars read from a borrowed struct.
#[derive(Debug, Clone, Tangent)]
struct Coeffs {
    a: f64,
    b: f64,
}

#[differentiable]
fn cube(x: f64) -> f64 {
    x * x * x
}

/// Every by-value use of a borrowed field is an owned copy of the field (one rule,
/// `codegen::owned`): passed by value to a call, put in a tuple, and returned early into
/// the result slot.
#[differentiable]
fn by_value_fields(c: &Coeffs, x: f64) -> f64 {
    let t = (c.a, x * c.b);
    if x > 10.0 {
        return c.b;
    }
    cube(c.a) + t.0 * t.1
}

#[test]
fn by_value_uses_of_borrowed_fields_match_finite_differences() {
    let h = 1e-6;
    let c = Coeffs { a: 0.7, b: -1.2 };
    for &x in &[0.3, -2.0, 11.0] {
        let (v, g) = by_value_fields_grad(&c, x);
        assert_eq!(v, by_value_fields(&c, x));
        let f = |a: f64, b: f64, x: f64| by_value_fields(&Coeffs { a, b }, x);
        let da = (f(c.a + h, c.b, x) - f(c.a - h, c.b, x)) / (2.0 * h);
        let db = (f(c.a, c.b + h, x) - f(c.a, c.b - h, x)) / (2.0 * h);
        let dx = (f(c.a, c.b, x + h) - f(c.a, c.b, x - h)) / (2.0 * h);
        for (got, want) in [(g.c.a, da), (g.c.b, db), (g.x, dx)] {
            assert!(
                (got - want).abs() < 1e-6 * (1.0 + want.abs()),
                "{x}: {got} vs {want}"
            );
        }
    }
}
