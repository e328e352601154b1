//! Generic `#[differentiable]` functions: a type parameter bounded by `Real` stands for the
//! scalar. Each function is checked, instantiated for `f64` and for `f32`, against central
//! finite differences and against the dynamic engine; the `f64` instantiation gives
//! bit-identical values and gradients to the same function written for `f64`.

use autodiff::dynamic::Tensor;
use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;
use std::cmp::Ordering;

/// Scalar arithmetic, literals (values of `T`), methods, `T::exp(x)`.
#[differentiable]
fn poly<T: Real>(x: T, y: T) -> T {
    let z = 2.0 * x * y + x.sin() * 0.5;
    z.exp() - y.powi(2) + 1.5 * x + T::exp(y * 0.25) + x.max(y) / (1.0 + x * x)
}

/// [`poly`] written for `f64`.
#[differentiable]
fn poly64(x: f64, y: f64) -> f64 {
    let z = 2.0 * x * y + x.sin() * 0.5;
    z.exp() - y.powi(2) + 1.5 * x + f64::exp(y * 0.25) + x.max(y) / (1.0 + x * x)
}

/// Matrices of `T`: a product, an elementwise `map` with a literal, a reduction.
#[differentiable]
fn layer<T: Real>(w: &DMatrix<T>, x: &DMatrix<T>, b: T) -> T {
    let h = (w * x).map(|e| (e * 0.5 + b).tanh());
    h.component_mul(&h).sum() + b * b * 3.0
}

/// [`layer`] written for `f64`.
#[differentiable]
fn layer64(w: &DMatrix<f64>, x: &DMatrix<f64>, b: f64) -> f64 {
    let h = (w * x).map(|e| (e * 0.5 + b).tanh());
    h.component_mul(&h).sum() + b * b * 3.0
}

/// A slice, a `Vec` and an array of `T`; a loop and a branch; `T::zero()`.
#[differentiable]
fn weighted<T: Real>(x: &[T], w: &Vec<T>, a: [T; 3]) -> T {
    let mut s = T::zero();
    for i in 0..x.len() {
        if x[i] > T::zero() {
            s += x[i] * w[i];
        } else {
            s -= 0.5 * x[i] * x[i];
        }
    }
    s + a[0] * a[1] - a[2].abs()
}

/// [`weighted`] written for `f64`.
#[differentiable]
fn weighted64(x: &[f64], w: &Vec<f64>, a: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            s += x[i] * w[i];
        } else {
            s -= 0.5 * x[i] * x[i];
        }
    }
    s + a[0] * a[1] - a[2].abs()
}

/// A generic differentiable function calling another one.
#[differentiable]
fn outer<T: Real>(x: T, y: T) -> T {
    poly(x, y) * x + poly::<T>(y, x * 0.5)
}

/// A generic `#[derive(Tangent)]` struct.
#[derive(Tangent, Clone, Debug)]
struct Mlp<T: Real> {
    w: DMatrix<T>,
    b: DMatrix<T>,
}

/// A generic struct as a parameter.
#[differentiable]
fn mlp_loss<T: Real>(m: &Mlp<T>, x: &DMatrix<T>) -> T {
    let h = (&m.w * x + &m.b).map(|e| e.tanh());
    h.component_mul(&h).sum() * 0.5
}

/// Methods that carry no gradient (`floor`, `signum`, `partial_cmp`, `is_nan`) on `T`.
#[differentiable]
fn steps<T: Real>(x: T) -> T {
    let k = x.floor();
    let s = x.signum();
    let up = if x.partial_cmp(&T::one()) == Some(Ordering::Greater) {
        T::c(2.0)
    } else {
        T::one()
    };
    let nan = if x.is_nan() { 1.0 } else { 0.0 };
    x * x * s * up + k + nan + T::floor(x) * x
}

/// `f64` values inside a generic body: a literal next to a cast or a suffixed literal stays
/// `f64`, and becomes a `T` through `T::c` / `T::from`.
#[differentiable(wrt(x))]
fn mixed<T: Real>(x: T, n: usize) -> T {
    let scale = T::c(n as f64 * 0.5);
    let h: f64 = 0.25;
    let h2 = 0.25f64 * 2.0;
    x * scale + T::from(1.5).unwrap() * x * T::c(h + h2) + T::pi() * x
}

