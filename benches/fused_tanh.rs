//! A fused elementwise loop on the vector math: `L = sum_i tanh(a_i x_i + b_i)^2`.
//!
//! This is the shape of code `#[differentiable]` generates for a chain of elementwise
//! operations, written by hand: one pass for the value, one pass for the value and the
//! gradients with respect to `a` and `b`, no intermediate vectors. The transcendental
//! function runs on [`autodiff_runtime::simd::tanh`]; every derivative comes from the rules in
//! [`autodiff_runtime::rules`] (applied lanewise through [`Lanes::zip_map`]):
//!
//! ```text
//! u = a x + b            (Mul, Add)
//! t = tanh(u)            (Tanh)
//! s = t^2                (PowI(2)),   L = sum s
//! dL/dt = PowI(2).df(t, s)  = 2t
//! dL/du = dL/dt * Tanh.df(u, t)  = 2t (1 - t^2)
//! dL/da = dL/du * Mul.da(a, x, u) = dL/du * x,   dL/db = dL/du * Add.db(..) = dL/du
//! ```

//!
//! It lives with the benches (`simd_kernels`, groups `elementwise_forward` and
//! `elementwise_grad`), not in the runtime's API: it is a yardstick, written only with
//! the public [`Kernel`] / [`dispatch`] API that any user has.

use autodiff_runtime::rules::{Add, BinaryRule, ElementwiseRule, Mul, PowI, Tanh};
use autodiff_runtime::simd::{dispatch, tanh, Kernel, Lanes};

#[track_caller]
fn check_lens(what: &str, lens: &[(&str, usize)]) {
    let n = lens[0].1;
    if lens.iter().any(|&(_, len)| len != n) {
        let shown: Vec<String> = lens
            .iter()
            .map(|(name, len)| format!("{name}: {len}"))
            .collect();
        panic!(
            "fused_tanh::{what}: slices differ in length ({}); pass slices of one length",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (64-bit LCG), so the test needs no dependency.
    struct Rng(u64);

    impl Rng {
        fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
        }
    }

    /// The scalar libm version of the fused example, written out independently.
    fn tanh_sq_sum_scalar(a: &[f64], x: &[f64], b: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        let mut value = 0.0;
        let (mut ga, mut gb) = (vec![0.0; a.len()], vec![0.0; a.len()]);
        for i in 0..a.len() {
            let t = (a[i] * x[i] + b[i]).tanh();
            value += t * t;
            let du = 2.0 * t * (1.0 - t * t);
            ga[i] = du * x[i];
            gb[i] = du;
        }
        (value, ga, gb)
    }

    #[test]
    fn fused_matches_scalar_libm_and_finite_differences() {
        let mut rng = Rng(11);
        for n in [1usize, 3, 4, 7, 64, 1001] {
            let a: Vec<f64> = (0..n).map(|_| rng.uniform(-2.0, 2.0)).collect();
            let x: Vec<f64> = (0..n).map(|_| rng.uniform(-2.0, 2.0)).collect();
            let b: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let (value, ga_ref, gb_ref) = tanh_sq_sum_scalar(&a, &x, &b);
            let forward = tanh_sq_sum(&a, &x, &b);
            // Start from 1.0 to check that the gradient is added, not stored.
            let (mut ga, mut gb) = (vec![1.0; n], vec![1.0; n]);
            let value_grad = tanh_sq_sum_grad(&a, &x, &b, &mut ga, &mut gb);
            let tol = 1e-13 * (1.0 + value.abs());
            assert!(
                (forward - value).abs() <= tol,
                "n = {n}: {forward} vs {value}"
            );
            assert!(
                (value_grad - value).abs() <= tol,
                "n = {n}: {value_grad} vs {value}"
            );
            for i in 0..n {
                assert!((ga[i] - 1.0 - ga_ref[i]).abs() <= 1e-14, "n = {n}, ga[{i}]");
                assert!((gb[i] - 1.0 - gb_ref[i]).abs() <= 1e-14, "n = {n}, gb[{i}]");
            }
            // Central differences on a few coordinates.
            let h = 1e-6;
            for i in [0, n / 2, n - 1] {
                let mut ap = a.clone();
                ap[i] += h;
                let mut am = a.clone();
                am[i] -= h;
                let fd = (tanh_sq_sum(&ap, &x, &b) - tanh_sq_sum(&am, &x, &b)) / (2.0 * h);
                assert!(
                    (fd - (ga[i] - 1.0)).abs() <= 1e-6,
                    "n = {n}: d/da[{i}] {fd} vs {}",
                    ga[i] - 1.0
                );
                let mut bp = b.clone();
                bp[i] += h;
                let mut bm = b.clone();
                bm[i] -= h;
                let fd = (tanh_sq_sum(&a, &x, &bp) - tanh_sq_sum(&a, &x, &bm)) / (2.0 * h);
                assert!(
                    (fd - (gb[i] - 1.0)).abs() <= 1e-6,
                    "n = {n}: d/db[{i}] {fd} vs {}",
                    gb[i] - 1.0
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "a: 3, x: 3, b: 2")]
    fn fused_length_mismatch_names_all_lengths() {
        tanh_sq_sum(&[0.0; 3], &[0.0; 3], &[0.0; 2]);
    }
}
