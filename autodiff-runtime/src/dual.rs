//! Forward-mode dual numbers: [`Dual`], a value and its tangent, as a [`Real`] scalar.
//!
//! A `Dual { re, eps }` stands for `re + eps ε` with `ε² = 0`, so that evaluating any
//! function on `Dual::variable(x)` gives `f(x)` in `re` and `f'(x)` in `eps`. Because
//! `Dual<T>` is itself a [`Real`], the generic code `#[differentiable]` writes for
//! `fn f<T: Real>` runs on it unchanged: `f_grad::<Dual<f64>>` is forward-over-reverse,
//! its gradient's `eps` a Hessian-vector product.
//!
//! Every method propagates the derivative exactly (`eps = f'(re) eps`), with the
//! subgradients of the op table at singular points (`abs'(0) = 0`, `max`/`min` ties split
//! evenly). A zero tangent stays zero even where `f'` is infinite or NaN (`sqrt` at 0,
//! `ln` of a negative constant), so constants stay constants.
//!
//! Comparisons (`==`, `<`) look at `re` only, as in other dual-number libraries.
//!
//! [`DualParts`] lifts values (scalars, matrices, `Vec`s, arrays, tuples) to duals and
//! splits dual results back into their value and tangent parts.
//!
//! ```
//! use autodiff_runtime::Dual;
//! use num_traits::Float;
//!
//! let x = Dual::variable(2.0_f64);
//! let y = x * x * x + x.sin();
//! assert_eq!(y.re, 8.0 + 2.0_f64.sin());
//! assert_eq!(y.eps, 12.0 + 2.0_f64.cos());
//! ```

use std::fmt;
use std::iter::{Product, Sum};
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

use crate::rules::{ElementwiseRule, FusedKernel, Real};
use crate::tangent::{StructureMismatch, Tangent};

mod float;
mod nalgebra;
mod parts;
#[cfg(test)]
mod tests;

pub use parts::{split_eps, split_re, DualParts};

/// A dual number `re + eps ε` (`ε² = 0`): a value and its directional derivative.
///
/// Laid out as `[re, eps]` (`repr(C)`), so a slice of duals is a slice of scalars with
/// the values at even and the tangents at odd positions (the products read it so).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Dual<T> {
    /// The value.
    pub re: T,
    /// The tangent (the derivative along the seeded direction).
    pub eps: T,
}

impl<T: Real> Dual<T> {
    /// `re + eps ε`.
    #[inline(always)]
    pub fn new(re: T, eps: T) -> Self {
        Dual { re, eps }
    }

    /// A constant: tangent 0.
    #[inline(always)]
    pub fn constant(re: T) -> Self {
        Dual { re, eps: T::zero() }
    }

    /// The variable differentiated by: tangent 1.
    #[inline(always)]
    pub fn variable(re: T) -> Self {
        Dual { re, eps: T::one() }
    }

    /// `f(re) + f'(re) eps ε` for `y = f(re)` and `dy = f'(re)`.
    #[inline(always)]
    pub(crate) fn chain(self, y: T, dy: T) -> Self {
        Dual {
            re: y,
            eps: tangent_times(dy, self.eps),
        }
    }
}

/// `d * e`, and 0 when the tangent `e` is 0 whatever `d` is (an infinite or NaN
/// derivative of a constant does not make its tangent NaN).
#[inline(always)]
pub(crate) fn tangent_times<T: Real>(d: T, e: T) -> T {
    if e == T::zero() {
        T::zero()
    } else {
        d * e
    }
}

impl<T: Real> From<T> for Dual<T> {
    /// A constant.
    #[inline(always)]
    fn from(re: T) -> Self {
        Dual::constant(re)
    }
}

impl<T: fmt::Display> fmt::Display for Dual<T> {
    /// `re + epsε`, with the format's precision applied to both parts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match f.precision() {
            Some(p) => write!(f, "{:.*} + {:.*}ε", p, self.re, p, self.eps),
            None => write!(f, "{} + {}ε", self.re, self.eps),
        }
    }
}

impl<T: PartialEq> PartialEq for Dual<T> {
    /// Compares the values only.
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

impl<T: PartialOrd> PartialOrd for Dual<T> {
    /// Orders by the values only.
    #[inline(always)]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl<T: Real> Neg for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Dual {
            re: -self.re,
            eps: -self.eps,
        }
    }
}

impl<T: Real> Add for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        Dual {
            re: self.re + b.re,
            eps: self.eps + b.eps,
        }
    }
}

