//! Parts of differentiated matrices as nalgebra writes them (`m.row(i)`, `m.rows(i, n)`,
//! `m.fixed_view::<R, C>(i, j)`, ..., `into_owned()`, `a.cross(&b)`), alone and chained with
//! the other ops, in loops and branches, on dynamic and fixed-size matrices: gradients
//! against central differences in f64 and f32, and against the dynamic engine (which has
//! no slicing op, so there a view is a product with a constant selection matrix).

use autodiff::dynamic::Tensor;
use autodiff::nalgebra::allocator::Allocator;
use autodiff::nalgebra::{
    DMatrix, DVector, DefaultAllocator, Dim, Matrix2, Matrix3, OMatrix, RealField, RowDVector,
    RowVector3, Vector2, Vector3,
};
use autodiff::prelude::*;

/// The functions under test, for one float type `$t`.
macro_rules! view_functions {
    ($t:ident) => {
        #[differentiable(wrt(m, w))]
        pub fn row_dot(m: &DMatrix<$t>, w: &RowDVector<$t>, i: usize) -> $t {
            m.row(i).dot(w) + m.row(i).norm_squared() * 0.5
        }

        #[differentiable(wrt(m))]
        pub fn column_norm(m: &DMatrix<$t>, j: usize) -> $t {
            m.column(j).norm() + m.column(0).sum() * m.column(j).mean()
        }

        #[differentiable(wrt(m, x))]
        pub fn rows_times(m: &DMatrix<$t>, x: &DVector<$t>, i: usize, n: usize) -> $t {
            (m.rows(i, n) * x).sum() + m.rows(i, n).tanh().sum()
        }

        #[differentiable(wrt(m, x))]
        pub fn columns_times(m: &DMatrix<$t>, x: &RowDVector<$t>, j: usize, n: usize) -> $t {
            (x * m.columns(j, n)).norm() + m.columns(j, n).sin().sum()
        }

        #[differentiable(wrt(m))]
        pub fn fixed_rows2(m: &DMatrix<$t>, i: usize) -> $t {
            let r = m.fixed_rows::<2>(i);
            r.component_mul(&r).sum() + r.row(1).sum() * r[(0, 0)]
        }

        #[differentiable(wrt(m))]
        pub fn fixed_columns2(m: &DMatrix<$t>, j: usize) -> $t {
            let c = m.fixed_columns::<2>(j);
            (c.transpose() * c).sum() + c.column(1).norm()
        }

        #[differentiable(wrt(m))]
        pub fn view_block(m: &DMatrix<$t>, i: usize, j: usize, r: usize, c: usize) -> $t {
            let b = m.view((i, j), (r, c));
            b.exp().sum() + b.transpose().norm() * b.mean()
        }

        #[differentiable(wrt(m))]
        pub fn fixed_view22(m: &DMatrix<$t>, i: usize, j: usize) -> $t {
            let b = m.fixed_view::<2, 2>(i, j).into_owned();
            (b * b).sum() + b.clone_owned().norm_squared() - m.fixed_view::<1, 2>(i, j).sum()
        }

        /// Views of views, and a view read as a column by `transpose`.
        #[differentiable(wrt(m, v))]
        pub fn chained(m: &DMatrix<$t>, v: &DVector<$t>) -> $t {
            let inner = m.rows(1, 2).columns(0, 2);
            let r = m.row(0).transpose();
            inner.row(1).transpose().dot(&v.rows(0, 2)) + r.dot(&r) * inner[(0, 1)]
        }

        /// `for i in 0..m.nrows() { s += m.row(i).dot(w) }`, with a weight per row.
        #[differentiable(wrt(m, w))]
        pub fn rows_in_loop(m: &DMatrix<$t>, w: &RowDVector<$t>) -> $t {
            let mut s = 0.0;
            for i in 0..m.nrows() {
                s += m.row(i).dot(w) * m.row(i).sum();
            }
            s
        }

        /// A view per column, in a loop, taken in a branch on its index.
        #[differentiable(wrt(m))]
        pub fn columns_in_loop(m: &DMatrix<$t>) -> $t {
            let mut s = 0.0;
            for j in 0..m.ncols() {
                let c = if j % 2 == 0 {
                    m.column(j)
                } else {
                    m.column(j) * 2.0
                };
                s += c.norm();
            }
            s
        }

        /// Views of a vector (`rows` of a column, `columns` of a row).
        #[differentiable(wrt(v, r))]
        pub fn vector_parts(v: &DVector<$t>, r: &RowDVector<$t>) -> $t {
            v.rows(1, 2).norm() * r.columns(0, 2).sum()
                + v.fixed_rows::<2>(0).dot(&r.columns(1, 2).transpose())
        }

        /// A view of a constant matrix against one of a differentiated one.
        #[differentiable(wrt(m))]
        pub fn constant_view(m: &DMatrix<$t>, c: &DMatrix<$t>) -> $t {
            c.row(0).dot(&m.row(1)) + c.column(1).into_owned().component_mul(&m.column(0)).sum()
        }

        #[differentiable]
        pub fn cross_dynamic(a: &DVector<$t>, b: &DVector<$t>) -> $t {
            let c = a.cross(b);
            c.dot(&a.cross(&c)) + c.norm()
        }

        #[differentiable]
        pub fn cross_rows(a: &RowDVector<$t>, b: &RowDVector<$t>) -> $t {
            a.cross(b).component_mul(a).sum()
        }

        /// Fixed-size matrices: the views have the fixed-size types nalgebra gives.
        #[differentiable]
        pub fn fixed_size(a: &Matrix3<$t>, b: &Vector3<$t>) -> $t {
            let c = a.column(1).cross(b);
            let top: Matrix2<$t> = a.fixed_view::<2, 2>(1, 1).into_owned();
            let first: RowVector3<$t> = a.row(0);
            let two: Vector2<$t> = a.fixed_rows::<2>(1) * b;
            c.dot(&first.transpose())
                + top.norm()
                + two.sum()
                + (a.rows(0, 2) * b).norm()
                + a.view((0, 1), (3, 2)).sum() * a.columns(2, 1).sum()
        }

        #[differentiable]
        pub fn cross3(a: &Vector3<$t>, b: &Vector3<$t>) -> $t {
            a.cross(b).norm() + a.cross(&a.cross(b)).sum()
        }
    };
}

