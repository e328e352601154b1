//! `softplus` on float lanes (either precision).

use super::{exp, ln_1p, FloatLanes};

/// `ln(1 + e^x)` on each lane, as `max(x, 0) + ln_1p(e^-|x|)` (the formula of the scalar
/// rule [`crate::rules::Softplus`]), so it never overflows.
///
/// `softplus(1000) = 1000`, `softplus(-1000) = 0` (more exactly `e^-1000`, which
/// underflows), `softplus(+inf) = +inf`, `softplus(-inf) = 0`, `softplus(NaN) = NaN`.
#[inline(always)]
pub fn softplus<V: FloatLanes>(x: V) -> V {
    // NaN passes `max` (see `Lanes::max`) and propagates.
    V::splat(0.0).max(x) + ln_1p(exp(-x.abs()))
}
