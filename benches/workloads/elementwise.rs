//! The elementwise workload `sum(tanh(a .* x + b)^2)` over vectors, gradient with respect
//! to `a` and `b`, in the three forms the benches compare: `#[differentiable]`, the dynamic
//! engine, and a hand-written loop.
//!
//! Shared by `benches/elementwise.rs`, `benches/allocations.rs` and
//! `tests/static_vs_dynamic.rs` (through `#[path]`), so the test checks exactly the code
//! the benches time.

use autodiff::dynamic::{GradError, Tensor};
use autodiff::nalgebra::{DMatrix, DVector};
use autodiff::prelude::*;

/// The static engine: `sum(tanh(a .* x + b)^2)`.
#[differentiable(wrt(a, b))]
pub fn elementwise(a: &DVector<f64>, b: &DVector<f64>, x: &DVector<f64>) -> f64 {
    let z = (a.component_mul(x) + b).tanh();
    z.powi(2).sum()
}

/// [`elementwise`] on `f32` data: the same chain, fused the same way, on eight `f32` lanes
/// per vector (four `f64` for [`elementwise`]).
#[differentiable(wrt(a, b))]
pub fn elementwise_f32(a: &DVector<f32>, b: &DVector<f32>, x: &DVector<f32>) -> f32 {
    let z = (a.component_mul(x) + b).tanh();
    z.powi(2).sum()
}

/// The hand-written gradient: one pass over the inputs with `f64::tanh` (scalar libm),
/// writing both gradients into buffers the caller owns; returns the value.
///
/// With `t = tanh(a x + b)`: `d/db t^2 = 2 t (1 - t^2)` and `d/da t^2 = x d/db t^2`.
///
/// # Panics
/// If the five slices do not have the same length.
pub fn elementwise_handwritten(
    a: &[f64],
    b: &[f64],
    x: &[f64],
    ga: &mut [f64],
    gb: &mut [f64],
) -> f64 {
    let n = a.len();
    assert!(
        b.len() == n && x.len() == n && ga.len() == n && gb.len() == n,
        "elementwise_handwritten: every slice must have length {n}"
    );
    let mut sum = 0.0;
    for ((((&ai, &bi), &xi), gai), gbi) in a.iter().zip(b).zip(x).zip(ga).zip(gb) {
        let t = (ai * xi + bi).tanh();
        sum += t * t;
        let d = 2.0 * t * (1.0 - t * t);
        *gbi = d;
        *gai = d * xi;
    }
    sum
}

/// The hand-written gradient on the vectorised kernels the static engine uses: one pass
/// over four lanes at a time with `autodiff::simd::tanh` (AVX2+FMA when the CPU has them,
/// chosen at run time), `a x + b` in one fused multiply-add, and both gradients stored
/// (not added into zeroed buffers), with the formulas of [`elementwise_handwritten`];
/// returns the value.
///
/// # Panics
/// If the five slices do not have the same length.
pub fn elementwise_handwritten_simd(
    a: &[f64],
    b: &[f64],
    x: &[f64],
    ga: &mut [f64],
    gb: &mut [f64],
) -> f64 {
    use autodiff::simd::{self, Kernel, Lanes};

    struct Pass<'s> {
        a: &'s [f64],
        b: &'s [f64],
        x: &'s [f64],
        ga: &'s mut [f64],
        gb: &'s mut [f64],
    }

    impl Kernel for Pass<'_> {
        type Output = f64;
        #[inline(always)]
        fn run<V: Lanes>(self) -> f64 {
            let Pass { a, b, x, ga, gb } = self;
            // `t^2` and the two gradients at one group of lanes (a function, not a closure:
            // only `#[inline(always)]` code is compiled into the AVX2 entry point).
            #[inline(always)]
            fn step<V: Lanes>(a: V, b: V, x: V) -> (V, V, V) {
                let t = simd::tanh(a.mul_add(x, b));
                let d = (t + t) * (V::splat(1.0) - t * t);
                (t * t, d * x, d)
            }
            let mut acc = V::splat(0.0);
            let inputs = a
                .chunks_exact(4)
                .zip(b.chunks_exact(4))
                .zip(x.chunks_exact(4));
            let outputs = ga.chunks_exact_mut(4).zip(gb.chunks_exact_mut(4));
            for (((a, b), x), (ga, gb)) in inputs.zip(outputs) {
                let (s, da, db) = step(V::load(a), V::load(b), V::load(x));
                acc = acc + s;
                da.store(ga);
                db.store(gb);
            }
            let mut sum = acc.reduce_sum();
            let n4 = a.len() - a.len() % 4;
            for i in n4..a.len() {
                let (s, da, db) = step(V::splat(a[i]), V::splat(b[i]), V::splat(x[i]));
                sum += s.to_array()[0];
                ga[i] = da.to_array()[0];
                gb[i] = db.to_array()[0];
            }
            sum
        }
    }

    let n = a.len();
    assert!(
        b.len() == n && x.len() == n && ga.len() == n && gb.len() == n,
        "elementwise_handwritten_simd: every slice must have length {n}"
    );
    simd::dispatch(Pass { a, b, x, ga, gb })
}

