//! `sigmoid` on float lanes (either precision).

use super::{exp, FloatLanes};

/// `1 / (1 + e^-x)` on each lane, without overflow for any `x`.
///
/// With `e = exp(-|x|)` (never above 1): `1 / (1 + e)` for `x >= 0` and `e / (1 + e)` for
/// `x < 0`, the same split as the scalar rule [`crate::rules::Sigmoid`].
/// `sigmoid(-1000) = 0`, `sigmoid(1000) = 1`, `sigmoid(+-inf) = 1, 0`, `sigmoid(NaN) = NaN`.
#[inline(always)]
pub fn sigmoid<V: FloatLanes>(x: V) -> V {
    let one = V::splat(1.0);
    let e = exp(-x.abs());
    let numerator = x.lt(V::splat(0.0)).select(e, one);
    numerator / (one + e)
}
