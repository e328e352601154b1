//! Vectorized elementwise math for fused loops: `exp`, `exp_m1`, `ln`, `ln_1p`, `tanh`,
//! `sigmoid` and `softplus` on four `f64` or eight `f32` lanes at a time.
//!
//! Three levels of API:
//!
//! - **Slices**: [`exp_slice`]`(x, out)`, [`exp_in_place`]`(x)`, and the same for every
//!   function, plus `f32` versions ([`exp_slice_f32`], ...) that compute in `f64` and round
//!   once.
//! - **Vectors**: [`exp`]`(v)`, [`tanh`]`(v)`, ... on any [`FloatLanes`] type, to call per
//!   chunk of four `f64` ([`Lanes`]) or eight `f32` elements inside a fused loop. [`f64x4`]
//!   and [`f32x8`] (`wide`'s, re-exported) are such types, so
//!   `simd::tanh(simd::f64x4::splat(0.5))` works anywhere. On `f32` lanes the functions
//!   run `f32` polynomials (Cephes' `expf`, FreeBSD's `logf` kernel), computed in `f32`.
//! - **Dispatch**: write a fused loop once as a [`Kernel`], generic over `V: Lanes`, and
//!   run it with [`dispatch`]: on x86-64 CPUs with AVX2 and FMA (detected at run time,
//!   once) it runs on 256-bit registers with fused multiply-add; elsewhere on
//!   [`wide::f64x4`]. [`KernelF32`] and [`dispatch_f32`] are the same for `f32` data on
//!   eight lanes. The example below is a complete one.
//!
//! ```
//! use autodiff_runtime::simd::{self, Kernel, Lanes};
//!
//! // Slices.
//! let x = [0.0, 1.0, -1.0, 710.0, f64::NEG_INFINITY];
//! let mut y = [0.0; 5];
//! simd::exp_slice(&x, &mut y);
//! assert_eq!(y[0], 1.0);
//! assert!((y[1] - std::f64::consts::E).abs() < 1e-15);
//! assert_eq!(y[3], f64::INFINITY);
//! assert_eq!(y[4], 0.0);
//!
//! // A fused loop: sum of sigmoid(x) over a slice, four lanes at a time.
//! struct SumSigmoid<'a>(&'a [f64]);
//! impl Kernel for SumSigmoid<'_> {
//!     type Output = f64;
//!     #[inline(always)]
//!     fn run<V: Lanes>(self) -> f64 {
//!         let chunks = self.0.chunks_exact(4);
//!         let tail: f64 = chunks.remainder().iter().map(|&v| 1.0 / (1.0 + (-v).exp())).sum();
//!         let mut acc = V::splat(0.0);
//!         for c in chunks {
//!             acc = acc + simd::sigmoid(V::load(c));
//!         }
//!         acc.reduce_sum() + tail
//!     }
//! }
//! let s = simd::dispatch(SumSigmoid(&[0.0; 10]));
//! assert_eq!(s, 5.0);
//! ```
//!
//! Accuracy: every function stays within 4 ulp of Rust's standard library (glibc's libm
//! on Linux) over 10^7 random inputs spanning its domain, tiny, huge, negative and
//! subnormal inputs included, on both lane types (the `*_accuracy` tests, which print
//! the measured maxima). Measured: `exp`, `ln`, `ln_1p` 1 ulp; `exp_m1` 1 ulp (2 on
//! `wide::f64x4` without FMA); `sigmoid`, `softplus` 2 ulp; `tanh` 3 ulp, where glibc's
//! `tanh` is itself up to 1.7 ulp off (see [`tanh`]); the `f32` slice functions (computed
//! in `f64`) at most 2 `f32` ulp. The `f32` lane kernels, against the correctly rounded
//! result (the `f64` function rounded to `f32`), over 10^7 inputs per function on both
//! `f32` lane types (the `*_f32_accuracy` tests): `exp`, `ln`, `ln_1p` 1 ulp; `exp_m1` 1
//! ulp (2 on `wide::f32x8` without FMA); `tanh`, `sigmoid`, `softplus` 2 ulp. Infinities, NaN, overflow and underflow follow the standard library. (The
//! workspace compiles this crate with `opt-level = 3` in the test profile, so the 10^7
//! cases take seconds.)
//!
//! `wide` ships its own `exp`/`ln`/`tanh`, but they cannot be chosen at run time (its
//! instructions are fixed at compile time) and its `ln` returns `-inf` for subnormal
//! inputs, so the math here is written once per precision over [`FloatLanes`] instead.

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
mod detect;
mod exp;
mod lanes;
mod ln;
mod math_f32;
mod sigmoid;
mod slice;
mod softplus;
mod tanh;

#[cfg(test)]
mod tests;

pub use detect::{has_avx2_fma, simd_level, SimdLevel};
pub use exp::{exp, exp_m1};
pub(crate) use lanes::MAX_LANES;
pub use lanes::{FloatLanes, LaneElem, Lanes};
pub use ln::{ln, ln_1p};
pub use sigmoid::sigmoid;
pub use slice::*;
pub(crate) use slice::{lanes_in_place_f32, lanes_in_place_f64, LaneFn};
pub use softplus::softplus;
pub use tanh::tanh;
/// The portable eight-lane `f32` vector ([`wide::f32x8`]), re-exported likewise.
pub use wide::f32x8;
/// The portable four-lane vector ([`wide::f64x4`]), re-exported so that users of the vector
/// API need no direct dependency on `wide`.
pub use wide::f64x4;

/// A fused loop written once for any lane type; run it with [`dispatch`].
///
/// Mark `run` `#[inline(always)]`: it is then compiled inside the AVX2+FMA entry point
/// and its vector operations become single 256-bit instructions. Without it the code is
/// still correct but each vector operation becomes a function call.
pub trait Kernel {
    /// What the loop returns.
    type Output;
    /// The loop body, generic over the lane type.
    fn run<V: Lanes>(self) -> Self::Output;
}

/// Runs `kernel` on the best lane type for this CPU (see [`simd_level`]).
#[inline]
pub fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: `has_avx2_fma` returned true, so the CPU supports the `avx2` and `fma`
        // target features that `avx2::run` is compiled with.
        return unsafe { avx2::run(kernel) };
    }
    kernel.run::<wide::f64x4>()
}

/// A fused loop over `f32` data written once for any eight-lane `f32` type; run it with
/// [`dispatch_f32`]. The `f32` counterpart of [`Kernel`] (mark `run` `#[inline(always)]`
/// for the same reason).
pub trait KernelF32 {
    /// What the loop returns.
    type Output;
    /// The loop body, generic over the lane type.
    fn run<V: FloatLanes<Elem = f32>>(self) -> Self::Output;
}

/// Runs `kernel` on the best `f32` lane type for this CPU (see [`simd_level`]): AVX2+FMA
/// lanes when the CPU has them, [`wide::f32x8`] elsewhere.
#[inline]
pub fn dispatch_f32<K: KernelF32>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: `has_avx2_fma` returned true, so the CPU supports the `avx2` and `fma`
        // target features that `avx2::run_f32` is compiled with.
        return unsafe { avx2::run_f32(kernel) };
    }
    kernel.run::<wide::f32x8>()
}
