//! Matrix-product kernels on column-major slices, accumulating in place:
//! `C += A B`, `C += A B^T` and `C += A^T B`.
//!
//! The transposed forms are what the adjoints of `Y = A B` need (`dA += G B^T`,
//! `dB += A^T G`); they read the operands in place, so no transpose is materialised.
//! Products with every dimension at least [`BLOCKED_MIN_DIM`] go to `matrixmultiply`
//! (the cache-blocked kernel nalgebra itself uses) with explicit strides; smaller ones
//! use column loops (axpy or dot over contiguous columns) that LLVM vectorises. Nothing
//! here allocates except `matrixmultiply`'s own packing buffers (and, for a product
//! split across threads, the list of parts). Only the `matrixmultiply` path uses threads
//! (see [`blocked`]); the column loops are for products with a small dimension.
//!
//! nalgebra's `gemm` is not used for the transposed forms: 0.35 has no `A B^T` variant,
//! and its small-size path mishandles row-strided views.
//!
//! Products of [`Dual<f64>`] and [`Dual<f32>`] matrices (forward mode) split each operand
//! into its value and tangent planes and run the real products on them
//! ([`dual_planes`]): `C.re += A.re B.re`, `C.eps += A.eps B.re + A.re B.eps`, skipping
//! a term whose tangent plane is all zero (a constant operand).

use std::any::TypeId;

use super::{FusedKernel, FusedValue, Real};
use crate::dual::Dual;

/// Below this size in any dimension the column loops beat `matrixmultiply`'s packing.
pub(crate) const BLOCKED_MIN_DIM: usize = 8;

/// `c (m x n) += a (m x k) * b (k x n)`.
pub(crate) fn add_mul<T: Real>(m: usize, k: usize, n: usize, a: &[T], b: &[T], c: &mut [T]) {
    assert!(
        a.len() == m * k && b.len() == k * n && c.len() == m * n,
        "add_mul: slice sizes"
    );
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    if dual_planes(Form::Ab { m, k, n }, a, b, c) {
        return;
    }
    if blocked(m, k, n, (a, 1, m), (b, 1, k), (c, 1, m)) {
        return;
    }
    // c[:, j] += sum_p a[:, p] b[p, j], with b[p, j] at b[p + j k].
    T::fused_dispatch(ColumnCombos {
        m,
        terms: k,
        cols: n,
        a,
        coef: b,
        coef_steps: (1, k),
        c,
    });
}

/// `c (m x k) += g (m x n) * b^T`, where `b` is `k x n`.
pub(crate) fn add_mul_bt<T: Real>(m: usize, n: usize, k: usize, g: &[T], b: &[T], c: &mut [T]) {
    assert!(
        g.len() == m * n && b.len() == k * n && c.len() == m * k,
        "add_mul_bt: slice sizes"
    );
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    if dual_planes(Form::ABt { m, n, k }, g, b, c) {
        return;
    }
    // b^T is n x k with row stride k and column stride 1.
    if blocked(m, n, k, (g, 1, m), (b, k, 1), (c, 1, m)) {
        return;
    }
    // c[:, p] += sum_j g[:, j] b[p, j], with b[p, j] at b[p + j k].
    T::fused_dispatch(ColumnCombos {
        m,
        terms: n,
        cols: k,
        a: g,
        coef: b,
        coef_steps: (k, 1),
        c,
    });
}

/// Groups of rows [`ColumnCombos`] updates together.
const BLOCK: usize = 4;

/// `c[:, col] += sum_q a[:, q] coef(q, col)` on lanes, four rows at a time, one
/// multiply-add per term; `coef(q, col)` is at `coef[q * steps.0 + col * steps.1]`, which
/// covers both `c += a b` and `c += a b^T` without a transposed copy.
struct ColumnCombos<'a, T> {
    m: usize,
    terms: usize,
    cols: usize,
    a: &'a [T],
    coef: &'a [T],
    coef_steps: (usize, usize),
    c: &'a mut [T],
}