// The `_with`, `_vjp` and `_graph` entry points of most functions are not called here.
#[allow(dead_code)]
mod f64s {
    use super::*;
    view_functions!(f64);
}

#[allow(dead_code)]
mod f32s {
    use super::*;
    view_functions!(f32);
}

/// A deterministic pseudo-random matrix in [-1, 1).
fn random(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    DMatrix::from_fn(rows, cols, |_, _| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

/// The float types under test.
trait Float: RealField + Copy {
    fn of(x: f64) -> Self;
}
impl Float for f64 {
    fn of(x: f64) -> Self {
        x
    }
}
impl Float for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
}

/// `m` in another matrix type of its shape and float type.
fn to<T: Float, R: Dim, C: Dim>(m: &DMatrix<f64>, rows: R, cols: C) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    OMatrix::from_iterator_generic(rows, cols, m.iter().map(|&x| T::of(x)))
}

/// Central differences of `f` at every element of `x`, with step `h`.
fn fd<T: RealField + Copy, R: Dim, C: Dim>(
    x: &OMatrix<T, R, C>,
    h: T,
    f: impl Fn(&OMatrix<T, R, C>) -> T,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut g = x.clone();
    for k in 0..x.len() {
        let mut p = x.clone();
        p[k] += h;
        let mut q = x.clone();
        q[k] -= h;
        g[k] = (f(&p) - f(&q)) / (h + h);
    }
    g
}

/// `a` and `b` of one shape, equal to `tol` relative to `b`'s largest element.
fn assert_close<T: RealField + Copy, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    b: &OMatrix<T, R, C>,
    tol: T,
    what: &str,
) where
    DefaultAllocator: Allocator<R, C>,
{
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let scale = b.iter().fold(T::one(), |m, x| m.max(x.abs()));
    let err = a
        .iter()
        .zip(b.iter())
        .fold(T::zero(), |m, (x, y)| m.max((*x - *y).abs()));
    assert!(err <= tol * scale, "{what}: max error {err}\n{a}\n{b}");
}

/// The shapes the matrix tests run on (every one has at least 2 rows and 2 columns).
const SHAPES: &[(usize, usize)] = &[(3, 4), (4, 3), (5, 5), (2, 6), (6, 2)];

