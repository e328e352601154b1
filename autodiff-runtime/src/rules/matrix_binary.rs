//! Binary rules ([`BinaryRule`]) between matrices, elementwise with broadcasting, and
//! between a matrix and a scalar.
//!
//! Two matrices broadcast as in NumPy and PyTorch, dimension by dimension: equal sizes
//! pair up, and a size of 1 is repeated to the other's size. So a matrix combines with a
//! matrix of its shape, with a row vector (`1 x n`, the bias add `x * w + b`), with a
//! column vector (`m x 1`) and with a `1 x 1` matrix, in either order. A scalar (`f32` /
//! `f64`) combines with every element. The adjoint of a broadcast operand is the sum of
//! the cotangent over the repeated dimension: a row vector receives column sums.
//!
//! The result type is computed by [`BroadcastDim`]: a dynamic dimension on either side
//! gives a dynamic one (`RowDVector + DMatrix` is a `DMatrix`); between two fixed sizes
//! it is the left operand's, so a fixed-size row must be on the right
//! (`SMatrix<3, 4> + RowSVector<4>`).
//!
//! Which markers apply elementwise between matrices: [`Add`], [`Sub`], [`Div`],
//! [`Powf`], [`Max`], [`Min`], [`ComponentMul`] and [`ComponentDiv`]. [`Mul`] between two
//! matrices is the matrix product (nalgebra's meaning); between a
//! matrix and a scalar it scales.
//!
//! # Panics
//! Shapes that do not broadcast panic, like nalgebra's own shape errors, with a message
//! naming both shapes: `Add: cannot broadcast a 2x3 matrix with a 4x3 matrix; ...`.

use nalgebra::allocator::Allocator;
use nalgebra::{Const, DefaultAllocator, Dim, Dyn, OMatrix};

use super::matrix::{check_cotangent, ensure_shape, label, zeros};
use super::*;
use crate::workspace::pooled_from_iter;

/// The type-level dimension of a broadcast result.
///
/// Dynamic with anything is dynamic; two fixed sizes give the left one (a size-1 fixed
/// left operand cannot grow: put it on the right).
pub trait BroadcastDim<D: Dim>: Dim {
    /// The result's dimension.
    type Output: Dim;
}

impl<D: Dim> BroadcastDim<D> for Dyn {
    type Output = Dyn;
}

impl<const N: usize> BroadcastDim<Dyn> for Const<N> {
    type Output = Dyn;
}

impl<const N: usize, const M: usize> BroadcastDim<Const<M>> for Const<N> {
    type Output = Const<N>;
}

/// An op marker that applies a [`BinaryRule`] elementwise between two matrices.
pub trait ElementwiseBinary: OpName + Copy {
    /// The scalar rule applied to each pair of elements.
    type Rule: BinaryRule;
    /// The rule value.
    fn rule(self) -> Self::Rule;
}

macro_rules! elementwise_binary_self {
    ($($op:ident),*) => {$(
        impl ElementwiseBinary for $op {
            type Rule = $op;
            #[inline(always)]
            fn rule(self) -> $op {
                self
            }
        }
    )*};
}
/// Every binary row of the op table is elementwise between matrices, except `Mul`:
/// between two matrices `*` is the matrix product (`product.rs`), and the elementwise
/// product is [`ComponentMul`].
macro_rules! elementwise_binary_rows {
    (
        unary: [$($urest:tt)*],
        binary: [$({ $b:ident, $($brest:tt)* }),* $(,)?],
        param: [$($prest:tt)*],
        structural: [$($srest:tt)*],
    ) => {
        $(elementwise_binary_rows!(@row $b);)*
    };
    (@row Mul) => {};
    (@row $b:ident) => {
        elementwise_binary_self!($b);
    };
}
autodiff_ops::for_each_op!(elementwise_binary_rows);

/// nalgebra's `a.component_mul(&b)`: the elementwise product (with broadcasting);
/// `d/da = b`, `d/db = a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ComponentMul;

/// nalgebra's `a.component_div(&b)`: the elementwise quotient (with broadcasting);
/// `d/da = 1/b`, `d/db = -a/b^2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ComponentDiv;

impl ElementwiseBinary for ComponentMul {
    type Rule = Mul;
    #[inline(always)]
    fn rule(self) -> Mul {
        Mul
    }
}