impl<T: Real> FusedKernel<T> for ColumnCombos<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run<V: FusedValue<Elem = T>>(self) {
        let ColumnCombos {
            m,
            terms,
            cols,
            a,
            coef,
            coef_steps: (qs, cs),
            c,
        } = self;
        let full = m - m % V::LANES;
        let lanes = V::LANES;
        for (col, ccol) in c.chunks_exact_mut(m).enumerate().take(cols) {
            let w = |q: usize| coef[q * qs + col * cs];
            let mut i = 0;
            // Four groups of rows at a time: four independent chains of multiply-adds
            // (one chain waits on each multiply-add's latency), one broadcast of each
            // coefficient for all four. Plain loops, no closures over lanes: only code
            // inlined into the AVX2 entry point runs on its instructions.
            while i + BLOCK * lanes <= m {
                let mut acc = [V::splat_elem(T::zero()); BLOCK];
                for (u, acc) in acc.iter_mut().enumerate() {
                    *acc = V::load_elems(&ccol[i + u * lanes..]);
                }
                for (q, acol) in a.chunks_exact(m).take(terms).enumerate() {
                    let wq = V::splat_elem(w(q));
                    let acol = &acol[i..i + BLOCK * lanes];
                    for (u, acc) in acc.iter_mut().enumerate() {
                        *acc = V::load_elems(&acol[u * lanes..]).mul_add_elems(wq, *acc);
                    }
                }
                for (u, acc) in acc.iter().enumerate() {
                    acc.store_elems(&mut ccol[i + u * lanes..]);
                }
                i += BLOCK * lanes;
            }
            while i < full {
                let mut acc = V::load_elems(&ccol[i..]);
                for q in 0..terms {
                    acc = V::load_elems(&a[q * m + i..]).mul_add_elems(V::splat_elem(w(q)), acc);
                }
                acc.store_elems(&mut ccol[i..]);
                i += V::LANES;
            }
            for (i, ci) in ccol.iter_mut().enumerate().skip(full) {
                for q in 0..terms {
                    *ci += a[q * m + i] * w(q);
                }
            }
        }
    }
}

/// `c (k x n) += a^T * g (m x n)`, where `a` is `m x k`.
pub(crate) fn add_mul_at<T: Real>(m: usize, k: usize, n: usize, a: &[T], g: &[T], c: &mut [T]) {
    assert!(
        a.len() == m * k && g.len() == m * n && c.len() == k * n,
        "add_mul_at: slice sizes"
    );
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    if dual_planes(Form::AtB { m, k, n }, a, g, c) {
        return;
    }
    // a^T is k x m with row stride m and column stride 1.
    if blocked(k, m, n, (a, m, 1), (g, 1, m), (c, 1, k)) {
        return;
    }
    T::fused_dispatch(AddMulAt { m, k, n, a, g, c });
}

/// `c += a^T g` on lanes: `c[p, j] += a[:, p] . g[:, j]`, four dot products (four `p`)
/// at a time so that each load of `g` serves four multiply-adds.
struct AddMulAt<'a, T> {
    m: usize,
    k: usize,
    n: usize,
    a: &'a [T],
    g: &'a [T],
    c: &'a mut [T],
}

impl<T: Real> FusedKernel<T> for AddMulAt<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run<V: FusedValue<Elem = T>>(self) {
        let AddMulAt { m, k, n, a, g, c } = self;
        let full = m - m % V::LANES;
        let zero = V::splat_elem(T::zero());
        for (ccol, gcol) in c.chunks_exact_mut(k).zip(g.chunks_exact(m)).take(n) {
            let mut p = 0;
            while p < k {
                let width = (k - p).min(4);
                let mut acc = [zero; 4];
                let mut i = 0;
                while i < full {
                    let gv = V::load_elems(&gcol[i..]);
                    for (q, acc) in acc.iter_mut().enumerate().take(width) {
                        *acc = V::load_elems(&a[(p + q) * m + i..]).mul_add_elems(gv, *acc);
                    }
                    i += V::LANES;
                }
                for (q, acc) in acc.iter().enumerate().take(width) {
                    let acol = &a[(p + q) * m..][..m];
                    let mut s = acc.sum_lanes();
                    for (&ai, &gi) in acol[full..].iter().zip(&gcol[full..]) {
                        s += ai * gi;
                    }
                    ccol[p + q] += s;
                }
                p += width;
            }
        }
    }
}

/// Which of the three products, with its dimensions (as the arguments of its function).
#[derive(Clone, Copy)]
enum Form {
    /// [`add_mul`]`(m, k, n, ..)`.
    Ab { m: usize, k: usize, n: usize },
    /// [`add_mul_bt`]`(m, n, k, ..)`.
    ABt { m: usize, n: usize, k: usize },
    /// [`add_mul_at`]`(m, k, n, ..)`.
    AtB { m: usize, k: usize, n: usize },
}

