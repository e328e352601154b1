//! The rows of the op table, as an X-macro: [`for_each_op!`](crate::for_each_op) hands
//! every row to a callback macro, which keeps the fields it needs.
//!
//! Four sections:
//!
//! - `unary`: elementwise functions `y = f(x)`. Each row carries the formula `f`, the
//!   derivative `df(x, y)` (it may read the input `x`, the output `y`, or both: `reads`
//!   says which, so a tape keeps only that), and optionally the same pair on vector
//!   lanes, four `f64` or eight `f32` (`lanes`: the vector math of the runtime's `simd`
//!   module, or arithmetic that rounds as the scalar formula does; without it a fused
//!   loop applies `f` lane by lane).
//!   `simd: true` sends whole buffers through the vectorized kernel built from `lanes`.
//!   Every unary row written as a method or function is also a `Tensor` method.
//! - `binary`: elementwise functions of two arguments `y = f(a, b)` with both partials
//!   `da(a, b, y)` and `db(a, b, y)`, optionally on lanes. Operators (`+ - * /`) are here:
//!   their broadcasting and the matrix product are the runtime's dispatch, not the rule's.
//!   `tensor name` makes it the `Tensor` method `name` (`-`: none, or written by hand
//!   under PyTorch's name, as `pow`, `maximum`).
//! - `param`: elementwise functions with a run-time parameter (`powi(n)`); the rule
//!   itself is written by hand in the runtime, the row gives its properties.
//! - `structural`: the ops that are not elementwise (reductions, transposes, products,
//!   softmax, losses, calls with several operands); rules by hand in the runtime.
//!
//! `smooth (lo, hi)` is an interval where the function is smooth (away from 0, where
//! `abs` and `relu` have their kinks): the per-op checks sample their inputs there.
//!
//! The formula tokens are only parsed here; they are compiled where a callback expands
//! them (the runtime's rules), in scope of its `Real` trait (`T`), its `Lanes` trait
//! (`V`) and its `simd` module.

