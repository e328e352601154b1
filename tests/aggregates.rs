//! Values built from several differentiated values and taken apart again: tuples (as
//! results, locals, `t.0`, `let (a, b) = g(x)`), struct literals, nalgebra's element
//! constructors, `vec![..]`, `[..]` and `from_fn`. Gradients against central differences
//! in f64 and f32, and against the dynamic engine where it can write the same function.

use autodiff::dynamic::Tensor;
use autodiff::nalgebra::{DMatrix, DVector, Matrix2, RowVector3, Vector2, Vector3, Vector4};
use autodiff::prelude::*;

/// Central difference of `f` at `x` along coordinate `k`.
fn fd(f: impl Fn(&[f64]) -> f64, x: &[f64], k: usize) -> f64 {
    let h = 1e-6;
    let (mut p, mut m) = (x.to_vec(), x.to_vec());
    p[k] += h;
    m[k] -= h;
    (f(&p) - f(&m)) / (2.0 * h)
}

/// [`fd`] in f32, with a step suited to it.
fn fd32(f: impl Fn(&[f32]) -> f32, x: &[f32], k: usize) -> f32 {
    let h = 1e-2;
    let (mut p, mut m) = (x.to_vec(), x.to_vec());
    p[k] += h;
    m[k] -= h;
    (f(&p) - f(&m)) / (2.0 * h)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Gradients of a scalar function of two scalars on the dynamic engine.
fn dynamic2(f: impl Fn(&Tensor, &Tensor) -> Tensor, a: f64, b: f64) -> (f64, f64, f64) {
    let ta = Tensor::scalar(a).requires_grad();
    let tb = Tensor::scalar(b).requires_grad();
    let y = f(&ta, &tb);
    y.backward().expect("backward");
    let grad = |t: &Tensor| t.grad().map_or(0.0, |g| g.item());
    (y.item(), grad(&ta), grad(&tb))
}

// ---------------------------------------------------------------------------------------
// Tuples

/// Value and both partial derivatives of a function of two scalars.
type GradOf2 = dyn Fn(f64, f64) -> (f64, f64, f64);

/// A gradient function and the function it differentiates.
type Case<'a> = (&'a GradOf2, &'a dyn Fn(f64, f64) -> f64);

/// A tuple result: only `polar_vjp`, whose cotangent is a tuple.
#[differentiable]
fn polar(r: f64, theta: f64) -> (f64, f64) {
    (r * theta.cos(), r * theta.sin())
}

/// A tuple of a scalar and a matrix, nested in another tuple.
#[differentiable]
fn scaled(x: &DMatrix<f64>, s: f64) -> (f64, (DMatrix<f64>, f64)) {
    let m = x * s;
    (m.sum(), (m.map(|e| e * e), s * 2.0))
}

/// A tuple local, read by projection.
#[differentiable]
fn tuple_local(x: f64, y: f64) -> f64 {
    let t = (x * 2.0, y.exp());
    let u = (t.1, t.0 * t.1);
    t.0 * u.1 + u.0
}

/// `let (a, b) = g(x)` on a differentiable callee returning a tuple.
#[differentiable]
fn uses_polar(r: f64, theta: f64) -> f64 {
    let (px, py) = polar(r, theta);
    px * px * 3.0 + py
}

/// The same, read by projection without destructuring, and nested patterns.
#[differentiable]
fn uses_polar_fields(r: f64, theta: f64) -> f64 {
    let p = polar(r * 0.5, theta);
    let (a, (b, _)) = (p.1, (p.0 * theta, r));
    a * b + p.0
}

/// `let (a, b) = (x * 2.0, y);`, and a tuple carried through a loop.
#[differentiable]
fn destructure_literal(x: f64, y: f64) -> f64 {
    let (a, b) = (x * 2.0, y);
    let mut t = (a, b);
    for _ in 0..3 {
        t = (t.1 * 0.5, t.0 + t.1 * x);
    }
    let (c, d) = t;
    c * d
}

/// A tuple chosen by a branch.
#[differentiable]
fn tuple_branch(x: f64, y: f64) -> f64 {
    let t = if x > y { (x, y * 3.0) } else { (y, x * x) };
    t.0 * t.1
}

#[differentiable]
fn tuple_local32(x: f32, y: f32) -> f32 {
    let (a, b) = (x * y, y.tanh());
    let t = (a, b);
    t.0 * t.1 + a
}

#[test]
fn a_tuple_result_has_a_tuple_cotangent() {
    let (r, th) = (1.3, 0.4);
    let (v, g) = polar_vjp(r, th, (1.0, 0.0));
    assert_eq!(v, polar(r, th));
    assert!(close(g.r, th.cos(), 1e-12) && close(g.theta, -r * th.sin(), 1e-12));
    let (_, g) = polar_vjp(r, th, (0.25, -2.0));
    let want = |x: &[f64]| {
        let (a, b) = polar(x[0], x[1]);
        0.25 * a - 2.0 * b
    };
    assert!(close(g.r, fd(want, &[r, th], 0), 1e-7));
    assert!(close(g.theta, fd(want, &[r, th], 1), 1e-7));
}

#[test]
fn a_nested_tuple_with_a_matrix() {
    let x = DMatrix::from_row_slice(2, 2, &[0.5, -1.0, 2.0, 0.25]);
    let s = 1.5;
    let dm = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, -0.25, 2.0]);
    let (v, g) = scaled_vjp(&x, s, (0.75, (dm.clone(), -1.0)));
    assert_eq!(v.0, scaled(&x, s).0);
    let obj = |p: &[f64]| {
        let x = DMatrix::from_row_slice(2, 2, &p[..4]);
        let (a, (m, b)) = scaled(&x, p[4]);
        0.75 * a + m.component_mul(&dm).sum() - b
    };
    let mut p: Vec<f64> = x.transpose().as_slice().to_vec();
    p.push(s);
    for k in 0..4 {
        let (i, j) = (k / 2, k % 2);
        assert!(close(g.x[(i, j)], fd(obj, &p, k), 1e-6), "x[{i},{j}]");
    }
    assert!(close(g.s, fd(obj, &p, 4), 1e-6));
}

