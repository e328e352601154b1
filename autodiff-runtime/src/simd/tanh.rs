//! `tanh` on four lanes.

use super::{exp_m1, Lanes};

/// Above this `|x|`, `tanh(x)` rounds to `+-1` (`1 - tanh(20) < 2^-56`); clamping here
/// also keeps `e^{2|x|}` finite.
const TANH_CLAMP: f64 = 20.0;

/// `tanh x` on each lane, as `sign(x) t / (t + 2)` with `t = exp_m1(2|x|)`.
///
/// The relative error of `t` is damped by the factor `2 / (t + 2) <= 1`, so the result
/// stays within 2 ulp; tiny and subnormal inputs come back unchanged.
/// `tanh(+-inf) = +-1`, `tanh(-0.0) = -0.0`, `tanh(NaN) = NaN`.
#[inline(always)]
pub fn tanh<V: Lanes>(x: V) -> V {
    let a = x.abs().min(V::splat(TANH_CLAMP));
    let t = exp_m1(a + a);
    let y = (t / (t + V::splat(2.0))).copysign(x);
    x.is_nan().select(x, y)
}