/// Every test of a float type: `$m` the module of functions, `$h` the difference step,
/// `$tol` the tolerance.
macro_rules! view_tests {
    ($name:ident, $m:ident, $t:ident, $h:expr, $tol:expr) => {
        mod $name {
            use super::*;
            use $m as f;

            const H: $t = $h;
            const TOL: $t = $tol;

            fn dm(rows: usize, cols: usize, seed: u64) -> DMatrix<$t> {
                to(
                    &random(rows, cols, seed),
                    autodiff::nalgebra::Dyn(rows),
                    autodiff::nalgebra::Dyn(cols),
                )
            }
            fn dv(n: usize, seed: u64) -> DVector<$t> {
                to(
                    &random(n, 1, seed),
                    autodiff::nalgebra::Dyn(n),
                    autodiff::nalgebra::U1,
                )
            }
            fn rv(n: usize, seed: u64) -> RowDVector<$t> {
                to(
                    &random(1, n, seed),
                    autodiff::nalgebra::U1,
                    autodiff::nalgebra::Dyn(n),
                )
            }

            #[test]
            fn row() {
                for (k, &(r, c)) in SHAPES.iter().enumerate() {
                    let m = dm(r, c, k as u64);
                    let w = rv(c, 100 + k as u64);
                    for i in 0..r {
                        let (v, g) = f::row_dot_grad(&m, &w, i);
                        assert_eq!(v, f::row_dot(&m, &w, i));
                        assert_close(&g.m, &fd(&m, H, |m| f::row_dot(m, &w, i)), TOL, "row: m");
                        assert_close(&g.w, &fd(&w, H, |w| f::row_dot(&m, w, i)), TOL, "row: w");
                        // Only row i of m receives a gradient.
                        for (ii, row) in g.m.row_iter().enumerate() {
                            assert_eq!(
                                ii == i,
                                row.iter().any(|x| *x != 0.0),
                                "row {i} of {r}x{c}"
                            );
                        }
                    }
                }
            }

            #[test]
            fn column() {
                for (k, &(r, c)) in SHAPES.iter().enumerate() {
                    let m = dm(r, c, k as u64);
                    for j in 0..c {
                        let (v, g) = f::column_norm_grad(&m, j);
                        assert_eq!(v, f::column_norm(&m, j));
                        assert_close(&g.m, &fd(&m, H, |m| f::column_norm(m, j)), TOL, "column");
                    }
                }
            }

            #[test]
            fn rows_and_columns() {
                for (k, &(r, c)) in SHAPES.iter().enumerate() {
                    let m = dm(r, c, k as u64);
                    let x = dv(c, 200 + k as u64);
                    let y = rv(r, 300 + k as u64);
                    for i in 0..r {
                        for n in 0..=r - i {
                            let (v, g) = f::rows_times_grad(&m, &x, i, n);
                            assert_eq!(v, f::rows_times(&m, &x, i, n));
                            assert_close(
                                &g.m,
                                &fd(&m, H, |m| f::rows_times(m, &x, i, n)),
                                TOL,
                                "rows: m",
                            );
                            assert_close(
                                &g.x,
                                &fd(&x, H, |x| f::rows_times(&m, x, i, n)),
                                TOL,
                                "rows: x",
                            );
                        }
                    }
                    for j in 0..c {
                        for n in 1..=c - j {
                            let (_, g) = f::columns_times_grad(&m, &y, j, n);
                            assert_close(
                                &g.m,
                                &fd(&m, H, |m| f::columns_times(m, &y, j, n)),
                                TOL,
                                "columns: m",
                            );
                            assert_close(
                                &g.x,
                                &fd(&y, H, |y| f::columns_times(&m, y, j, n)),
                                TOL,
                                "columns: x",
                            );
                        }
                    }
                }
            }

            #[test]
            fn fixed_rows_and_columns() {
                for (k, &(r, c)) in SHAPES.iter().enumerate() {
                    let m = dm(r, c, k as u64);
                    for i in 0..r - 1 {
                        let (_, g) = f::fixed_rows2_grad(&m, i);
                        assert_close(
                            &g.m,
                            &fd(&m, H, |m| f::fixed_rows2(m, i)),
                            TOL,
                            "fixed_rows",
                        );
                    }
                    for j in 0..c - 1 {
                        let (_, g) = f::fixed_columns2_grad(&m, j);
                        assert_close(
                            &g.m,
                            &fd(&m, H, |m| f::fixed_columns2(m, j)),
                            TOL,
                            "fixed_columns",
                        );
                    }
                }
            }

            #[test]
            fn views() {
                for (k, &(r, c)) in SHAPES.iter().enumerate() {
                    let m = dm(r, c, k as u64);
                    for (i, j, vr, vc) in [
                        (0, 0, r, c),
                        (1, 1, r - 1, c - 1),
                        (0, 1, 2, 1),
                        (r - 1, c - 2, 1, 2),
                    ] {
                        let (v, g) = f::view_block_grad(&m, i, j, vr, vc);
                        assert_eq!(v, f::view_block(&m, i, j, vr, vc));
                        assert_close(
                            &g.m,
                            &fd(&m, H, |m| f::view_block(m, i, j, vr, vc)),
                            TOL,
                            "view",
                        );
                    }
                    for i in 0..r - 1 {
                        for j in 0..c - 1 {
                            let (_, g) = f::fixed_view22_grad(&m, i, j);
                            assert_close(
                                &g.m,
                                &fd(&m, H, |m| f::fixed_view22(m, i, j)),
                                TOL,
                                "fixed_view",
                            );
                        }
                    }
                }
            }

            #[test]
            fn chains_loops_and_constants() {
                for (k, &(r, c)) in SHAPES.iter().enumerate() {
                    let m = dm(r.max(3), c, k as u64);
                    let v = dv(2, 400 + k as u64);
                    let (_, g) = f::chained_grad(&m, &v);
                    assert_close(&g.m, &fd(&m, H, |m| f::chained(m, &v)), TOL, "chained: m");
                    assert_close(&g.v, &fd(&v, H, |v| f::chained(&m, v)), TOL, "chained: v");

                    let m = dm(r, c, k as u64);
                    let w = rv(c, 500 + k as u64);
                    let (v, g) = f::rows_in_loop_grad(&m, &w);
                    assert_eq!(v, f::rows_in_loop(&m, &w));
                    assert_close(
                        &g.m,
                        &fd(&m, H, |m| f::rows_in_loop(m, &w)),
                        TOL,
                        "row loop: m",
                    );
                    assert_close(
                        &g.w,
                        &fd(&w, H, |w| f::rows_in_loop(&m, w)),
                        TOL,
                        "row loop: w",
                    );

                    let (_, g) = f::columns_in_loop_grad(&m);
                    assert_close(&g.m, &fd(&m, H, f::columns_in_loop), TOL, "column loop");

                    let cst = dm(r, c, 600 + k as u64);
                    let (_, g) = f::constant_view_grad(&m, &cst);
                    assert_close(
                        &g.m,
                        &fd(&m, H, |m| f::constant_view(m, &cst)),
                        TOL,
                        "constant view",
                    );
                }
                for n in [3, 4, 6] {
                    let v = dv(n, n as u64);
                    let r = rv(n, 10 + n as u64);
                    let (_, g) = f::vector_parts_grad(&v, &r);
                    assert_close(
                        &g.v,
                        &fd(&v, H, |v| f::vector_parts(v, &r)),
                        TOL,
                        "vector parts: v",
                    );
                    assert_close(
                        &g.r,
                        &fd(&r, H, |r| f::vector_parts(&v, r)),
                        TOL,
                        "vector parts: r",
                    );
                }
            }

            #[test]
            fn cross() {
                for seed in 0..5 {
                    let (a, b) = (dv(3, seed), dv(3, 50 + seed));
                    let (v, g) = f::cross_dynamic_grad(&a, &b);
                    assert_eq!(v, f::cross_dynamic(&a, &b));
                    assert_close(
                        &g.a,
                        &fd(&a, H, |a| f::cross_dynamic(a, &b)),
                        TOL,
                        "cross: a",
                    );
                    assert_close(
                        &g.b,
                        &fd(&b, H, |b| f::cross_dynamic(&a, b)),
                        TOL,
                        "cross: b",
                    );
                    let (a, b) = (rv(3, seed), rv(3, 70 + seed));
                    let (_, g) = f::cross_rows_grad(&a, &b);
                    assert_close(
                        &g.a,
                        &fd(&a, H, |a| f::cross_rows(a, &b)),
                        TOL,
                        "cross rows: a",
                    );
                    assert_close(
                        &g.b,
                        &fd(&b, H, |b| f::cross_rows(&a, b)),
                        TOL,
                        "cross rows: b",
                    );
                }
            }

            #[test]
            fn fixed_size() {
                use autodiff::nalgebra::{U1, U3};
                for seed in 0..5 {
                    let a: Matrix3<$t> = to(&random(3, 3, seed), U3, U3);
                    let b: Vector3<$t> = to(&random(3, 1, 90 + seed), U3, U1);
                    let (v, g) = f::fixed_size_grad(&a, &b);
                    assert_eq!(v, f::fixed_size(&a, &b));
                    assert_close(
                        &g.a,
                        &fd(&a, H, |a| f::fixed_size(a, &b)),
                        TOL,
                        "fixed size: a",
                    );
                    assert_close(
                        &g.b,
                        &fd(&b, H, |b| f::fixed_size(&a, b)),
                        TOL,
                        "fixed size: b",
                    );
                    let (_, g) = f::cross3_grad(&a.column(0).into_owned(), &b);
                    let a0 = a.column(0).into_owned();
                    assert_close(&g.a, &fd(&a0, H, |a| f::cross3(a, &b)), TOL, "cross3: a");
                    assert_close(&g.b, &fd(&b, H, |b| f::cross3(&a0, b)), TOL, "cross3: b");
                }
            }
        }
    };
}