/// A const generic length next to the scalar parameter.
#[differentiable]
fn norm2<T: Real, const N: usize>(a: [T; N]) -> T {
    let mut s = T::zero();
    for i in 0..N {
        s += a[i] * a[i];
    }
    s.sqrt()
}

/// Central finite difference of `f` at `x` along coordinate `k`.
fn fd(f: impl Fn(&[f64]) -> f64, x: &[f64], k: usize) -> f64 {
    let h = 1e-6;
    let mut p = x.to_vec();
    p[k] += h;
    let mut m = x.to_vec();
    m[k] -= h;
    (f(&p) - f(&m)) / (2.0 * h)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn mat<T: Real>(r: usize, c: usize, v: &[f64]) -> DMatrix<T> {
    DMatrix::from_row_slice(r, c, &v.iter().map(|&e| T::c(e)).collect::<Vec<_>>())
}

#[test]
fn scalar_function_in_both_precisions() {
    for &(x, y) in &[(0.3, 0.7), (-0.4, 0.2), (1.1, -0.6)] {
        let (v, g) = poly_grad::<f64>(x, y);
        let (v64, g64) = poly64_grad(x, y);
        assert_eq!(v.to_bits(), v64.to_bits());
        assert_eq!(
            (g.x.to_bits(), g.y.to_bits()),
            (g64.x.to_bits(), g64.y.to_bits())
        );
        let f = |p: &[f64]| poly(p[0], p[1]);
        assert!(
            close(g.x, fd(f, &[x, y], 0), 1e-6),
            "{} {}",
            g.x,
            fd(f, &[x, y], 0)
        );
        assert!(close(g.y, fd(f, &[x, y], 1), 1e-6));
        // The dynamic engine.
        let tx = Tensor::scalar(x).requires_grad();
        let ty = Tensor::scalar(y).requires_grad();
        let z = &(&(2.0 * &tx) * &ty) + &(&tx.sin() * 0.5);
        let out = &(&(&(&z.exp() - &ty.powi(2)) + &(1.5 * &tx)) + &(&ty * 0.25).exp())
            + &(&tx.maximum(&ty) / &(1.0 + &(&tx * &tx)));
        out.backward().unwrap();
        assert!(close(out.item(), v, 1e-12));
        assert!(close(tx.grad().unwrap().item(), g.x, 1e-10));
        assert!(close(ty.grad().unwrap().item(), g.y, 1e-10));
        // f32: the same function, computed in f32.
        let (v32, g32) = poly_grad::<f32>(x as f32, y as f32);
        assert!(close(v32 as f64, v, 1e-5));
        assert!(close(g32.x as f64, g.x, 1e-4) && close(g32.y as f64, g.y, 1e-4));
    }
    // The other entry points are generic too.
    let (_, vjp) = poly_vjp(0.3f64, 0.7, 2.0);
    let (_, g) = poly_grad(0.3f64, 0.7);
    assert_eq!(vjp.x, 2.0 * g.x);
    let mut ws = Workspace::<PolyGrad<f32>>::new();
    let (_, gw) = poly_grad_with(&mut ws, 0.3f32, 0.7);
    assert_eq!(gw.x, poly_grad::<f32>(0.3, 0.7).1.x);
    // The graph is the same for every scalar type: `poly_graph()` needs no turbofish.
    assert_eq!(
        poly_graph().to_dot(),
        poly64_graph().to_dot().replace("poly64", "poly")
    );
}

#[test]
fn matrix_function() {
    let wv = [0.2, -0.5, 0.7, 0.1, 0.4, -0.3];
    let xv = [0.9, -0.2, 0.3, 0.5, -0.7, 0.8];
    let (w, x): (DMatrix<f64>, DMatrix<f64>) = (mat(2, 3, &wv), mat(3, 2, &xv));
    let b = 0.15;
    let (v, g) = layer_grad(&w, &x, b);
    let (v64, g64) = layer64_grad(&w, &x, b);
    assert_eq!(v.to_bits(), v64.to_bits());
    assert_eq!(g.b.to_bits(), g64.b.to_bits());
    assert!(g
        .w
        .iter()
        .zip(g64.w.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(g
        .x
        .iter()
        .zip(g64.x.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    for k in 0..6 {
        let f = |p: &[f64]| layer(&DMatrix::from_column_slice(2, 3, p), &x, b);
        assert!(close(g.w.as_slice()[k], fd(f, w.as_slice(), k), 1e-6));
        let f = |p: &[f64]| layer(&w, &DMatrix::from_column_slice(3, 2, p), b);
        assert!(close(g.x.as_slice()[k], fd(f, x.as_slice(), k), 1e-6));
    }
    // nalgebra is column-major: `as_slice` above, `from_row_slice` below.
    let tw = Tensor::from_row_slice(2, 3, &wv).requires_grad();
    let tx = Tensor::from_row_slice(3, 2, &xv).requires_grad();
    let tb = Tensor::scalar(b).requires_grad();
    let h = (&(&tw.matmul(&tx) * 0.5) + &tb).tanh();
    let out = &(&h * &h).sum() + &(&(&tb * &tb) * 3.0);
    out.backward().unwrap();
    assert!(close(out.item(), v, 1e-12));
    assert!(close(tb.grad().unwrap().item(), g.b, 1e-10));
    let gw = tw.grad().unwrap().value();
    assert!(gw.iter().zip(g.w.iter()).all(|(a, b)| close(*a, *b, 1e-10)));
    let gx = tx.grad().unwrap().value();
    assert!(gx.iter().zip(g.x.iter()).all(|(a, b)| close(*a, *b, 1e-10)));
    // f32.
    let (v32, g32) = layer_grad::<f32>(&mat(2, 3, &wv), &mat(3, 2, &xv), b as f32);
    assert!(close(v32 as f64, v, 1e-5));
    assert!(g32
        .w
        .iter()
        .zip(g.w.iter())
        .all(|(a, b)| close(*a as f64, *b, 1e-4)));
    assert!(close(g32.b as f64, g.b, 1e-4));
}

#[test]
fn sequences_loop_and_branch() {
    let x = vec![0.5, -0.3, 1.2, -0.8];
    let w = vec![0.7, 0.2, -0.4, 0.9];
    let a = [0.6, -1.1, -0.35];
    let (v, g) = weighted_grad(&x, &w, a);
    let (v64, g64) = weighted64_grad(&x, &w, a);
    assert_eq!(v.to_bits(), v64.to_bits());
    assert_eq!(g.x, g64.x);
    assert_eq!(g.w, g64.w);
    assert_eq!(g.a, g64.a);
    for k in 0..4 {
        let f = |p: &[f64]| weighted(p, &w, a);
        assert!(close(g.x[k], fd(f, &x, k), 1e-6));
        let f = |p: &[f64]| weighted(&x, &p.to_vec(), a);
        assert!(close(g.w[k], fd(f, &w, k), 1e-6));
    }
    for k in 0..3 {
        let f = |p: &[f64]| weighted(&x, &w, [p[0], p[1], p[2]]);
        assert!(close(g.a[k], fd(f, &a, k), 1e-6));
    }
    // The dynamic engine, element by element.
    let tx: Vec<Tensor> = x
        .iter()
        .map(|&e| Tensor::scalar(e).requires_grad())
        .collect();
    let tw: Vec<Tensor> = w
        .iter()
        .map(|&e| Tensor::scalar(e).requires_grad())
        .collect();
    let ta: Vec<Tensor> = a
        .iter()
        .map(|&e| Tensor::scalar(e).requires_grad())
        .collect();
    let mut s = Tensor::scalar(0.0);
    for i in 0..4 {
        s = if x[i] > 0.0 {
            &s + &(&tx[i] * &tw[i])
        } else {
            &s - &(&(0.5 * &tx[i]) * &tx[i])
        };
    }
    let out = &(&s + &(&ta[0] * &ta[1])) - &ta[2].abs();
    out.backward().unwrap();
    assert!(close(out.item(), v, 1e-12));
    for k in 0..4 {
        let grad = |t: &Tensor| t.grad().map_or(0.0, |g| g.item());
        assert!(close(grad(&tx[k]), g.x[k], 1e-10));
        assert!(close(grad(&tw[k]), g.w[k], 1e-10));
    }
    for (t, ga) in ta.iter().zip(g.a) {
        assert!(close(t.grad().unwrap().item(), ga, 1e-10));
    }
    // f32.
    let x32: Vec<f32> = x.iter().map(|&e| e as f32).collect();
    let w32: Vec<f32> = w.iter().map(|&e| e as f32).collect();
    let (_, g32) = weighted_grad::<f32>(&x32, &w32, a.map(|e| e as f32));
    assert!(g32
        .x
        .iter()
        .zip(&g.x)
        .all(|(a, b)| close(*a as f64, *b, 1e-5)));
    assert!(g32
        .a
        .iter()
        .zip(&g.a)
        .all(|(a, b)| close(*a as f64, *b, 1e-5)));
}

#[test]
fn generic_calls_generic() {
    let (x, y) = (0.4, -0.3);
    let (v, g) = outer_grad::<f64>(x, y);
    assert!(close(v, outer(x, y), 1e-15));
    let f = |p: &[f64]| outer(p[0], p[1]);
    assert!(close(g.x, fd(f, &[x, y], 0), 1e-6));
    assert!(close(g.y, fd(f, &[x, y], 1), 1e-6));
    // By the chain rule through the callee's own gradient.
    let (p1, g1) = poly_grad(x, y);
    let (_, g2) = poly_grad(y, x * 0.5);
    assert!(close(g.x, g1.x * x + p1 + g2.y * 0.5, 1e-12));
    assert!(close(g.y, g1.y * x + g2.x, 1e-12));
    let (_, g32) = outer_grad::<f32>(x as f32, y as f32);
    assert!(close(g32.x as f64, g.x, 1e-4));
}

#[test]
fn generic_struct_parameter() {
    let wv = [0.3, -0.2, 0.5, 0.8, -0.6, 0.1];
    let bv = [0.05, -0.1, 0.2, 0.0];
    let xv = [0.4, -0.9, 0.7, 0.2, 0.3, -0.5];
    let m = Mlp::<f64> {
        w: mat(2, 3, &wv),
        b: mat(2, 2, &bv),
    };
    let x: DMatrix<f64> = mat(3, 2, &xv);
    let (v, g) = mlp_loss_grad(&m, &x);
    for k in 0..6 {
        let f = |p: &[f64]| {
            let mut m = m.clone();
            m.w = DMatrix::from_column_slice(2, 3, p);
            mlp_loss(&m, &x)
        };
        assert!(close(g.m.w.as_slice()[k], fd(f, m.w.as_slice(), k), 1e-6));
    }
    for k in 0..4 {
        let f = |p: &[f64]| {
            let mut m = m.clone();
            m.b = DMatrix::from_column_slice(2, 2, p);
            mlp_loss(&m, &x)
        };
        assert!(close(g.m.b.as_slice()[k], fd(f, m.b.as_slice(), k), 1e-6));
    }
    let tw = Tensor::from_row_slice(2, 3, &wv).requires_grad();
    let tb = Tensor::from_row_slice(2, 2, &bv).requires_grad();
    let tx = Tensor::from_row_slice(3, 2, &xv);
    let h = (&tw.matmul(&tx) + &tb).tanh();
    let out = &(&h * &h).sum() * 0.5;
    out.backward().unwrap();
    assert!(close(out.item(), v, 1e-12));
    let gw = tw.grad().unwrap().value();
    assert!(gw
        .iter()
        .zip(g.m.w.iter())
        .all(|(a, b)| close(*a, *b, 1e-10)));
    let gb = tb.grad().unwrap().value();
    assert!(gb
        .iter()
        .zip(g.m.b.iter())
        .all(|(a, b)| close(*a, *b, 1e-10)));
    // f32, and the gradient is the struct itself, a `Tangent`.
    let m32 = Mlp::<f32> {
        w: mat(2, 3, &wv),
        b: mat(2, 2, &bv),
    };
    let (_, g32) = mlp_loss_grad(&m32, &mat(3, 2, &xv));
    assert!(g32
        .m
        .w
        .iter()
        .zip(g.m.w.iter())
        .all(|(a, b)| close(*a as f64, *b, 1e-4)));
    let mut step = m32.clone();
    Tangent::add_assign(&mut step, &g32.m);
    assert_eq!(step.w[(0, 0)], m32.w[(0, 0)] + g32.m.w[(0, 0)]);
}

#[test]
fn gradient_free_methods() {
    for &x in &[-1.7, -0.4, 0.6, 2.3] {
        let (v, g) = steps_grad::<f64>(x);
        let up = if x > 1.0 { 2.0 } else { 1.0 };
        let expect = x * x * x.signum() * up + x.floor() + x.floor() * x;
        assert!(close(v, expect, 1e-15));
        // floor and signum carry no gradient.
        assert!(close(g.x, 2.0 * x * x.signum() * up + x.floor(), 1e-15));
        let f = |p: &[f64]| steps(p[0]);
        assert!(close(g.x, fd(f, &[x], 0), 1e-6));
        let (_, g32) = steps_grad::<f32>(x as f32);
        assert!(close(g32.x as f64, g.x, 1e-5));
    }
}

#[test]
fn f64_values_in_a_generic_body() {
    let (v, g) = mixed_grad::<f64>(0.8, 3);
    let slope = 1.5 + 1.5 * 0.75 + std::f64::consts::PI;
    assert!(close(v, 0.8 * slope, 1e-15));
    assert!(close(g.x, slope, 1e-15));
    let (_, g32) = mixed_grad::<f32>(0.8, 3);
    assert!(close(g32.x as f64, slope, 1e-6));
}

#[test]
fn const_generic_length() {
    let a = [0.3, -0.4, 1.2];
    let (v, g) = norm2_grad(a);
    assert!(close(v, (0.09f64 + 0.16 + 1.44).sqrt(), 1e-15));
    for (ga, a) in g.a.iter().zip(a) {
        assert!(close(*ga, a / v, 1e-15));
    }
    let (_, g32) = norm2_grad::<f32, 2>([3.0, 4.0]);
    assert_eq!(g32.a, [0.6, 0.8]);
    // Neither the scalar type nor the length is named for the graph.
    let dot = norm2_graph().to_dot();
    assert!(dot.contains("SqrtBackward0"), "{dot}");
}

/// A generic model with differentiable methods.
#[derive(Tangent, Clone, Debug)]
struct Affine<T: Real> {
    a: T,
    b: T,
}

#[differentiable]
impl<T: Real> Affine<T> {
    /// `a * x + b`.
    #[differentiable]
    fn at(&self, x: T) -> T {
        self.a * x + self.b
    }

    /// Squared error at `x` against `y`, through [`Affine::at`].
    #[differentiable(wrt(self))]
    fn loss(&self, x: T, y: T) -> T {
        let e = self.at(x) - y;
        e * e * 0.5
    }
}

#[test]
fn generic_impl_block() {
    let m = Affine {
        a: 1.5f64,
        b: -0.25,
    };
    let (v, g) = m.loss_grad(2.0, 1.0);
    let e = 1.5 * 2.0 - 0.25 - 1.0;
    assert_eq!(v, e * e * 0.5);
    assert_eq!((g.self_.a, g.self_.b), (e * 2.0, e));
    let m32 = Affine {
        a: 1.5f32,
        b: -0.25,
    };
    let (_, g32) = m32.loss_grad(2.0, 1.0);
    assert_eq!((g32.self_.a, g32.self_.b), (e as f32 * 2.0, e as f32));
    let (_, ga) = m.at_grad(3.0);
    assert_eq!((ga.self_.a, ga.self_.b, ga.x), (3.0, 1.0, 1.5));
    assert!(Affine::<f64>::loss_graph()
        .to_dot()
        .contains("MulBackward0"));
}

/// Iterator chains, a closure, a local vector written by index, op functions and
/// `stop_gradient` in a generic body.
#[differentiable]
fn chains<T: Real>(x: &[T], s: T) -> T {
    let d: T = x.iter().map(|v| v * s * 2.0).sum();
    let f = x.iter().fold(0.0, |acc, v| acc * 0.5 + v * s);
    let sq = |a| a * a + 1.0;
    let n = x.len();
    let mut out = vec![0.0; n];
    for i in 0..x.len() {
        out[i] = sq(x[i]) * relu(s) + sigmoid(x[i]);
    }
    let c = x[0].clamp(-0.5, 0.5) + stop_gradient(s) * s;
    d + f + out[0] * out[x.len() - 1] + c
}

/// [`chains`] written for `f64`.
#[differentiable]
fn chains64(x: &[f64], s: f64) -> f64 {
    let d: f64 = x.iter().map(|v| v * s * 2.0).sum();
    let f = x.iter().fold(0.0, |acc, v| acc * 0.5 + v * s);
    let sq = |a| a * a + 1.0;
    let n = x.len();
    let mut out = vec![0.0; n];
    for i in 0..x.len() {
        out[i] = sq(x[i]) * relu(s) + sigmoid(x[i]);
    }
    let c = x[0].clamp(-0.5, 0.5) + stop_gradient(s) * s;
    d + f + out[0] * out[x.len() - 1] + c
}

#[test]
fn iterators_closures_and_local_vectors() {
    let x = vec![0.3, -0.7, 1.1];
    let s = 0.8;
    let (v, g) = chains_grad::<f64>(&x, s);
    let (v64, g64) = chains64_grad(&x, s);
    assert_eq!(v.to_bits(), v64.to_bits());
    assert_eq!(g.x, g64.x);
    assert_eq!(g.s.to_bits(), g64.s.to_bits());
    for k in 0..3 {
        let f = |p: &[f64]| chains(p, s);
        assert!(close(g.x[k], fd(f, &x, k), 1e-6), "{k}");
    }
    // `stop_gradient(s) * s` contributes `s` only once.
    let f = |p: &[f64]| chains(&x, p[0]) - p[0] * p[0] + s * p[0];
    assert!(close(g.s, fd(f, &[s], 0), 1e-6));
    let x32: Vec<f32> = x.iter().map(|&e| e as f32).collect();
    let (_, g32) = chains_grad::<f32>(&x32, s as f32);
    assert!(g32
        .x
        .iter()
        .zip(&g.x)
        .all(|(a, b)| close(*a as f64, *b, 1e-5)));
    assert!(close(g32.s as f64, g.s, 1e-5));
}

/// Early `return`, `while` and `match` in a generic body.
#[differentiable(wrt(x))]
fn control<T: Real>(x: T, n: usize) -> T {
    if n == 0 {
        return x * 3.0;
    }
    let mut acc = x;
    let mut k = 0;
    while k < n {
        acc = match k % 2 {
            0 => acc * x + 0.5,
            _ => acc.tanh() - x,
        };
        k += 1;
    }
    acc
}

/// A non-generic function calling generic ones.
#[differentiable(wrt(x))]
fn concrete(x: f64, n: usize) -> f64 {
    control(x, n) + poly::<f64>(x, 0.5) + control::<f64>(x * x, 0)
}

#[test]
fn control_flow_and_concrete_callers() {
    for n in 0..4 {
        for &x in &[-0.6, 0.3, 0.9] {
            let (v, g) = control_grad::<f64>(x, n);
            assert_eq!(v, control(x, n));
            let f = |p: &[f64]| control(p[0], n);
            assert!(close(g.x, fd(f, &[x], 0), 1e-6), "{n} {x}");
            let (_, g32) = control_grad::<f32>(x as f32, n);
            assert!(close(g32.x as f64, g.x, 1e-5));
            let (_, g) = concrete_grad(x, n);
            let f = |p: &[f64]| concrete(p[0], n);
            assert!(close(g.x, fd(f, &[x], 0), 1e-6));
        }
    }
}