#[test]
fn tuple_locals_projections_and_destructuring_match_fd_and_dynamic() {
    let cases: [Case; 5] = [
        (
            &|x, y| {
                let (v, g) = tuple_local_grad(x, y);
                (v, g.x, g.y)
            },
            &tuple_local,
        ),
        (
            &|x, y| {
                let (v, g) = uses_polar_grad(x, y);
                (v, g.r, g.theta)
            },
            &uses_polar,
        ),
        (
            &|x, y| {
                let (v, g) = uses_polar_fields_grad(x, y);
                (v, g.r, g.theta)
            },
            &uses_polar_fields,
        ),
        (
            &|x, y| {
                let (v, g) = destructure_literal_grad(x, y);
                (v, g.x, g.y)
            },
            &destructure_literal,
        ),
        (
            &|x, y| {
                let (v, g) = tuple_branch_grad(x, y);
                (v, g.x, g.y)
            },
            &tuple_branch,
        ),
    ];
    for (grad, f) in cases {
        for &(x, y) in &[(0.7, -0.3), (-0.4, 1.1), (1.9, 0.6)] {
            let (v, gx, gy) = grad(x, y);
            assert_eq!(v.to_bits(), f(x, y).to_bits());
            let p = [x, y];
            assert!(
                close(gx, fd(|p| f(p[0], p[1]), &p, 0), 1e-6),
                "d/dx at {p:?}"
            );
            assert!(
                close(gy, fd(|p| f(p[0], p[1]), &p, 1), 1e-6),
                "d/dy at {p:?}"
            );
        }
    }
    // The dynamic engine writes the same functions without the tuples.
    let (x, y) = (0.7, -0.3);
    let (v, g) = tuple_local_grad(x, y);
    let (dv, dx, dy) = dynamic2(
        |x, y| &(&(x * 2.0) * &(&(x * 2.0) * &y.exp())) + &y.exp(),
        x,
        y,
    );
    assert!(close(v, dv, 1e-12) && close(g.x, dx, 1e-12) && close(g.y, dy, 1e-12));
    let (v, g) = uses_polar_grad(x, y);
    let (dv, dx, dy) = dynamic2(
        |r, th| {
            let px = r * &th.cos();
            &(&(&px * &px) * 3.0) + &(r * &th.sin())
        },
        x,
        y,
    );
    assert!(close(v, dv, 1e-12) && close(g.r, dx, 1e-12) && close(g.theta, dy, 1e-12));
}

