//! `tanh` on four `f64` lanes (the `f32` kernel is in `math_f32.rs`).

use super::exp::exp_m1_moderate;
use super::{FloatLanes, LaneElem};

/// Above this `|x|`, `tanh(x)` rounds to `+-1` (`1 - tanh(20) < 2^-56`); clamping here
/// also keeps `e^{2|x|}` finite.
const TANH_CLAMP: f64 = 20.0;

/// `tanh x` on each lane, as `sign(x) t / (t + 2)` with `t = e^{2|x|} - 1`.
///
/// The relative error of `t` is damped by the factor `2 / (t + 2) <= 1`; the rounding
/// error of `t + 2` is recovered exactly and corrected for. Where this differs most from
/// glibc's `tanh` (up to 3 ulp, near `|x| = 0.25`), 200-bit arithmetic puts this result
/// within 1 ulp of the true value and glibc's up to 1.7 ulp away. Tiny and subnormal
/// inputs come back unchanged.
/// `tanh(+-inf) = +-1`, `tanh(-0.0) = -0.0`, `tanh(NaN) = NaN`.
#[inline(always)]
pub fn tanh<V: FloatLanes>(x: V) -> V {
    <V::Elem as LaneElem>::lanes_tanh(x)
}

/// [`tanh`] on `f64` lanes.
#[inline(always)]
pub(super) fn tanh_f64<V: FloatLanes<Elem = f64>>(x: V) -> V {
    let two = V::splat(2.0);
    // NaN passes the clamp (see `Lanes::min`) and propagates to the result.
    let a = V::splat(TANH_CLAMP).min(x.abs());
    let t = exp_m1_moderate(a + a);
    let d = t + two;
    // d = t + 2 - e exactly (d - 2 is exact by Sterbenz's lemma for d in [2, 4], and the
    // error of a rounded sum is representable); larger d make `e` negligible anyway.
    let e = t - (d - two);
    let q = t / d;
    // t / (d + e) = q (1 - e / d + ...), and 1 / d = (1 - q) / 2.
    let q = (q * e * (V::splat(1.0) - q)).mul_add(V::splat(-0.5), q);
    q.copysign(x)
}