/// The hand-written forward: `sum(tanh(a x + b)^2)` in one pass with `f64::tanh`.
///
/// # Panics
/// If the three slices do not have the same length.
pub fn elementwise_handwritten_forward(a: &[f64], b: &[f64], x: &[f64]) -> f64 {
    let n = a.len();
    assert!(
        b.len() == n && x.len() == n,
        "elementwise_handwritten_forward: every slice must have length {n}"
    );
    a.iter()
        .zip(b)
        .zip(x)
        .map(|((&ai, &bi), &xi)| {
            let t = (ai * xi + bi).tanh();
            t * t
        })
        .sum()
}

/// The memory-bandwidth floor: moves the bytes the gradient moves (reads `a`, `b`, `x`,
/// writes two vectors of the same length) with no arithmetic worth the name.
///
/// # Panics
/// If the five slices do not have the same length.
pub fn elementwise_copy(a: &[f64], b: &[f64], x: &[f64], ga: &mut [f64], gb: &mut [f64]) {
    let n = a.len();
    assert!(
        b.len() == n && x.len() == n && ga.len() == n && gb.len() == n,
        "elementwise_copy: every slice must have length {n}"
    );
    for ((((&ai, &bi), &xi), gai), gbi) in a.iter().zip(b).zip(x).zip(ga).zip(gb) {
        *gai = ai;
        *gbi = bi + xi;
    }
}

/// The dynamic engine's leaves for the elementwise workload (n x 1 columns).
pub struct DynamicElementwise {
    /// `a`, requires grad.
    pub a: Tensor,
    /// `b`, requires grad.
    pub b: Tensor,
    /// `x`, data.
    pub x: Tensor,
}

impl DynamicElementwise {
    /// Leaves holding copies of the three vectors.
    pub fn new(a: &DVector<f64>, b: &DVector<f64>, x: &DVector<f64>) -> Self {
        let column =
            |v: &DVector<f64>| Tensor::from(DMatrix::from_column_slice(v.len(), 1, v.as_slice()));
        DynamicElementwise {
            a: column(a).requires_grad(),
            b: column(b).requires_grad(),
            x: column(x),
        }
    }

    /// The loss as a one-element tensor (recorded on the tape unless under `no_grad`).
    pub fn loss(&self) -> Tensor {
        (&(&self.a * &self.x) + &self.b).tanh().powi(2).sum()
    }

    /// One gradient evaluation as a PyTorch user writes it: clear the gradients, record
    /// the loss, `backward()`. Returns the value; the gradients are in `a.grad()`, `b.grad()`.
    pub fn loss_grad(&self) -> Result<f64, GradError> {
        self.a.zero_grad();
        self.b.zero_grad();
        let loss = self.loss();
        loss.backward()?;
        Ok(loss.item())
    }
}

/// Deterministic inputs of length `n` in [-1, 1) (a linear congruential generator, so
/// benches and tests need no random-number crate).
pub fn inputs(n: usize, seed: u64) -> (DVector<f64>, DVector<f64>, DVector<f64>) {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let a = DVector::from_fn(n, |_, _| next());
    let b = DVector::from_fn(n, |_, _| next());
    let x = DVector::from_fn(n, |_, _| next());
    (a, b, x)
}

/// [`inputs`] rounded to `f32`.
pub fn inputs_f32(n: usize, seed: u64) -> (DVector<f32>, DVector<f32>, DVector<f32>) {
    let (a, b, x) = inputs(n, seed);
    (
        a.map(|v| v as f32),
        b.map(|v| v as f32),
        x.map(|v| v as f32),
    )
}