impl<T: Real> Sub for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        Dual {
            re: self.re - b.re,
            eps: self.eps - b.eps,
        }
    }
}

impl<T: Real> Mul for Dual<T> {
    type Output = Self;
    /// `(a + a' ε)(b + b' ε) = ab + (a' b + a b') ε`.
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        Dual {
            re: self.re * b.re,
            eps: self.eps * b.re + self.re * b.eps,
        }
    }
}

impl<T: Real> Div for Dual<T> {
    type Output = Self;
    /// `y = a / b`, `y' = (a' - y b') / b` (no `b²`, which could overflow on its own).
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        let y = self.re / b.re;
        Dual {
            re: y,
            eps: (self.eps - y * b.eps) / b.re,
        }
    }
}

impl<T: Real> Rem for Dual<T> {
    type Output = Self;
    /// `a % b = a - trunc(a / b) b`: tangent `a' - trunc(a / b) b'`.
    #[inline(always)]
    fn rem(self, b: Self) -> Self {
        let q = num_traits::Float::trunc(self.re / b.re);
        Dual {
            re: self.re % b.re,
            eps: self.eps - tangent_times(q, b.eps),
        }
    }
}

macro_rules! assign_ops {
    ($($tr:ident $m:ident $op:tt),*) => {$(
        impl<T: Real> $tr for Dual<T> {
            #[inline(always)]
            fn $m(&mut self, b: Self) {
                *self = *self $op b;
            }
        }
    )*};
}
assign_ops!(AddAssign add_assign +, SubAssign sub_assign -, MulAssign mul_assign *,
    DivAssign div_assign /, RemAssign rem_assign %);

impl<T: Real> Sum for Dual<T> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Dual::constant(T::zero()), |a, b| a + b)
    }
}

impl<'a, T: Real> Sum<&'a Dual<T>> for Dual<T> {
    fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

impl<T: Real> Product for Dual<T> {
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Dual::constant(T::one()), |a, b| a * b)
    }
}

impl<T: Real> Real for Dual<T> {
    /// Runs the kernel on the scalar value type `Dual<T>` (one lane), as for `f32`.
    #[inline(always)]
    fn fused_dispatch<K: FusedKernel<Self>>(kernel: K) -> K::Output {
        kernel.run::<Dual<T>>()
    }
    /// The rule's scalar `f`, element by element (its `f_lanes` is `f64`-only).
    fn lanes_in_place<R: ElementwiseRule>(rule: R, x: &mut [Self]) {
        x.iter_mut().for_each(|v| *v = rule.f(*v))
    }
    /// A constant.
    #[inline(always)]
    fn c(value: f64) -> Self {
        Dual::constant(T::c(value))
    }
    /// The value part, as `f64`.
    #[inline(always)]
    fn to_f64_lossless(self) -> f64 {
        self.re.to_f64_lossless()
    }
}

impl<T: Real> Tangent for Dual<T> {
    type Scalar = Dual<T>;
    #[inline]
    fn zero_like(&self) -> Self {
        Dual::constant(T::zero())
    }
    #[inline]
    fn visit(&self, f: &mut dyn FnMut(&[Self])) {
        f(std::slice::from_ref(self))
    }
    #[inline]
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [Self])) {
        f(std::slice::from_mut(self))
    }
    #[inline]
    fn visit_zip(&self, other: &Self, f: &mut dyn FnMut(&[Self], &[Self])) {
        f(std::slice::from_ref(self), std::slice::from_ref(other))
    }
    #[inline]
    fn visit_zip_mut(&mut self, other: &Self, f: &mut dyn FnMut(&mut [Self], &[Self])) {
        f(std::slice::from_mut(self), std::slice::from_ref(other))
    }
    fn visit_named(&self, prefix: &str, f: &mut dyn FnMut(&str, &[Self])) {
        f(prefix, std::slice::from_ref(self))
    }
    fn visit_named_shaped(&self, prefix: &str, f: &mut dyn FnMut(&str, &[usize], &[Self])) {
        f(prefix, &[], std::slice::from_ref(self))
    }
    fn check_structure(&self, _other: &Self) -> Result<(), StructureMismatch> {
        Ok(())
    }
    #[inline]
    fn add_assign(&mut self, other: &Self) {
        *self += *other;
    }
    #[inline]
    fn scale(&mut self, factor: Self) {
        *self *= factor;
    }
    fn items_as_leaf(items: &[Self]) -> Option<&[Self]> {
        Some(items)
    }
    fn items_as_leaf_mut(items: &mut [Self]) -> Option<&mut [Self]> {
        Some(items)
    }
}
