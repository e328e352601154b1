//! Binary scalar rules: `y = f(a, b)` with `dy/da` and `dy/db`.

use super::Real;
use crate::simd::{FloatLanes, MAX_LANES};

/// Applies a scalar function of three arguments lane by lane.
#[inline(always)]
fn lanes3<V: FloatLanes>(a: V, b: V, c: V, f: impl Fn(V::Elem, V::Elem, V::Elem) -> V::Elem) -> V {
    let zero = <V::Elem as num_traits::Zero>::zero();
    let (mut x, mut y, mut z) = ([zero; MAX_LANES], [zero; MAX_LANES], [zero; MAX_LANES]);
    a.store(&mut x);
    b.store(&mut y);
    c.store(&mut z);
    for i in 0..V::LANES {
        x[i] = f(x[i], y[i], z[i]);
    }
    V::load(&x)
}

/// A scalar function of two arguments and its partial derivatives.
///
/// Broadcasting and the matrix product are handled by the dispatch layer
/// ([`super::BinaryOp`]); a rule only knows about one pair of elements.
pub trait BinaryRule: Copy {
    /// The name of PyTorch's backward node for this op (`"MulBackward0"`).
    const TORCH_NAME: &'static str;
    /// What `da` and `db` read besides the gradient (the row's `reads`): a tape keeps
    /// only that, and checks only that for in-place changes.
    const READS: autodiff_ops::Reads = autodiff_ops::Reads::Both;
    /// `f(a, b)`.
    fn f<T: Real>(self, a: T, b: T) -> T;
    /// `df/da`, given `a`, `b` and `y = f(a, b)`.
    fn da<T: Real>(self, a: T, b: T, y: T) -> T;
    /// `df/db`, given `a`, `b` and `y = f(a, b)`.
    fn db<T: Real>(self, a: T, b: T, y: T) -> T;
    /// `f` on lanes (four `f64` or eight `f32`), for fused loops (default: [`Self::f`] lane by lane;
    /// arithmetic rules write the same formula on lanes, which rounds identically).
    #[inline(always)]
    fn f_lanes<V: FloatLanes>(self, a: V, b: V) -> V {
        a.zip_map(b, |a, b| self.f(a, b))
    }
    /// `df/da` on lanes (default: [`Self::da`] lane by lane).
    #[inline(always)]
    fn da_lanes<V: FloatLanes>(self, a: V, b: V, y: V) -> V {
        lanes3(a, b, y, |a, b, y| self.da(a, b, y))
    }
    /// `df/db` on lanes (default: [`Self::db`] lane by lane).
    #[inline(always)]
    fn db_lanes<V: FloatLanes>(self, a: V, b: V, y: V) -> V {
        lanes3(a, b, y, |a, b, y| self.db(a, b, y))
    }
}

// The rules themselves are the binary rows of the op table (`autodiff_ops::for_each_op!`),
// expanded in `elementwise.rs`.