/// Calls `$callback! { unary: [..], binary: [..], param: [..], structural: [..] }` with
/// every row of the op table. See the [module docs](crate::table) for the sections.
/// `for_each_op!(callback [tokens])` puts `[tokens]` before the sections.
///
/// Row syntax, by section:
///
/// ```text
/// unary:      { Marker, method|function name, "TorchBackward0", reads Input|Output|Both,
///               fuses bool, simd bool, smooth (lo, hi), "doc", |x| f, |x, y| df [, lanes |x| f, |x, y| df] }
/// binary:     { Marker, method|function|operator name, "TorchBackward0", reads ..,
///               fuses bool, tensor name|-, smooth (lo, hi), "doc", |a, b| f, |a, b, y| da, |a, b, y| db
///               [, lanes |a, b| f, |a, b, y| da, |a, b, y| db] }
/// param:      { Marker, method name, "TorchBackward0", reads .., fuses bool, "doc" }
/// structural: { Marker, method|function|internal name, "TorchBackward0", Arity, Kind, "doc" }
/// ```
#[macro_export]
macro_rules! for_each_op {
    ($callback:ident $([$($extra:tt)*])?) => {
        $crate::for_each_op!(@emit [$callback] $([$($extra)*])?);
    };
    // The per-row helpers below, named through `$crate`.
    (@internal $callback:ident [$($extra:tt)*]) => {
        $crate::for_each_op!(@emit [$crate::$callback] [$($extra)*]);
    };
    (@emit [$($callback:tt)*] $($extra:tt)?) => {
        $($callback)*! {
            $($extra)?
            unary: [
                { Neg, operator neg, "NegBackward0", reads Nothing, fuses true, simd false, smooth (-3.0, 3.0),
                  "`-x`; derivative `-1`.",
                  |x| -x, |x, y| -T::one(),
                  lanes |x| -x, |x, y| V::splat(-1.0) },
                { Exp, method exp, "ExpBackward0", reads Output, fuses true, simd true, smooth (-3.0, 3.0),
                  "`e^x`; derivative `e^x` (the output).",
                  |x| num_traits::Float::exp(x), |x, y| y,
                  lanes |x| simd::exp(x), |x, y| y },
                { Exp2, method exp2, "Exp2Backward0", reads Output, fuses true, simd false, smooth (-3.0, 3.0),
                  "`2^x`; derivative `2^x ln 2` (the output times `ln 2`).",
                  |x| num_traits::Float::exp2(x), |x, y| y * T::LN_2() },
                { Ln, method ln, "LogBackward0", reads Input, fuses true, simd true, smooth (0.2, 5.0),
                  "`ln x`; derivative `1/x`.",
                  |x| num_traits::Float::ln(x), |x, y| T::one() / x,
                  lanes |x| simd::ln(x), |x, y| V::splat(1.0) / x },
                { Log10, method log10, "Log10Backward0", reads Input, fuses true, simd false, smooth (0.2, 5.0),
                  "`log10 x`; derivative `1/(x ln 10)`.",
                  |x| num_traits::Float::log10(x), |x, y| T::one() / (x * T::LN_10()) },
                { Log2, method log2, "Log2Backward0", reads Input, fuses true, simd false, smooth (0.2, 5.0),
                  "`log2 x`; derivative `1/(x ln 2)`.",
                  |x| num_traits::Float::log2(x), |x, y| T::one() / (x * T::LN_2()) },
                { Sqrt, method sqrt, "SqrtBackward0", reads Output, fuses true, simd false, smooth (0.2, 5.0),
                  "`sqrt x`; derivative `1/(2 sqrt x)` (infinite at 0, as in PyTorch).",
                  |x| num_traits::Float::sqrt(x), |x, y| T::c(0.5) / y,
                  lanes |x| x.sqrt(), |x, y| V::splat(0.5) / y },
                { Cbrt, method cbrt, "CbrtBackward0", reads Output, fuses true, simd false, smooth (-3.0, 3.0),
                  "`x^(1/3)` (real, negative for negative `x`); derivative `1/(3 y^2)` (infinite at 0).",
                  |x| num_traits::Float::cbrt(x), |x, y| T::one() / (T::c(3.0) * y * y) },
                { Recip, method recip, "ReciprocalBackward0", reads Output, fuses true, simd false, smooth (-3.0, 3.0),
                  "`1/x`; derivative `-1/x^2 = -y^2`.",
                  |x| num_traits::Float::recip(x), |x, y| -(y * y),
                  lanes |x| V::splat(1.0) / x, |x, y| -(y * y) },
                { Sin, method sin, "SinBackward0", reads Input, fuses true, simd false, smooth (-3.0, 3.0),
                  "`sin x`; derivative `cos x`.",
                  |x| num_traits::Float::sin(x), |x, y| num_traits::Float::cos(x) },
                { Cos, method cos, "CosBackward0", reads Input, fuses true, simd false, smooth (-3.0, 3.0),
                  "`cos x`; derivative `-sin x`.",
                  |x| num_traits::Float::cos(x), |x, y| -num_traits::Float::sin(x) },
                { Tan, method tan, "TanBackward0", reads Output, fuses true, simd false, smooth (-1.2, 1.2),
                  "`tan x`; derivative `1 + tan^2 x`.",
                  |x| num_traits::Float::tan(x), |x, y| T::one() + y * y },
                { Asin, method asin, "AsinBackward0", reads Input, fuses true, simd false, smooth (-0.9, 0.9),
                  "`asin x`; derivative `1/sqrt(1 - x^2)` (infinite at +-1, NaN outside [-1, 1]).",
                  |x| num_traits::Float::asin(x),
                  |x, y| T::one() / num_traits::Float::sqrt(T::one() - x * x) },
                { Acos, method acos, "AcosBackward0", reads Input, fuses true, simd false, smooth (-0.9, 0.9),
                  "`acos x`; derivative `-1/sqrt(1 - x^2)` (infinite at +-1, NaN outside [-1, 1]).",
                  |x| num_traits::Float::acos(x),
                  |x, y| -(T::one() / num_traits::Float::sqrt(T::one() - x * x)) },
                { Atan, method atan, "AtanBackward0", reads Input, fuses true, simd false, smooth (-3.0, 3.0),
                  "`atan x`; derivative `1/(1 + x^2)`.",
                  |x| num_traits::Float::atan(x), |x, y| T::one() / (x * x + T::one()) },
                { Tanh, method tanh, "TanhBackward0", reads Output, fuses true, simd true, smooth (-3.0, 3.0),
                  "`tanh x`; derivative `1 - tanh^2 x`.",
                  |x| num_traits::Float::tanh(x), |x, y| T::one() - y * y,
                  lanes |x| simd::tanh(x), |x, y| V::splat(1.0) - y * y },
                { Sinh, method sinh, "SinhBackward0", reads Input, fuses true, simd false, smooth (-3.0, 3.0),
                  "`sinh x`; derivative `cosh x`.",
                  |x| num_traits::Float::sinh(x), |x, y| num_traits::Float::cosh(x) },
                { Cosh, method cosh, "CoshBackward0", reads Input, fuses true, simd false, smooth (-3.0, 3.0),
                  "`cosh x`; derivative `sinh x`.",
                  |x| num_traits::Float::cosh(x), |x, y| num_traits::Float::sinh(x) },
                { Asinh, method asinh, "AsinhBackward0", reads Input, fuses true, simd false, smooth (-3.0, 3.0),
                  "`asinh x`; derivative `1/sqrt(x^2 + 1)`.",
                  |x| num_traits::Float::asinh(x),
                  |x, y| T::one() / num_traits::Float::sqrt(x * x + T::one()) },
                { Acosh, method acosh, "AcoshBackward0", reads Input, fuses true, simd false, smooth (1.1, 5.0),
                  "`acosh x`; derivative `1/sqrt(x^2 - 1)` (infinite at 1, NaN below 1).",
                  |x| num_traits::Float::acosh(x),
                  |x, y| T::one() / num_traits::Float::sqrt(x * x - T::one()) },
                { Atanh, method atanh, "AtanhBackward0", reads Input, fuses true, simd false, smooth (-0.9, 0.9),
                  "`atanh x`; derivative `1/(1 - x^2)` (infinite at +-1).",
                  |x| num_traits::Float::atanh(x), |x, y| T::one() / (T::one() - x * x) },
                { Abs, method abs, "AbsBackward0", reads Input, fuses true, simd false, smooth (-3.0, 3.0),
                  "`|x|`; derivative `sign x`, and 0 at 0 and at NaN (PyTorch's `sgn`, which maps NaN to 0).",
                  |x| num_traits::Float::abs(x),
                  |x, y| if x > T::zero() { T::one() } else if x < T::zero() { -T::one() } else { T::zero() },
                  lanes |x| x.abs(), |x, y| {
                      let zero = V::splat(0.0);
                      x.gt(zero).select(V::splat(1.0), x.lt(zero).select(V::splat(-1.0), zero))
                  } },
                { ExpM1, method exp_m1, "Expm1Backward0", reads Output, fuses true, simd true, smooth (-3.0, 3.0),
                  "`e^x - 1`, accurate near 0; derivative `e^x = y + 1`.",
                  |x| num_traits::Float::exp_m1(x), |x, y| y + T::one(),
                  lanes |x| simd::exp_m1(x), |x, y| y + V::splat(1.0) },
                { Ln1p, method ln_1p, "Log1PBackward0", reads Input, fuses true, simd true, smooth (-0.7, 3.0),
                  "`ln(1 + x)`, accurate near 0; derivative `1/(1 + x)`.",
                  |x| num_traits::Float::ln_1p(x), |x, y| T::one() / (T::one() + x),
                  lanes |x| simd::ln_1p(x), |x, y| V::splat(1.0) / (V::splat(1.0) + x) },
                { Relu, function relu, "ReluBackward0", reads Input, fuses true, simd false, smooth (-3.0, 3.0),
                  "`max(x, 0)` (NaN stays NaN); derivative 0 where `x <= 0` and 1 elsewhere (so 0 at 0 and 1 at NaN, as PyTorch's `threshold_backward`).",
                  |x| if x > T::zero() || x.is_nan() { x } else { T::zero() },
                  |x, y| if x <= T::zero() { T::zero() } else { T::one() },
                  // The scalar branches as masks: `x` where `x > 0` or NaN (so `-0.0`
                  // gives `+0.0`, as the scalar rule does), and the derivative 1 there.
                  lanes |x| {
                      let zero = V::splat(0.0);
                      x.gt(zero).bitor(x.is_nan()).select(x, zero)
                  }, |x, y| {
                      let zero = V::splat(0.0);
                      x.gt(zero).bitor(x.is_nan()).select(V::splat(1.0), zero)
                  } },
                { Sigmoid, function sigmoid, "SigmoidBackward0", reads Output, fuses true, simd true, smooth (-6.0, 6.0),
                  "`1 / (1 + e^-x)`, computed without overflow for any `x`; derivative `y (1 - y)`.",
                  |x| if x >= T::zero() {
                      T::one() / (T::one() + num_traits::Float::exp(-x))
                  } else {
                      let e = num_traits::Float::exp(x);
                      e / (T::one() + e)
                  },
                  |x, y| y * (T::one() - y),
                  lanes |x| simd::sigmoid(x), |x, y| y * (V::splat(1.0) - y) },
                { Softplus, function softplus, "SoftplusBackward0", reads Input, fuses true, simd true, smooth (-6.0, 6.0),
                  "`ln(1 + e^x)`, computed as `max(x, 0) + ln_1p(e^-|x|)` so it never overflows; derivative `sigmoid(x)`.",
                  |x| {
                      let m = if x > T::zero() { x } else { T::zero() };
                      m + num_traits::Float::ln_1p(num_traits::Float::exp(-num_traits::Float::abs(x)))
                  },
                  |x, y| Sigmoid.f(x),
                  lanes |x| simd::softplus(x), |x, y| simd::sigmoid(x) },
            ],
            binary: [
                { Add, operator add, "AddBackward0", reads Nothing, fuses true, tensor -, smooth (-3.0, 3.0),
                  "`a + b`.",
                  |a, b| a + b, |a, b, y| T::one(), |a, b, y| T::one(),
                  lanes |a, b| a + b, |a, b, y| V::splat(1.0), |a, b, y| V::splat(1.0) },
                { Sub, operator sub, "SubBackward0", reads Nothing, fuses true, tensor -, smooth (-3.0, 3.0),
                  "`a - b`.",
                  |a, b| a - b, |a, b, y| T::one(), |a, b, y| -T::one(),
                  lanes |a, b| a - b, |a, b, y| V::splat(1.0), |a, b, y| V::splat(-1.0) },
                { Mul, operator mul, "MulBackward0", reads Input, fuses false, tensor -, smooth (-3.0, 3.0),
                  "`a * b`; between two matrices the dispatch makes it the matrix product (`MmBackward0`); its elementwise form `component_mul` fuses.",
                  |a, b| a * b, |a, b, y| b, |a, b, y| a,
                  lanes |a, b| a * b, |a, b, y| b, |a, b, y| a },
                { Div, operator div, "DivBackward0", reads Input, fuses false, tensor -, smooth (-3.0, 3.0),
                  "`a / b` (its elementwise form `component_div` fuses); `d/da = 1/b`, `d/db = -a/b^2`, evaluated as `-(a/b)/b` like PyTorch so that `b^2` never overflows or underflows on its own.",
                  |a, b| a / b, |a, b, y| T::one() / b, |a, b, y| -(a / b / b),
                  lanes |a, b| a / b, |a, b, y| V::splat(1.0) / b, |a, b, y| -(a / b / b) },
                { Powf, method powf, "PowBackward1", reads Both, fuses false, tensor -, smooth (0.2, 3.0),
                  "`a^b`, both operands differentiable; `d/da = b a^(b-1)` (0 where `b = 0`), `d/db = a^b ln a` (0 where `a = 0` and `b >= 0`), as in PyTorch.",
                  |a, b| num_traits::Float::powf(a, b),
                  |a, b, y| if b == T::zero() { T::zero() } else { b * num_traits::Float::powf(a, b - T::one()) },
                  |a, b, y| if a == T::zero() && b >= T::zero() { T::zero() } else { y * num_traits::Float::ln(a) } },
                { Max, method max, "MaximumBackward0", reads Input, fuses false, tensor -, smooth (-3.0, 3.0),
                  "`max(a, b)` (NaN if either is NaN); the gradient goes to the larger argument, split evenly on a tie, and to both when either is NaN (PyTorch's `maximum`).",
                  |a, b| if a.is_nan() || b.is_nan() { T::nan() } else if a >= b { a } else { b },
                  |a, b, y| if a < b { T::zero() } else if a == b { T::c(0.5) } else { T::one() },
                  |a, b, y| if a > b { T::zero() } else if a == b { T::c(0.5) } else { T::one() } },
                { Min, method min, "MinimumBackward0", reads Input, fuses false, tensor -, smooth (-3.0, 3.0),
                  "`min(a, b)` (NaN if either is NaN); the gradient goes to the smaller argument, split evenly on a tie, and to both when either is NaN (PyTorch's `minimum`).",
                  |a, b| if a.is_nan() || b.is_nan() { T::nan() } else if a <= b { a } else { b },
                  |a, b, y| if a > b { T::zero() } else if a == b { T::c(0.5) } else { T::one() },
                  |a, b, y| if a < b { T::zero() } else if a == b { T::c(0.5) } else { T::one() } },
                { Atan2, method atan2, "Atan2Backward0", reads Input, fuses false, tensor atan2, smooth (-3.0, 3.0),
                  "`atan2(a, b)`, the angle of the point `(b, a)`; `d/da = b/(a^2 + b^2)`, `d/db = -a/(a^2 + b^2)` (NaN at the origin, as in PyTorch).",
                  |a, b| num_traits::Float::atan2(a, b),
                  |a, b, y| b * (T::one() / (a * a + b * b)),
                  |a, b, y| -a * (T::one() / (a * a + b * b)) },
                { Hypot, method hypot, "HypotBackward0", reads Both, fuses false, tensor hypot, smooth (-3.0, 3.0),
                  "`sqrt(a^2 + b^2)` without overflow; `d/da = a/y`, `d/db = b/y` (NaN at the origin, as in PyTorch).",
                  |a, b| num_traits::Float::hypot(a, b), |a, b, y| a / y, |a, b, y| b / y },
            ],
            param: [
                { PowI, method powi, "PowBackward0", reads Input, fuses true,
                  "`x^n` for an integer `n` known when the op runs; derivative `n x^(n-1)`, and 0 for `n = 0`." },
            ],
            structural: [
                { Transpose, method transpose, "TBackward0", Unary, Reshape,
                  "The transpose of a matrix." },
                { Sum, method sum, "SumBackward0", Unary, Reduce,
                  "The sum of every element." },
                { Mean, method mean, "MeanBackward0", Unary, Reduce,
                  "The mean of every element." },
                { Norm, method norm, "LinalgVectorNormBackward0", Unary, Reduce,
                  "The Euclidean (Frobenius) norm; gradient 0 at the zero vector." },
                { NormSquared, method norm_squared, "SumBackward0", Unary, Reduce,
                  "The squared Euclidean norm." },
                { RowSum, method row_sum, "SumBackward1", Unary, Reshape,
                  "The sum of each column, as a row (nalgebra's `row_sum`)." },
                { ColumnSum, method column_sum, "SumBackward1", Unary, Reshape,
                  "The sum of each row, as a column (nalgebra's `column_sum`)." },
                { Dot, method dot, "DotBackward0", Binary, Reduce,
                  "The dot product of two vectors (or matrices, elementwise)." },
                { ComponentMul, method component_mul, "MulBackward0", Binary, Componentwise,
                  "The elementwise product of two matrices of one shape." },
                { ComponentDiv, method component_div, "DivBackward0", Binary, Componentwise,
                  "The elementwise quotient of two matrices of one shape." },
                { Softmax, function softmax, "SoftmaxBackward0", Unary, Reshape,
                  "The softmax of each row, numerically stable." },
                { LogSoftmax, function log_softmax, "LogSoftmaxBackward0", Unary, Reshape,
                  "The log-softmax of each row, numerically stable." },
                { LogSumExp, function logsumexp, "LogsumexpBackward0", Unary, Reduce,
                  "`ln(sum(e^x))`, numerically stable." },
                { CrossEntropy, function cross_entropy, "NllLossBackward0", Binary, Reduce,
                  "The mean cross-entropy of row logits against class labels." },
                { Mse, function mse, "MseLossBackward0", Binary, Reduce,
                  "The mean squared error between a prediction and a target." },
                { Index, internal index, "SelectBackward0", UnaryParam, Reduce,
                  "`v[i]`: one element of a vector." },
                { Index2, internal index2, "SelectBackward0", UnaryParam, Reduce,
                  "`m[(i, j)]`: one element of a matrix." },
                { Row, method row, "SelectBackward0", UnaryParams, Reshape,
                  "Row `i`, an owned row vector (of the matrix's column type); the adjoint adds the cotangent into that row." },
                { Column, method column, "SelectBackward0", UnaryParams, Reshape,
                  "Column `j`, an owned column vector; the adjoint adds the cotangent into that column." },
                { Rows, method rows, "SliceBackward0", UnaryParams, Reshape,
                  "The `n` rows from row `i`, owned; the adjoint adds the cotangent into them." },
                { Columns, method columns, "SliceBackward0", UnaryParams, Reshape,
                  "The `n` columns from column `j`, owned; the adjoint adds the cotangent into them." },
                { FixedRows, method fixed_rows, "SliceBackward0", UnaryParams, Reshape,
                  "The `N` rows from row `i`, owned, with `N` static rows." },
                { FixedColumns, method fixed_columns, "SliceBackward0", UnaryParams, Reshape,
                  "The `N` columns from column `j`, owned, with `N` static columns." },
                { View, method view, "SliceBackward0", UnaryParams, Reshape,
                  "The `r x c` block whose top-left element is `(i, j)`, owned; the adjoint adds the cotangent into that block." },
                { FixedView, method fixed_view, "SliceBackward0", UnaryParams, Reshape,
                  "The `R x C` block whose top-left element is `(i, j)`, owned, of static shape." },
                { Cross, method cross, "LinalgCrossBackward0", Binary, Reshape,
                  "The cross product of two 3-vectors (columns or rows); gradients `b x g` and `g x a` for a cotangent `g`." },
                { MatMul, internal matmul, "MmBackward0", Binary, Product,
                  "`a * b` between two matrices: the matrix product." },
                { Clamp, method clamp, "ClampBackward0", Ternary, Elementwise,
                  "`x.clamp(lo, hi)`; gradient 1 to `x` where `lo <= x <= hi` (PyTorch's choice at the bounds), else to the bound that was taken." },
                { MulAdd, method mul_add, "AddcmulBackward0", Ternary, Elementwise,
                  "`a.mul_add(b, c) = a b + c` with one rounding; gradients `b`, `a` and 1." },
            ],
        }
    };
}