impl Form {
    /// `c += op(a, b)` on real slices.
    fn apply<F: Real>(self, a: &[F], b: &[F], c: &mut [F]) {
        match self {
            Form::Ab { m, k, n } => add_mul(m, k, n, a, b, c),
            Form::ABt { m, n, k } => add_mul_bt(m, n, k, a, b, c),
            Form::AtB { m, k, n } => add_mul_at(m, k, n, a, b, c),
        }
    }
}

/// `c += op(a, b)` through the real products of the value and tangent planes when `T` is
/// `Dual<f64>` or `Dual<f32>`; returns whether it did.
fn dual_planes<T: Real>(form: Form, a: &[T], b: &[T], c: &mut [T]) -> bool {
    let id = TypeId::of::<T>();
    if id == TypeId::of::<Dual<f64>>() {
        // SAFETY: `T` is `Dual<f64>` (checked just above): the casts change only the
        // name of the element type, not the slices' layout or lengths.
        unsafe {
            planes::<f64>(form, as_duals(a), as_duals(b), as_duals_mut(c));
        }
        true
    } else if id == TypeId::of::<Dual<f32>>() {
        // SAFETY: as above, with `T` = `Dual<f32>`.
        unsafe {
            planes::<f32>(form, as_duals(a), as_duals(b), as_duals_mut(c));
        }
        true
    } else {
        false
    }
}

/// `x` as a slice of `Dual<F>`.
///
/// # Safety
/// `T` must be `Dual<F>`.
unsafe fn as_duals<T, F>(x: &[T]) -> &[Dual<F>] {
    std::slice::from_raw_parts(x.as_ptr().cast(), x.len())
}

/// `x` as a mutable slice of `Dual<F>`.
///
/// # Safety
/// `T` must be `Dual<F>`.
unsafe fn as_duals_mut<T, F>(x: &mut [T]) -> &mut [Dual<F>] {
    std::slice::from_raw_parts_mut(x.as_mut_ptr().cast(), x.len())
}

/// `c += op(a, b)` on duals as real products of planes:
/// `c.re += op(a.re, b.re)`, `c.eps += op(a.eps, b.re) + op(a.re, b.eps)`, without the
/// terms whose tangent plane is all zero.
fn planes<F: Real>(form: Form, a: &[Dual<F>], b: &[Dual<F>], c: &mut [Dual<F>]) {
    if interleaved(form, a, b, c) {
        return;
    }
    let re = |x: &[Dual<F>]| x.iter().map(|d| d.re).collect::<Vec<F>>();
    let eps = |x: &[Dual<F>]| -> Option<Vec<F>> {
        x.iter()
            .any(|d| d.eps != F::zero())
            .then(|| x.iter().map(|d| d.eps).collect())
    };
    let (a_re, b_re) = (re(a), re(b));
    let (mut c_re, mut c_eps) = (re(c), c.iter().map(|d| d.eps).collect::<Vec<F>>());
    form.apply(&a_re, &b_re, &mut c_re);
    if let Some(a_eps) = eps(a) {
        form.apply(&a_eps, &b_re, &mut c_eps);
    }
    if let Some(b_eps) = eps(b) {
        form.apply(&a_re, &b_eps, &mut c_eps);
    }
    for ((d, r), e) in c.iter_mut().zip(c_re).zip(c_eps) {
        *d = Dual::new(r, e);
    }
}

