//! Shared test harness: central finite differences and the random-direction check.
//!
//! Every rule is checked against an independent numerical reference: for a cotangent
//! `c` and the scalar function `phi(x) = <c, f(x)>`, the vector-Jacobian product `J^T c`
//! must equal the gradient of `phi`, which central differences approximate with error
//! `O(h^2)`.
#![allow(dead_code)]

use autodiff_runtime::nalgebra::{allocator::Allocator, DMatrix, DefaultAllocator, Dim, OMatrix};
use autodiff_runtime::rules::{Adjoint, Real};
use proptest::prelude::*;

/// A value seen as a flat list of numbers (column-major for matrices).
pub trait Flat: Clone + std::fmt::Debug {
    /// Number of elements.
    fn n(&self) -> usize;
    /// Element `i` as `f64`.
    fn get(&self, i: usize) -> f64;
    /// Sets element `i`.
    fn set(&mut self, i: usize, v: f64);
    /// The machine epsilon of the element type.
    fn eps() -> f64;
}

impl Flat for f64 {
    fn n(&self) -> usize {
        1
    }
    fn get(&self, _: usize) -> f64 {
        *self
    }
    fn set(&mut self, _: usize, v: f64) {
        *self = v;
    }
    fn eps() -> f64 {
        f64::EPSILON
    }
}

impl Flat for f32 {
    fn n(&self) -> usize {
        1
    }
    fn get(&self, _: usize) -> f64 {
        *self as f64
    }
    fn set(&mut self, _: usize, v: f64) {
        *self = v as f32;
    }
    fn eps() -> f64 {
        f32::EPSILON as f64
    }
}

impl<T: Real, R: Dim, C: Dim> Flat for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn n(&self) -> usize {
        self.len()
    }
    fn get(&self, i: usize) -> f64 {
        self.as_slice()[i].to_f64_lossless()
    }
    fn set(&mut self, i: usize, v: f64) {
        self.as_mut_slice()[i] = T::c(v);
    }
    fn eps() -> f64 {
        T::epsilon().to_f64_lossless()
    }
}

/// `<a, b>` in `f64`.
pub fn dot<Y: Flat>(a: &Y, b: &Y) -> f64 {
    assert_eq!(a.n(), b.n(), "dot of different sizes: {a:?} and {b:?}");
    (0..a.n()).map(|i| a.get(i) * b.get(i)).sum()
}