impl ElementwiseBinary for ComponentDiv {
    type Rule = Div;
    #[inline(always)]
    fn rule(self) -> Div {
        Div
    }
}

/// The shape of `a op b` under broadcasting.
///
/// # Panics
/// If the shapes do not broadcast; the message names both.
pub fn broadcast_shape(op: &str, a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    fn dim(x: usize, y: usize) -> Option<usize> {
        if x == y || y == 1 {
            Some(x)
        } else if x == 1 {
            Some(y)
        } else {
            None
        }
    }
    match (dim(a.0, b.0), dim(a.1, b.1)) {
        (Some(rows), Some(cols)) => (rows, cols),
        _ => panic!(
            "{}: cannot broadcast a {}x{} matrix with a {}x{} matrix; the shapes must be \
             equal, or one operand a row (1 x n) or column (n x 1) of matching length, or 1x1",
            label(op),
            a.0,
            a.1,
            b.0,
            b.1
        ),
    }
}

/// A column-major operand of a broadcast: its elements and shape.
#[derive(Clone, Copy)]
struct Operand<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
}

/// One column of an operand as seen from an `m`-row result.
enum Column<'a, T> {
    /// The operand has `m` rows.
    Full(&'a [T]),
    /// The operand has one row, repeated.
    Splat(T),
}

impl<'a, T: Copy> Operand<'a, T> {
    fn of<M: nalgebra::RawStorage<T, R, C> + nalgebra::IsContiguous, R: Dim, C: Dim>(
        m: &'a nalgebra::Matrix<T, R, C, M>,
    ) -> Self {
        Operand {
            data: m.as_slice(),
            rows: m.nrows(),
            cols: m.ncols(),
        }
    }

    /// Column `j` of the `m x n` result.
    #[inline(always)]
    fn column(&self, j: usize, m: usize) -> Column<'a, T> {
        let j = if self.cols == 1 { 0 } else { j };
        if self.rows == m {
            Column::Full(&self.data[j * m..(j + 1) * m])
        } else {
            Column::Splat(self.data[j])
        }
    }
}

/// `out = f(a, b)` elementwise with broadcasting; `out` is `m x n`, the broadcast shape.
/// Column by column, each column one tight loop.
fn broadcast_forward<T: Real>(
    out: &mut [T],
    m: usize,
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    f: impl Fn(T, T) -> T,
) {
    if m == 0 {
        return;
    }
    for (j, ocol) in out.chunks_exact_mut(m).enumerate() {
        match (a.column(j, m), b.column(j, m)) {
            (Column::Full(x), Column::Full(y)) => {
                for (o, (&x, &y)) in ocol.iter_mut().zip(x.iter().zip(y)) {
                    *o = f(x, y);
                }
            }
            (Column::Full(x), Column::Splat(y)) => {
                for (o, &x) in ocol.iter_mut().zip(x) {
                    *o = f(x, y);
                }
            }
            (Column::Splat(x), Column::Full(y)) => {
                for (o, &y) in ocol.iter_mut().zip(y) {
                    *o = f(x, y);
                }
            }
            (Column::Splat(x), Column::Splat(y)) => ocol.fill(f(x, y)),
        }
    }
}

