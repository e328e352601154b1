//! A fused elementwise loop on the vector math: `L = sum_i tanh(a_i x_i + b_i)^2`.
//!
//! This is the shape of code `#[differentiable]` generates for a chain of elementwise
//! operations, written by hand: one pass for the value, one pass for the value and the
//! gradients with respect to `a` and `b`, no intermediate vectors. The transcendental
//! function runs on [`super::tanh`]; every derivative comes from the rules in
//! [`crate::rules`] (applied lanewise through [`Lanes::zip_map`]):
//!
//! ```text
//! u = a x + b            (Mul, Add)
//! t = tanh(u)            (Tanh)
//! s = t^2                (PowI(2)),   L = sum s
//! dL/dt = PowI(2).df(t, s)  = 2t
//! dL/du = dL/dt * Tanh.df(u, t)  = 2t (1 - t^2)
//! dL/da = dL/du * Mul.da(a, x, u) = dL/du * x,   dL/db = dL/du * Add.db(..) = dL/du
//! ```

use super::{dispatch, tanh, Kernel, Lanes};
use crate::rules::{Add, BinaryRule, ElementwiseRule, Mul, PowI, Tanh};

#[track_caller]
fn check_lens(what: &str, lens: &[(&str, usize)]) {
    let n = lens[0].1;
    if lens.iter().any(|&(_, len)| len != n) {
        let shown: Vec<String> = lens
            .iter()
            .map(|(name, len)| format!("{name}: {len}"))
            .collect();
        panic!(
            "fused::{what}: slices differ in length ({}); pass slices of one length",
            shown.join(", ")
        );
    }
}

/// The per-element adjoint `dL/du` from `u` and `t = tanh(u)`, through the rules.
#[inline(always)]
fn adjoint_u<V: Lanes>(u: V, t: V) -> V {
    let square = PowI(2);
    let dt = t.zip_map(t * t, |t, s| square.df(t, s));
    dt * u.zip_map(t, |u, t| Tanh.df(u, t))
}

struct Forward<'a> {
    a: &'a [f64],
    x: &'a [f64],
    b: &'a [f64],
}

impl Kernel for Forward<'_> {
    type Output = f64;
    #[inline(always)]
    fn run<V: Lanes>(self) -> f64 {
        let Self { a, x, b } = self;
        let mut acc = V::splat(0.0);
        let (ac, xc, bc) = (a.chunks_exact(4), x.chunks_exact(4), b.chunks_exact(4));
        let mut tail = V::splat(0.0);
        let rem = ac.remainder().len();
        if rem > 0 {
            let pad = |s: &[f64]| {
                let mut buf = [0.0; 4];
                buf[..rem].copy_from_slice(s);
                V::from_array(buf)
            };
            // Padding with a = x = b = 0 gives tanh(0)^2 = 0: the extra lanes add nothing.
            let t = tanh(pad(ac.remainder()).mul_add(pad(xc.remainder()), pad(bc.remainder())));
            tail = t * t;
        }
        for ((a, x), b) in ac.zip(xc).zip(bc) {
            let t = tanh(V::load(a).mul_add(V::load(x), V::load(b)));
            acc = t.mul_add(t, acc);
        }
        (acc + tail).reduce_sum()
    }
}

struct Gradient<'a> {
    a: &'a [f64],
    x: &'a [f64],
    b: &'a [f64],
    ga: &'a mut [f64],
    gb: &'a mut [f64],
}

impl Gradient<'_> {
    /// One chunk: returns `t^2` and adds the adjoints into `ga`, `gb`.
    #[inline(always)]
    fn chunk<V: Lanes>(a: V, x: V, b: V, ga: &mut V, gb: &mut V) -> V {
        let u = a.mul_add(x, b);
        let t = tanh(u);
        let du = adjoint_u(u, t);
        let dua = a.zip_map(x, |a, x| Mul.da(a, x, a * x));
        let dub = a.zip_map(b, |a, b| Add.db(a, b, a + b));
        *ga = du.mul_add(dua, *ga);
        *gb = du.mul_add(dub, *gb);
        t * t
    }
}

impl Kernel for Gradient<'_> {
    type Output = f64;
    #[inline(always)]
    fn run<V: Lanes>(self) -> f64 {
        let Self { a, x, b, ga, gb } = self;
        let n4 = a.len() - a.len() % 4;
        let (ga_body, ga_tail) = ga.split_at_mut(n4);
        let (gb_body, gb_tail) = gb.split_at_mut(n4);
        let mut acc = V::splat(0.0);
        // Chunks of exactly four: the loads and stores need no bounds checks.
        let inputs = a[..n4]
            .chunks_exact(4)
            .zip(x[..n4].chunks_exact(4))
            .zip(b[..n4].chunks_exact(4));
        let adjoints = ga_body.chunks_exact_mut(4).zip(gb_body.chunks_exact_mut(4));
        for (((a, x), b), (ga, gb)) in inputs.zip(adjoints) {
            let (mut ga_v, mut gb_v) = (V::load(ga), V::load(gb));
            acc = acc + Self::chunk(V::load(a), V::load(x), V::load(b), &mut ga_v, &mut gb_v);
            ga_v.store(ga);
            gb_v.store(gb);
        }
        let rem = a.len() - n4;
        if rem > 0 {
            let pad = |s: &[f64]| {
                let mut buf = [0.0; 4];
                buf[..rem].copy_from_slice(s);
                V::from_array(buf)
            };
            let (mut ga_v, mut gb_v) = (pad(ga_tail), pad(gb_tail));
            // Padded lanes have t = 0, so they add 0 to the sum and are not stored.
            let s = Self::chunk(
                pad(&a[n4..]),
                pad(&x[n4..]),
                pad(&b[n4..]),
                &mut ga_v,
                &mut gb_v,
            );
            acc = acc + s;
            ga_tail.copy_from_slice(&ga_v.to_array()[..rem]);
            gb_tail.copy_from_slice(&gb_v.to_array()[..rem]);
        }
        acc.reduce_sum()
    }
}

/// `sum_i tanh(a_i x_i + b_i)^2`, in one vectorized pass.
///
/// # Panics
/// If the slices differ in length.
#[track_caller]
pub fn tanh_sq_sum(a: &[f64], x: &[f64], b: &[f64]) -> f64 {
    check_lens(
        "tanh_sq_sum",
        &[("a", a.len()), ("x", x.len()), ("b", b.len())],
    );
    dispatch(Forward { a, x, b })
}

/// `L = sum_i tanh(a_i x_i + b_i)^2` and its gradient, in one vectorized pass: returns `L`
/// and *adds* `dL/da_i = 2 t_i (1 - t_i^2) x_i` into `ga[i]` and `dL/db_i = 2 t_i (1 - t_i^2)`
/// into `gb[i]` (`t_i = tanh(a_i x_i + b_i)`), as every vector-Jacobian product in this
/// crate does.
///
/// # Panics
/// If the slices differ in length.
#[track_caller]
pub fn tanh_sq_sum_grad(a: &[f64], x: &[f64], b: &[f64], ga: &mut [f64], gb: &mut [f64]) -> f64 {
    check_lens(
        "tanh_sq_sum_grad",
        &[
            ("a", a.len()),
            ("x", x.len()),
            ("b", b.len()),
            ("ga", ga.len()),
            ("gb", gb.len()),
        ],
    );
    dispatch(Gradient { a, x, b, ga, gb })
}
