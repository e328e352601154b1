//! The vector math on `f32` lanes (eight per 256-bit register): `exp`, `exp_m1`, `ln`,
//! `ln_1p` and `tanh` with polynomials sized for `f32` precision, computed in `f32`
//! throughout. [`super::sigmoid`] and [`super::softplus`] are built from these exactly as
//! their `f64` versions are built from the `f64` kernels.
//!
//! - `exp`: Cephes' `expf`: `x = n ln 2 + r`, `|r| <= ln(2)/2`, with `ln 2` split in two
//!   (`n * C1` is exact for `|n| < 2^15`), `e^r = 1 + r + r^2 P(r)` with Cephes' degree-5
//!   minimax `P`, and the result scaled by `2^n` in two factors so that subnormal results
//!   are rounded once.
//! - `exp_m1`: the same reduction, but `n = 0` for `|x| < ln 2` (as the `f64` kernel),
//!   so `e^r - 1 = r + r^2 P(r)` with the Taylor polynomial to degree 9 (truncation
//!   below `2^-27` relative on `|r| <= ln 2`), then `2^n (e^r - 1) + (2^n - 1)`.
//! - `ln`: fdlibm's `e_logf.c` (FreeBSD's, with its four-term minimax `Lg`, error below
//!   `2^-34.24`): `x = 2^k (1 + f)`, `s = f / (2 + f)`, the same evaluation as the `f64`
//!   kernel. Subnormal inputs are first scaled by `2^23`.
//! - `ln_1p`: fdlibm's `log1p` reduction (the rounding error of `1 + x` folded into `f`)
//!   on the `ln` kernel.
//! - `tanh`: `sign(x) t / (t + 2)` with `t = e^{2|x|} - 1`, the rounding error of `t + 2`
//!   corrected for, as the `f64` kernel.
//!
//! Accuracy against the correctly rounded result (the `f64` standard library rounded to
//! `f32`) is measured by the `*_f32_accuracy` tests over 10^7 inputs on both lane types.

use super::exp::estrin;
use super::FloatLanes;

/// Every lane equal to the `f32` constant `v`.
#[inline(always)]
fn c<V: FloatLanes<Elem = f32>>(v: f32) -> V {
    V::splat_elem(v)
}

/// `log2(e)`.
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// Cephes' `C1 = 0.693359375`: `ln 2` rounded to 9 significant bits, so `n * C1` is exact.
const LN2_C1: f32 = f32::from_bits(0x3F31_8000);
/// Cephes' `C2 = ln 2 - C1`.
const LN2_C2: f32 = -2.121_944_4e-4;
/// `1.5 * 2^23`: adding and subtracting it rounds an `f32` of magnitude below `2^22` to
/// the nearest integer.
const SHIFTER: f32 = 12_582_912.0;
/// `|x|` beyond which `exp` is 0 or infinite (`e^-104 < 2^-150`, `e^104 > f32::MAX`);
/// clamping here keeps `|n| <= 150`, two factors of at most `2^75`.
const EXP_CLAMP: f32 = 104.0;
/// Below this, `exp_m1` is `-1` to the last bit (`e^-20 < 2^-28`).
const EXP_M1_LOW: f32 = -20.0;
/// Above this, `exp_m1` overflows (`ln(f32::MAX) ~ 88.72`); keeps `n <= 128`.
const EXP_M1_HIGH: f32 = 89.0;
/// Below this magnitude `exp_m1(x) == x` after rounding (`x^2 / 2 < ulp(x) / 2`).
const EXP_M1_TINY: f32 = 2.980_232_2e-8; // 2^-25
/// Above this `|x|`, `tanh(x)` rounds to `+-1` (`1 - tanh(10) < 2^-28`); clamping here
/// also keeps `e^{2|x|}` finite.
const TANH_CLAMP: f32 = 10.0;
/// `2^23`, the scale applied to subnormal inputs of `ln`.
const TWO_23: f32 = 8_388_608.0;

/// Cephes' `expf` polynomial: `e^r = 1 + r + r^2 P(r)` on `|r| <= ln(2)/2`, about 1 ulp.
const EXP_P: [f64; 6] = [
    5.000_000_120_1e-1,
    1.666_666_545_9e-1,
    4.166_579_589_4e-2,
    8.333_451_907_3e-3,
    1.398_199_950_7e-3,
    1.987_569_150_0e-4,
];