view_tests!(fd_f64, f64s, f64, 1e-6, 1e-6);
view_tests!(fd_f32, f32s, f32, 1e-2, 5e-3);

/// The selection matrix `S` (`n x size`) with `S m = m.rows(start, n)`.
fn selection(start: usize, n: usize, size: usize) -> DMatrix<f64> {
    DMatrix::from_fn(n, size, |i, j| if j == start + i { 1.0 } else { 0.0 })
}

fn grad(t: &Tensor) -> DMatrix<f64> {
    t.grad().expect("a gradient").value()
}

#[test]
fn views_match_the_dynamic_engine() {
    for (k, &(r, c)) in SHAPES.iter().enumerate() {
        let m = random(r, c, k as u64);
        let x = DVector::from_iterator(c, random(c, 1, 700 + k as u64).iter().copied());
        let (i, n) = (1, r - 1);
        // rows(i, n) = S m.
        let (v, g) = f64s::rows_times_grad(&m, &x, i, n);
        let tm = Tensor::from(m.clone()).requires_grad();
        let tx = Tensor::from(DMatrix::from_column_slice(c, 1, x.as_slice())).requires_grad();
        let rows = Tensor::from(selection(i, n, r)).matmul(&tm);
        let y = rows.matmul(&tx).sum() + rows.tanh().sum();
        y.backward().expect("backward");
        assert!((y.item() - v).abs() < 1e-12 * (1.0 + v.abs()));
        assert_close(&g.m, &grad(&tm), 1e-12, "rows vs dynamic: m");
        assert_close(
            &DMatrix::from_column_slice(c, 1, g.x.as_slice()),
            &grad(&tx),
            1e-12,
            "rows vs dynamic: x",
        );

        // view((i, j), (vr, vc)) = S m T^T.
        let (i, j, vr, vc) = (1, 1, r - 1, c - 1);
        let (v, g) = f64s::view_block_grad(&m, i, j, vr, vc);
        let tm = Tensor::from(m.clone()).requires_grad();
        let b = Tensor::from(selection(i, vr, r))
            .matmul(&tm)
            .matmul(&Tensor::from(selection(j, vc, c).transpose()));
        let y = b.exp().sum() + (&b.t() * &b.t()).sum().sqrt() * b.mean();
        y.backward().expect("backward");
        assert!((y.item() - v).abs() < 1e-12 * (1.0 + v.abs()));
        assert_close(&g.m, &grad(&tm), 1e-12, "view vs dynamic");

        // The loop over rows: row i = e_i^T m.
        let w = RowDVector::from_iterator(c, random(1, c, 800 + k as u64).iter().copied());
        let (v, g) = f64s::rows_in_loop_grad(&m, &w);
        let tm = Tensor::from(m.clone()).requires_grad();
        let tw = Tensor::from(DMatrix::from_row_slice(1, c, w.as_slice())).requires_grad();
        let mut s = Tensor::scalar(0.0);
        for i in 0..r {
            let row = Tensor::from(selection(i, 1, r)).matmul(&tm);
            s = s + (&row * &tw).sum() * row.sum();
        }
        s.backward().expect("backward");
        assert!((s.item() - v).abs() < 1e-12 * (1.0 + v.abs()));
        assert_close(&g.m, &grad(&tm), 1e-12, "row loop vs dynamic: m");
        assert_close(
            &DMatrix::from_row_slice(1, c, g.w.as_slice()),
            &grad(&tw),
            1e-12,
            "row loop vs dynamic: w",
        );
    }
}