/// A deterministic pseudo-random number in [-1, 1] (splitmix64).
pub fn noise(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// `like` with every element replaced by noise.
pub fn random_like<Y: Flat>(like: &Y, seed: u64) -> Y {
    let mut state = seed;
    let mut out = like.clone();
    for i in 0..out.n() {
        out.set(i, noise(&mut state));
    }
    out
}

/// The step for central differences at `v`: `cbrt(eps)` scaled, which balances
/// truncation (`h^2`) against rounding (`eps / h`).
fn step<X: Flat>(v: f64) -> f64 {
    X::eps().cbrt() * v.abs().max(1.0)
}

/// Checks `vjp` (which must add `J^T c` into the adjoint) against central differences
/// of `phi(x) = <c, f(x)>` in every coordinate, for a random cotangent `c`. The adjoint
/// starts as the symbolic zero, so this also checks that the rule sizes it.
pub fn check_vjp<X, Y>(
    x: &X,
    f: impl Fn(&X) -> Y,
    vjp: impl Fn(&X, &Y, &Y, &mut X),
    seed: u64,
    tol: f64,
) where
    X: Flat + Adjoint,
    Y: Flat,
{
    let y = f(x);
    let c = random_like(&y, seed);
    let mut gx = X::adjoint_zero();
    vjp(x, &y, &c, &mut gx);
    let gx = gx.finish(x);
    assert_eq!(
        gx.n(),
        x.n(),
        "adjoint has the wrong size: {gx:?} for {x:?}"
    );
    for i in 0..x.n() {
        let h = step::<X>(x.get(i));
        let mut xp = x.clone();
        xp.set(i, x.get(i) + h);
        let mut xm = x.clone();
        xm.set(i, x.get(i) - h);
        // The step actually taken, after rounding to the element type.
        let h2 = xp.get(i) - xm.get(i);
        let fd = (dot(&c, &f(&xp)) - dot(&c, &f(&xm))) / h2;
        let an = gx.get(i);
        assert!(
            (an - fd).abs() <= tol * fd.abs().max(1.0),
            "element {i}: vjp {an} vs central difference {fd}\nx = {x:?}\nc = {c:?}\ngx = {gx:?}"
        );
    }
}

/// The random-direction check (JAX's `check_vjp`): `<J^T c, t>` against the directional
/// derivative `<c, J t>` from central differences, for random `c` and `t`. One pair of
/// evaluations, so it scales to large shapes.
pub fn check_vjp_direction<X, Y>(
    x: &X,
    f: impl Fn(&X) -> Y,
    vjp: impl Fn(&X, &Y, &Y, &mut X),
    seed: u64,
    tol: f64,
) where
    X: Flat + Adjoint,
    Y: Flat,
{
    let y = f(x);
    let c = random_like(&y, seed);
    let t = random_like(x, seed ^ 0x5555);
    let mut gx = X::adjoint_zero();
    vjp(x, &y, &c, &mut gx);
    let gx = gx.finish(x);
    let lhs = dot(&gx, &t);
    let scale = (0..x.n()).map(|i| x.get(i).abs()).fold(1.0, f64::max);
    let h = X::eps().cbrt() * scale;
    let mut xp = x.clone();
    let mut xm = x.clone();
    for i in 0..x.n() {
        xp.set(i, x.get(i) + h * t.get(i));
        xm.set(i, x.get(i) - h * t.get(i));
    }
    let rhs = (dot(&c, &f(&xp)) - dot(&c, &f(&xm))) / (2.0 * h);
    let size = (dot(&gx, &gx) * dot(&t, &t)).sqrt();
    assert!(
        (lhs - rhs).abs() <= tol * size.max(1.0),
        "<J^T c, t> = {lhs} but <c, J t> = {rhs} (|J^T c| |t| = {size})"
    );
}

/// Elements in `[lo, hi]`.
pub fn range(lo: f64, hi: f64) -> BoxedStrategy<f64> {
    (lo..=hi).boxed()
}

/// Elements with magnitude in `[lo, hi]` and either sign (away from a kink at 0).
pub fn away_from_zero(lo: f64, hi: f64) -> BoxedStrategy<f64> {
    (lo..=hi, any::<bool>())
        .prop_map(|(m, s)| if s { m } else { -m })
        .boxed()
}

/// A `rows x cols` `DMatrix` with elements from `elem`.
pub fn dmat(rows: usize, cols: usize, elem: BoxedStrategy<f64>) -> BoxedStrategy<DMatrix<f64>> {
    proptest::collection::vec(elem, rows * cols)
        .prop_map(move |v| DMatrix::from_vec(rows, cols, v))
        .boxed()
}

/// A `DMatrix` of random shape in `1..=6 x 1..=6`.
pub fn any_dmat(elem: BoxedStrategy<f64>) -> BoxedStrategy<DMatrix<f64>> {
    (1usize..=6, 1usize..=6)
        .prop_flat_map(move |(r, c)| dmat(r, c, elem.clone()))
        .boxed()
}

/// A matrix of any owned type with elements from `elem` (the type fixes the shape when
/// it is static; dynamic dimensions get `rows` / `cols`).
pub fn omat<R: Dim, C: Dim>(
    rows: usize,
    cols: usize,
    elem: BoxedStrategy<f64>,
) -> BoxedStrategy<OMatrix<f64, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
    OMatrix<f64, R, C>: 'static,
{
    let rows = R::try_to_usize().unwrap_or(rows);
    let cols = C::try_to_usize().unwrap_or(cols);
    proptest::collection::vec(elem, rows * cols)
        .prop_map(move |v| {
            OMatrix::<f64, R, C>::from_iterator_generic(R::from_usize(rows), C::from_usize(cols), v)
        })
        .boxed()
}

/// `m` converted to `f32`.
pub fn to_f32<R: Dim, C: Dim>(m: &OMatrix<f64, R, C>) -> OMatrix<f32, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    m.map(|v| v as f32)
}

/// Tolerance for central differences in `f64`.
pub const TOL64: f64 = 1e-6;
/// Tolerance for central differences in `f32`.
pub const TOL32: f64 = 2e-2;