#[test]
fn tuples_in_f32() {
    let (x, y) = (0.8_f32, -0.6_f32);
    let (v, g) = tuple_local32_grad(x, y);
    assert_eq!(v, tuple_local32(x, y));
    let f = |p: &[f32]| tuple_local32(p[0], p[1]);
    assert!((g.x - fd32(f, &[x, y], 0)).abs() < 1e-2);
    assert!((g.y - fd32(f, &[x, y], 1)).abs() < 1e-2);
}

// ---------------------------------------------------------------------------------------
// Struct literals

#[derive(Debug, Clone, Tangent)]
struct Model {
    w: DMatrix<f64>,
    b: f64,
}

#[differentiable]
fn model_loss(m: &Model, x: &DMatrix<f64>) -> f64 {
    let y = &m.w * x;
    y.norm_squared() + y.sum() * m.b
}

/// A struct literal read by field, passed to a differentiable function, and returned.
#[differentiable]
fn build_model(a: &DMatrix<f64>, c: f64, x: &DMatrix<f64>) -> f64 {
    let m = Model { w: a * 2.0, b: c };
    let n = Model {
        b: m.b * m.b,
        w: m.w.clone(),
    };
    model_loss(&n, x) + m.b * 3.0
}

#[differentiable]
fn make_model(a: &DMatrix<f64>, c: f64) -> Model {
    Model {
        w: a.map(|e| e.tanh()),
        b: c * c,
    }
}

/// `let Model { w, b } = ..` takes a struct apart.
#[differentiable]
fn destructure_model(a: &DMatrix<f64>, c: f64) -> f64 {
    let Model { w, b } = make_model(a, c);
    w.sum() * b
}

#[test]
fn struct_literals_match_fd() {
    let a = DMatrix::from_row_slice(2, 2, &[0.3, -0.5, 0.8, 0.1]);
    let x = DMatrix::from_row_slice(2, 1, &[1.0, -2.0]);
    let c = 0.7;
    let (v, g) = build_model_grad(&a, c, &x);
    assert_eq!(v, build_model(&a, c, &x));
    let obj = |p: &[f64]| build_model(&DMatrix::from_row_slice(2, 2, &p[..4]), p[4], &x);
    let p = [0.3, -0.5, 0.8, 0.1, c];
    for k in 0..4 {
        assert!(close(g.a[(k / 2, k % 2)], fd(obj, &p, k), 1e-6), "a[{k}]");
    }
    assert!(close(g.c, fd(obj, &p, 4), 1e-6));

    let (v, g) = destructure_model_grad(&a, c);
    assert_eq!(v, destructure_model(&a, c));
    let obj = |p: &[f64]| destructure_model(&DMatrix::from_row_slice(2, 2, &p[..4]), p[4]);
    for k in 0..4 {
        assert!(close(g.a[(k / 2, k % 2)], fd(obj, &p, k), 1e-6), "a[{k}]");
    }
    assert!(close(g.c, fd(obj, &p, 4), 1e-6));

    let dm = Model {
        w: DMatrix::from_element(2, 2, 0.5),
        b: -1.0,
    };
    let (m, g) = make_model_vjp(&a, c, dm);
    assert_eq!(m.b, c * c);
    assert!(close(g.c, -2.0 * c, 1e-12));
    assert!(close(
        g.a[(0, 1)],
        0.5 * (1.0 - (-0.5_f64).tanh().powi(2)),
        1e-12
    ));
}

// ---------------------------------------------------------------------------------------
// Vectors and matrices from differentiated scalars

#[differentiable]
fn fixed_vectors(a: f64, b: f64, c: f64) -> f64 {
    let v = Vector3::new(a, b * 2.0, c);
    let w = Vector3::new(c, a, b);
    let r = RowVector3::new(a, a, b);
    let m = Matrix2::new(a, b, c, a * b);
    let u = Vector2::new(1.0, c);
    let q = Vector4::new(a, b, c, 1.0);
    v.dot(&w) + (r * v).sum() + (m * u).norm_squared() + q.norm_squared()
}

#[differentiable]
fn dynamic_vectors(a: f64, b: f64) -> f64 {
    let v = DVector::from_vec(vec![a, b * b, 1.0]);
    let xs = vec![a * 3.0, b];
    let arr = [b, a, a * b];
    v.norm_squared() * xs[0] + xs[1] * arr[2] + arr[0]
}

#[differentiable]
fn vec_result(a: f64, b: f64) -> Vec<f64> {
    vec![a * b, a.exp(), b]
}

