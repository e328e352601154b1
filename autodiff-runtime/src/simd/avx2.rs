//! The AVX2+FMA lane type, used only after run-time detection (x86-64 only).
//!
//! # Soundness
//!
//! Every method of [`Avx2F64x4`] executes AVX, AVX2 or FMA instructions. The type is
//! private to this crate, [`Lanes`] is sealed, and the crate instantiates generic code
//! with it in exactly two places: [`run`], which [`super::dispatch`] calls only after
//! [`super::detect::has_avx2_fma`] has confirmed that the CPU supports AVX2 and FMA, and
//! `rules::lanes::run_avx2` (the entry point of the rules' fused loops, which
//! `rules::lanes::dispatch_f64` calls after the same check). Code outside the crate meets
//! the type only as the `V` of a [`Kernel::run`] or `FusedKernel::run` call made from one
//! of them, so any of its instructions executes on a CPU that has these features.
//! That is the invariant each `unsafe` block below relies on.
//!
//! The methods are `#[inline(always)]` so that they are inlined into [`run`], which is
//! compiled with the `avx2` and `fma` target features: the intrinsics then become single
//! instructions on 256-bit registers.

use std::arch::x86_64::*;
use std::ops::{Add, Div, Mul, Neg, Sub};

use super::lanes::{Lanes, Sealed, MANTISSA_MASK, ONE_BITS, POW2I_MAGIC, TWO_52_BITS};
use super::Kernel;

/// Evaluates an expression of AVX/AVX2/FMA intrinsics without memory operands.
macro_rules! avx {
    ($e:expr) => {
        // SAFETY: the intrinsics in `$e` take and return values only (no pointers), so
        // their one requirement is that the CPU supports AVX2 and FMA; a value of
        // `Avx2F64x4` is only ever operated on inside `run` or `rules::lanes::run_avx2`,
        // which are called only after detecting both features (see the module docs).
        unsafe { $e }
    };
}

/// Four `f64` lanes in one 256-bit AVX register.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2F64x4(__m256d);

impl Sealed for Avx2F64x4 {}

/// Runs `kernel` with the AVX2+FMA lane type.
///
/// # Safety
/// The CPU must support the `avx2` and `fma` target features this function is compiled
/// with. (An `unsafe fn` rather than a safe `#[target_feature]` function, which needs
/// Rust 1.86, so that the workspace's `rust-version = "1.85"` holds.)
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn run<K: Kernel>(kernel: K) -> K::Output {
    kernel.run::<Avx2F64x4>()
}

#[inline(always)]
fn bits(v: __m256d) -> __m256i {
    avx!(_mm256_castpd_si256(v))
}

#[inline(always)]
fn float(v: __m256i) -> __m256d {
    avx!(_mm256_castsi256_pd(v))
}

#[inline(always)]
fn splat_bits(v: u64) -> __m256i {
    avx!(_mm256_set1_epi64x(v as i64))
}

impl Add for Avx2F64x4 {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        Self(avx!(_mm256_add_pd(self.0, rhs.0)))
    }
}

impl Sub for Avx2F64x4 {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        Self(avx!(_mm256_sub_pd(self.0, rhs.0)))
    }
}

impl Mul for Avx2F64x4 {
    type Output = Self;
    #[inline(always)]
    fn mul(self, rhs: Self) -> Self {
        Self(avx!(_mm256_mul_pd(self.0, rhs.0)))
    }
}

impl Div for Avx2F64x4 {
    type Output = Self;
    #[inline(always)]
    fn div(self, rhs: Self) -> Self {
        Self(avx!(_mm256_div_pd(self.0, rhs.0)))
    }
}

impl Neg for Avx2F64x4 {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self(avx!(_mm256_xor_pd(self.0, _mm256_set1_pd(-0.0))))
    }
}

