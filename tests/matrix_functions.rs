//! `#[differentiable]` on nalgebra values: products, broadcasting, reductions, nn ops.

use autodiff::nalgebra::{DMatrix, DVector, Matrix3, RowDVector, Vector3};
use autodiff::prelude::*;

#[differentiable(wrt(w1, b1, w2, b2))]
fn mlp_loss(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    labels: &[usize],
) -> f64 {
    let h = (x * w1 + b1).tanh();
    let logits = h * w2 + b2;
    cross_entropy(&logits, labels)
}

#[differentiable]
fn quadratic(a: &Matrix3<f64>, v: &Vector3<f64>) -> f64 {
    let av = a * v;
    v.dot(&av) + a.norm_squared() * 0.5 - v[1] * a[(0, 2)]
}

#[differentiable]
fn reductions(m: DMatrix<f64>, s: f64) -> f64 {
    let y = (m.clone() * s).exp() - &m;
    y.sum() + y.mean() * 2.0 + m.transpose().norm() + y.row_sum().sum() * 0.1 + mse(&y, &m)
}

#[differentiable]
fn vector_ops(v: DVector<f64>, w: DVector<f64>) -> f64 {
    let a = v.component_mul(&w) + sigmoid(&v) - relu(&w);
    let b = a.component_div(&(w.clone() * w.clone().transpose()).column_sum());
    logsumexp(&b) + softmax(&a).dot(&v) + log_softmax(&b).sum() * 0.01
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

/// Central differences of `f` at every element of `m`.
fn fd_matrix(m: &DMatrix<f64>, f: impl Fn(&DMatrix<f64>) -> f64) -> DMatrix<f64> {
    let h = 1e-6;
    DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
        let mut p = m.clone();
        p[(i, j)] += h;
        let mut q = m.clone();
        q[(i, j)] -= h;
        (f(&p) - f(&q)) / (2.0 * h)
    })
}

fn assert_close(a: &DMatrix<f64>, b: &DMatrix<f64>, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let err = (a - b).abs().max();
    assert!(
        err < 1e-6 * (1.0 + b.abs().max()),
        "{what}: max error {err}\n{a}\n{b}"
    );
}

#[test]
fn mlp_loss_matches_finite_differences() {
    let x = random(7, 4, 1);
    let w1 = random(4, 5, 2);
    let b1 = RowDVector::from_iterator(5, random(1, 5, 3).iter().copied());
    let w2 = random(5, 3, 4);
    let b2 = RowDVector::from_iterator(3, random(1, 3, 5).iter().copied());
    let labels = [0, 2, 1, 1, 0, 2, 2];
    let (v, g) = mlp_loss_grad(&x, &w1, &b1, &w2, &b2, &labels);
    assert_eq!(v, mlp_loss(&x, &w1, &b1, &w2, &b2, &labels));
    assert_close(
        &g.w1,
        &fd_matrix(&w1, |w| mlp_loss(&x, w, &b1, &w2, &b2, &labels)),
        "w1",
    );
    assert_close(
        &g.w2,
        &fd_matrix(&w2, |w| mlp_loss(&x, &w1, &b1, w, &b2, &labels)),
        "w2",
    );
    let b1m = DMatrix::from_row_slice(1, 5, b1.as_slice());
    let fd_b1 = fd_matrix(&b1m, |b| {
        mlp_loss(
            &x,
            &w1,
            &RowDVector::from_row_slice(b.as_slice()),
            &w2,
            &b2,
            &labels,
        )
    });
    assert_close(
        &DMatrix::from_row_slice(1, 5, g.b1.as_slice()),
        &fd_b1,
        "b1",
    );
    let b2m = DMatrix::from_row_slice(1, 3, b2.as_slice());
    let fd_b2 = fd_matrix(&b2m, |b| {
        mlp_loss(
            &x,
            &w1,
            &b1,
            &w2,
            &RowDVector::from_row_slice(b.as_slice()),
            &labels,
        )
    });
    assert_close(
        &DMatrix::from_row_slice(1, 3, g.b2.as_slice()),
        &fd_b2,
        "b2",
    );
}