/// `1/k!` for `k = 2..=9`: `e^r - 1 = r + r^2 P(r)` on `|r| <= ln 2` (the next term is
/// below `7.1e-9`, a quarter ulp of the smallest result there).
const EXPM1_P: [f64; 8] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
];

/// FreeBSD's `e_logf.c` `Lg1..Lg4` (0.66666662693, 0.40000972152, 0.28498786688,
/// 0.24279078841), bit for bit.
const LG: [f32; 4] = [
    f32::from_bits(0x3F2A_AAAA),
    f32::from_bits(0x3ECC_CE13),
    f32::from_bits(0x3E91_E9EE),
    f32::from_bits(0x3E78_9E26),
];
/// `e_logf.c`'s `ln2_hi` (6.9313812256e-01, 17 significant bits).
const LN2_HI: f32 = f32::from_bits(0x3F31_7180);
/// `e_logf.c`'s `ln2_lo = ln 2 - LN2_HI` (9.0580006145e-06).
const LN2_LO: f32 = f32::from_bits(0x3717_F7D1);

/// Rounds `v` (`|v| < 2^22`) to the nearest integer (ties to even).
#[inline(always)]
fn round_int<V: FloatLanes<Elem = f32>>(v: V) -> V {
    (v + c(SHIFTER)) - c(SHIFTER)
}

/// Splits `x` (already clamped) into `n` (integer-valued) and `r = x - n ln 2`.
#[inline(always)]
fn reduce_exp<V: FloatLanes<Elem = f32>>(x: V) -> (V, V) {
    let n = round_int(x * c(LOG2_E));
    let r = (-n).mul_add(c(LN2_C1), x);
    let r = (-n).mul_add(c(LN2_C2), r);
    (n, r)
}

/// `(n, e^r - 1)` with `x = n ln 2 + r`, for `x` in `[-20, 89]` (no NaN): `n = 0` for
/// `|x| < ln 2`.
#[inline(always)]
fn expm1_parts<V: FloatLanes<Elem = f32>>(x: V) -> (V, V) {
    let (n, r) = reduce_exp(x);
    // As in the `f64` kernel: with n = +-1 for |x| < ln 2, 2^n q and 2^n - 1 would have
    // opposite signs and their sum would lose bits.
    let small = x.abs().lt(c(std::f32::consts::LN_2));
    let (n, r) = (small.select(c(0.0), n), small.select(x, r));
    (n, (r * r).mul_add(estrin(r, &EXPM1_P), r))
}

/// `e^x` on `f32` lanes (see the module docs).
#[inline(always)]
pub(super) fn exp<V: FloatLanes<Elem = f32>>(x: V) -> V {
    // NaN passes the clamp (see `FloatLanes::min`) and propagates to the result.
    let xc = c::<V>(EXP_CLAMP).min(c::<V>(-EXP_CLAMP).max(x));
    let (n, r) = reduce_exp(xc);
    let p = c::<V>(1.0) + (r * r).mul_add(estrin(r, &EXP_P), r);
    // 2^n = 2^n1 * 2^n2 with both factors normal (|n1|, |n2| <= 75); p * 2^n1 is exact,
    // so a subnormal result is rounded once, by the second product.
    let n1 = round_int(n * c(0.5));
    let n2 = n - n1;
    p * n1.pow2i() * n2.pow2i()
}

/// `e^x - 1` for `x` in `[0, 20]`: the part of [`exp_m1`] that [`tanh`] needs.
#[inline(always)]
fn exp_m1_moderate<V: FloatLanes<Elem = f32>>(x: V) -> V {
    let (n, q) = expm1_parts(x);
    let s = n.pow2i();
    s.mul_add(q, s - c(1.0))
}

/// `e^x - 1` on `f32` lanes (see the module docs).
#[inline(always)]
pub(super) fn exp_m1<V: FloatLanes<Elem = f32>>(x: V) -> V {
    // NaN passes the clamp (see `FloatLanes::min`) and propagates to the result.
    let xc = c::<V>(EXP_M1_HIGH).min(c::<V>(EXP_M1_LOW).max(x));
    let (n, q) = expm1_parts(xc);
    // e^x - 1 = 2^n q + (2^n - 1); 2^n - 1 is exact for |n| <= 24, and larger |n| make
    // the `- 1` negligible. n = 128 (x in (88.38, 89]) is scaled as 2 * 2^127.
    let nc = n.min(c(127.0));
    let s = nc.pow2i();
    let y = s.mul_add(q, s - c(1.0)) * (n - nc + c(1.0));
    // `tiny` also covers +-0 (keeping the sign).
    let tiny = x.abs().lt(c(EXP_M1_TINY));
    tiny.select(x, y)
}

