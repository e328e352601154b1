//! `exp` and `exp_m1` on four `f64` lanes (the `f32` kernels are in `math_f32.rs`).
//!
//! Range reduction `x = n ln 2 + r`, `|r| <= ln(2)/2`, with `ln 2` split Cody-Waite style
//! (fdlibm's `ln2_hi` has 21 trailing zero bits, so `n * ln2_hi` is exact even without
//! FMA); `e^r - 1` from a polynomial (Taylor to degree 13 for `exp`; a degree-14 fit for
//! `exp_m1`, which keeps `n = 0` up to `|x| < ln 2`); the result scaled by `2^n` through
//! the exponent bits, for `exp` in two factors so that subnormal results are rounded once.

use super::{FloatLanes, LaneElem};

/// `log2(e)`.
const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// High part of `ln 2` (fdlibm's `ln2_hi`, 6.93147180369123816490e-01): 32 significant
/// bits, so `n * LN2_HI` is exact for `|n| < 2^21`.
pub(super) const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
/// `ln 2 - LN2_HI` (fdlibm's `ln2_lo`, 1.90821492927058770002e-10).
pub(super) const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
/// `1.5 * 2^52`: adding and subtracting it rounds a float of magnitude below `2^51` to
/// the nearest integer.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
/// `|x|` beyond which `exp` is 0 or infinite; clamping here keeps `n` within the range
/// the two-factor scaling handles (`|n| <= 1155`, two factors of at most `2^578`).
const EXP_CLAMP: f64 = 800.0;
/// Below this, `exp_m1` is `-1` to the last bit (`e^-45 < 2^-64`).
const EXP_M1_LOW: f64 = -45.0;
/// Above this, `exp_m1` overflows (`ln(f64::MAX) ~ 709.78`); keeps `n <= 1024`.
const EXP_M1_HIGH: f64 = 710.0;
/// Below this magnitude `exp_m1(x) == x` after rounding (`x^2 / 2 < ulp(x) / 2`).
const EXP_M1_TINY: f64 = 5.551_115_123_125_783e-17; // 2^-54

/// `1/k!` for `k = 2..=13`: `e^r - 1 = r + r^2 (1/2! + r/3! + ...)`, truncation error
/// below `0.35^13 / 14! < 2^-58` relative for `|r| <= ln(2)/2`.
const TAYLOR: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// `P` of degree 12 with `e^r - 1 = r + r^2 P(r)` on `|r| <= ln 2`: a Chebyshev fit of
/// `(e^r - 1 - r) / r^2` computed with mpmath at 160 bits, coefficients rounded to `f64`;
/// relative error of `r + r^2 P(r)` below `0.06` ulp over the interval (a Taylor
/// polynomial needs degree 15 for the same).
const EXPM1_FIT: [f64; 13] = [
    0.5,
    0.16666666666666663,
    0.041666666666666664,
    0.008333333333335084,
    0.0013888888888889982,
    0.00019841269838356894,
    2.4801587299767824e-05,
    2.7557321302089923e-06,
    2.755732052204714e-07,
    2.5051387894005644e-08,
    2.087630691488407e-09,
    1.6178874964812216e-10,
    1.154561064003438e-11,
];

/// Rounds `v` (|v| < 2^51) to the nearest integer (ties to even).
#[inline(always)]
fn round_int<V: FloatLanes<Elem = f64>>(v: V) -> V {
    (v + V::splat(SHIFTER)) - V::splat(SHIFTER)
}

/// Splits `x` (already clamped) into `n` (integer-valued) and `r = x - n ln 2`.
#[inline(always)]
fn reduce<V: FloatLanes<Elem = f64>>(x: V) -> (V, V) {
    let n = round_int(x * V::splat(LOG2_E));
    let r = (-n).mul_add(V::splat(LN2_HI), x);
    let r = (-n).mul_add(V::splat(LN2_LO), r);
    (n, r)
}

/// `e^r - 1 = r + r^2 P(r)` with `P` given by its coefficients. `P` is evaluated by
/// Estrin's scheme, whose dependency chain is logarithmic in the degree (Horner's rule
/// would make each vector wait on a dozen fused multiply-adds in a row).
#[inline(always)]
fn expm1_reduced<V: FloatLanes<Elem = f64>>(r: V, p: &[f64]) -> V {
    (r * r).mul_add(estrin(r, p), r)
}