/// `gx += reduce(g .* d(x, other, y))` where `x` is the operand receiving the gradient,
/// broadcast to the `m`-row result; `d` is the partial derivative with respect to `x`.
/// Over a repeated dimension of `x` the contributions are summed.
fn broadcast_vjp<T: Real>(
    gx: &mut [T],
    x: Operand<'_, T>,
    other: Operand<'_, T>,
    y: &[T],
    g: &[T],
    m: usize,
    d: impl Fn(T, T, T) -> T,
) {
    if x.data.len() == g.len() && other.data.len() == g.len() {
        let it = x.data.iter().zip(other.data).zip(y.iter().zip(g));
        for (gx, ((&x, &o), (&y, &g))) in gx.iter_mut().zip(it) {
            *gx += g * d(x, o, y);
        }
        return;
    }
    if m == 0 {
        return;
    }
    for (j, (ycol, gcol)) in y.chunks_exact(m).zip(g.chunks_exact(m)).enumerate() {
        let jx = if x.cols == 1 { 0 } else { j };
        match (x.column(j, m), other.column(j, m)) {
            (Column::Full(xc), Column::Full(oc)) => {
                let gxc = &mut gx[jx * m..(jx + 1) * m];
                for (gx, ((&x, &o), (&y, &g))) in gxc
                    .iter_mut()
                    .zip(xc.iter().zip(oc).zip(ycol.iter().zip(gcol)))
                {
                    *gx += g * d(x, o, y);
                }
            }
            (Column::Full(xc), Column::Splat(o)) => {
                let gxc = &mut gx[jx * m..(jx + 1) * m];
                for (gx, (&x, (&y, &g))) in gxc.iter_mut().zip(xc.iter().zip(ycol.iter().zip(gcol)))
                {
                    *gx += g * d(x, o, y);
                }
            }
            (Column::Splat(x), Column::Full(oc)) => {
                let mut s = T::zero();
                for (&o, (&y, &g)) in oc.iter().zip(ycol.iter().zip(gcol)) {
                    s += g * d(x, o, y);
                }
                gx[jx] += s;
            }
            (Column::Splat(x), Column::Splat(o)) => {
                let mut s = T::zero();
                for (&y, &g) in ycol.iter().zip(gcol) {
                    s += g * d(x, o, y);
                }
                gx[jx] += s;
            }
        }
    }
}

/// Matrix `op` matrix, elementwise with broadcasting.
impl<Op, T, R1, C1, R2, C2> BinaryOp<Op, OMatrix<T, R2, C2>> for OMatrix<T, R1, C1>
where
    Op: ElementwiseBinary,
    T: Real,
    R1: BroadcastDim<R2>,
    C1: BroadcastDim<C2>,
    R2: Dim,
    C2: Dim,
    DefaultAllocator: Allocator<R1, C1> + Allocator<R2, C2> + Allocator<R1::Output, C1::Output>,
{
    type Output = OMatrix<T, R1::Output, C1::Output>;

    fn forward(&self, op: Op, b: &OMatrix<T, R2, C2>) -> Self::Output {
        let (m, n) = broadcast_shape(Op::TORCH_NAME, self.shape(), b.shape());
        let rule = op.rule();
        if self.shape() == b.shape() {
            // No broadcast: one pass that writes each element once (no zero-fill).
            let it = self
                .as_slice()
                .iter()
                .zip(b.as_slice())
                .map(|(&x, &y)| rule.f(x, y));
            let rows = <R1::Output as Dim>::from_usize(m);
            let cols = <C1::Output as Dim>::from_usize(n);
            return pooled_from_iter(rows, cols, it);
        }
        let mut out: Self::Output = zeros(m, n, "broadcast result");
        broadcast_forward(
            out.as_mut_slice(),
            m,
            Operand::of(self),
            Operand::of(b),
            |x, y| rule.f(x, y),
        );
        out
    }

    fn vjp_lhs(
        &self,
        op: Op,
        b: &OMatrix<T, R2, C2>,
        y: &Self::Output,
        g: &Self::Output,
        ga: &mut Self,
    ) {
        if g.is_empty() {
            return;
        }
        let (m, n) = broadcast_shape(Op::TORCH_NAME, self.shape(), b.shape());
        check_cotangent(Op::TORCH_NAME, g.shape(), (m, n));
        check_cotangent(Op::TORCH_NAME, y.shape(), (m, n));
        ensure_shape(ga, self.nrows(), self.ncols());
        let rule = op.rule();
        broadcast_vjp(
            ga.as_mut_slice(),
            Operand::of(self),
            Operand::of(b),
            y.as_slice(),
            g.as_slice(),
            m,
            |a, b, y| rule.da(a, b, y),
        );
    }

    fn vjp_rhs(
        &self,
        op: Op,
        b: &OMatrix<T, R2, C2>,
        y: &Self::Output,
        g: &Self::Output,
        gb: &mut OMatrix<T, R2, C2>,
    ) {
        if g.is_empty() {
            return;
        }
        let (m, n) = broadcast_shape(Op::TORCH_NAME, self.shape(), b.shape());
        check_cotangent(Op::TORCH_NAME, g.shape(), (m, n));
        check_cotangent(Op::TORCH_NAME, y.shape(), (m, n));
        ensure_shape(gb, b.nrows(), b.ncols());
        let rule = op.rule();
        broadcast_vjp(
            gb.as_mut_slice(),
            Operand::of(b),
            Operand::of(self),
            y.as_slice(),
            g.as_slice(),
            m,
            |b, a, y| rule.db(a, b, y),
        );
    }
}