/// `c += op(a, b)` on duals as [`planes`] computes it, but through `matrixmultiply` on the
/// duals' own storage (values at even, tangents at odd positions: strides doubled), with
/// no copy into planes; returns whether it did (every dimension large enough for
/// [`blocked`]).
fn interleaved<F: Real>(form: Form, a: &[Dual<F>], b: &[Dual<F>], c: &mut [Dual<F>]) -> bool {
    // The product's dimensions and each operand's (row, column) strides in duals.
    let (m, k, n, sa, sb, sc) = match form {
        Form::Ab { m, k, n } => (m, k, n, (1, m), (1, k), (1, m)),
        Form::ABt { m, n, k } => (m, n, k, (1, m), (k, 1), (1, m)),
        Form::AtB { m, k, n } => (k, m, n, (m, 1), (1, m), (1, k)),
    };
    if m < BLOCKED_MIN_DIM || k < BLOCKED_MIN_DIM || n < BLOCKED_MIN_DIM {
        return false;
    }
    let tangent = |x: &[Dual<F>]| x.iter().any(|d| d.eps != F::zero());
    let (a_tangent, b_tangent) = (tangent(a), tangent(b));
    let (af, bf) = (scalars(a), scalars(b));
    let cf = scalars_mut(c);
    let twice = |(r, c): (usize, usize)| (2 * r, 2 * c);
    let ((ar, ac), (br, bc), (cr, cc)) = (twice(sa), twice(sb), twice(sc));
    // c.re += a.re b.re; c.eps += a.eps b.re + a.re b.eps (the order of `planes`).
    let done = blocked(m, k, n, (af, ar, ac), (bf, br, bc), (&mut cf[..], cr, cc));
    debug_assert!(done, "large f32/f64 products go to matrixmultiply");
    if a_tangent {
        blocked(
            m,
            k,
            n,
            (&af[1..], ar, ac),
            (bf, br, bc),
            (&mut cf[1..], cr, cc),
        );
    }
    if b_tangent {
        blocked(
            m,
            k,
            n,
            (af, ar, ac),
            (&bf[1..], br, bc),
            (&mut cf[1..], cr, cc),
        );
    }
    true
}

/// The scalars of `x`: `[x[0].re, x[0].eps, x[1].re, ..]`.
fn scalars<F>(x: &[Dual<F>]) -> &[F] {
    // SAFETY: `Dual<F>` is `repr(C)` with two fields of type `F`, so it has the size and
    // alignment of `[F; 2]` and no padding: `len` duals are `2 len` initialised `F`s at
    // the same address, borrowed for the same lifetime.
    unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<F>(), 2 * x.len()) }
}

/// [`scalars`], mutably.
fn scalars_mut<F>(x: &mut [Dual<F>]) -> &mut [F] {
    // SAFETY: as in `scalars`; the unique borrow of `x` becomes the unique borrow of its
    // scalars, and every bit pattern of `F` (a float) is a valid value of a field.
    unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<F>(), 2 * x.len()) }
}

/// One past the largest index of a `rows x cols` strided matrix (both non-zero).
fn span(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    (rows - 1) * rs + (cols - 1) * cs + 1
}

/// The output columns of one thread's part of a split product are a multiple of this
/// (a multiple of every `matrixmultiply` kernel's tile width), so every column falls in
/// the same kind of tile as in the unsplit product.
const COLUMN_ALIGN: usize = 16;

/// `c += a b` through `matrixmultiply` when the sizes are large and `T` is `f32` or
/// `f64`; returns whether it did. Each operand is `(slice, row stride, column stride)`;
/// `a` is `m x k`, `b` is `k x n`, `c` is `m x n`, all dimensions non-zero.
///
/// A product of more than [`crate::threads::PARALLEL_MIN_MACS`] multiply-adds per thread
/// splits `c`'s columns (and `b`'s) into contiguous runs, one per thread. Each element of
/// `c` is still one dot product of a row of `a` and a column of `b`, summed by the same
/// kernel in the same order (`matrixmultiply` blocks the inner dimension `k` the same way
/// whatever `n` is), so the result is the same for every thread count.
fn blocked<T: Real>(
    m: usize,
    k: usize,
    n: usize,
    a: (&[T], usize, usize),
    b: (&[T], usize, usize),
    c: (&mut [T], usize, usize),
) -> bool {
    if m < BLOCKED_MIN_DIM || k < BLOCKED_MIN_DIM || n < BLOCKED_MIN_DIM {
        return false;
    }
    let is = |id: TypeId| TypeId::of::<T>() == id;
    if !is(TypeId::of::<f64>()) && !is(TypeId::of::<f32>()) {
        return false;
    }
    let (c, c_rs, c_cs) = c;
    let work = m.saturating_mul(k).saturating_mul(n);
    let threads = crate::threads::threads_for(work, crate::threads::PARALLEL_MIN_MACS)
        .min(n / COLUMN_ALIGN)
        .max(1);
    // Contiguous columns (the only layout the callers pass for `c`) split into disjoint
    // runs of elements.
    if threads == 1 || c_rs != 1 || c_cs < m {
        matrixmultiply_call(m, k, n, a, b, (c, c_rs, c_cs));
        return true;
    }
    let width = n.div_ceil(threads).div_ceil(COLUMN_ALIGN) * COLUMN_ALIGN;
    let mut parts = Vec::with_capacity(threads);
    let mut rest = c;
    for j0 in (0..n).step_by(width) {
        let cols = width.min(n - j0);
        let (head, tail) = if j0 + cols < n {
            std::mem::take(&mut rest).split_at_mut(cols * c_cs)
        } else {
            (std::mem::take(&mut rest), &mut [][..])
        };
        rest = tail;
        parts.push((cols, &b.0[j0 * b.2..], head));
    }
    let threads = parts.len();
    crate::threads::run_pieces(parts, threads, |(cols, bs, cs)| {
        matrixmultiply_call(m, k, cols, a, (bs, b.1, b.2), (cs, 1, c_cs))
    });
    true
}