#[test]
fn static_matrices_and_indexing() {
    let a = Matrix3::new(1.0, 2.0, 0.5, -1.0, 0.3, 0.7, 0.2, -0.4, 1.5);
    let v = Vector3::new(0.3, -0.8, 1.1);
    let (val, g) = quadratic_grad(&a, &v);
    assert_eq!(val, quadratic(&a, &v));
    let h = 1e-6;
    for i in 0..3 {
        for j in 0..3 {
            let (mut p, mut q) = (a, a);
            p[(i, j)] += h;
            q[(i, j)] -= h;
            let fd = (quadratic(&p, &v) - quadratic(&q, &v)) / (2.0 * h);
            assert!(
                (g.a[(i, j)] - fd).abs() < 1e-6,
                "a[{i},{j}]: {} vs {fd}",
                g.a[(i, j)]
            );
        }
        let (mut p, mut q) = (v, v);
        p[i] += h;
        q[i] -= h;
        let fd = (quadratic(&a, &p) - quadratic(&a, &q)) / (2.0 * h);
        assert!((g.v[i] - fd).abs() < 1e-6, "v[{i}]: {} vs {fd}", g.v[i]);
    }
}

#[test]
fn reductions_and_scalar_broadcast() {
    let m = random(3, 4, 9);
    let s = 0.7;
    let (v, g) = reductions_grad(m.clone(), s);
    assert_eq!(v, reductions(m.clone(), s));
    assert_close(&g.m, &fd_matrix(&m, |m| reductions(m.clone(), s)), "m");
    let h = 1e-6;
    let fd_s = (reductions(m.clone(), s + h) - reductions(m.clone(), s - h)) / (2.0 * h);
    assert!(
        (g.s - fd_s).abs() < 1e-6 * (1.0 + fd_s.abs()),
        "s: {} vs {fd_s}",
        g.s
    );
}

#[test]
fn vector_nn_ops() {
    let v = DVector::from_vec(vec![0.3, -1.2, 0.8, 2.0]);
    let w = DVector::from_vec(vec![1.1, 0.4, -0.6, 0.9]);
    let (val, g) = vector_ops_grad(v.clone(), w.clone());
    assert_eq!(val, vector_ops(v.clone(), w.clone()));
    let vm = DMatrix::from_column_slice(4, 1, v.as_slice());
    let wm = DMatrix::from_column_slice(4, 1, w.as_slice());
    let fd_v = fd_matrix(&vm, |p| {
        vector_ops(DVector::from_column_slice(p.as_slice()), w.clone())
    });
    let fd_w = fd_matrix(&wm, |p| {
        vector_ops(v.clone(), DVector::from_column_slice(p.as_slice()))
    });
    assert_close(
        &DMatrix::from_column_slice(4, 1, g.v.as_slice()),
        &fd_v,
        "v",
    );
    assert_close(
        &DMatrix::from_column_slice(4, 1, g.w.as_slice()),
        &fd_w,
        "w",
    );
}

#[differentiable(wrt(a, b))]
fn map_chain(a: &DMatrix<f64>, b: &DMatrix<f64>, x: &DMatrix<f64>, k: f64) -> f64 {
    let z = a.component_mul(x) + b;
    let t = z.map(|e| {
        let s = e.tanh();
        if e > 0.0 {
            s * s * k
        } else {
            (e * 0.5).exp()
        }
    });
    t.sum()
}

#[test]
fn map_closure_is_differentiated() {
    let a = random(3, 4, 21);
    let b = random(3, 4, 22);
    let x = random(3, 4, 23);
    let k = 1.7;
    let (v, g) = map_chain_grad(&a, &b, &x, k);
    assert_eq!(v, map_chain(&a, &b, &x, k));
    assert_close(&g.a, &fd_matrix(&a, |a| map_chain(a, &b, &x, k)), "a");
    assert_close(&g.b, &fd_matrix(&b, |b| map_chain(&a, b, &x, k)), "b");
}

/// A `map` closure made of fusable rules is inlined into matrix ops and fused: `e * e`
/// must stay elementwise (on a 3x4 matrix a matrix product would not even be defined),
/// constants and captured values broadcast.
#[differentiable(wrt(a))]
fn map_inlined(a: &DMatrix<f64>, k: f64) -> f64 {
    let t = a.map(|e| e * e * 0.5 + (e * k).sin() - e.powi(3) / (1.0 + e.abs()));
    t.sum() + t[(0, 1)] * 3.0
}

