//! Fused elementwise chains: `#[differentiable]` turns a chain such as
//! `(a.component_mul(x) + b).tanh()` into one loop forward and one loop in reverse,
//! with no intermediate matrix. The macro writes the chain's scalar code as a closure
//! over one element of each input; these functions run it over whole matrices.
//!
//! Inputs broadcast like the ops they replace: a matrix of the output's shape is read
//! element by element, a `1 x n` row along the rows, an `m x 1` column along the
//! columns, a scalar everywhere. The output has the type of `a + b + ...`.

use super::matrix::ensure_shape;
use super::{Add, BinaryOp, Real};
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

/// How an input is read at each element of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broadcast {
    /// The input has the output's shape.
    Full,
    /// A `1 x n` row, repeated down the rows.
    Row,
    /// An `m x 1` column, repeated across the columns.
    Column,
    /// One value everywhere.
    Scalar,
}

/// An input of a fused chain: a scalar or a matrix.
pub trait FusedArg<T: Real> {
    /// The shape, or `None` for a scalar.
    fn fused_shape(&self) -> Option<(usize, usize)>;
    /// The value at output element `idx` (column-major) in row `i`, column `j`.
    fn fused_at(&self, mode: Broadcast, idx: usize, i: usize, j: usize) -> T;
    /// Prepares this value's adjoint for accumulation (sizes a symbolic zero).
    fn fused_prepare(adj: &mut Self, primal: &Self);
    /// Adds `d` into the adjoint at the input element that output element `idx` read.
    fn fused_add(adj: &mut Self, mode: Broadcast, idx: usize, i: usize, j: usize, d: T);
}

macro_rules! scalar_arg {
    ($($t:ty),*) => {$(
        impl FusedArg<$t> for $t {
            #[inline(always)]
            fn fused_shape(&self) -> Option<(usize, usize)> {
                None
            }
            #[inline(always)]
            fn fused_at(&self, _: Broadcast, _: usize, _: usize, _: usize) -> $t {
                *self
            }
            #[inline(always)]
            fn fused_prepare(_: &mut Self, _: &Self) {}
            #[inline(always)]
            fn fused_add(adj: &mut Self, _: Broadcast, _: usize, _: usize, _: usize, d: $t) {
                *adj += d;
            }
        }
    )*};
}
scalar_arg!(f32, f64);

impl<T: Real, R: Dim, C: Dim> FusedArg<T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    #[inline(always)]
    fn fused_shape(&self) -> Option<(usize, usize)> {
        Some(self.shape())
    }
    #[inline(always)]
    fn fused_at(&self, mode: Broadcast, idx: usize, i: usize, j: usize) -> T {
        let s = self.as_slice();
        match mode {
            Broadcast::Full => s[idx],
            Broadcast::Row => s[j],
            Broadcast::Column => s[i],
            Broadcast::Scalar => s[0],
        }
    }
    fn fused_prepare(adj: &mut Self, primal: &Self) {
        ensure_shape(adj, primal.nrows(), primal.ncols());
    }
    #[inline(always)]
    fn fused_add(adj: &mut Self, mode: Broadcast, idx: usize, i: usize, j: usize, d: T) {
        let s = adj.as_mut_slice();
        match mode {
            Broadcast::Full => s[idx] += d,
            Broadcast::Row => s[j] += d,
            Broadcast::Column => s[i] += d,
            Broadcast::Scalar => s[0] += d,
        }
    }
}

/// The output of a fused chain: a matrix built element by element.
pub trait FusedOut<T: Real>: Sized {
    /// A matrix of `rows x cols` whose element `idx` (column-major, row `i`, column `j`) is `f(idx, i, j)`.
    fn fused_build(rows: usize, cols: usize, f: impl FnMut(usize, usize, usize) -> T) -> Self;
    /// The shape.
    fn fused_out_shape(&self) -> (usize, usize);
    /// The element at `idx` (column-major).
    fn fused_get(&self, idx: usize) -> T;
    /// Whether this is a symbolic zero (an empty adjoint).
    fn fused_is_zero(&self) -> bool;
}

impl<T: Real, R: Dim, C: Dim> FusedOut<T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn fused_build(rows: usize, cols: usize, mut f: impl FnMut(usize, usize, usize) -> T) -> Self {
        let mut m = OMatrix::<T, R, C>::from_element_generic(
            R::from_usize(rows),
            C::from_usize(cols),
            T::zero(),
        );
        for (idx, v) in m.as_mut_slice().iter_mut().enumerate() {
            *v = f(idx, idx % rows, idx / rows);
        }
        m
    }
    fn fused_out_shape(&self) -> (usize, usize) {
        self.shape()
    }
    #[inline(always)]
    fn fused_get(&self, idx: usize) -> T {
        self.as_slice()[idx]
    }
    fn fused_is_zero(&self) -> bool {
        self.is_empty()
    }
}