#[differentiable]
fn vector_result(a: f32, b: f32) -> Vector3<f32> {
    Vector3::new(a * b, a, b.sin())
}

#[test]
fn constructors_match_fd() {
    let p = [0.6, -1.3, 0.9];
    let (v, g) = fixed_vectors_grad(p[0], p[1], p[2]);
    assert_eq!(v, fixed_vectors(p[0], p[1], p[2]));
    let f = |p: &[f64]| fixed_vectors(p[0], p[1], p[2]);
    assert!(close(g.a, fd(f, &p, 0), 1e-6));
    assert!(close(g.b, fd(f, &p, 1), 1e-6));
    assert!(close(g.c, fd(f, &p, 2), 1e-6));

    let (v, g) = dynamic_vectors_grad(p[0], p[1]);
    assert_eq!(v, dynamic_vectors(p[0], p[1]));
    let f = |p: &[f64]| dynamic_vectors(p[0], p[1]);
    assert!(close(g.a, fd(f, &p, 0), 1e-6));
    assert!(close(g.b, fd(f, &p, 1), 1e-6));
    // The dynamic engine, with the vectors written out.
    let (dv, da, db) = dynamic2(
        |a, b| {
            let n = &(&(a * a) + &(&(b * b) * &(b * b))) + 1.0;
            &(&(&n * &(a * 3.0)) + &(b * &(a * b))) + b
        },
        p[0],
        p[1],
    );
    assert!(close(v, dv, 1e-12) && close(g.a, da, 1e-12) && close(g.b, db, 1e-12));

    let (v, g) = vec_result_vjp(p[0], p[1], vec![1.0, 0.5, -2.0]);
    assert_eq!(v, vec_result(p[0], p[1]));
    assert!(close(g.a, p[1] + 0.5 * p[0].exp(), 1e-12));
    assert!(close(g.b, p[0] - 2.0, 1e-12));

    let (a, b) = (0.5_f32, 1.5_f32);
    let (v, g) = vector_result_vjp(a, b, Vector3::new(1.0, 2.0, 3.0));
    assert_eq!(v, vector_result(a, b));
    assert!((g.a - (b + 2.0)).abs() < 1e-6);
    assert!((g.b - (a + 3.0 * b.cos())).abs() < 1e-6);
}

// ---------------------------------------------------------------------------------------
// from_fn

/// `DMatrix::from_fn` whose closure reads differentiated values.
#[differentiable]
fn outer_from_fn(a: &DVector<f64>, b: &DVector<f64>, s: f64) -> f64 {
    let m = DMatrix::from_fn(a.len(), b.len(), |i, j| a[i] * b[j] * s + (i as f64));
    let v = DVector::from_fn(b.len(), |j, _| b[j] * b[j] - s);
    (&m * &v).norm_squared()
}

#[differentiable]
fn from_fn32(x: &[f32], s: f32) -> f32 {
    let v = DVector::from_fn(x.len(), |i, _| (x[i] * s).tanh());
    v.sum() * s
}

#[test]
fn from_fn_matches_fd() {
    let a = DVector::from_vec(vec![0.5, -1.0, 2.0]);
    let b = DVector::from_vec(vec![1.5, 0.25]);
    let s = 0.8;
    let (v, g) = outer_from_fn_grad(&a, &b, s);
    assert_eq!(v, outer_from_fn(&a, &b, s));
    let mut p: Vec<f64> = a.iter().chain(b.iter()).copied().collect();
    p.push(s);
    let obj = |p: &[f64]| {
        outer_from_fn(
            &DVector::from_column_slice(&p[..3]),
            &DVector::from_column_slice(&p[3..5]),
            p[5],
        )
    };
    for k in 0..3 {
        assert!(close(g.a[k], fd(obj, &p, k), 1e-6), "a[{k}]");
    }
    for k in 0..2 {
        assert!(close(g.b[k], fd(obj, &p, 3 + k), 1e-6), "b[{k}]");
    }
    assert!(close(g.s, fd(obj, &p, 5), 1e-6));

    let x = [0.3_f32, -0.8, 1.2];
    let (v, g) = from_fn32_grad(&x, 0.9);
    assert_eq!(v, from_fn32(&x, 0.9));
    let mut p = x.to_vec();
    p.push(0.9);
    let obj = |p: &[f32]| from_fn32(&p[..3], p[3]);
    for k in 0..3 {
        assert!((g.x[k] - fd32(obj, &p, k)).abs() < 1e-2, "x[{k}]");
    }
    assert!((g.s - fd32(obj, &p, 3)).abs() < 1e-2);
}

