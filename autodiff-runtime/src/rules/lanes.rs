//! Values a fused elementwise loop computes with: one scalar (`f32`, `f64`), four `f64`
//! lanes or eight `f32` lanes ([`crate::simd::FloatLanes`]).
//!
//! `#[differentiable]` writes the scalar code of a fused chain once, as a method generic
//! over `V: FusedValue`, with the same `unary(Tanh, &x)` / `binary_vjp_lhs(Mul, ..)` calls
//! as everywhere else. The runtime instantiates it with four-lane vectors for `f64` data
//! and eight-lane vectors for `f32` data (AVX2+FMA when the CPU has them, chosen at run
//! time). On lanes every rule runs its `f_lanes` / `df_lanes` formula: the vector math of
//! [`crate::simd`] for `exp`, `ln`, `tanh`, `sigmoid`, ...; for arithmetic the scalar
//! formula written on lanes, which rounds exactly as the scalar one.

// Lane types implement `+` but not `+=` (the AVX2 type has only what `Lanes` needs).
#![allow(clippy::assign_op_pattern)]

use super::{Adjoint, BinaryOp, BinaryRule, ElementwiseRule, Real, UnaryOp};
use crate::simd::FloatLanes;
pub(crate) use crate::simd::MAX_LANES;

/// The op `y = rule(x)` in a fused loop's reverse code when `y` was saved by the forward
/// loop: `binary(Saved(rule), &x, &y)` returns `y` without recomputing it, and its
/// left vector-Jacobian product is `rule`'s (`g * rule'(x, y)`). The saved `y` gets no
/// gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Saved<R>(pub R);

/// Defines [`FusedValue`] with every elementwise row of the op table as a supertrait:
/// the `unary` and `param` rows as unary ops, the `binary` rows as binary ones.
macro_rules! fused_value {
    (
        unary: [$({ $u:ident, $($urest:tt)* }),* $(,)?],
        binary: [$({ $b:ident, $($brest:tt)* }),* $(,)?],
        param: [$({ $p:ident, $($prest:tt)* }),* $(,)?],
        structural: [$($srest:tt)*],
    ) => {
        /// A value a fused loop computes with: a scalar, four `f64` lanes or eight `f32` lanes.
        ///
        /// Its supertraits are the ops a fused chain may contain (the fusion pass of
        /// `#[differentiable]` admits exactly these), each returning the same type, so
        /// that the macro's ordinary dispatch calls compile inside a method generic over
        /// `V: FusedValue`.
        pub trait FusedValue:
            Copy
            + Adjoint
            + std::ops::Add<Output = Self>
            + std::ops::Mul<Output = Self>
            + 'static
            $(+ UnaryOp<super::$u, Output = Self> + BinaryOp<Saved<super::$u>, Self, Output = Self>)*
            $(+ UnaryOp<super::$p, Output = Self> + BinaryOp<Saved<super::$p>, Self, Output = Self>)*
            $(+ BinaryOp<super::$b, Self, Output = Self>)*
        {
            /// The element type of the matrices the loop reads and writes.
            type Elem: Real;
            /// How many elements one value holds (1, 4 or 8; at most `MAX_LANES`).
            const LANES: usize;
            /// Every lane equal to `v`.
            fn splat_elem(v: Self::Elem) -> Self;
            /// The first [`Self::LANES`] elements of `s`.
            fn load_elems(s: &[Self::Elem]) -> Self;
            /// Stores the lanes into the first [`Self::LANES`] elements of `s`.
            fn store_elems(self, s: &mut [Self::Elem]);
            /// The elements of a short slice (`1 <= s.len() < LANES`), the missing lanes
            /// filled with its last element (so they stay in the function's domain).
            fn load_partial(s: &[Self::Elem]) -> Self;
            /// Stores the first `s.len()` lanes into `s`.
            fn store_partial(self, s: &mut [Self::Elem]);
            /// The sum of the first `n` lanes.
            fn sum_first(self, n: usize) -> Self::Elem;
            /// The sum of all lanes.
            fn sum_lanes(self) -> Self::Elem;
            /// `self * a + b`, with one rounding where the lanes have FMA (AVX2).
            fn mul_add_elems(self, a: Self, b: Self) -> Self;
        }
    };
}

autodiff_ops::for_each_op!(fused_value);

