//! Type-directed dispatch from the code `#[differentiable]` generates to the rules.
//!
//! The macro cannot see types, so for `y = a * b` it emits
//! `binary(Mul, &a, &b)` in the forward code and `binary_vjp_lhs(Mul, &a, &b, &y, &g, &mut ga)`
//! in the reverse code, and rustc picks the implementation for the operand types:
//! scalar times scalar, scalar times matrix, matrix product, and so on. Every `vjp`
//! function *adds* its contribution into the adjoint it is given, so adjoints are
//! accumulated in place and nothing is allocated for scalars.

use super::{BinaryRule, ElementwiseRule, OpName, Real};

/// An adjoint (cotangent) accumulator of the same type as its primal value.
///
/// `adjoint_zero` is the symbolic zero that accumulation starts from: `-0.0` for floats
/// (so that the first `+=` is exact and free: `-0.0 + g == g` for every `g`), and an
/// empty matrix for matrices (so that no shape is needed before the first contribution).
/// [`Adjoint::finish`] turns a symbolic zero into a real one of the primal's shape.
pub trait Adjoint: Sized {
    /// The symbolic zero.
    fn adjoint_zero() -> Self;
    /// `self += other`.
    fn accumulate(&mut self, other: &Self);
    /// `self += other`, taking `other`: a container's symbolic zero takes `other` itself
    /// (no copy, no allocation), anything else adds it and gives its buffers back.
    #[inline(always)]
    fn accumulate_owned(&mut self, other: Self) {
        self.accumulate(&other);
        other.recycle();
    }
    /// The final adjoint of `primal`: a real zero where nothing was accumulated.
    fn finish(self, primal: &Self) -> Self;
    /// [`Adjoint::finish`] for an adjoint that received at least one contribution on every
    /// path: a no-op for scalars (whose sum is already exact), a shape check for matrices
    /// (whose contributions may all have been symbolic zeros).
    fn finish_contributed(self, primal: &Self) -> Self {
        self.finish(primal)
    }
    /// Gives the adjoint's buffers back to the installed [`crate::workspace::Workspace`]
    /// pool (matrices, field by field for structs); drops it when no pool is installed or
    /// it holds none (scalars).
    #[inline(always)]
    fn recycle(self) {}
}

impl<T: Real> Adjoint for T {
    #[inline(always)]
    fn adjoint_zero() -> Self {
        -T::zero()
    }
    #[inline(always)]
    fn accumulate(&mut self, other: &Self) {
        *self += *other;
    }
    #[inline(always)]
    fn finish(self, _primal: &Self) -> Self {
        // -0.0 + 0.0 == +0.0: a gradient that received nothing reads as a plain zero.
        self + T::zero()
    }
    #[inline(always)]
    fn finish_contributed(self, _primal: &Self) -> Self {
        self
    }
}

/// A unary operation `Op` applicable to `Self` (elementwise on matrices, or a reduction).
pub trait UnaryOp<Op> {
    /// The result type.
    type Output;
    /// `op(self)`.
    fn forward(&self, op: Op) -> Self::Output;
    /// Adds `g * d op(self) / d self` (a vector-Jacobian product) into `gx`; `y` is the forward result.
    fn vjp(&self, op: Op, y: &Self::Output, g: &Self::Output, gx: &mut Self);
}