// ---------------------------------------------------------------------------------------
// Inside loops and branches (the tape keeps what the reverse reads)

/// Constructions, projections and `from_fn` inside a loop body and a branch arm.
#[differentiable]
fn in_loops(x: &DVector<f64>, s: f64) -> f64 {
    let mut acc = 0.0;
    let mut h = x.clone();
    for k in 0..3 {
        let t = (h.clone() * s, s * (k as f64 + 1.0));
        let m = if t.1 > 1.5 {
            DVector::from_fn(h.len(), |i, _| t.0[i] * t.1 + h[i])
        } else {
            t.0.map(|e| e.sin())
        };
        let v = Vector2::new(m.sum(), t.1);
        acc += v.norm_squared();
        h = m;
    }
    acc + h.sum()
}

#[differentiable]
fn struct_in_loop(a: f32, b: f32) -> f32 {
    let mut p = Pair { x: a, y: b };
    for _ in 0..4 {
        let q = Pair {
            x: p.y * 0.5,
            y: p.x + p.y * a,
        };
        p = q;
    }
    p.x * p.y
}

#[derive(Debug, Clone, Tangent)]
struct Pair {
    x: f32,
    y: f32,
}

#[test]
fn constructions_in_loops_and_branches_match_fd() {
    let x = DVector::from_vec(vec![0.4, -0.9, 1.3]);
    let s = 0.7;
    let (v, g) = in_loops_grad(&x, s);
    assert_eq!(v, in_loops(&x, s));
    let mut p: Vec<f64> = x.iter().copied().collect();
    p.push(s);
    let obj = |p: &[f64]| in_loops(&DVector::from_column_slice(&p[..3]), p[3]);
    for k in 0..3 {
        assert!(close(g.x[k], fd(obj, &p, k), 1e-6), "x[{k}]");
    }
    assert!(close(g.s, fd(obj, &p, 3), 1e-6));

    let (v, g) = struct_in_loop_grad(0.6, -0.4);
    assert_eq!(v, struct_in_loop(0.6, -0.4));
    let f = |p: &[f32]| struct_in_loop(p[0], p[1]);
    assert!((g.a - fd32(f, &[0.6, -0.4], 0)).abs() < 1e-2);
    assert!((g.b - fd32(f, &[0.6, -0.4], 1)).abs() < 1e-2);
}

#[test]
fn the_graph_names_constructions() {
    let g = fixed_vectors_graph().to_dot();
    assert!(g.contains("StackBackward0"), "{g}");
    let g = polar_graph().to_dot();
    assert!(g.contains("TupleConstruct"), "{g}");
    let g = uses_polar_fields_graph().to_dot();
    assert!(g.contains("TupleIndex"), "{g}");
    let g = build_model_graph().to_dot();
    assert!(g.contains("CreateObject"), "{g}");
    let g = destructure_model_graph().to_dot();
    assert!(g.contains("GetAttr"), "{g}");
}

// ---------------------------------------------------------------------------------------
// Projections read inside `map` closures

#[differentiable]
fn map_reads_a_field(m: &Model, x: &DMatrix<f64>) -> f64 {
    (&m.w * x).map(|e| e + m.b).norm_squared()
}

#[differentiable]
fn map_reads_a_tuple_component(x: &DMatrix<f64>, s: f64) -> f64 {
    let t = (s * 2.0, s);
    x.map(|e| (e * t.0).tanh() + t.1).sum()
}

/// These gave a zero gradient for the projection before it was read as a captured value.
#[test]
fn map_closures_reading_projections_get_their_gradient() {
    let w = DMatrix::from_row_slice(2, 2, &[0.3, -0.5, 0.8, 0.1]);
    let x = DMatrix::from_row_slice(2, 1, &[1.0, -2.0]);
    let m = Model {
        w: w.clone(),
        b: 0.7,
    };
    let (v, g) = map_reads_a_field_grad(&m, &x);
    assert_eq!(v, map_reads_a_field(&m, &x));
    let obj = |p: &[f64]| {
        let m = Model {
            w: DMatrix::from_row_slice(2, 2, &p[..4]),
            b: p[4],
        };
        map_reads_a_field(&m, &x)
    };
    let p = [0.3, -0.5, 0.8, 0.1, 0.7];
    assert!(
        close(g.m.b, fd(obj, &p, 4), 1e-6),
        "{} vs {}",
        g.m.b,
        fd(obj, &p, 4)
    );
    for k in 0..4 {
        assert!(close(g.m.w[(k / 2, k % 2)], fd(obj, &p, k), 1e-6), "w[{k}]");
    }
    let (_, g) = map_reads_a_tuple_component_grad(&w, 0.7);
    let d = fd(|p| map_reads_a_tuple_component(&w, p[0]), &[0.7], 0);
    assert!(close(g.s, d, 1e-6), "{} vs {d}", g.s);
}