/// `c += a b` through `matrixmultiply` for `T` = `f32` or `f64` (operands as in
/// [`blocked`]); does nothing for another `T`.
fn matrixmultiply_call<T: Real>(
    m: usize,
    k: usize,
    n: usize,
    a: (&[T], usize, usize),
    b: (&[T], usize, usize),
    c: (&mut [T], usize, usize),
) {
    // The kernel reads a[i rs + p cs] for i < m, p < k (and likewise b and c): these
    // asserts are what makes the calls below sound.
    assert!(
        span(m, k, a.1, a.2) <= a.0.len(),
        "gemm: left operand out of bounds"
    );
    assert!(
        span(k, n, b.1, b.2) <= b.0.len(),
        "gemm: right operand out of bounds"
    );
    assert!(
        span(m, n, c.1, c.2) <= c.0.len(),
        "gemm: output out of bounds"
    );
    let is = |id: TypeId| TypeId::of::<T>() == id;
    if is(TypeId::of::<f64>()) {
        // SAFETY: `T` is `f64` (checked just above), so the pointer casts change nothing;
        // the asserts show every element the kernel touches lies inside its slice; `c` is
        // a unique borrow, so it overlaps neither `a` nor `b`; strides fit in `isize`
        // because the spans fit in allocated slices.
        unsafe {
            matrixmultiply::dgemm(
                m,
                k,
                n,
                1.0,
                a.0.as_ptr().cast::<f64>(),
                a.1 as isize,
                a.2 as isize,
                b.0.as_ptr().cast::<f64>(),
                b.1 as isize,
                b.2 as isize,
                1.0,
                c.0.as_mut_ptr().cast::<f64>(),
                c.1 as isize,
                c.2 as isize,
            );
        }
    } else if is(TypeId::of::<f32>()) {
        // SAFETY: as above, with `T` = `f32`.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.0.as_ptr().cast::<f32>(),
                a.1 as isize,
                a.2 as isize,
                b.0.as_ptr().cast::<f32>(),
                b.1 as isize,
                b.2 as isize,
                1.0,
                c.0.as_mut_ptr().cast::<f32>(),
                c.1 as isize,
                c.2 as isize,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook triple loop on column-major slices, as the independent reference.
    fn reference(
        m: usize,
        k: usize,
        n: usize,
        a: impl Fn(usize, usize) -> f64,
        b: impl Fn(usize, usize) -> f64,
    ) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for j in 0..n {
            for i in 0..m {
                c[i + j * m] = (0..k).map(|p| a(i, p) * b(p, j)).sum();
            }
        }
        c
    }

    fn data(len: usize, seed: u64) -> Vec<f64> {
        (0..len)
            .map(|i| (((i as u64 + 1) * 2654435761 + seed) % 1000) as f64 / 250.0 - 2.0)
            .collect()
    }

    fn close(x: &[f64], y: &[f64]) {
        assert_eq!(x.len(), y.len());
        for (a, b) in x.iter().zip(y) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    /// Sizes on both sides of the blocked threshold, including 1 and 5 (nalgebra's
    /// small-size fallback), row counts that leave groups of four and single rows after
    /// the blocks of sixteen (150, 21), and degenerate zeros.
    const SIZES: [(usize, usize, usize); 9] = [
        (1, 1, 1),
        (5, 3, 4),
        (9, 8, 10),
        (16, 150, 3),
        (150, 4, 16),
        (21, 3, 5),
        (33, 17, 12),
        (0, 3, 2),
        (4, 0, 3),
    ];

    #[test]
    fn all_three_products_match_the_triple_loop_and_accumulate() {
        for &(m, k, n) in &SIZES {
            let a = data(m * k, 1);
            let b = data(k * n, 2);
            let bt = data(n * k, 3); // stored as k x n for a b^T with a: m x n
            let g = data(m * n, 4);
            let start = data(m * n, 5);

            let mut c = start.clone();
            add_mul(m, k, n, &a, &b, &mut c);
            let r = reference(m, k, n, |i, p| a[i + p * m], |p, j| b[p + j * k]);
            close(
                &c,
                &r.iter().zip(&start).map(|(x, s)| x + s).collect::<Vec<_>>(),
            );

            // c (m x k) += g (m x n) bt^T with bt k x n
            let bt = &bt[..k * n];
            let start2 = data(m * k, 6);
            let mut c2 = start2.clone();
            add_mul_bt(m, n, k, &g, bt, &mut c2);
            let r2 = reference(m, n, k, |i, j| g[i + j * m], |j, p| bt[p + j * k]);
            close(
                &c2,
                &r2.iter()
                    .zip(&start2)
                    .map(|(x, s)| x + s)
                    .collect::<Vec<_>>(),
            );

            // c (k x n) += a^T (a: m x k) g (m x n)
            let start3 = data(k * n, 7);
            let mut c3 = start3.clone();
            add_mul_at(m, k, n, &a, &g, &mut c3);
            let r3 = reference(k, m, n, |p, i| a[i + p * m], |i, j| g[i + j * m]);
            close(
                &c3,
                &r3.iter()
                    .zip(&start3)
                    .map(|(x, s)| x + s)
                    .collect::<Vec<_>>(),
            );
        }
    }

    /// The triple loop on duals (dual arithmetic, no planes), as the reference of the
    /// plane products: `c0 + a b` with `a` and `b` given by element functions.
    fn dual_reference<T: Real>(
        m: usize,
        k: usize,
        n: usize,
        a: impl Fn(usize, usize) -> T,
        b: impl Fn(usize, usize) -> T,
        c0: &[T],
    ) -> Vec<T> {
        let mut c = c0.to_vec();
        for j in 0..n {
            for i in 0..m {
                for p in 0..k {
                    c[i + j * m] += a(i, p) * b(p, j);
                }
            }
        }
        c
    }

    fn duals(len: usize, seed: u64, tangent: bool) -> Vec<Dual<f64>> {
        let re = data(len, seed);
        let eps = data(len, seed + 100);
        re.iter()
            .zip(&eps)
            .map(|(&r, &e)| Dual::new(r, if tangent { e } else { 0.0 }))
            .collect()
    }

    fn close_duals<T: Real>(x: &[Dual<T>], y: &[Dual<T>], tol: f64) {
        assert_eq!(x.len(), y.len());
        for (a, b) in x.iter().zip(y) {
            for (u, v) in [(a.re, b.re), (a.eps, b.eps)] {
                let (u, v) = (u.to_f64_lossless(), v.to_f64_lossless());
                assert!((u - v).abs() <= tol * (1.0 + v.abs()), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn dual_products_on_planes_match_the_dual_triple_loop() {
        let mut sizes = SIZES.to_vec();
        sizes.push((8, 8, 8));
        sizes.push((40, 9, 11));
        for &(m, k, n) in &sizes {
            for (ta, tb) in [(true, true), (true, false), (false, true), (false, false)] {
                let a = duals(m * k, 1, ta);
                let b = duals(k * n, 2, tb);
                let g = duals(m * n, 4, tb);
                let start = duals(m * n, 5, true);

                let mut c = start.clone();
                add_mul(m, k, n, &a, &b, &mut c);
                let r = dual_reference(m, k, n, |i, p| a[i + p * m], |p, j| b[p + j * k], &start);
                close_duals(&c, &r, 1e-12);

                // c (m x k) += g (m x n) b^T with b stored k x n.
                let start2 = duals(m * k, 6, true);
                let mut c2 = start2.clone();
                let bt = duals(k * n, 3, tb);
                add_mul_bt(m, n, k, &g, &bt, &mut c2);
                let r2 =
                    dual_reference(m, n, k, |i, j| g[i + j * m], |j, p| bt[p + j * k], &start2);
                close_duals(&c2, &r2, 1e-12);

                // c (k x n) += a^T (a: m x k) g (m x n).
                let start3 = duals(k * n, 7, false);
                let mut c3 = start3.clone();
                add_mul_at(m, k, n, &a, &g, &mut c3);
                let r3 = dual_reference(k, m, n, |p, i| a[i + p * m], |i, j| g[i + j * m], &start3);
                close_duals(&c3, &r3, 1e-12);
                if !ta && !tb {
                    // Constant operands: the tangent of `c` is the one it started with.
                    assert!(c3.iter().zip(&start3).all(|(x, s)| x.eps == s.eps));
                }
            }
        }
    }

    #[test]
    fn dual_f32_and_nested_dual_products_match_the_triple_loop() {
        for &(m, k, n) in &[(3, 4, 5), (12, 9, 10)] {
            let a32: Vec<Dual<f32>> = duals(m * k, 1, true)
                .iter()
                .map(|d| Dual::new(d.re as f32, d.eps as f32))
                .collect();
            let b32: Vec<Dual<f32>> = duals(k * n, 2, true)
                .iter()
                .map(|d| Dual::new(d.re as f32, d.eps as f32))
                .collect();
            let start = vec![Dual::new(0.5_f32, -0.25); m * n];
            let mut c = start.clone();
            add_mul(m, k, n, &a32, &b32, &mut c);
            let r = dual_reference(
                m,
                k,
                n,
                |i, p| a32[i + p * m],
                |p, j| b32[p + j * k],
                &start,
            );
            close_duals(&c, &r, 1e-5);

            // Duals of duals take the generic scalar kernels.
            let nest = |v: Vec<Dual<f64>>| -> Vec<Dual<Dual<f64>>> {
                v.into_iter()
                    .map(|d| Dual::new(d, Dual::new(d.eps, d.re)))
                    .collect()
            };
            let a = nest(duals(m * k, 1, true));
            let b = nest(duals(k * n, 2, true));
            let start = nest(duals(m * n, 3, true));
            let mut c = start.clone();
            add_mul(m, k, n, &a, &b, &mut c);
            let r = dual_reference(m, k, n, |i, p| a[i + p * m], |p, j| b[p + j * k], &start);
            for (x, y) in c.iter().zip(&r) {
                for (u, v) in [
                    (x.re.re, y.re.re),
                    (x.re.eps, y.re.eps),
                    (x.eps.re, y.eps.re),
                    (x.eps.eps, y.eps.eps),
                ] {
                    assert!((u - v).abs() <= 1e-12 * (1.0 + v.abs()), "{u} vs {v}");
                }
            }
        }
    }

    /// Splitting the output columns across threads changes no bit: 1, 2 and 3 threads
    /// (column runs of 150, 80 + 70 and 64 + 64 + 22 here, the last not a multiple of
    /// the alignment) give the same products, for all three forms and both types.
    #[test]
    fn products_are_bit_identical_for_one_two_and_three_threads() {
        let _guard = crate::threads::TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (m, k, n) = (300, 200, 150);
        let a = data(m * k, 1);
        let b = data(k * n, 2);
        let g = data(m * n, 3);
        let run = |threads: usize| {
            crate::threads::set_num_threads(threads);
            let spawned = crate::threads::threads_spawned();
            let mut c = data(m * n, 4);
            add_mul(m, k, n, &a, &b, &mut c);
            let mut c_bt = data(m * k, 5);
            add_mul_bt(m, n, k, &g, &b, &mut c_bt);
            let mut c_at = data(k * n, 6);
            add_mul_at(m, k, n, &a, &g, &mut c_at);
            let af: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let bf: Vec<f32> = b.iter().map(|&v| v as f32).collect();
            let mut cf = vec![0.5f32; m * n];
            add_mul(m, k, n, &af, &bf, &mut cf);
            let used = crate::threads::threads_spawned() - spawned;
            (c, c_bt, c_at, cf, used)
        };
        let one = run(1);
        assert_eq!(one.4, 0, "one thread starts no thread");
        for threads in [2, 3] {
            let many = run(threads);
            assert!(many.4 > 0, "{threads} threads start threads");
            assert!(one
                .0
                .iter()
                .zip(&many.0)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
            assert!(one
                .1
                .iter()
                .zip(&many.1)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
            assert!(one
                .2
                .iter()
                .zip(&many.2)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
            assert!(one
                .3
                .iter()
                .zip(&many.3)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        crate::threads::set_num_threads(0);
        // And the split products are right.
        let r = reference(m, k, n, |i, p| a[i + p * m], |p, j| b[p + j * k]);
        let start = data(m * n, 4);
        close(
            &one.0,
            &r.iter().zip(&start).map(|(x, s)| x + s).collect::<Vec<_>>(),
        );
    }
}