impl<T: Real, R: ElementwiseRule> BinaryOp<Saved<R>, T> for T {
    type Output = T;
    #[inline(always)]
    fn forward(&self, _op: Saved<R>, y: &T) -> T {
        *y
    }
    #[inline(always)]
    fn vjp_lhs(&self, op: Saved<R>, _b: &T, y: &T, g: &T, ga: &mut T) {
        *ga += *g * op.0.df(*self, *y);
    }
    #[inline(always)]
    fn vjp_rhs(&self, _op: Saved<R>, _b: &T, _y: &T, _g: &T, _gb: &mut T) {}
}

impl<T: Real> FusedValue for T {
    type Elem = T;
    const LANES: usize = 1;
    #[inline(always)]
    fn splat_elem(v: T) -> T {
        v
    }
    #[inline(always)]
    fn load_elems(s: &[T]) -> T {
        s[0]
    }
    #[inline(always)]
    fn store_elems(self, s: &mut [T]) {
        s[0] = self;
    }
    #[inline(always)]
    fn load_partial(s: &[T]) -> T {
        s[0]
    }
    #[inline(always)]
    fn store_partial(self, s: &mut [T]) {
        if let Some(v) = s.first_mut() {
            *v = self;
        }
    }
    #[inline(always)]
    fn sum_first(self, n: usize) -> T {
        if n == 0 {
            T::zero()
        } else {
            self
        }
    }
    #[inline(always)]
    fn sum_lanes(self) -> T {
        self
    }
    #[inline(always)]
    fn mul_add_elems(self, a: T, b: T) -> T {
        self * a + b
    }
}

/// The rule dispatch, adjoint and [`FusedValue`] impls of a lane type.
macro_rules! lane_fused_value {
    ($l:ty) => {
        impl<R: ElementwiseRule> UnaryOp<R> for $l {
            type Output = $l;
            #[inline(always)]
            fn forward(&self, op: R) -> $l {
                op.f_lanes(*self)
            }
            #[inline(always)]
            fn vjp(&self, op: R, y: &$l, g: &$l, gx: &mut $l) {
                *gx = *gx + *g * op.df_lanes(*self, *y);
            }
        }

        impl<R: BinaryRule> BinaryOp<R, $l> for $l {
            type Output = $l;
            #[inline(always)]
            fn forward(&self, op: R, b: &$l) -> $l {
                op.f_lanes(*self, *b)
            }
            #[inline(always)]
            fn vjp_lhs(&self, op: R, b: &$l, y: &$l, g: &$l, ga: &mut $l) {
                *ga = *ga + *g * op.da_lanes(*self, *b, *y);
            }
            #[inline(always)]
            fn vjp_rhs(&self, op: R, b: &$l, y: &$l, g: &$l, gb: &mut $l) {
                *gb = *gb + *g * op.db_lanes(*self, *b, *y);
            }
        }

        impl<R: ElementwiseRule> BinaryOp<Saved<R>, $l> for $l {
            type Output = $l;
            #[inline(always)]
            fn forward(&self, _op: Saved<R>, y: &$l) -> $l {
                *y
            }
            #[inline(always)]
            fn vjp_lhs(&self, op: Saved<R>, _b: &$l, y: &$l, g: &$l, ga: &mut $l) {
                *ga = *ga + *g * op.0.df_lanes(*self, *y);
            }
            #[inline(always)]
            fn vjp_rhs(&self, _op: Saved<R>, _b: &$l, _y: &$l, _g: &$l, _gb: &mut $l) {}
        }

        impl Adjoint for $l {
            #[inline(always)]
            fn adjoint_zero() -> Self {
                <$l as FloatLanes>::splat(-0.0)
            }
            #[inline(always)]
            fn accumulate(&mut self, other: &Self) {
                *self = *self + *other;
            }
            #[inline(always)]
            fn finish(self, _primal: &Self) -> Self {
                self + <$l as FloatLanes>::splat(0.0)
            }
            #[inline(always)]
            fn finish_contributed(self, _primal: &Self) -> Self {
                self
            }
        }

        impl FusedValue for $l {
            type Elem = <$l as FloatLanes>::Elem;
            const LANES: usize = <$l as FloatLanes>::LANES;
            #[inline(always)]
            fn splat_elem(v: Self::Elem) -> Self {
                <$l as FloatLanes>::splat_elem(v)
            }
            #[inline(always)]
            fn load_elems(s: &[Self::Elem]) -> Self {
                <$l as FloatLanes>::load(s)
            }
            #[inline(always)]
            fn store_elems(self, s: &mut [Self::Elem]) {
                <$l as FloatLanes>::store(self, s)
            }
            #[inline(always)]
            fn load_partial(s: &[Self::Elem]) -> Self {
                let last = s[s.len() - 1];
                let mut a = [last; MAX_LANES];
                a[..s.len()].copy_from_slice(s);
                <$l as FloatLanes>::load(&a)
            }
            #[inline(always)]
            fn store_partial(self, s: &mut [Self::Elem]) {
                let mut a = [<Self::Elem as num_traits::Zero>::zero(); MAX_LANES];
                <$l as FloatLanes>::store(self, &mut a);
                let n = s.len().min(<$l as FloatLanes>::LANES);
                s[..n].copy_from_slice(&a[..n]);
            }
            #[inline(always)]
            fn sum_first(self, n: usize) -> Self::Elem {
                let mut a = [<Self::Elem as num_traits::Zero>::zero(); MAX_LANES];
                <$l as FloatLanes>::store(self, &mut a);
                a[..n.min(<$l as FloatLanes>::LANES)].iter().copied().sum()
            }
            #[inline(always)]
            fn sum_lanes(self) -> Self::Elem {
                <$l as FloatLanes>::reduce_sum(self)
            }
            #[inline(always)]
            fn mul_add_elems(self, a: Self, b: Self) -> Self {
                <$l as FloatLanes>::mul_add(self, a, b)
            }
        }
    };
}
lane_fused_value!(wide::f64x4);
#[cfg(target_arch = "x86_64")]
lane_fused_value!(crate::simd::avx2::Avx2F64x4);
lane_fused_value!(wide::f32x8);
#[cfg(target_arch = "x86_64")]
lane_fused_value!(crate::simd::avx2::Avx2F32x8);
/// A loop over fused values, written once for every [`FusedValue`] type of element `T`;
/// [`Real::fused_dispatch`] runs it on the best one.
pub trait FusedKernel<T: Real> {
    /// What the loop returns.
    type Output;
    /// The loop, generic over the value type.
    fn run<V: FusedValue<Elem = T>>(self) -> Self::Output;
}