// ---------------------------------------------------------------------------------------
// A vector filled by index, then converted; from_fn with a branch in its closure

#[differentiable]
fn filled_then_converted(x: &[f64], s: f64) -> f64 {
    let mut v = vec![0.0; x.len()];
    for i in 0..x.len() {
        v[i] = x[i] * s;
    }
    let d = DVector::from_vec(v);
    let w = vec![s, x[0], x[1] * x[2]];
    let e = DVector::from_vec(w);
    d.dot(&e)
}

#[differentiable]
fn diagonal(x: &[f64], s: f64) -> f64 {
    let n = x.len();
    let m = DMatrix::from_fn(n, n, |i, j| if i == j { x[i] * s } else { s * 0.5 });
    (&m * &m).sum()
}

#[test]
fn conversions_and_branching_from_fn_match_fd() {
    let x = [0.3, -1.1, 0.8];
    let s = 1.4;
    let mut p = x.to_vec();
    p.push(s);
    let (v, g) = filled_then_converted_grad(&x, s);
    assert_eq!(v, filled_then_converted(&x, s));
    let obj = |p: &[f64]| filled_then_converted(&p[..3], p[3]);
    for k in 0..3 {
        assert!(close(g.x[k], fd(obj, &p, k), 1e-6), "x[{k}]");
    }
    assert!(close(g.s, fd(obj, &p, 3), 1e-6));
    let (v, g) = diagonal_grad(&x, s);
    assert_eq!(v, diagonal(&x, s));
    let obj = |p: &[f64]| diagonal(&p[..3], p[3]);
    for k in 0..3 {
        assert!(close(g.x[k], fd(obj, &p, k), 1e-6), "x[{k}]");
    }
    assert!(close(g.s, fd(obj, &p, 3), 1e-6));
}

#[differentiable(wrt(x))]
fn repeated(x: f64, n: usize) -> f64 {
    let mut v = vec![x; n];
    v[0] = x * x;
    v.iter().map(|e| e * 2.0).sum::<f64>()
}

#[test]
fn a_repeated_element_matches_fd() {
    let (v, g) = repeated_grad(0.7, 4);
    assert_eq!(v, repeated(0.7, 4));
    let d = fd(|p| repeated(p[0], 4), &[0.7], 0);
    assert!(close(g.x, d, 1e-6), "{} vs {d}", g.x);
}

// ---------------------------------------------------------------------------------------
// Against the dynamic engine, for constructors, struct literals and from_fn

#[derive(Debug, Clone, Tangent)]
struct P64 {
    x: f64,
    y: f64,
}

#[differentiable]
fn ctor_small(a: f64, b: f64, c: f64) -> f64 {
    let v = Vector3::new(a, b * 2.0, c).dot(&Vector3::new(c, a, b));
    v + (Matrix2::new(a, b, c, a * b) * Vector2::new(1.0, c)).norm_squared()
}

#[differentiable]
fn struct_small(a: f64, b: f64) -> f64 {
    let p = P64 { x: a * b, y: b };
    let q = P64 {
        x: p.y,
        y: p.x + p.y,
    };
    q.x * q.y
}

#[differentiable]
fn from_fn_small(x: &[f64], s: f64) -> f64 {
    DVector::from_fn(x.len(), |i, _| x[i] * s).norm_squared()
}

