//! Unary elementwise rules: `y = f(x)` and `dy/dx = df(x, y)`.

use super::Real;
use crate::simd::{self, Lanes};

/// A unary elementwise function and its derivative.
///
/// `df` receives both the input and the output, so rules whose derivative is cheapest
/// in terms of the output (`exp`, `tanh`, `sigmoid`) reuse it instead of recomputing.
pub trait ElementwiseRule: Copy {
    /// The name of PyTorch's backward node for this op (`"ExpBackward0"`).
    const TORCH_NAME: &'static str;
    /// `f(x)`.
    fn f<T: Real>(self, x: T) -> T;
    /// `f'(x)`, given `x` and `y = f(x)`.
    fn df<T: Real>(self, x: T, y: T) -> T;
    /// The vectorized kernel computing `f` over whole buffers, if there is one.
    fn simd_kernel(self) -> Option<super::SimdKernel> {
        None
    }
    /// `f` on four `f64` lanes at once, for fused loops. The default applies [`Self::f`]
    /// lane by lane; rules override it with the vector math of [`crate::simd`] or with
    /// the same formula written on lanes, which rounds exactly as the scalar one.
    #[inline(always)]
    fn f_lanes<V: Lanes>(self, x: V) -> V {
        x.map(|v| self.f(v))
    }
    /// `f'` on four `f64` lanes, given `x` and `y = f(x)` (default: [`Self::df`] lane by lane).
    #[inline(always)]
    fn df_lanes<V: Lanes>(self, x: V, y: V) -> V {
        x.zip_map(y, |x, y| self.df(x, y))
    }
    /// `x[i] = f(x[i])` for every element: one vectorized pass where the rule has a
    /// [`Self::simd_kernel`], else a scalar loop.
    #[inline]
    fn f_in_place<T: Real>(self, x: &mut [T]) {
        match self.simd_kernel() {
            Some(kernel) => T::simd_in_place(kernel, x),
            None => x.iter_mut().for_each(|v| *v = self.f(*v)),
        }
    }
}

