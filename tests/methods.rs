//! `#[differentiable]` on an `impl` block: methods with `&self` and `self`, `wrt(self, x)`,
//! calls between differentiable methods and to free differentiable functions; gradients
//! against central differences (f64 and f32) and against the dynamic engine.

use autodiff::dynamic::Tensor;
use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

/// A linear classifier.
#[derive(Clone, Debug, Tangent)]
pub struct Classifier {
    pub w: DMatrix<f64>,
    pub b: f64,
}

#[differentiable]
fn penalty(w: &DMatrix<f64>) -> f64 {
    0.05 * w.norm_squared()
}

#[differentiable]
impl Classifier {
    /// The scores of each row of `x`.
    #[differentiable]
    pub fn logits(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        x * &self.w + self.b
    }

    /// Cross-entropy plus a penalty: calls a sibling method and a free function.
    #[differentiable(wrt(self))]
    pub fn loss(&self, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
        let z = self.logits(x);
        cross_entropy(&z, labels) + penalty(&self.w)
    }

    /// Differentiated with respect to the receiver and the input.
    #[differentiable(wrt(self, x))]
    pub fn energy(&self, x: &DMatrix<f64>) -> f64 {
        let z = self.logits(x);
        z.map(|e| e.tanh()).sum() * self.b
    }

    /// Not differentiated: left as written.
    pub fn width(&self) -> usize {
        self.w.ncols()
    }
}

/// A scalar model taken by value.
#[derive(Clone, Copy, Debug, Tangent)]
pub struct Quadratic {
    pub a: f32,
    pub c: f32,
}

#[differentiable]
impl Quadratic {
    #[differentiable]
    pub fn at(self, x: f32) -> f32 {
        if x > 0.0 {
            self.a * x * x + self.c
        } else {
            self.c - x
        }
    }

    #[differentiable]
    pub fn at_twice(self, x: f32) -> f32 {
        self.at(x) + self.at(x * 2.0)
    }
}

fn model() -> (Classifier, DMatrix<f64>, [usize; 3]) {
    let m = Classifier {
        w: DMatrix::from_row_slice(2, 3, &[0.1, 0.2, -0.3, 0.4, 0.0, 0.5]),
        b: 0.1,
    };
    let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, -1.0, 0.5, 0.3, -0.8]);
    (m, x, [0, 2, 1])
}

fn fd(f: impl Fn(f64) -> f64) -> f64 {
    let h = 1e-6;
    (f(h) - f(-h)) / (2.0 * h)
}

#[test]
fn a_method_with_a_sibling_call_matches_finite_differences() {
    let (m, x, labels) = model();
    let (v, g): (f64, ClassifierLossGrad) = m.loss_grad(&x, &labels);
    assert_eq!(v, m.loss(&x, &labels));
    for k in 0..m.w.len() {
        let d = fd(|h| {
            let mut p = m.clone();
            p.w[k] += h;
            p.loss(&x, &labels)
        });
        assert!(
            (g.self_.w[k] - d).abs() < 1e-7,
            "w[{k}]: {} vs {d}",
            g.self_.w[k]
        );
    }
    let d = fd(|h| {
        let mut p = m.clone();
        p.b += h;
        p.loss(&x, &labels)
    });
    assert!((g.self_.b - d).abs() < 1e-7);
    assert_eq!(m.width(), 3);
}

#[test]
fn wrt_self_and_an_input() {
    let (m, x, _) = model();
    let (v, g) = m.energy_grad(&x);
    assert_eq!(v, m.energy(&x));
    for k in 0..x.len() {
        let d = fd(|h| {
            let mut xp = x.clone();
            xp[k] += h;
            m.energy(&xp)
        });
        assert!((g.x[k] - d).abs() < 1e-7, "x[{k}]");
    }
    let d = fd(|h| {
        let mut p = m.clone();
        p.b += h;
        p.energy(&x)
    });
    assert!((g.self_.b - d).abs() < 1e-7);
    // The vector-Jacobian product scales the gradient.
    let (_, gv) = m.energy_vjp(&x, 2.0);
    assert!((gv.self_.b - 2.0 * g.self_.b).abs() < 1e-12);
    let graph = Classifier::energy_graph();
    assert!(graph.to_dot().contains("TanhBackward0") || graph.to_dot().contains("MapBackward0"));
}