#[test]
fn constructors_structs_and_from_fn_match_the_dynamic_engine() {
    let (a, b, c) = (0.6, -1.3, 0.9);
    let (v, g) = ctor_small_grad(a, b, c);
    let (ta, tb, tc) = (
        Tensor::scalar(a).requires_grad(),
        Tensor::scalar(b).requires_grad(),
        Tensor::scalar(c).requires_grad(),
    );
    let dot = &(&(&ta * &tc) + &(&(&tb * 2.0) * &ta)) + &(&tc * &tb);
    let r0 = &ta + &(&tb * &tc);
    let r1 = &tc + &(&(&ta * &tb) * &tc);
    let y = &(&dot + &r0.powi(2)) + &r1.powi(2);
    y.backward().expect("backward");
    let grad = |t: &Tensor| t.grad().map_or(0.0, |g| g.item());
    assert!(close(v, y.item(), 1e-12));
    assert!(close(g.a, grad(&ta), 1e-12) && close(g.b, grad(&tb), 1e-12));
    assert!(close(g.c, grad(&tc), 1e-12));

    let (v, g) = struct_small_grad(a, b);
    let (dv, da, db) = dynamic2(|a, b| b * &(&(a * b) + b), a, b);
    assert!(close(v, dv, 1e-12) && close(g.a, da, 1e-12) && close(g.b, db, 1e-12));

    let x = [0.4, -0.7, 1.2];
    let (v, g) = from_fn_small_grad(&x, c);
    let (tx, ts) = (
        Tensor::vector(&x).requires_grad(),
        Tensor::scalar(c).requires_grad(),
    );
    let y = (&tx * &ts).powi(2).sum();
    y.backward().expect("backward");
    assert!(close(v, y.item(), 1e-12));
    let gx = tx.grad().expect("a gradient for x");
    for k in 0..3 {
        assert!(close(g.x[k], gx.value()[k], 1e-12), "x[{k}]");
    }
    assert!(close(g.s, grad(&ts), 1e-12));
}

// ---------------------------------------------------------------------------------------
// A tuple with a component that is not differentiated; a projection inside from_fn

/// `t.1` is the `usize` it was built from, not a differentiated value.
#[differentiable]
fn mixed_tuple(x: f64) -> f64 {
    let t = (x * 2.0, 3usize);
    t.0 * (t.1 as f64)
}

#[differentiable]
fn pair(x: f64) -> (f64, f64) {
    (x * x, x.sin())
}

/// A `from_fn` closure reading components of a callee's tuple result.
#[differentiable]
fn projected_in_from_fn(x: f64) -> f64 {
    let p = pair(x);
    DMatrix::from_fn(2, 3, |i, j| p.0 * (i as f64) + p.1 * (j as f64 + 1.0)).sum()
}

#[test]
fn mixed_tuples_and_projections_in_from_fn_match_fd() {
    let (v, g) = mixed_tuple_grad(1.5);
    assert_eq!((v, g.x), (9.0, 6.0));
    for x in [0.5, -1.2] {
        let (v, g) = projected_in_from_fn_grad(x);
        assert_eq!(v, projected_in_from_fn(x));
        let d = fd(|p| projected_in_from_fn(p[0]), &[x], 0);
        assert!(close(g.x, d, 1e-6), "{} vs {d}", g.x);
    }
}

/// A tuple with an integer component carried through a loop, joined by a branch and
/// returned by a callee: the integer carries no gradient.
#[differentiable(wrt(x))]
fn step_count(x: f64, n: usize) -> (f64, usize) {
    let mut s = (x, 0);
    for i in 0..n {
        s = if i % 2 == 0 {
            (s.0 * x, s.1 + 1)
        } else {
            (s.0 + 1.0, s.1)
        };
    }
    s
}

#[differentiable(wrt(x))]
fn uses_step_count(x: f64, n: usize) -> f64 {
    let (v, k) = step_count(x, n);
    v * (k as f64 + 1.0)
}

#[test]
fn integer_components_of_tuples_carry_no_gradient() {
    let f = |x: f64| uses_step_count(x, 3);
    for x in [0.5, -1.25] {
        let (v, g) = uses_step_count_grad(x, 3);
        assert_eq!(v, f(x));
        let h = 1e-6;
        let fd = (f(x + h) - f(x - h)) / (2.0 * h);
        assert!((g.x - fd).abs() < 1e-6, "{} vs {fd}", g.x);
    }
    let ((v, k), g) = step_count_vjp(0.5, 3, (1.0, 0));
    assert_eq!((v, k), step_count(0.5, 3));
    // s = ((x*x)+1)*x: d/dx = 3x^2 + 1.
    assert!((g.x - (3.0 * 0.25 + 1.0)).abs() < 1e-12);
}