/// The broadcast mode of an input of shape `shape` for an output of `out`.
fn mode(name: &str, shape: Option<(usize, usize)>, out: (usize, usize)) -> Broadcast {
    match shape {
        None => Broadcast::Scalar,
        Some(s) if s == out => Broadcast::Full,
        Some((1, 1)) => Broadcast::Scalar,
        Some((1, c)) if c == out.1 => Broadcast::Row,
        Some((r, 1)) if r == out.0 => Broadcast::Column,
        Some((r, c)) => panic!(
            "{name}: cannot broadcast a {r}x{c} matrix to the chain's {}x{} result",
            out.0, out.1
        ),
    }
}

/// The output shape: the largest extent of every matrix input in each dimension.
fn out_shape(shapes: &[Option<(usize, usize)>]) -> (usize, usize) {
    shapes
        .iter()
        .flatten()
        .fold((1, 1), |(r, c), &(a, b)| (r.max(a), c.max(b)))
}

macro_rules! fused_arity {
    ($fwd:ident, $vjp:ident, $out:ident; $($a:ident : $A:ident : $ga:ident : $k:tt),+) => {
        /// Forward of a fused elementwise chain over these inputs.
        #[allow(clippy::too_many_arguments)]
        pub fn $fwd<T: Real, $($A: FusedArg<T>,)+ O: FusedOut<T>>($($a: &$A,)+ f: impl Fn($(fused_arity!(@t $A T),)+) -> T) -> O
        where
            ($($A,)+): $out<Output = O>,
        {
            let shapes = [$($a.fused_shape(),)+];
            let out = out_shape(&shapes);
            let modes = [$(mode("fused elementwise chain", $a.fused_shape(), out),)+];
            O::fused_build(out.0, out.1, |idx, i, j| f($($a.fused_at(modes[$k], idx, i, j),)+))
        }

        /// Reverse of a fused elementwise chain: for every element, `vjp(inputs..., g)`
        /// gives one cotangent per input, added into the adjoints given as `Some`.
        #[allow(clippy::too_many_arguments, clippy::type_complexity)]
        pub fn $vjp<T: Real, $($A: FusedArg<T>,)+ O: FusedOut<T>>(
            $($a: &$A,)+
            g: &O,
            adjoints: ($(Option<&mut $A>,)+),
            vjp: impl Fn($(fused_arity!(@t $A T),)+ T) -> ($(fused_arity!(@t $A T),)+),
        ) {
            if g.fused_is_zero() {
                return;
            }
            let out = g.fused_out_shape();
            let modes = [$(mode("fused elementwise chain", $a.fused_shape(), out),)+];
            let ($($ga,)+) = adjoints;
            $(let mut $ga = $ga; if let Some(adj) = $ga.as_deref_mut() { $A::fused_prepare(adj, $a); })+
            let rows = out.0.max(1);
            for idx in 0..out.0 * out.1 {
                let (i, j) = (idx % rows, idx / rows);
                let d = vjp($($a.fused_at(modes[$k], idx, i, j),)+ g.fused_get(idx));
                $(if let Some(adj) = $ga.as_deref_mut() { $A::fused_add(adj, modes[$k], idx, i, j, d.$k); })+
            }
        }

        /// The output type of a fused chain over these inputs: the type of `a + b + ...`.
        pub trait $out {
            /// The output type.
            type Output;
        }
    };
    (@t $A:ident $T:ident) => { $T };
}

fused_arity!(fused1, fused1_vjp, FusedOut1; a: A: ga: 0);
fused_arity!(fused2, fused2_vjp, FusedOut2; a: A: ga: 0, b: B: gb: 1);
fused_arity!(fused3, fused3_vjp, FusedOut3; a: A: ga: 0, b: B: gb: 1, c: C: gc: 2);
fused_arity!(fused4, fused4_vjp, FusedOut4; a: A: ga: 0, b: B: gb: 1, c: C: gc: 2, d: D: gd: 3);

impl<A: Clone> FusedOut1 for (A,) {
    type Output = A;
}
impl<A: BinaryOp<Add, B>, B> FusedOut2 for (A, B) {
    type Output = A::Output;
}
impl<A: BinaryOp<Add, B>, B, C> FusedOut3 for (A, B, C)
where
    A::Output: BinaryOp<Add, C>,
{
    type Output = <A::Output as BinaryOp<Add, C>>::Output;
}
impl<A: BinaryOp<Add, B>, B, C, D> FusedOut4 for (A, B, C, D)
where
    A::Output: BinaryOp<Add, C>,
    <A::Output as BinaryOp<Add, C>>::Output: BinaryOp<Add, D>,
{
    type Output = <<A::Output as BinaryOp<Add, C>>::Output as BinaryOp<Add, D>>::Output;
}
