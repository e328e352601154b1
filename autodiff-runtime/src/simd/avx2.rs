//! The AVX2+FMA lane types, used only after run-time detection (x86-64 only): four `f64`
//! ([`Avx2F64x4`]) and eight `f32` ([`Avx2F32x8`]) per 256-bit register.
//!
//! # Soundness
//!
//! Every method of [`Avx2F64x4`] and [`Avx2F32x8`] executes AVX, AVX2 or FMA
//! instructions. The types are private to this crate, [`FloatLanes`] is sealed, and the
//! crate instantiates generic code with them in exactly four places: [`run`] and
//! [`run_f32`], which [`super::dispatch`] and [`super::dispatch_f32`] call only after
//! [`super::detect::has_avx2_fma`] has confirmed that the CPU supports AVX2 and FMA, and
//! `rules::lanes::run_avx2` / `rules::lanes::run_avx2_f32` (the entry points of the
//! rules' fused loops, which `rules::lanes::dispatch_f64` / `dispatch_f32` call after the
//! same check). Code outside the crate meets the types only as the `V` of a
//! [`Kernel::run`], [`KernelF32::run`] or `FusedKernel::run` call made from one of them,
//! so any of their instructions executes on a CPU that has these features. That is the
//! invariant each `unsafe` block below relies on.
//!
//! The methods are `#[inline(always)]` so that they are inlined into the entry points,
//! which are compiled with the `avx2` and `fma` target features: the intrinsics then
//! become single instructions on 256-bit registers.

use std::arch::x86_64::*;
use std::ops::{Add, Div, Mul, Neg, Sub};

use super::lanes::{
    FloatLanes, Lanes, Sealed, MANTISSA_MASK, MANTISSA_MASK_F32, ONE_BITS, ONE_BITS_F32,
    POW2I_MAGIC, POW2I_MAGIC_F32, TWO_23_BITS, TWO_52_BITS,
};
use super::{Kernel, KernelF32};

