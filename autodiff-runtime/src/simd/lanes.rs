//! [`FloatLanes`]: the float vectors (four `f64`, eight `f32`) that the math kernels are
//! written against, and [`Lanes`], the four-`f64` case.
//!
//! The kernels are written once per precision, generically over
//! `V: FloatLanes<Elem = f64>` or `V: FloatLanes<Elem = f32>`, and are instantiated twice
//! each: for [`wide::f64x4`] / [`wide::f32x8`] (portable: SSE2 on baseline x86-64, NEON
//! on AArch64, scalar elsewhere; `wide` picks the instructions when the crate is
//! compiled) and, on x86-64, for a private AVX2+FMA type that [`super::dispatch`] (or the
//! crate's `f32` dispatch) selects at run time. `wide` alone cannot do the run-time choice, because its instruction selection is
//! fixed by the compile-time target features.
//!
//! Masks are vectors whose lanes are all ones (true) or all zeros (false), as returned
//! by the comparisons.

use std::ops::{Add, Div, Mul, Neg, Sub};

mod sealed {
    /// Only this crate's lane types implement [`super::FloatLanes`] (and only `f32` and
    /// `f64` are [`super::LaneElem`]s): the AVX2 types rely on being instantiated only
    /// after run-time detection.
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// The element type of a lane type (`f32` or `f64`): the vector math dispatches on it, so
/// that [`super::exp`], [`super::tanh`], ... run the polynomials suited to its precision.
///
/// Sealed: implemented for `f32` and `f64` only.
pub trait LaneElem: crate::rules::Real + Sealed {
    /// `e^x` on each lane ([`super::exp`]).
    fn lanes_exp<V: FloatLanes<Elem = Self>>(x: V) -> V;
    /// `e^x - 1` on each lane ([`super::exp_m1`]).
    fn lanes_exp_m1<V: FloatLanes<Elem = Self>>(x: V) -> V;
    /// `ln x` on each lane ([`super::ln`]).
    fn lanes_ln<V: FloatLanes<Elem = Self>>(x: V) -> V;
    /// `ln(1 + x)` on each lane ([`super::ln_1p`]).
    fn lanes_ln_1p<V: FloatLanes<Elem = Self>>(x: V) -> V;
    /// `tanh x` on each lane ([`super::tanh`]).
    fn lanes_tanh<V: FloatLanes<Elem = Self>>(x: V) -> V;
}

impl Sealed for f64 {}
impl Sealed for f32 {}

impl LaneElem for f64 {
    #[inline(always)]
    fn lanes_exp<V: FloatLanes<Elem = f64>>(x: V) -> V {
        super::exp::exp_f64(x)
    }
    #[inline(always)]
    fn lanes_exp_m1<V: FloatLanes<Elem = f64>>(x: V) -> V {
        super::exp::exp_m1_f64(x)
    }
    #[inline(always)]
    fn lanes_ln<V: FloatLanes<Elem = f64>>(x: V) -> V {
        super::ln::ln_f64(x)
    }
    #[inline(always)]
    fn lanes_ln_1p<V: FloatLanes<Elem = f64>>(x: V) -> V {
        super::ln::ln_1p_f64(x)
    }
    #[inline(always)]
    fn lanes_tanh<V: FloatLanes<Elem = f64>>(x: V) -> V {
        super::tanh::tanh_f64(x)
    }
}

impl LaneElem for f32 {
    #[inline(always)]
    fn lanes_exp<V: FloatLanes<Elem = f32>>(x: V) -> V {
        super::math_f32::exp(x)
    }
    #[inline(always)]
    fn lanes_exp_m1<V: FloatLanes<Elem = f32>>(x: V) -> V {
        super::math_f32::exp_m1(x)
    }
    #[inline(always)]
    fn lanes_ln<V: FloatLanes<Elem = f32>>(x: V) -> V {
        super::math_f32::ln(x)
    }
    #[inline(always)]
    fn lanes_ln_1p<V: FloatLanes<Elem = f32>>(x: V) -> V {
        super::math_f32::ln_1p(x)
    }
    #[inline(always)]
    fn lanes_tanh<V: FloatLanes<Elem = f32>>(x: V) -> V {
        super::math_f32::tanh(x)
    }
}

/// The most lanes a lane type has (eight `f32`).
pub(crate) const MAX_LANES: usize = 8;

/// A vector of floats, four `f64` or eight `f32`, with the operations the math kernels
/// and the rules' lane formulas need.
///
/// Implemented by [`wide::f64x4`], [`wide::f32x8`] and by private AVX2+FMA types. Code
/// generic over `V: FloatLanes` (the rules' `f_lanes`, [`super::exp`], [`super::tanh`],
/// ...) runs on either precision; [`Lanes`] is the four-`f64` case.
pub trait FloatLanes:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Sealed
    + 'static
{
    /// The element type.
    type Elem: LaneElem;
    /// How many elements one vector holds (4 for `f64`, 8 for `f32`).
    const LANES: usize;
    /// Every lane equal to the constant `v`, rounded to the element type.
    fn splat(v: f64) -> Self;
    /// Every lane equal to `v`.
    fn splat_elem(v: Self::Elem) -> Self;
    /// Loads the first [`Self::LANES`] elements of `s`.
    ///
    /// # Panics
    /// If `s` is shorter.
    fn load(s: &[Self::Elem]) -> Self;
    /// Stores the lanes into the first [`Self::LANES`] elements of `s`.
    ///
    /// # Panics
    /// If `s` is shorter.
    fn store(self, s: &mut [Self::Elem]);
    /// `self * a + b`, with one rounding where the lane type has FMA (the AVX2 types;
    /// the `wide` types only when compiled with the `fma` target feature).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `|self|` (clears the sign bit; NaN stays NaN).
    fn abs(self) -> Self;
    /// The square root of each lane, correctly rounded (as the scalar `sqrt`).
    fn sqrt(self) -> Self;
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
    /// `2^self` for lanes holding integers in the normal exponent range (`-1022..=1023`
    /// for `f64`, `-126..=127` for `f32`; built from the exponent bits, exact). Other
    /// inputs give unspecified values.
    fn pow2i(self) -> Self;
    /// For positive normal lanes `x = m * 2^e`, returns `(m, e)` with `m` in `[1, 2)` and
    /// `e` an integer-valued float. Other inputs give unspecified values.
    fn split_exponent(self) -> (Self, Self);

    /// Applies a scalar function to each lane. Use it for scalar rule formulas
    /// (`Tanh.df(x, y)`) inside fused loops: after inlining, LLVM turns simple formulas
    /// back into vector instructions.
    #[inline(always)]
    fn map(self, f: impl Fn(Self::Elem) -> Self::Elem) -> Self {
        let mut a = [<Self::Elem as num_traits::Zero>::zero(); MAX_LANES];
        self.store(&mut a);
        for v in &mut a[..Self::LANES] {
            *v = f(*v);
        }
        Self::load(&a)
    }
    /// Applies a scalar function of two arguments lane by lane.
    #[inline(always)]
    fn zip_map(self, other: Self, f: impl Fn(Self::Elem, Self::Elem) -> Self::Elem) -> Self {
        let zero = <Self::Elem as num_traits::Zero>::zero();
        let (mut a, mut b) = ([zero; MAX_LANES], [zero; MAX_LANES]);
        self.store(&mut a);
        other.store(&mut b);
        for (v, w) in a[..Self::LANES].iter_mut().zip(&b) {
            *v = f(*v, *w);
        }
        Self::load(&a)
    }
    /// Sum of the lanes, pairwise (`(a0 + a1) + (a2 + a3)` for four).
    #[inline(always)]
    fn reduce_sum(self) -> Self::Elem {
        let mut a = [<Self::Elem as num_traits::Zero>::zero(); MAX_LANES];
        self.store(&mut a);
        let mut n = Self::LANES;
        while n > 1 {
            n /= 2;
            for i in 0..n {
                a[i] = a[2 * i] + a[2 * i + 1];
            }
        }
        a[0]
    }
    /// `|self|` with the sign bit of `sign`.
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        self.abs().bitor(sign.bitand(Self::splat(-0.0)))
    }
}

