//! Every op's gradient against central finite differences, on small random shapes.
//!
//! For an op `f` and a fixed random cotangent `c` of the output's shape, the scalar
//! `L(x) = sum(f(x) * c)` has gradient `J^T c`; backward() must match the central
//! difference `(L(x + h e_k) - L(x - h e_k)) / 2h` for every element `k` of every input.

use autodiff_runtime::dynamic::{no_grad, Tensor};
use autodiff_runtime::nalgebra::DMatrix;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }

    fn dim(&mut self) -> usize {
        1 + (self.next() * 4.0) as usize
    }

    fn matrix(&mut self, (r, c): (usize, usize), lo: f64, hi: f64) -> DMatrix<f64> {
        DMatrix::from_fn(r, c, |_, _| self.uniform(lo, hi))
    }

    /// Magnitudes in `[lo, hi)` with random signs (away from kinks at 0).
    fn signed(&mut self, shape: (usize, usize), lo: f64, hi: f64) -> DMatrix<f64> {
        let m = self.matrix(shape, lo, hi);
        m.map(|v| if self.next() < 0.5 { -v } else { v })
    }
}

/// Checks `f`'s gradient with respect to each of `inputs` against central differences.
fn check(name: &str, inputs: &[DMatrix<f64>], f: impl Fn(&[Tensor]) -> Tensor) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    let leaves: Vec<Tensor> = inputs
        .iter()
        .map(|m| Tensor::from(m.clone()).requires_grad())
        .collect();
    let out = f(&leaves);
    let cot = rng.matrix(out.shape(), -1.0, 1.0);
    let loss = (&out * &Tensor::from(cot.clone())).sum();
    loss.backward().unwrap();
    let value = |xs: &[DMatrix<f64>]| -> f64 {
        no_grad(|| {
            let ts: Vec<Tensor> = xs.iter().map(|m| Tensor::from(m.clone())).collect();
            f(&ts).value().component_mul(&cot).sum()
        })
    };
    let h = 1e-6;
    for (p, leaf) in leaves.iter().enumerate() {
        let grad = leaf
            .grad()
            .unwrap_or_else(|| panic!("{name}: input {p} got no gradient"))
            .value();
        assert_eq!(
            grad.shape(),
            inputs[p].shape(),
            "{name}: gradient shape of input {p}"
        );
        for k in 0..inputs[p].len() {
            let mut xs = inputs.to_vec();
            xs[p][k] += h;
            let up = value(&xs);
            xs[p][k] -= 2.0 * h;
            let down = value(&xs);
            let fd = (up - down) / (2.0 * h);
            let err = (grad[k] - fd).abs();
            assert!(
                err <= 1e-6 * (1.0 + fd.abs()),
                "{name}: input {p} element {k}: backward {} vs finite difference {fd}",
                grad[k]
            );
        }
    }
}

fn shape(rng: &mut Rng) -> (usize, usize) {
    (rng.dim(), rng.dim())
}

#[test]
fn unary_elementwise_ops() {
    type Op = fn(&Tensor) -> Tensor;
    // (name, op, smallest magnitude, largest, positive only): every unary row of the op
    // table, on its `smooth` interval (either sign and at least 0.1 from 0 where it
    // spans 0).
    let mut ops: Vec<(&str, Op, f64, f64, bool)> = Vec::new();
    macro_rules! table_op {
        ($u:ident, operator $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
            ops.push(("neg", (|t: &Tensor| -t) as Op, 0.1, $hi, false));
        };
        ($u:ident, $syn:ident $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
            let (lo, hi): (f64, f64) = ($lo, $hi);
            let signed = lo < 0.0;
            let (lo, hi) = if signed { (0.1, hi.min(-lo)) } else { (lo, hi) };
            ops.push((stringify!($name), Tensor::$name as Op, lo, hi, !signed));
        };
    }
    autodiff_ops::for_each_unary_row!(table_op);
    let mut rng = Rng(1);
    for (name, op, lo, hi, positive) in ops {
        for _ in 0..3 {
            let s = shape(&mut rng);
            let x = if positive {
                rng.matrix(s, lo, hi)
            } else {
                rng.signed(s, lo, hi)
            };
            check(name, &[x], |t| op(&t[0]));
        }
    }
}

#[test]
fn powers() {
    let mut rng = Rng(2);
    for n in [-2, 0, 1, 2, 3, 5] {
        let s = shape(&mut rng);
        let x = rng.signed(s, 0.3, 2.0);
        check("powi", &[x], |t| t[0].powi(n));
    }
    for e in [0.5, 1.5, -0.7, 2.0] {
        let s = shape(&mut rng);
        let x = rng.matrix(s, 0.3, 2.0);
        check("powf", &[x], |t| t[0].powf(e));
    }
    let s = shape(&mut rng);
    let (base, exp) = (rng.matrix(s, 0.3, 2.0), rng.signed(s, 0.1, 2.0));
    check("pow tensor", &[base, exp], |t| t[0].pow(&t[1]));
}