macro_rules! elementwise_rule {
    ($(#[$doc:meta])* $name:ident, $torch:literal, |$x:ident| $f:expr, |$dx:ident, $y:ident| $df:expr) => {
        elementwise_rule!($(#[$doc])* $name, $torch, simd None, |$x| $f, |$dx, $y| $df);
    };
    ($(#[$doc:meta])* $name:ident, $torch:literal, simd $kernel:expr, |$x:ident| $f:expr, |$dx:ident, $y:ident| $df:expr) => {
        elementwise_rule!(@rule $(#[$doc])* $name, $torch, simd $kernel, |$x| $f, |$dx, $y| $df, {});
    };
    ($(#[$doc:meta])* $name:ident, $torch:literal, simd $kernel:expr, |$x:ident| $f:expr, |$dx:ident, $y:ident| $df:expr,
     lanes |$lx:ident| $lf:expr, |$ldx:ident, $ly:ident| $ldf:expr) => {
        elementwise_rule!(@rule $(#[$doc])* $name, $torch, simd $kernel, |$x| $f, |$dx, $y| $df, {
            #[inline(always)]
            fn f_lanes<V: Lanes>(self, $lx: V) -> V {
                $lf
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn df_lanes<V: Lanes>(self, $ldx: V, $ly: V) -> V {
                $ldf
            }
        });
    };
    (@rule $(#[$doc:meta])* $name:ident, $torch:literal, simd $kernel:expr, |$x:ident| $f:expr, |$dx:ident, $y:ident| $df:expr, {$($lanes:tt)*}) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl super::OpName for $name {
            const TORCH_NAME: &'static str = $torch;
        }

        impl ElementwiseRule for $name {
            const TORCH_NAME: &'static str = $torch;
            #[inline(always)]
            fn f<T: Real>(self, $x: T) -> T {
                $f
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn df<T: Real>(self, $dx: T, $y: T) -> T {
                $df
            }
            #[inline(always)]
            fn simd_kernel(self) -> Option<super::SimdKernel> {
                $kernel
            }
            $($lanes)*
        }
    };
}

elementwise_rule!(
    /// `-x`; derivative `-1`.
    Neg, "NegBackward0", simd None, |x| -x, |x, y| -T::one(),
    lanes |x| -x, |x, y| V::splat(-1.0)
);
elementwise_rule!(
    /// `e^x`; derivative `e^x` (the output).
    Exp, "ExpBackward0", simd Some(super::SimdKernel::Exp), |x| num_traits::Float::exp(x), |x, y| y,
    lanes |x| simd::exp(x), |x, y| y
);
elementwise_rule!(
    /// `ln x`; derivative `1/x`.
    Ln, "LogBackward0", simd Some(super::SimdKernel::Ln), |x| num_traits::Float::ln(x), |x, y| T::one() / x,
    lanes |x| simd::ln(x), |x, y| V::splat(1.0) / x
);
elementwise_rule!(
    /// `log10 x`; derivative `1/(x ln 10)`.
    Log10, "Log10Backward0", |x| num_traits::Float::log10(x), |x, y| T::one() / (x * T::LN_10())
);
elementwise_rule!(
    /// `log2 x`; derivative `1/(x ln 2)`.
    Log2, "Log2Backward0", |x| num_traits::Float::log2(x), |x, y| T::one() / (x * T::LN_2())
);
elementwise_rule!(
    /// `sqrt x`; derivative `1/(2 sqrt x)` (infinite at 0, as in PyTorch).
    Sqrt, "SqrtBackward0", simd None, |x| num_traits::Float::sqrt(x), |x, y| T::c(0.5) / y,
    lanes |x| x.map(f64::sqrt), |x, y| V::splat(0.5) / y
);
elementwise_rule!(
    /// `1/x`; derivative `-1/x^2 = -y^2`.
    Recip, "ReciprocalBackward0", simd None, |x| num_traits::Float::recip(x), |x, y| -(y * y),
    lanes |x| V::splat(1.0) / x, |x, y| -(y * y)
);
elementwise_rule!(
    /// `sin x`; derivative `cos x`.
    Sin, "SinBackward0", |x| num_traits::Float::sin(x), |x, y| num_traits::Float::cos(x)
);
elementwise_rule!(
    /// `cos x`; derivative `-sin x`.
    Cos, "CosBackward0", |x| num_traits::Float::cos(x), |x, y| -num_traits::Float::sin(x)
);
elementwise_rule!(
    /// `tan x`; derivative `1 + tan^2 x`.
    Tan, "TanBackward0", |x| num_traits::Float::tan(x), |x, y| T::one() + y * y
);
elementwise_rule!(
    /// `tanh x`; derivative `1 - tanh^2 x`.
    Tanh, "TanhBackward0", simd Some(super::SimdKernel::Tanh), |x| num_traits::Float::tanh(x), |x, y| T::one() - y * y,
    lanes |x| simd::tanh(x), |x, y| V::splat(1.0) - y * y
);
elementwise_rule!(
    /// `sinh x`; derivative `cosh x`.
    Sinh, "SinhBackward0", |x| num_traits::Float::sinh(x), |x, y| num_traits::Float::cosh(x)
);
elementwise_rule!(
    /// `cosh x`; derivative `sinh x`.
    Cosh, "CoshBackward0", |x| num_traits::Float::cosh(x), |x, y| num_traits::Float::sinh(x)
);
elementwise_rule!(
    /// `|x|`; derivative `sign x`, and 0 at 0 and at NaN (PyTorch's `sgn`, which maps NaN to 0).
    Abs, "AbsBackward0", simd None, |x| num_traits::Float::abs(x), |x, y| {
        if x > T::zero() {
            T::one()
        } else if x < T::zero() {
            -T::one()
        } else {
            T::zero()
        }
    },
    lanes |x| x.abs(), |x, y| {
        let zero = V::splat(0.0);
        x.gt(zero).select(V::splat(1.0), x.lt(zero).select(V::splat(-1.0), zero))
    }
);
elementwise_rule!(
    /// `e^x - 1`, accurate near 0; derivative `e^x = y + 1`.
    ExpM1, "Expm1Backward0", simd Some(super::SimdKernel::ExpM1), |x| num_traits::Float::exp_m1(x), |x, y| y + T::one(),
    lanes |x| simd::exp_m1(x), |x, y| y + V::splat(1.0)
);
elementwise_rule!(
    /// `ln(1 + x)`, accurate near 0; derivative `1/(1 + x)`.
    Ln1p, "Log1PBackward0", simd Some(super::SimdKernel::Ln1p), |x| num_traits::Float::ln_1p(x), |x, y| T::one() / (T::one() + x),
    lanes |x| simd::ln_1p(x), |x, y| V::splat(1.0) / (V::splat(1.0) + x)
);
elementwise_rule!(
    /// `max(x, 0)` (NaN stays NaN); derivative 0 where `x <= 0` and 1 elsewhere, so 0 at 0 and
    /// 1 at NaN, as PyTorch's `threshold_backward(grad, result, 0)` (`result <= 0 ? 0 : grad`).
    Relu, "ReluBackward0", simd None, |x| if x > T::zero() || x.is_nan() { x } else { T::zero() },
    |x, y| if x <= T::zero() { T::zero() } else { T::one() },
    // The scalar branches as masks: `x` where `x > 0` or NaN (so `-0.0` gives `+0.0`,
    // as the scalar rule does), and the derivative 1 there.
    lanes |x| {
        let zero = V::splat(0.0);
        x.gt(zero).bitor(x.is_nan()).select(x, zero)
    }, |x, y| {
        let zero = V::splat(0.0);
        x.gt(zero).bitor(x.is_nan()).select(V::splat(1.0), zero)
    }
);
elementwise_rule!(
    /// `1 / (1 + e^-x)`, computed without overflow for any `x`; derivative `y (1 - y)`.
    Sigmoid, "SigmoidBackward0", simd Some(super::SimdKernel::Sigmoid), |x| {
        if x >= T::zero() {
            T::one() / (T::one() + num_traits::Float::exp(-x))
        } else {
            let e = num_traits::Float::exp(x);
            e / (T::one() + e)
        }
    },
    |x, y| y * (T::one() - y),
    lanes |x| simd::sigmoid(x), |x, y| y * (V::splat(1.0) - y)
);
elementwise_rule!(
    /// `ln(1 + e^x)`, computed as `max(x, 0) + ln_1p(e^-|x|)` so it never overflows;
    /// derivative `sigmoid(x)`.
    Softplus, "SoftplusBackward0", simd Some(super::SimdKernel::Softplus), |x| {
        let m = if x > T::zero() { x } else { T::zero() };
        m + num_traits::Float::ln_1p(num_traits::Float::exp(-num_traits::Float::abs(x)))
    },
    |x, y| Sigmoid.f(x),
    lanes |x| simd::softplus(x), |x, y| simd::sigmoid(x)
);

/// `x^n` for an integer `n` known when the op runs; derivative `n x^(n-1)`, and 0 for `n = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowI(pub i32);

impl super::OpName for PowI {
    const TORCH_NAME: &'static str = "PowBackward0";
}

impl ElementwiseRule for PowI {
    const TORCH_NAME: &'static str = "PowBackward0";
    #[inline(always)]
    fn f<T: Real>(self, x: T) -> T {
        num_traits::Float::powi(x, self.0)
    }
    #[inline(always)]
    fn df<T: Real>(self, x: T, _y: T) -> T {
        match self.0 {
            0 => T::zero(),
            1 => T::one(),
            2 => x + x,
            n => T::c(n as f64) * num_traits::Float::powi(x, n - 1),
        }
    }
    #[inline(always)]
    fn f_lanes<V: Lanes>(self, x: V) -> V {
        // `powi` of small exponents is repeated multiplication: the same rounding as
        // the scalar `powi` for 2 and 3 (checked against it in the tests).
        match self.0 {
            1 => x,
            2 => x * x,
            _ => x.map(|v| self.f(v)),
        }
    }
    #[inline(always)]
    fn df_lanes<V: Lanes>(self, x: V, y: V) -> V {
        match self.0 {
            0 => V::splat(0.0),
            1 => V::splat(1.0),
            2 => x + x,
            _ => x.zip_map(y, |x, y| self.df(x, y)),
        }
    }
}
