//! [`Lanes`]: the four-lane `f64` vector that the math kernels are written against.
//!
//! The kernels in this module are written once, generically over `V: Lanes`, and are
//! instantiated twice: for [`wide::f64x4`] (portable: SSE2 on baseline x86-64, NEON on
//! AArch64, scalar elsewhere; `wide` picks the instructions when the crate is compiled)
//! and, on x86-64, for a private AVX2+FMA type that [`super::dispatch`] selects at run
//! time. `wide` alone cannot do the run-time choice, because its instruction selection is
//! fixed by the compile-time target features.
//!
//! Masks are vectors whose lanes are all ones (true) or all zeros (false), as returned
//! by the comparisons.

use std::ops::{Add, Div, Mul, Neg, Sub};

mod sealed {
    /// Only this crate's lane types implement [`super::Lanes`]: the AVX2 type relies on
    /// being instantiated only after run-time detection.
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// Four `f64` lanes with the operations the math kernels need.
///
/// Implemented by [`wide::f64x4`] and by a private AVX2+FMA type. Write fused loops
/// generically over `V: Lanes` inside a [`super::Kernel`], and call the vector math
/// ([`super::exp`], [`super::tanh`], ...) per chunk of four elements.
pub trait Lanes:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Sealed
    + 'static
{
    /// All four lanes equal to `v`.
    fn splat(v: f64) -> Self;
    /// The lanes `a[0], a[1], a[2], a[3]`.
    fn from_array(a: [f64; 4]) -> Self;
    /// The lanes as an array.
    fn to_array(self) -> [f64; 4];
    /// `self * a + b`, with one rounding where the lane type has FMA (the AVX2 type;
    /// `wide::f64x4` only when compiled with the `fma` target feature).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `|self|` (clears the sign bit; NaN stays NaN).
    fn abs(self) -> Self;
    /// `self` where `self < other`, else `other`: when either is NaN, `other` (as x86's
    /// `minpd`). `V::splat(limit).min(x)` therefore keeps a NaN `x`.
    fn min(self, other: Self) -> Self;
    /// `self` where `self > other`, else `other`: when either is NaN, `other` (as x86's
    /// `maxpd`). `V::splat(limit).max(x)` therefore keeps a NaN `x`.
    fn max(self, other: Self) -> Self;
    /// Mask of `self < other` (false when either is NaN).
    fn lt(self, other: Self) -> Self;
    /// Mask of `self > other` (false when either is NaN).
    fn gt(self, other: Self) -> Self;
    /// Mask of `self == other` (false when either is NaN).
    fn eq(self, other: Self) -> Self;
    /// Mask of the NaN lanes.
    fn is_nan(self) -> Self;
    /// With `self` a mask: `if_true` where the mask is set, `if_false` elsewhere.
    fn select(self, if_true: Self, if_false: Self) -> Self;
    /// Bitwise and of the lanes' bit patterns.
    fn bitand(self, other: Self) -> Self;
    /// Bitwise or of the lanes' bit patterns.
    fn bitor(self, other: Self) -> Self;
    /// `2^self` for lanes holding integers in `-1022..=1023` (built from the exponent
    /// bits, exact). Other inputs give unspecified values.
    fn pow2i(self) -> Self;
    /// For positive normal lanes `x = m * 2^e`, returns `(m, e)` with `m` in `[1, 2)` and
    /// `e` an integer-valued float. Other inputs give unspecified values.
    fn split_exponent(self) -> (Self, Self);
    /// Widens four `f32` to `f64`.
    fn from_f32_array(a: [f32; 4]) -> Self;
    /// Rounds the lanes to `f32` (to nearest).
    fn to_f32_array(self) -> [f32; 4];

    /// Loads the first four elements of `s`.
    ///
    /// # Panics
    /// If `s.len() < 4`.
    #[inline(always)]
    fn load(s: &[f64]) -> Self {
        // One bounds check, then one unaligned vector load (indexing the four elements
        // one by one leaves four checks between four scalar loads).
        let s: &[f64; 4] = s[..4].try_into().expect("a slice of four");
        Self::from_array(*s)
    }
    /// Stores the lanes into the first four elements of `s`.
    ///
    /// # Panics
    /// If `s.len() < 4`.
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        s[..4].copy_from_slice(&self.to_array());
    }
    /// Applies a scalar function to each lane. Use it for scalar rule formulas
    /// (`Tanh.df(x, y)`) inside fused loops: after inlining, LLVM turns simple formulas
    /// back into vector instructions.
    #[inline(always)]
    fn map(self, f: impl Fn(f64) -> f64) -> Self {
        let a = self.to_array();
        Self::from_array([f(a[0]), f(a[1]), f(a[2]), f(a[3])])
    }
    /// Applies a scalar function of two arguments lane by lane.
    #[inline(always)]
    fn zip_map(self, other: Self, f: impl Fn(f64, f64) -> f64) -> Self {
        let (a, b) = (self.to_array(), other.to_array());
        Self::from_array([f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2]), f(a[3], b[3])])
    }
    /// Sum of the four lanes.
    #[inline(always)]
    fn reduce_sum(self) -> f64 {
        let a = self.to_array();
        (a[0] + a[1]) + (a[2] + a[3])
    }
    /// `|self|` with the sign bit of `sign`.
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        self.abs().bitor(sign.bitand(Self::splat(-0.0)))
    }
}