#[test]
fn cross_matches_the_dynamic_engine() {
    // a x b from elementwise products of the components, picked by selection matrices.
    let a = DVector::from_vec(vec![0.3, -1.2, 0.8]);
    let b = DVector::from_vec(vec![1.1, 0.4, -0.6]);
    let (v, g) = f64s::cross_dynamic_grad(&a, &b);
    let ta = Tensor::from(DMatrix::from_column_slice(3, 1, a.as_slice())).requires_grad();
    let tb = Tensor::from(DMatrix::from_column_slice(3, 1, b.as_slice())).requires_grad();
    // P picks components (1, 2, 0), Q components (2, 0, 1): a x b = Pa .* Qb - Qa .* Pb.
    let p = Tensor::from(DMatrix::from_row_slice(
        3,
        3,
        &[0., 1., 0., 0., 0., 1., 1., 0., 0.],
    ));
    let q = Tensor::from(DMatrix::from_row_slice(
        3,
        3,
        &[0., 0., 1., 1., 0., 0., 0., 1., 0.],
    ));
    let cross = |x: &Tensor, y: &Tensor| p.matmul(x) * q.matmul(y) - q.matmul(x) * p.matmul(y);
    let c = cross(&ta, &tb);
    let y = (&c * &cross(&ta, &c)).sum() + (&c * &c).sum().sqrt();
    y.backward().expect("backward");
    assert!((y.item() - v).abs() < 1e-12 * (1.0 + v.abs()));
    assert_close(
        &DMatrix::from_column_slice(3, 1, g.a.as_slice()),
        &grad(&ta),
        1e-12,
        "cross vs dynamic: a",
    );
    assert_close(
        &DMatrix::from_column_slice(3, 1, g.b.as_slice()),
        &grad(&tb),
        1e-12,
        "cross vs dynamic: b",
    );
}