/// A binary operation `Op` between `Self` and `B`.
pub trait BinaryOp<Op, B>: Sized {
    /// The result type.
    type Output;
    /// `op(self, b)`.
    fn forward(&self, op: Op, b: &B) -> Self::Output;
    /// Adds the vector-Jacobian product for the left operand into `ga`.
    fn vjp_lhs(&self, op: Op, b: &B, y: &Self::Output, g: &Self::Output, ga: &mut Self);
    /// Adds the vector-Jacobian product for the right operand into `gb`.
    fn vjp_rhs(&self, op: Op, b: &B, y: &Self::Output, g: &Self::Output, gb: &mut B);
    /// PyTorch's backward-node name for this op on these operand types: the marker's
    /// [`OpName::TORCH_NAME`], unless the types change the op (`Mul` between two
    /// matrices is the matrix product, `"MmBackward0"`).
    fn torch_name() -> &'static str
    where
        Op: OpName,
    {
        Op::TORCH_NAME
    }
    /// `op(self, b)` and, for a cotangent `g` of the result known before the op runs (the
    /// function's own result), the left operand's vector-Jacobian product added into `ga`.
    /// By default [`Self::forward`] then [`Self::vjp_lhs`]; ops that can share work between
    /// the two (`cross_entropy`'s softmax) override it.
    fn forward_vjp_lhs(&self, op: Op, b: &B, g: &Self::Output, ga: &mut Self) -> Self::Output
    where
        Op: Copy,
    {
        let y = self.forward(op, b);
        self.vjp_lhs(op, b, &y, g, ga);
        y
    }
}

impl<T: Real, R: ElementwiseRule> UnaryOp<R> for T {
    type Output = T;
    #[inline(always)]
    fn forward(&self, op: R) -> T {
        op.f(*self)
    }
    #[inline(always)]
    fn vjp(&self, op: R, y: &T, g: &T, gx: &mut T) {
        *gx += *g * op.df(*self, *y);
    }
}

impl<T: Real, R: BinaryRule> BinaryOp<R, T> for T {
    type Output = T;
    #[inline(always)]
    fn forward(&self, op: R, b: &T) -> T {
        op.f(*self, *b)
    }
    #[inline(always)]
    fn vjp_lhs(&self, op: R, b: &T, y: &T, g: &T, ga: &mut T) {
        *ga += *g * op.da(*self, *b, *y);
    }
    #[inline(always)]
    fn vjp_rhs(&self, op: R, b: &T, y: &T, g: &T, gb: &mut T) {
        *gb += *g * op.db(*self, *b, *y);
    }
}

/// Forward of a unary op: `op(x)`.
#[inline(always)]
pub fn unary<Op, X: UnaryOp<Op> + ?Sized>(op: Op, x: &X) -> X::Output {
    x.forward(op)
}

/// Reverse of a unary op: `gx += g * d op(x) / dx`.
#[inline(always)]
pub fn unary_vjp<Op, X: UnaryOp<Op> + ?Sized>(
    op: Op,
    x: &X,
    y: &X::Output,
    g: &X::Output,
    gx: &mut X,
) {
    x.vjp(op, y, g, gx)
}

/// Forward of a binary op: `op(a, b)`.
#[inline(always)]
pub fn binary<Op, A: BinaryOp<Op, B>, B>(op: Op, a: &A, b: &B) -> A::Output {
    a.forward(op, b)
}

/// A binary op and its left operand's vector-Jacobian product in one call, for a
/// cotangent `g` known before the op runs (see [`BinaryOp::forward_vjp_lhs`]).
#[inline(always)]
pub fn binary_forward_vjp_lhs<Op: Copy, A: BinaryOp<Op, B>, B>(
    op: Op,
    a: &A,
    b: &B,
    g: &A::Output,
    ga: &mut A,
) -> A::Output {
    a.forward_vjp_lhs(op, b, g, ga)
}

/// Reverse of a binary op for its left operand.
#[inline(always)]
pub fn binary_vjp_lhs<Op, A: BinaryOp<Op, B>, B>(
    op: Op,
    a: &A,
    b: &B,
    y: &A::Output,
    g: &A::Output,
    ga: &mut A,
) {
    a.vjp_lhs(op, b, y, g, ga)
}

/// Reverse of a binary op for its right operand.
#[inline(always)]
pub fn binary_vjp_rhs<Op, A: BinaryOp<Op, B>, B>(
    op: Op,
    a: &A,
    b: &B,
    y: &A::Output,
    g: &A::Output,
    gb: &mut B,
) {
    a.vjp_rhs(op, b, y, g, gb)
}