/// `c[0] + c[1] r + c[2] r^2 + ...` by Estrin's scheme (at most 16 coefficients).
#[inline(always)]
pub(super) fn estrin<V: FloatLanes>(r: V, c: &[f64]) -> V {
    let mut terms = [V::splat(0.0); 16];
    let mut len = c.len().div_ceil(2);
    for (i, t) in terms.iter_mut().enumerate().take(len) {
        let hi = c.get(2 * i + 1).map_or(V::splat(0.0), |&h| V::splat(h));
        *t = hi.mul_add(r, V::splat(c[2 * i]));
    }
    let mut power = r * r;
    while len > 1 {
        let half = len.div_ceil(2);
        for i in 0..half {
            terms[i] = if 2 * i + 1 < len {
                terms[2 * i + 1].mul_add(power, terms[2 * i])
            } else {
                terms[2 * i]
            };
        }
        len = half;
        if len > 1 {
            power = power * power;
        }
    }
    terms[0]
}

/// `(n, e^r - 1)` with `x = n ln 2 + r`, for `x` in `[-45, 710]` (no NaN): `n = 0` for
/// `|x| < ln 2`.
#[inline(always)]
fn expm1_parts<V: FloatLanes<Elem = f64>>(x: V) -> (V, V) {
    let (n, r) = reduce(x);
    // For |x| < ln 2 take n = 0: with n = +-1 there, 2^n q and 2^n - 1 have opposite
    // signs and their sum would lose up to 2 bits (x = 0.4 gives 1 - 0.5...).
    let small = x.abs().lt(V::splat(std::f64::consts::LN_2));
    let (n, r) = (small.select(V::splat(0.0), n), small.select(x, r));
    (n, expm1_reduced(r, &EXPM1_FIT))
}

/// `e^x - 1` for `x` in `[0, 40]`: the part of [`exp_m1`] that [`super::tanh`] needs, without
/// the handling of overflow, `-0.0` and NaN.
#[inline(always)]
pub(super) fn exp_m1_moderate<V: FloatLanes<Elem = f64>>(x: V) -> V {
    let (n, q) = expm1_parts(x);
    let s = n.pow2i();
    s.mul_add(q, s - V::splat(1.0))
}

/// `e^x` on each lane, within 1 ulp of the correctly rounded result in tests (`f32`
/// lanes: see the module docs).
///
/// `exp(x)` overflows to `+inf` above `709.78` (`88.72` for `f32`), is subnormal below
/// `-708.4` (`-87.34`) and `0` below `-745.13` (`-103.97`); `exp(+inf) = +inf`,
/// `exp(-inf) = 0`, `exp(NaN) = NaN`.
#[inline(always)]
pub fn exp<V: FloatLanes>(x: V) -> V {
    <V::Elem as LaneElem>::lanes_exp(x)
}

/// [`exp`] on `f64` lanes.
#[inline(always)]
pub(super) fn exp_f64<V: FloatLanes<Elem = f64>>(x: V) -> V {
    // NaN passes the clamp (see `Lanes::min`) and propagates to the result.
    let xc = V::splat(EXP_CLAMP).min(V::splat(-EXP_CLAMP).max(x));
    let (n, r) = reduce(xc);
    let p = V::splat(1.0) + expm1_reduced(r, &TAYLOR);
    // 2^n = 2^n1 * 2^n2 with both factors normal; p * 2^n1 is exact, so a subnormal
    // result is rounded once, by the second product.
    let n1 = round_int(n * V::splat(0.5));
    let n2 = n - n1;
    p * n1.pow2i() * n2.pow2i()
}

/// `e^x - 1` on each lane, accurate near 0 (`exp_m1(1e-300) = 1e-300`).
///
/// `exp_m1(-0.0) = -0.0`, `exp_m1(x) = -1` below `-37.5` (`-17.4` for `f32`), `+inf`
/// above `709.78` (`88.72`); `exp_m1(+inf) = +inf`, `exp_m1(-inf) = -1`,
/// `exp_m1(NaN) = NaN`.
#[inline(always)]
pub fn exp_m1<V: FloatLanes>(x: V) -> V {
    <V::Elem as LaneElem>::lanes_exp_m1(x)
}

/// [`exp_m1`] on `f64` lanes.
#[inline(always)]
pub(super) fn exp_m1_f64<V: FloatLanes<Elem = f64>>(x: V) -> V {
    // NaN passes the clamp (see `Lanes::min`) and propagates to the result.
    let xc = V::splat(EXP_M1_HIGH).min(V::splat(EXP_M1_LOW).max(x));
    let (n, q) = expm1_parts(xc);
    // e^x - 1 = 2^n q + (2^n - 1); 2^n - 1 is exact for |n| <= 53, and larger |n| make
    // the `- 1` negligible. n = 1024 (x in (709.44, 710]) is scaled as 2 * 2^1023.
    let nc = n.min(V::splat(1023.0));
    let s = nc.pow2i();
    let y = s.mul_add(q, s - V::splat(1.0)) * (n - nc + V::splat(1.0));
    let tiny = x.abs().lt(V::splat(EXP_M1_TINY));
    // `tiny` also covers +-0 (keeping the sign).
    tiny.select(x, y)
}