/// Evaluates an expression of AVX/AVX2/FMA intrinsics without memory operands.
macro_rules! avx {
    ($e:expr) => {
        // SAFETY: the intrinsics in `$e` take and return values only (no pointers), so
        // their one requirement is that the CPU supports AVX2 and FMA; a value of
        // `Avx2F64x4` or `Avx2F32x8` is only ever operated on inside the entry points
        // (`run`, `run_f32`, `rules::lanes::run_avx2`, `rules::lanes::run_avx2_f32`),
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

/// Runs `kernel` with the AVX2+FMA `f32` lane type.
///
/// # Safety
/// The CPU must support the `avx2` and `fma` target features this function is compiled
/// with.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn run_f32<K: KernelF32>(kernel: K) -> K::Output {
    kernel.run::<Avx2F32x8>()
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

impl FloatLanes for Avx2F64x4 {
    type Elem = f64;
    const LANES: usize = 4;
    #[inline(always)]
    fn splat(v: f64) -> Self {
        Self(avx!(_mm256_set1_pd(v)))
    }
    #[inline(always)]
    fn splat_elem(v: f64) -> Self {
        Self(avx!(_mm256_set1_pd(v)))
    }
    #[inline(always)]
    fn load(s: &[f64]) -> Self {
        let s: &[f64; 4] = s[..4].try_into().expect("a slice of four");
        // SAFETY: `s` is four initialised f64 (32 readable bytes; `loadu` has no alignment
        // requirement), and the CPU supports AVX (module docs).
        Self(unsafe { _mm256_loadu_pd(s.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        let s: &mut [f64; 4] = (&mut s[..4]).try_into().expect("a slice of four");
        // SAFETY: `s` has room for four f64 (32 writable bytes, no alignment needed by
        // `storeu`), and the CPU supports AVX (module docs).
        unsafe { _mm256_storeu_pd(s.as_mut_ptr(), self.0) };
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Self(avx!(_mm256_sqrt_pd(self.0)))
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
}

impl Lanes for Avx2F64x4 {
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

/// Eight `f32` lanes in one 256-bit AVX register.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2F32x8(__m256);

impl Sealed for Avx2F32x8 {}

#[inline(always)]
fn bits_ps(v: __m256) -> __m256i {
    avx!(_mm256_castps_si256(v))
}

#[inline(always)]
fn float_ps(v: __m256i) -> __m256 {
    avx!(_mm256_castsi256_ps(v))
}

#[inline(always)]
fn splat_bits32(v: u32) -> __m256i {
    avx!(_mm256_set1_epi32(v as i32))
}

impl Add for Avx2F32x8 {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        Self(avx!(_mm256_add_ps(self.0, rhs.0)))
    }
}

impl Sub for Avx2F32x8 {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        Self(avx!(_mm256_sub_ps(self.0, rhs.0)))
    }
}

impl Mul for Avx2F32x8 {
    type Output = Self;
    #[inline(always)]
    fn mul(self, rhs: Self) -> Self {
        Self(avx!(_mm256_mul_ps(self.0, rhs.0)))
    }
}

impl Div for Avx2F32x8 {
    type Output = Self;
    #[inline(always)]
    fn div(self, rhs: Self) -> Self {
        Self(avx!(_mm256_div_ps(self.0, rhs.0)))
    }
}

impl Neg for Avx2F32x8 {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self(avx!(_mm256_xor_ps(self.0, _mm256_set1_ps(-0.0))))
    }
}

impl FloatLanes for Avx2F32x8 {
    type Elem = f32;
    const LANES: usize = 8;
    #[inline(always)]
    fn splat(v: f64) -> Self {
        Self(avx!(_mm256_set1_ps(v as f32)))
    }
    #[inline(always)]
    fn splat_elem(v: f32) -> Self {
        Self(avx!(_mm256_set1_ps(v)))
    }
    #[inline(always)]
    fn load(s: &[f32]) -> Self {
        let s: &[f32; 8] = s[..8].try_into().expect("a slice of eight");
        // SAFETY: `s` is eight initialised f32 (32 readable bytes; `loadu` has no
        // alignment requirement), and the CPU supports AVX (module docs).
        Self(unsafe { _mm256_loadu_ps(s.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, s: &mut [f32]) {
        let s: &mut [f32; 8] = (&mut s[..8]).try_into().expect("a slice of eight");
        // SAFETY: `s` has room for eight f32 (32 writable bytes, no alignment needed by
        // `storeu`), and the CPU supports AVX (module docs).
        unsafe { _mm256_storeu_ps(s.as_mut_ptr(), self.0) };
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Self(avx!(_mm256_sqrt_ps(self.0)))
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        Self(avx!(_mm256_fmadd_ps(self.0, a.0, b.0)))
    }
    #[inline(always)]
    fn abs(self) -> Self {
        Self(avx!(_mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0)))
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        Self(avx!(_mm256_min_ps(self.0, other.0)))
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        Self(avx!(_mm256_max_ps(self.0, other.0)))
    }
    #[inline(always)]
    fn lt(self, other: Self) -> Self {
        Self(avx!(_mm256_cmp_ps::<_CMP_LT_OQ>(self.0, other.0)))
    }
    #[inline(always)]
    fn gt(self, other: Self) -> Self {
        Self(avx!(_mm256_cmp_ps::<_CMP_GT_OQ>(self.0, other.0)))
    }
    #[inline(always)]
    fn eq(self, other: Self) -> Self {
        Self(avx!(_mm256_cmp_ps::<_CMP_EQ_OQ>(self.0, other.0)))
    }
    #[inline(always)]
    fn is_nan(self) -> Self {
        Self(avx!(_mm256_cmp_ps::<_CMP_UNORD_Q>(self.0, self.0)))
    }
    #[inline(always)]
    fn select(self, if_true: Self, if_false: Self) -> Self {
        Self(avx!(_mm256_blendv_ps(if_false.0, if_true.0, self.0)))
    }
    #[inline(always)]
    fn bitand(self, other: Self) -> Self {
        Self(avx!(_mm256_and_ps(self.0, other.0)))
    }
    #[inline(always)]
    fn bitor(self, other: Self) -> Self {
        Self(avx!(_mm256_or_ps(self.0, other.0)))
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        let biased = bits_ps(avx!(_mm256_add_ps(self.0, _mm256_set1_ps(POW2I_MAGIC_F32))));
        Self(float_ps(avx!(_mm256_slli_epi32::<23>(biased))))
    }
    #[inline(always)]
    fn split_exponent(self) -> (Self, Self) {
        let b = bits_ps(self.0);
        let m = avx!(_mm256_or_si256(
            _mm256_and_si256(b, splat_bits32(MANTISSA_MASK_F32)),
            splat_bits32(ONE_BITS_F32)
        ));
        let e = avx!(_mm256_or_si256(
            _mm256_srli_epi32::<23>(b),
            splat_bits32(TWO_23_BITS)
        ));
        let e = avx!(_mm256_sub_ps(float_ps(e), _mm256_set1_ps(POW2I_MAGIC_F32)));
        (Self(float_ps(m)), Self(e))
    }
}