/// Matrix `op` scalar: the scalar combines with every element; its adjoint is the sum.
impl<Op, T, R, C> BinaryOp<Op, T> for OMatrix<T, R, C>
where
    Op: BinaryRule,
    T: Real,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = Self;

    #[inline]
    fn forward(&self, op: Op, b: &T) -> Self {
        let b = *b;
        let (rows, cols) = self.shape_generic();
        pooled_from_iter(rows, cols, self.as_slice().iter().map(|&a| op.f(a, b)))
    }

    fn vjp_lhs(&self, op: Op, b: &T, y: &Self, g: &Self, ga: &mut Self) {
        if g.is_empty() {
            return;
        }
        check_cotangent(Op::TORCH_NAME, g.shape(), self.shape());
        check_cotangent(Op::TORCH_NAME, y.shape(), self.shape());
        ensure_shape(ga, self.nrows(), self.ncols());
        let b = *b;
        let it = self
            .as_slice()
            .iter()
            .zip(y.as_slice().iter().zip(g.as_slice()));
        for (ga, (&a, (&y, &g))) in ga.as_mut_slice().iter_mut().zip(it) {
            *ga += g * op.da(a, b, y);
        }
    }

    fn vjp_rhs(&self, op: Op, b: &T, y: &Self, g: &Self, gb: &mut T) {
        if g.is_empty() {
            return;
        }
        check_cotangent(Op::TORCH_NAME, g.shape(), self.shape());
        check_cotangent(Op::TORCH_NAME, y.shape(), self.shape());
        let b = *b;
        let mut s = T::zero();
        for (&a, (&y, &g)) in self
            .as_slice()
            .iter()
            .zip(y.as_slice().iter().zip(g.as_slice()))
        {
            s += g * op.db(a, b, y);
        }
        *gb += s;
    }
}

/// Scalar `op` matrix: the scalar combines with every element; its adjoint is the sum.
impl<T, Op, R, C> BinaryOp<Op, OMatrix<T, R, C>> for T
where
    T: Real,
    Op: BinaryRule,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;

    #[inline]
    fn forward(&self, op: Op, b: &OMatrix<T, R, C>) -> Self::Output {
        let a = *self;
        let (rows, cols) = b.shape_generic();
        pooled_from_iter(rows, cols, b.as_slice().iter().map(|&b| op.f(a, b)))
    }

    fn vjp_lhs(
        &self,
        op: Op,
        b: &OMatrix<T, R, C>,
        y: &Self::Output,
        g: &Self::Output,
        ga: &mut T,
    ) {
        if g.is_empty() {
            return;
        }
        check_cotangent(Op::TORCH_NAME, g.shape(), b.shape());
        check_cotangent(Op::TORCH_NAME, y.shape(), b.shape());
        let a = *self;
        let mut s = T::zero();
        for (&b, (&y, &g)) in b
            .as_slice()
            .iter()
            .zip(y.as_slice().iter().zip(g.as_slice()))
        {
            s += g * op.da(a, b, y);
        }
        *ga += s;
    }

    fn vjp_rhs(
        &self,
        op: Op,
        b: &OMatrix<T, R, C>,
        y: &Self::Output,
        g: &Self::Output,
        gb: &mut OMatrix<T, R, C>,
    ) {
        if g.is_empty() {
            return;
        }
        check_cotangent(Op::TORCH_NAME, g.shape(), b.shape());
        check_cotangent(Op::TORCH_NAME, y.shape(), b.shape());
        ensure_shape(gb, b.nrows(), b.ncols());
        let a = *self;
        let it = b
            .as_slice()
            .iter()
            .zip(y.as_slice().iter().zip(g.as_slice()));
        for (gb, (&b, (&y, &g))) in gb.as_mut_slice().iter_mut().zip(it) {
            *gb += g * op.db(a, b, y);
        }
    }
}