#[test]
fn a_method_taking_self_by_value_in_f32() {
    let q = Quadratic { a: 1.5, c: 0.5 };
    for x in [-1.0_f32, 0.75] {
        let (v, g) = q.at_twice_grad(x);
        assert_eq!(v, q.at_twice(x));
        // d/da, d/dc, d/dx by hand on both branches of both calls.
        let (mut da, mut dc, mut dx) = (0.0, 0.0, 0.0);
        for (s, xs) in [(1.0, x), (2.0, 2.0 * x)] {
            dc += 1.0;
            if xs > 0.0 {
                da += xs * xs;
                dx += 2.0 * q.a * xs * s;
            } else {
                dx -= s;
            }
        }
        assert_eq!((g.self_.a, g.self_.c, g.x), (da, dc, dx));
    }
}

#[test]
fn the_static_engine_agrees_with_the_dynamic_one() {
    let (m, x, _) = model();
    let w = Tensor::from(m.w.clone()).requires_grad();
    let b = Tensor::scalar(m.b).requires_grad();
    let xt = Tensor::from(x.clone());
    let z = xt.matmul(&w) + &b;
    let e = z.tanh().sum() * &b;
    e.backward().expect("backward");
    let (v, g) = m.energy_grad(&x);
    assert!((v - e.item()).abs() < 1e-12);
    let gw = w.grad().expect("w has a gradient").value();
    assert!((&g.self_.w - gw).abs().max() < 1e-12);
    assert!((g.self_.b - b.grad().expect("b").item()).abs() < 1e-12);
}

/// Fields of a borrowed receiver bound by `let` and returned early (found by the random
/// programs: the binding was a borrow, so `a > 0.0` and the joined return did not compile).
#[derive(Clone, Debug, Tangent)]
pub struct Pair {
    pub a: f64,
    pub b: f64,
}

#[differentiable]
impl Pair {
    #[differentiable(wrt(self, x))]
    pub fn gate(&self, x: f64) -> f64 {
        let a = self.a;
        if a > 0.5 {
            return self.b * x;
        }
        if x < 0.0 {
            return self.b;
        }
        a * x + a
    }
}

#[differentiable]
fn gate_free(p: &Pair, x: f64) -> f64 {
    let b = p.b;
    let r = if b > 0.0 { p.a } else { b * x };
    r * x
}

#[test]
fn fields_of_a_borrowed_struct_bound_by_let_and_returned_early() {
    for (a, b, x) in [
        (0.25, 1.5, 2.0),
        (0.75, -1.0, 0.5),
        (0.25, 2.0, -0.5),
        (0.1, -2.0, 1.5),
    ] {
        let p = Pair { a, b };
        let (v, g) = p.gate_grad(x);
        assert_eq!(v, p.gate(x));
        let da = fd(|h| Pair { a: a + h, b }.gate(x));
        let db = fd(|h| Pair { a, b: b + h }.gate(x));
        let dx = fd(|h| p.gate(x + h));
        for (got, want) in [(g.self_.a, da), (g.self_.b, db), (g.x, dx)] {
            assert!((got - want).abs() < 1e-6, "{got} vs {want} at {a} {b} {x}");
        }
        let (v, g) = gate_free_grad(&p, x);
        assert_eq!(v, gate_free(&p, x));
        let da = fd(|h| gate_free(&Pair { a: a + h, b }, x));
        let db = fd(|h| gate_free(&Pair { a, b: b + h }, x));
        let dx = fd(|h| gate_free(&p, x + h));
        for (got, want) in [(g.p.a, da), (g.p.b, db), (g.x, dx)] {
            assert!((got - want).abs() < 1e-6, "{got} vs {want} at {a} {b} {x}");
        }
    }
}

#[differentiable]
fn scaled<T: Real>(a: T, x: T) -> T {
    a * x * 2.0
}

/// A field of the borrowed receiver passed by value to a generic callee is a `T`, not a
/// `&T` (found by the random programs).
#[differentiable]
impl Pair {
    #[differentiable(wrt(self, x))]
    pub fn scaled_sum(&self, x: f64) -> f64 {
        scaled(self.a, x) + scaled(self.b, self.a)
    }
}

#[test]
fn fields_passed_by_value_to_a_generic_callee() {
    let p = Pair { a: 0.7, b: -1.3 };
    let x = 0.4;
    let (v, g) = p.scaled_sum_grad(x);
    assert_eq!(v, 2.0 * (p.a * x + p.b * p.a));
    assert_eq!(g.self_.a, 2.0 * (x + p.b));
    assert_eq!(g.self_.b, 2.0 * p.a);
    assert_eq!(g.x, 2.0 * p.a);
}