/// Four `f64` lanes with the operations the math kernels need.
///
/// Implemented by [`wide::f64x4`] and by a private AVX2+FMA type. Write fused loops
/// generically over `V: Lanes` inside a [`super::Kernel`], and call the vector math
/// ([`super::exp`], [`super::tanh`], ...) per chunk of four elements. The operations
/// themselves are those of [`FloatLanes`], with `f64` elements.
pub trait Lanes: FloatLanes<Elem = f64> {
    /// The lanes `a[0], a[1], a[2], a[3]`.
    fn from_array(a: [f64; 4]) -> Self;
    /// The lanes as an array.
    fn to_array(self) -> [f64; 4];
    /// Widens four `f32` to `f64`.
    fn from_f32_array(a: [f32; 4]) -> Self;
    /// Rounds the lanes to `f32` (to nearest).
    fn to_f32_array(self) -> [f32; 4];
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

/// `127 + 2^23`: adding it to a small integer-valued `f32` puts `n + 127` in the low
/// mantissa bits (the `f32` `pow2i`).
pub(crate) const POW2I_MAGIC_F32: f32 = 8_388_735.0;
/// The exponent bits of `1.0f32`.
pub(crate) const ONE_BITS_F32: u32 = 0x3F80_0000;
/// The mantissa bits of an `f32`.
pub(crate) const MANTISSA_MASK_F32: u32 = 0x007F_FFFF;
/// `2^23` as `f32` (see [`TWO_52_BITS`]).
pub(crate) const TWO_23_BITS: u32 = 0x4B00_0000;

/// The [`FloatLanes`] methods `wide`'s float vectors share (`$float` is the vector type).
macro_rules! wide_float_lanes {
    ($float:ident, $elem:ty, $n:literal) => {
        type Elem = $elem;
        const LANES: usize = $n;
        #[inline(always)]
        fn splat(v: f64) -> Self {
            wide::$float::splat(v as $elem)
        }
        #[inline(always)]
        fn splat_elem(v: $elem) -> Self {
            wide::$float::splat(v)
        }
        #[inline(always)]
        fn load(s: &[$elem]) -> Self {
            // One bounds check, then one unaligned vector load (indexing the elements one
            // by one leaves a check between scalar loads).
            let s: &[$elem; $n] = s[..$n].try_into().expect("a slice of LANES elements");
            wide::$float::new(*s)
        }
        #[inline(always)]
        fn store(self, s: &mut [$elem]) {
            s[..$n].copy_from_slice(&wide::$float::to_array(self));
        }
        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            wide::$float::mul_add(self, a, b)
        }
        #[inline(always)]
        fn abs(self) -> Self {
            wide::$float::abs(self)
        }
        #[inline(always)]
        fn sqrt(self) -> Self {
            wide::$float::sqrt(self)
        }
        #[inline(always)]
        fn min(self, other: Self) -> Self {
            // On x86 `fast_min` is `minpd`/`minps` (or its scalar equivalent), which has
            // exactly the documented semantics; other targets' instructions treat NaN
            // differently.
            if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
                wide::$float::fast_min(self, other)
            } else {
                FloatLanes::lt(self, other).select(self, other)
            }
        }
        #[inline(always)]
        fn max(self, other: Self) -> Self {
            if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
                wide::$float::fast_max(self, other)
            } else {
                FloatLanes::gt(self, other).select(self, other)
            }
        }
        #[inline(always)]
        fn lt(self, other: Self) -> Self {
            wide::$float::simd_lt(self, other)
        }
        #[inline(always)]
        fn gt(self, other: Self) -> Self {
            wide::$float::simd_gt(self, other)
        }
        #[inline(always)]
        fn eq(self, other: Self) -> Self {
            wide::$float::simd_eq(self, other)
        }
        #[inline(always)]
        fn is_nan(self) -> Self {
            wide::$float::is_nan(self)
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
    };
}