/// Splits positive normal `x` into `x = 2^k m` with `m` in `[sqrt(2)/2, sqrt(2))`.
#[inline(always)]
fn reduce_ln<V: FloatLanes<Elem = f32>>(x: V) -> (V, V) {
    let (m, k) = x.split_exponent();
    let big = m.gt(c(std::f32::consts::SQRT_2));
    (big.select(m * c(0.5), m), k + big.bitand(c(1.0)))
}

/// `k ln 2 + ln(1 + f)` for `1 + f` in `[sqrt(2)/2, sqrt(2)]` (`e_logf.c` after its
/// reduction).
#[inline(always)]
fn ln_kernel<V: FloatLanes<Elem = f32>>(f: V, k: V) -> V {
    let s = f / (c::<V>(2.0) + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * c::<V>(LG[3]).mul_add(w, c(LG[1]));
    let t2 = z * c::<V>(LG[2]).mul_add(w, c(LG[0]));
    let r = t2 + t1;
    let hfsq = c::<V>(0.5) * f * f;
    // e_logf.c: k*ln2_hi - ((hfsq - (s*(hfsq+R) + k*ln2_lo)) - f)
    let inner = s.mul_add(hfsq + r, k * c(LN2_LO));
    k.mul_add(c(LN2_HI), -((hfsq - inner) - f))
}

/// `ln x` on `f32` lanes (see the module docs).
#[inline(always)]
pub(super) fn ln<V: FloatLanes<Elem = f32>>(x: V) -> V {
    let subnormal = x.lt(c(f32::MIN_POSITIVE));
    let (m, k) = reduce_ln(subnormal.select(x * c(TWO_23), x));
    let k = k - subnormal.bitand(c(23.0));
    let y = ln_kernel(m - c(1.0), k); // m - 1 is exact (Sterbenz)

    let inf = c::<V>(f32::INFINITY);
    let regular = x.gt(c(0.0)).bitand(x.lt(inf));
    let special = x
        .eq(c(0.0))
        .select(-inf, x.eq(inf).select(inf, c(f32::NAN)));
    regular.select(y, special)
}

/// `ln(1 + x)` on `f32` lanes (see the module docs).
#[inline(always)]
pub(super) fn ln_1p<V: FloatLanes<Elem = f32>>(x: V) -> V {
    let one = c::<V>(1.0);
    let u = x + one; // at least 2^-24 (normal) for x > -1
    let (m, k) = reduce_ln(u);
    // The rounding error of `u`; zero once k >= 24, so clamping the scale (to keep it in
    // `pow2i`'s range) changes nothing.
    let lost = x - (u - one);
    let scale = c::<V>(-100.0).max(-k).pow2i();
    let y = ln_kernel(lost.mul_add(scale, m - one), k);

    let inf = c::<V>(f32::INFINITY);
    let regular = x.gt(-one).bitand(x.lt(inf));
    let special = x.eq(-one).select(-inf, x.eq(inf).select(inf, c(f32::NAN)));
    // x = +-0 returns x itself, keeping the sign of zero.
    x.eq(c(0.0)).select(x, regular.select(y, special))
}

/// `tanh x` on `f32` lanes (see the module docs).
#[inline(always)]
pub(super) fn tanh<V: FloatLanes<Elem = f32>>(x: V) -> V {
    let two = c::<V>(2.0);
    // NaN passes the clamp (see `FloatLanes::min`) and propagates to the result.
    let a = c::<V>(TANH_CLAMP).min(x.abs());
    let t = exp_m1_moderate(a + a);
    let d = t + two;
    // d = t + 2 - e exactly (Sterbenz for d in [2, 4]; larger d make `e` negligible).
    let e = t - (d - two);
    let q = t / d;
    // t / (d + e) = q (1 - e / d + ...), and 1 / d = (1 - q) / 2.
    let q = (q * e * (c::<V>(1.0) - q)).mul_add(c(-0.5), q);
    q.copysign(x)
}