/// Calls `$callback!(Marker, syntax name, "TorchBackward0", simd, lo, hi);` once per
/// `unary` row (`simd` is the row's bool, `lo..hi` its `smooth` interval): the per-op
/// checks need no more.
#[macro_export]
macro_rules! for_each_unary_row {
    ($callback:ident) => {
        $crate::for_each_op!(@internal __autodiff_ops_unary_rows [$callback]);
    };
}

/// Calls `$callback!(Marker, syntax name, tensor, "TorchBackward0", lo, hi);` once per
/// `binary` row (`tensor` is the row's `Tensor` method name or `-`).
#[macro_export]
macro_rules! for_each_binary_row {
    ($callback:ident) => {
        $crate::for_each_op!(@internal __autodiff_ops_binary_rows [$callback]);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __autodiff_ops_unary_rows {
    (
        [$callback:ident]
        unary: [$({ $u:ident, $usyn:ident $uname:ident, $utorch:literal, reads $ureads:ident,
                   fuses $ufuses:literal, simd $usimd:literal, smooth ($ulo:literal, $uhi:literal),
                   $($urest:tt)* }),* $(,)?],
        $($rest:tt)*
    ) => {
        $($callback!($u, $usyn $uname, $utorch, $usimd, $ulo, $uhi);)*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __autodiff_ops_binary_rows {
    (
        [$callback:ident]
        unary: [$($urest:tt)*],
        binary: [$({ $b:ident, $bsyn:ident $bname:ident, $btorch:literal, reads $breads:ident,
                    fuses $bfuses:literal, tensor $btensor:tt, smooth ($blo:literal, $bhi:literal),
                    $($brest:tt)* }),* $(,)?],
        $($rest:tt)*
    ) => {
        $($callback!($b, $bsyn $bname, $btensor, $btorch, $blo, $bhi);)*
    };
}