impl FloatLanes for wide::f64x4 {
    wide_float_lanes!(f64x4, f64, 4);
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
}

impl Lanes for wide::f64x4 {
    #[inline(always)]
    fn from_array(a: [f64; 4]) -> Self {
        wide::f64x4::new(a)
    }
    #[inline(always)]
    fn to_array(self) -> [f64; 4] {
        wide::f64x4::to_array(self)
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

impl Sealed for wide::f32x8 {}

impl FloatLanes for wide::f32x8 {
    wide_float_lanes!(f32x8, f32, 8);
    #[inline(always)]
    fn pow2i(self) -> Self {
        let biased = (self + wide::f32x8::splat(POW2I_MAGIC_F32)).to_bits();
        wide::f32x8::from_bits(biased << 23u32)
    }
    #[inline(always)]
    fn split_exponent(self) -> (Self, Self) {
        let bits = self.to_bits();
        let m = (bits & wide::u32x8::splat(MANTISSA_MASK_F32)) | wide::u32x8::splat(ONE_BITS_F32);
        let e = (bits >> 23u32) | wide::u32x8::splat(TWO_23_BITS);
        (
            wide::f32x8::from_bits(m),
            wide::f32x8::from_bits(e) - wide::f32x8::splat(POW2I_MAGIC_F32),
        )
    }
}