#[test]
fn inlined_map_closure_matches_the_scalar_formula_and_differences() {
    let a = random(3, 4, 24);
    let k = 0.7;
    let f = |e: f64| e * e * 0.5 + (e * k).sin() - e.powi(3) / (1.0 + e.abs());
    let expected = a.iter().map(|&e| f(e)).sum::<f64>() + f(a[(0, 1)]) * 3.0;
    let (v, g) = map_inlined_grad(&a, k);
    assert!((v - expected).abs() < 1e-12, "{v} vs {expected}");
    assert_eq!(v, map_inlined(&a, k));
    assert_close(&g.a, &fd_matrix(&a, |a| map_inlined(a, k)), "a");
}

#[differentiable(wrt(w, b, s))]
fn fused_broadcasts(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    s: f64,
    n: usize,
) -> f64 {
    let k = n as f64;
    let z = (x.component_mul(w) + b - s)
        .tanh()
        .component_div(&(x.abs() + 1.0))
        .powi(2);
    z.map(|e| e * k).sum()
}

#[test]
fn fused_chain_with_row_and_scalar_broadcasts() {
    let x = random(4, 3, 31);
    let w = random(4, 3, 32);
    let b = RowDVector::from_iterator(3, random(1, 3, 33).iter().copied());
    let (s, n) = (0.3, 3);
    let (v, g) = fused_broadcasts_grad(&x, &w, &b, s, n);
    assert_eq!(v, fused_broadcasts(&x, &w, &b, s, n));
    assert_close(
        &g.w,
        &fd_matrix(&w, |w| fused_broadcasts(&x, w, &b, s, n)),
        "w",
    );
    let bm = DMatrix::from_row_slice(1, 3, b.as_slice());
    let fd_b = fd_matrix(&bm, |bm| {
        fused_broadcasts(&x, &w, &RowDVector::from_row_slice(bm.as_slice()), s, n)
    });
    assert_close(&DMatrix::from_row_slice(1, 3, g.b.as_slice()), &fd_b, "b");
    let h = 1e-6;
    let fd_s = (fused_broadcasts(&x, &w, &b, s + h, n) - fused_broadcasts(&x, &w, &b, s - h, n))
        / (2.0 * h);
    assert!((g.s - fd_s).abs() < 1e-6, "s: {} vs {fd_s}", g.s);
}

#[test]
fn graph_names_matrix_products_like_pytorch() {
    let ops: Vec<String> = mlp_loss_graph()
        .nodes()
        .iter()
        .map(|n| n.op.clone())
        .collect();
    assert_eq!(
        ops.iter().filter(|o| *o == "MmBackward0").count(),
        2,
        "{ops:?}"
    );
    assert!(ops.contains(&"TanhBackward0".to_string()), "{ops:?}");
    assert!(ops.contains(&"NllLossBackward0".to_string()), "{ops:?}");
    let svg = mlp_loss_graph().to_svg();
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..40]
    );
}

#[differentiable]
fn matrix_valued(x: &DMatrix<f64>, s: f64) -> DMatrix<f64> {
    x.tanh() * s + x.component_mul(x)
}

#[test]
fn vjp_of_a_matrix_valued_function() {
    let x = random(3, 2, 41);
    let s = 1.3;
    let d_out = random(3, 2, 42);
    let (y, g) = matrix_valued_vjp(&x, s, d_out.clone());
    assert_eq!(y, matrix_valued(&x, s));
    // <d_out, J dx> = <J^T d_out, dx>: the vjp against finite differences of <d_out, f(x)>.
    let fd = fd_matrix(&x, |x| matrix_valued(x, s).dot(&d_out));
    assert_close(&g.x, &fd, "x");
    let h = 1e-6;
    let fd_s =
        (matrix_valued(&x, s + h).dot(&d_out) - matrix_valued(&x, s - h).dot(&d_out)) / (2.0 * h);
    assert!((g.s - fd_s).abs() < 1e-6, "s: {} vs {fd_s}", g.s);
}
