//! Run-time CPU feature detection, done once and cached.

use std::sync::atomic::{AtomicU8, Ordering};

/// The instruction set the slice kernels and [`super::dispatch`] run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdLevel {
    /// 256-bit AVX2 with fused multiply-add (x86-64, detected at run time).
    Avx2Fma,
    /// `wide::f64x4` as compiled for the target: SSE2 pairs on baseline x86-64, NEON on
    /// AArch64, scalar code elsewhere.
    Portable,
}

const UNKNOWN: u8 = 0;
const AVX2_FMA: u8 = 1;
const PORTABLE: u8 = 2;

static LEVEL: AtomicU8 = AtomicU8::new(UNKNOWN);

/// The level [`super::dispatch`] uses: AVX2+FMA when the CPU has both, unless the
/// environment variable `AUTODIFF_SIMD` is `portable` when first asked (useful to
/// measure or test the fallback on an AVX2 machine).
#[inline]
pub fn simd_level() -> SimdLevel {
    match LEVEL.load(Ordering::Relaxed) {
        AVX2_FMA => SimdLevel::Avx2Fma,
        PORTABLE => SimdLevel::Portable,
        _ => detect(),
    }
}

/// Whether the AVX2+FMA kernels are used (see [`simd_level`]).
#[inline]
pub fn has_avx2_fma() -> bool {
    simd_level() == SimdLevel::Avx2Fma
}

#[cold]
fn detect() -> SimdLevel {
    let forced_portable = std::env::var("AUTODIFF_SIMD").is_ok_and(|v| v == "portable");
    let level = if !forced_portable && cpu_has_avx2_fma() {
        SimdLevel::Avx2Fma
    } else {
        SimdLevel::Portable
    };
    let code = match level {
        SimdLevel::Avx2Fma => AVX2_FMA,
        SimdLevel::Portable => PORTABLE,
    };
    // Racing first calls all compute the same value, so a relaxed store is enough.
    LEVEL.store(code, Ordering::Relaxed);
    level
}

#[cfg(target_arch = "x86_64")]
fn cpu_has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_avx2_fma() -> bool {
    false
}