impl Lanes for Avx2F64x4 {
    #[inline(always)]
    fn splat(v: f64) -> Self {
        Self(avx!(_mm256_set1_pd(v)))
    }
    #[inline(always)]
    fn from_array(a: [f64; 4]) -> Self {
        // SAFETY: `a` is four initialised f64 (32 readable bytes; `loadu` has no alignment
        // requirement), and the CPU supports AVX (module docs).
        Self(unsafe { _mm256_loadu_pd(a.as_ptr()) })
    }
    #[inline(always)]
    fn to_array(self) -> [f64; 4] {
        let mut a = [0.0; 4];
        // SAFETY: `a` has room for four f64 (32 writable bytes, no alignment needed by
        // `storeu`), and the CPU supports AVX (module docs).
        unsafe { _mm256_storeu_pd(a.as_mut_ptr(), self.0) };
        a
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        Self(avx!(_mm256_fmadd_pd(self.0, a.0, b.0)))
    }
    #[inline(always)]
    fn abs(self) -> Self {
        Self(avx!(_mm256_andnot_pd(_mm256_set1_pd(-0.0), self.0)))
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        Self(avx!(_mm256_min_pd(self.0, other.0)))
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        Self(avx!(_mm256_max_pd(self.0, other.0)))
    }
    #[inline(always)]
    fn lt(self, other: Self) -> Self {
        Self(avx!(_mm256_cmp_pd::<_CMP_LT_OQ>(self.0, other.0)))
    }
    #[inline(always)]
    fn gt(self, other: Self) -> Self {
        Self(avx!(_mm256_cmp_pd::<_CMP_GT_OQ>(self.0, other.0)))
    }
    #[inline(always)]
    fn eq(self, other: Self) -> Self {
        Self(avx!(_mm256_cmp_pd::<_CMP_EQ_OQ>(self.0, other.0)))
    }
    #[inline(always)]
    fn is_nan(self) -> Self {
        Self(avx!(_mm256_cmp_pd::<_CMP_UNORD_Q>(self.0, self.0)))
    }
    #[inline(always)]
    fn select(self, if_true: Self, if_false: Self) -> Self {
        Self(avx!(_mm256_blendv_pd(if_false.0, if_true.0, self.0)))
    }
    #[inline(always)]
    fn bitand(self, other: Self) -> Self {
        Self(avx!(_mm256_and_pd(self.0, other.0)))
    }
    #[inline(always)]
    fn bitor(self, other: Self) -> Self {
        Self(avx!(_mm256_or_pd(self.0, other.0)))
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        let biased = bits(avx!(_mm256_add_pd(self.0, _mm256_set1_pd(POW2I_MAGIC))));
        Self(float(avx!(_mm256_slli_epi64::<52>(biased))))
    }
    #[inline(always)]
    fn split_exponent(self) -> (Self, Self) {
        let b = bits(self.0);
        let m = avx!(_mm256_or_si256(
            _mm256_and_si256(b, splat_bits(MANTISSA_MASK)),
            splat_bits(ONE_BITS)
        ));
        let e = avx!(_mm256_or_si256(
            _mm256_srli_epi64::<52>(b),
            splat_bits(TWO_52_BITS)
        ));
        let e = avx!(_mm256_sub_pd(float(e), _mm256_set1_pd(POW2I_MAGIC)));
        (Self(float(m)), Self(e))
    }
    #[inline(always)]
    fn from_f32_array(a: [f32; 4]) -> Self {
        // SAFETY: `a` is four initialised f32 (16 readable bytes, no alignment needed by
        // `loadu`), and the CPU supports AVX (module docs).
        Self(unsafe { _mm256_cvtps_pd(_mm_loadu_ps(a.as_ptr())) })
    }
    #[inline(always)]
    fn to_f32_array(self) -> [f32; 4] {
        let mut a = [0.0f32; 4];
        // SAFETY: `a` has room for four f32 (16 writable bytes, no alignment needed by
        // `storeu`), and the CPU supports AVX (module docs).
        unsafe { _mm_storeu_ps(a.as_mut_ptr(), _mm256_cvtpd_ps(self.0)) };
        a
    }
}