/// The broadcast shapes of a binary op's right operand, for a left operand `(r, c)`.
fn partners(r: usize, c: usize) -> Vec<((usize, usize), (usize, usize))> {
    vec![
        ((r, c), (r, c)),
        ((r, c), (1, 1)),
        ((1, 1), (r, c)),
        ((r, c), (1, c)),
        ((1, c), (r, c)),
        ((r, c), (r, 1)),
        ((r, 1), (1, c)),
    ]
}

#[test]
fn binary_ops_with_broadcasting() {
    type Op = fn(&Tensor, &Tensor) -> Tensor;
    let ops: [(&str, Op); 6] = [
        ("add", |a, b| a + b),
        ("sub", |a, b| a - b),
        ("mul", |a, b| a * b),
        ("div", |a, b| a / b),
        ("maximum", Tensor::maximum),
        ("minimum", Tensor::minimum),
    ];
    let mut rng = Rng(3);
    for (name, op) in ops {
        let (r, c) = (rng.dim() + 1, rng.dim() + 1);
        for (sa, sb) in partners(r, c) {
            let a = rng.signed(sa, 0.5, 2.0);
            let b = rng.signed(sb, 0.5, 2.0);
            check(name, &[a, b], |t| op(&t[0], &t[1]));
        }
    }
}

#[test]
fn ops_with_constants_on_either_side() {
    let mut rng = Rng(4);
    let s = shape(&mut rng);
    let x = rng.signed(s, 0.5, 2.0);
    check("x + 3", std::slice::from_ref(&x), |t| &t[0] + 3.0);
    check("3 + x", std::slice::from_ref(&x), |t| 3.0 + &t[0]);
    check("x - 3", std::slice::from_ref(&x), |t| &t[0] - 3.0);
    check("3 - x", std::slice::from_ref(&x), |t| 3.0 - &t[0]);
    check("x * 3", std::slice::from_ref(&x), |t| &t[0] * 3.0);
    check("3 * x", std::slice::from_ref(&x), |t| 3.0 * &t[0]);
    check("x / 3", std::slice::from_ref(&x), |t| &t[0] / 3.0);
    check("3 / x", std::slice::from_ref(&x), |t| 3.0 / &t[0]);
    check("owned operands", &[x.clone(), x], |t| {
        (t[0].clone() * t[1].clone() - t[0].clone()) / 2.0
    });
}

#[test]
fn matrix_ops_and_reductions() {
    let mut rng = Rng(5);
    for _ in 0..4 {
        let (m, k, n) = (rng.dim(), rng.dim(), rng.dim());
        let a = rng.signed((m, k), 0.1, 2.0);
        let b = rng.signed((k, n), 0.1, 2.0);
        check("matmul", &[a.clone(), b], |t| t[0].matmul(&t[1]));
        check("t", std::slice::from_ref(&a), |t| t[0].t());
        check("sum", std::slice::from_ref(&a), |t| t[0].sum());
        check("mean", std::slice::from_ref(&a), |t| t[0].mean());
        check("softmax", std::slice::from_ref(&a), |t| t[0].softmax());
        check("log_softmax", std::slice::from_ref(&a), |t| {
            t[0].log_softmax()
        });
        let target = rng.signed((m, k), 0.1, 2.0);
        check("mse", &[a.clone(), target], |t| t[0].mse(&t[1]));
        let labels: Vec<usize> = (0..m).map(|i| (i * 7 + 3) % k).collect();
        check("cross_entropy", &[a], |t| t[0].cross_entropy(&labels));
    }
}

#[test]
fn composite_graphs_share_and_reuse_values() {
    let mut rng = Rng(6);
    // x used twice, a diamond, and a two-layer perceptron with a bias row.
    let x = rng.signed((3, 4), 0.2, 1.5);
    check("x * x", std::slice::from_ref(&x), |t| &t[0] * &t[0]);
    check("diamond", std::slice::from_ref(&x), |t| {
        let y = t[0].tanh();
        (&y * &y.exp() + y.sin()).sum()
    });
    let (w1, b1) = (rng.signed((4, 5), 0.1, 1.0), rng.signed((1, 5), 0.1, 1.0));
    let (w2, b2) = (rng.signed((5, 3), 0.1, 1.0), rng.signed((1, 3), 0.1, 1.0));
    check("mlp", &[x, w1, b1, w2, b2], |t| {
        let h = (t[0].matmul(&t[1]) + &t[2]).tanh();
        (h.matmul(&t[3]) + &t[4]).cross_entropy(&[0, 2, 1])
    });
}