impl Sealed for wide::f64x4 {}

/// `1023 + 2^52`: adding it to a small integer-valued float puts `n + 1023` in the low
/// mantissa bits (shared by the `pow2i` implementations).
pub(crate) const POW2I_MAGIC: f64 = 4503599627371519.0;
/// The exponent bits of `1.0`.
pub(crate) const ONE_BITS: u64 = 0x3FF0_0000_0000_0000;
/// The mantissa bits of an `f64`.
pub(crate) const MANTISSA_MASK: u64 = 0x000F_FFFF_FFFF_FFFF;
/// `2^52` as `f64`; with the biased exponent in the low bits of its mantissa, subtracting
/// `2^52 + 1023` yields the unbiased exponent as a float.
pub(crate) const TWO_52_BITS: u64 = 0x4330_0000_0000_0000;

impl Lanes for wide::f64x4 {
    #[inline(always)]
    fn splat(v: f64) -> Self {
        wide::f64x4::splat(v)
    }
    #[inline(always)]
    fn from_array(a: [f64; 4]) -> Self {
        wide::f64x4::new(a)
    }
    #[inline(always)]
    fn to_array(self) -> [f64; 4] {
        wide::f64x4::to_array(self)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        wide::f64x4::mul_add(self, a, b)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        wide::f64x4::abs(self)
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        // On x86 `fast_min` is `minpd` (or its scalar equivalent), which has exactly the
        // documented semantics; other targets' instructions treat NaN differently.
        if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
            wide::f64x4::fast_min(self, other)
        } else {
            Lanes::lt(self, other).select(self, other)
        }
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
            wide::f64x4::fast_max(self, other)
        } else {
            Lanes::gt(self, other).select(self, other)
        }
    }
    #[inline(always)]
    fn lt(self, other: Self) -> Self {
        wide::f64x4::simd_lt(self, other)
    }
    #[inline(always)]
    fn gt(self, other: Self) -> Self {
        wide::f64x4::simd_gt(self, other)
    }
    #[inline(always)]
    fn eq(self, other: Self) -> Self {
        wide::f64x4::simd_eq(self, other)
    }
    #[inline(always)]
    fn is_nan(self) -> Self {
        wide::f64x4::is_nan(self)
    }
    #[inline(always)]
    fn select(self, if_true: Self, if_false: Self) -> Self {
        wide::Select::select(self, if_true, if_false)
    }
    #[inline(always)]
    fn bitand(self, other: Self) -> Self {
        self & other
    }
    #[inline(always)]
    fn bitor(self, other: Self) -> Self {
        self | other
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        let biased = (self + wide::f64x4::splat(POW2I_MAGIC)).to_bits();
        wide::f64x4::from_bits(biased << 52u32)
    }
    #[inline(always)]
    fn split_exponent(self) -> (Self, Self) {
        let bits = self.to_bits();
        let m = (bits & wide::u64x4::splat(MANTISSA_MASK)) | wide::u64x4::splat(ONE_BITS);
        let e = (bits >> 52u32) | wide::u64x4::splat(TWO_52_BITS);
        (
            wide::f64x4::from_bits(m),
            wide::f64x4::from_bits(e) - wide::f64x4::splat(POW2I_MAGIC),
        )
    }
    #[inline(always)]
    fn from_f32_array(a: [f32; 4]) -> Self {
        wide::f64x4::new(a.map(f64::from))
    }
    #[inline(always)]
    fn to_f32_array(self) -> [f32; 4] {
        self.to_array().map(|v| v as f32)
    }
}