/// PyTorch's backward-node name of a binary op on the operands' types
/// (`"MulBackward0"` for scalars, `"MmBackward0"` for the matrix product).
#[inline(always)]
pub fn binary_torch_name<Op: OpName, A: BinaryOp<Op, B>, B>(
    _op: &Op,
    _a: &A,
    _b: &B,
) -> &'static str {
    A::torch_name()
}

/// The symbolic zero adjoint, its type inferred from how it is used.
#[inline(always)]
pub fn adjoint_zero<X: Adjoint>() -> X {
    X::adjoint_zero()
}

/// `acc += contribution`.
#[inline(always)]
pub fn accumulate<X: Adjoint>(acc: &mut X, contribution: &X) {
    acc.accumulate(contribution)
}

/// `acc += contribution`, taking the contribution (see [`Adjoint::accumulate_owned`]).
#[inline(always)]
pub fn accumulate_owned<X: Adjoint>(acc: &mut X, contribution: X) {
    acc.accumulate_owned(contribution)
}

/// The final adjoint of `primal` (a real zero where nothing arrived).
#[inline(always)]
pub fn finish<X: Adjoint>(adjoint: X, primal: &X) -> X {
    adjoint.finish(primal)
}

/// The final adjoint of `primal`, which received a contribution on every path.
#[inline(always)]
pub fn finish_contributed<X: Adjoint>(adjoint: X, primal: &X) -> X {
    adjoint.finish_contributed(primal)
}

/// Gives an adjoint's buffers back to the installed workspace pool ([`Adjoint::recycle`]).
#[inline(always)]
pub fn recycle<X: Adjoint>(adjoint: X) {
    adjoint.recycle()
}

/// The seed `1` of a scalar output, for `name_grad`.
#[inline(always)]
pub fn one<T: Real>() -> T {
    T::one()
}

/// `x` with its gradient cut: the value, and no adjoint flows back (PyTorch's `detach`).
///
/// ```
/// use autodiff_runtime::rules::stop_gradient;
/// assert_eq!(stop_gradient(3.0), 3.0);
/// ```
#[inline(always)]
pub fn stop_gradient<X>(x: X) -> X {
    x
}

/// The cotangent a pullback returns for a parameter its function does not differentiate
/// (excluded with `wrt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotDifferentiated;

/// A cotangent returned by a callee's pullback for one argument: the adjoint itself for
/// a differentiated parameter, [`NotDifferentiated`] for one the callee excludes.
///
/// Implemented per kind of adjoint type (every `T: Real`, matrices, sequences, derived
/// structs), not as `impl<X> Cotangent<X> for X`, so that for `NotDifferentiated` the
/// adjoint's type is left to the other uses to decide.
pub trait Cotangent<X> {
    /// Adds this cotangent into `acc`.
    fn add_to(&self, acc: &mut X);
    /// Adds this cotangent into `acc`, taking it (see [`Adjoint::accumulate_owned`]).
    #[inline(always)]
    fn add_owned(self, acc: &mut X)
    where
        Self: Sized,
    {
        self.add_to(acc)
    }
}

impl<T: Real> Cotangent<T> for T {
    #[inline(always)]
    fn add_to(&self, acc: &mut T) {
        *acc += *self;
    }
}

impl<X> Cotangent<X> for NotDifferentiated {
    #[inline(always)]
    fn add_to(&self, _acc: &mut X) {}
}

/// `acc += cotangent` for the cotangent of one argument of a call.
#[inline(always)]
pub fn accumulate_cotangent<X, C: Cotangent<X>>(acc: &mut X, cotangent: &C) {
    cotangent.add_to(acc)
}

/// [`accumulate_cotangent`], taking the cotangent: an adjoint that is still the symbolic
/// zero takes its buffer.
#[inline(always)]
pub fn accumulate_cotangent_owned<X, C: Cotangent<X>>(acc: &mut X, cotangent: C) {
    cotangent.add_owned(acc)
}