#[test]
fn graphs_name_the_views_as_pytorch_does() {
    let ops =
        |g: autodiff::Graph| -> Vec<String> { g.nodes().iter().map(|n| n.op.clone()).collect() };
    let row = ops(f64s::row_dot_graph());
    assert!(row.contains(&"SelectBackward0".to_string()), "{row:?}");
    let view = ops(f64s::view_block_graph());
    assert!(view.contains(&"SliceBackward0".to_string()), "{view:?}");
    let fixed = ops(f64s::fixed_view22_graph());
    assert!(fixed.contains(&"SliceBackward0".to_string()), "{fixed:?}");
    let cross = ops(f64s::cross_dynamic_graph());
    assert!(
        cross.contains(&"LinalgCrossBackward0".to_string()),
        "{cross:?}"
    );
    // into_owned/clone_owned of an owned part add no node.
    assert!(!fixed.iter().any(|o| o.contains("Clone")), "{fixed:?}");
}

#[test]
fn the_rules_name_themselves() {
    use autodiff::__private::{Cross, FixedRows, FixedView, OpName, Row, Rows, View};
    assert_eq!(<Row as OpName>::TORCH_NAME, "SelectBackward0");
    assert_eq!(<Rows as OpName>::TORCH_NAME, "SliceBackward0");
    assert_eq!(<FixedRows<2> as OpName>::TORCH_NAME, "SliceBackward0");
    assert_eq!(<View as OpName>::TORCH_NAME, "SliceBackward0");
    assert_eq!(<FixedView<2, 3> as OpName>::TORCH_NAME, "SliceBackward0");
    assert_eq!(<Cross as OpName>::TORCH_NAME, "LinalgCrossBackward0");
}

#[test]
#[should_panic(expected = "rows: the 2x3 block at (2, 0) is out of bounds for a 3x3 matrix")]
fn a_block_out_of_bounds_panics_with_its_shape() {
    let m = DMatrix::<f64>::zeros(3, 3);
    let x = DVector::<f64>::zeros(3);
    let _ = f64s::rows_times_grad(&m, &x, 2, 2);
}

#[test]
#[should_panic(expected = "cross: the operands must be two 3-vectors")]
fn cross_of_other_vectors_panics() {
    let a = DVector::<f64>::zeros(4);
    let _ = f64s::cross_dynamic_grad(&a, &a);
}
