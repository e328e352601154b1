//! `ln` and `ln_1p` on four `f64` lanes (the `f32` kernels are in `math_f32.rs`).
//!
//! `ln` follows fdlibm's `e_log.c`: `x = 2^k (1 + f)` with `1 + f` in `[sqrt(2)/2,
//! sqrt(2))`, `s = f / (2 + f)`, `ln(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2))` with fdlibm's
//! minimax `R` (error below `2^-58.45`), and `k ln 2` added in two parts. Subnormal
//! inputs are first scaled by `2^52`.

use super::exp::{LN2_HI, LN2_LO};
use super::{FloatLanes, LaneElem};

/// fdlibm's `Lg1..Lg7` (6.666666666666735130e-01, ..., 1.479819860511658591e-01), bit
/// for bit: `R(z) = Lg1 z + Lg2 z^2 + ... + Lg7 z^7`.
const LG: [f64; 7] = [
    f64::from_bits(0x3FE5_5555_5555_5593),
    f64::from_bits(0x3FD9_9999_9997_FA04),
    f64::from_bits(0x3FD2_4924_9422_9359),
    f64::from_bits(0x3FCC_71C5_1D8E_78AF),
    f64::from_bits(0x3FC7_4664_96CB_03DE),
    f64::from_bits(0x3FC3_9A09_D078_C69F),
    f64::from_bits(0x3FC2_F112_DF3E_5244),
];
/// `2^52`, the scale applied to subnormal inputs.
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// Splits positive normal `x` into `x = 2^k m` with `m` in `[sqrt(2)/2, sqrt(2))`.
#[inline(always)]
fn reduce<V: FloatLanes<Elem = f64>>(x: V) -> (V, V) {
    let (m, k) = x.split_exponent();
    let big = m.gt(V::splat(std::f64::consts::SQRT_2));
    (
        big.select(m * V::splat(0.5), m),
        k + big.bitand(V::splat(1.0)),
    )
}

/// `k ln 2 + ln(1 + f)` for `1 + f` in `[sqrt(2)/2, sqrt(2)]` (fdlibm's `__ieee754_log`
/// after its reduction).
#[inline(always)]
fn kernel<V: FloatLanes<Elem = f64>>(f: V, k: V) -> V {
    let s = f / (V::splat(2.0) + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * V::splat(LG[5])
        .mul_add(w, V::splat(LG[3]))
        .mul_add(w, V::splat(LG[1]));
    let t2 = z * V::splat(LG[6])
        .mul_add(w, V::splat(LG[4]))
        .mul_add(w, V::splat(LG[2]))
        .mul_add(w, V::splat(LG[0]));
    let r = t2 + t1;
    let hfsq = V::splat(0.5) * f * f;
    // fdlibm: k*ln2_hi - ((hfsq - (s*(hfsq+R) + k*ln2_lo)) - f)
    let inner = s.mul_add(hfsq + r, k * V::splat(LN2_LO));
    k.mul_add(V::splat(LN2_HI), -((hfsq - inner) - f))
}

/// `ln x` on each lane, within 1 ulp of the correctly rounded result in tests (`f32`
/// lanes: see the module docs).
///
/// `ln(+0) = ln(-0) = -inf`, `ln(x < 0) = NaN`, `ln(+inf) = +inf`, `ln(NaN) = NaN`;
/// subnormal inputs give their finite logarithms (`ln(5e-324) = -744.44`).
#[inline(always)]
pub fn ln<V: FloatLanes>(x: V) -> V {
    <V::Elem as LaneElem>::lanes_ln(x)
}

/// [`ln`] on `f64` lanes.
#[inline(always)]
pub(super) fn ln_f64<V: FloatLanes<Elem = f64>>(x: V) -> V {
    let subnormal = x.lt(V::splat(f64::MIN_POSITIVE));
    let (m, k) = reduce(subnormal.select(x * V::splat(TWO_52), x));
    let k = k - subnormal.bitand(V::splat(52.0));
    let y = kernel(m - V::splat(1.0), k); // m - 1 is exact (Sterbenz)

    let inf = V::splat(f64::INFINITY);
    let regular = x.gt(V::splat(0.0)).bitand(x.lt(inf));
    let special = x
        .eq(V::splat(0.0))
        .select(-inf, x.eq(inf).select(inf, V::splat(f64::NAN)));
    regular.select(y, special)
}

/// `ln(1 + x)` on each lane, accurate near 0 (`ln_1p(1e-300) = 1e-300`).
///
/// As fdlibm's `log1p`: with `u = 1 + x` rounded and `u = 2^k m`, the rounding error
/// `x - (u - 1)` (exact) is folded into `f = m - 1 + (x - (u - 1)) 2^-k`, and
/// `k ln 2 + ln(1 + f)` is evaluated as in [`ln`]: one division, no correction term.
/// `ln_1p(-1) = -inf`, `ln_1p(x < -1) = NaN`, `ln_1p(+inf) = +inf`,
/// `ln_1p(-0.0) = -0.0`, `ln_1p(NaN) = NaN`.
#[inline(always)]
pub fn ln_1p<V: FloatLanes>(x: V) -> V {
    <V::Elem as LaneElem>::lanes_ln_1p(x)
}

/// [`ln_1p`] on `f64` lanes.
#[inline(always)]
pub(super) fn ln_1p_f64<V: FloatLanes<Elem = f64>>(x: V) -> V {
    let one = V::splat(1.0);
    let u = x + one; // at least 2^-53 (normal) for x > -1
    let (m, k) = reduce(u);
    let lost = x - (u - one);
    // k <= 1024; past 2^1000 the lost part is far below an ulp of f, so clamp the scale.
    let scale = V::splat(-1000.0).max(-k).pow2i();
    let y = kernel(lost.mul_add(scale, m - one), k);

    let inf = V::splat(f64::INFINITY);
    let regular = x.gt(-one).bitand(x.lt(inf));
    let special = x
        .eq(-one)
        .select(-inf, x.eq(inf).select(inf, V::splat(f64::NAN)));
    // x = +-0 returns x itself, keeping the sign of zero.
    x.eq(V::splat(0.0)).select(x, regular.select(y, special))
}