/// Runs a [`FusedKernel`] over `f64` on the best lane type for this CPU, as
/// [`crate::simd::dispatch`] runs a [`crate::simd::Kernel`]: AVX2+FMA lanes when the CPU
/// has them (detected at run time, once), [`wide::f64x4`] elsewhere.
///
/// `simd` knows nothing of the rules (its [`Lanes`] has no rule supertraits), so the rules
/// enter the AVX2 lane type through their own entry point, [`run_avx2`], instead of
/// through `simd::dispatch`.
#[inline]
pub(crate) fn dispatch_f64<K: FusedKernel<f64>>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        // SAFETY: `has_avx2_fma` returned true, so the CPU supports the `avx2` and `fma`
        // target features that `run_avx2` is compiled with.
        return unsafe { run_avx2(kernel) };
    }
    kernel.run::<wide::f64x4>()
}

/// Runs `kernel` with the AVX2+FMA lane type (one of the four places that instantiate
/// code with the AVX2 types; see the soundness notes of `simd/avx2.rs`).
///
/// # Safety
/// The CPU must support the `avx2` and `fma` target features this function is compiled
/// with.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<K: FusedKernel<f64>>(kernel: K) -> K::Output {
    kernel.run::<crate::simd::avx2::Avx2F64x4>()
}

/// Runs a [`FusedKernel`] over `f32` on the best eight-lane type for this CPU, as
/// [`dispatch_f64`] does for `f64`: AVX2+FMA lanes when the CPU has them (detected at run
/// time, once), [`wide::f32x8`] elsewhere.
#[inline]
pub(crate) fn dispatch_f32<K: FusedKernel<f32>>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        // SAFETY: `has_avx2_fma` returned true, so the CPU supports the `avx2` and `fma`
        // target features that `run_avx2_f32` is compiled with.
        return unsafe { run_avx2_f32(kernel) };
    }
    kernel.run::<wide::f32x8>()
}

/// Runs `kernel` with the AVX2+FMA `f32` lane type (see the soundness notes of
/// `simd/avx2.rs`).
///
/// # Safety
/// The CPU must support the `avx2` and `fma` target features this function is compiled
/// with.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2_f32<K: FusedKernel<f32>>(kernel: K) -> K::Output {
    kernel.run::<crate::simd::avx2::Avx2F32x8>()
}
