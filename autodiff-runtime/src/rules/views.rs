//! Parts of a matrix, as nalgebra writes them: `m.row(i)`, `m.column(j)`, `m.rows(i, n)`,
//! `m.columns(j, n)`, `m.fixed_rows::<N>(i)`, `m.fixed_columns::<N>(j)`,
//! `m.view((i, j), (r, c))`, `m.fixed_view::<R, C>(i, j)`; and the cross product
//! `a.cross(&b)` of two 3-vectors.
//!
//! nalgebra's views borrow the matrix; these rules copy the block into an owned matrix of
//! the type nalgebra's `into_owned()` gives (`m.row(i)` of a `DMatrix` is a `RowDVector`,
//! of a `Matrix3` a `RowVector3`; `m.fixed_rows::<2>(0)` of a `DMatrix` has two static
//! rows), so that code written against the views keeps type-checking. A rule is built
//! from the method's arguments as written (`Rows(i, n)`, `FixedView::<2, 2>(i, j)`).
//!
//! Taking a block is linear: its adjoint adds the cotangent into that block of the
//! matrix's adjoint (PyTorch's `SliceBackward0` / `SelectBackward0`).
//!
//! # Panics
//! A block that does not fit in the matrix panics with the block and the matrix's shape,
//! as nalgebra's views do; `cross` panics unless both operands are 3-vectors of one shape.

use nalgebra::allocator::Allocator;
use nalgebra::{Const, DefaultAllocator, Dim, Dyn, OMatrix, U1};

use super::matrix::{check_cotangent, ensure_shape};
use super::{BinaryOp, OpName, Real, UnaryOp};

/// `m.row(i)`: row `i` as an owned row vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row(pub usize);

/// `m.column(j)`: column `j` as an owned column vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column(pub usize);

/// `m.rows(i, n)`: the `n` rows from row `i`, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows(pub usize, pub usize);

/// `m.columns(j, n)`: the `n` columns from column `j`, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns(pub usize, pub usize);

/// `m.fixed_rows::<N>(i)`: the `N` rows from row `i`, owned, with `N` static rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedRows<const N: usize>(pub usize);

/// `m.fixed_columns::<N>(j)`: the `N` columns from column `j`, owned, with `N` static
/// columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedColumns<const N: usize>(pub usize);

/// `m.view((i, j), (r, c))`: the `r x c` block whose top-left element is `(i, j)`, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View(pub (usize, usize), pub (usize, usize));

/// `m.fixed_view::<R, C>(i, j)`: the `R x C` block whose top-left element is `(i, j)`,
/// owned, of static shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedView<const R: usize, const C: usize>(pub usize, pub usize);

/// `a.cross(&b)`: the cross product of two 3-vectors (columns or rows); its adjoints
/// are `b x g` and `g x a` (PyTorch's `linalg_cross` backward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cross;

/// Which block a rule takes from a matrix: where it starts and its shape.
trait BlockOf: OpName + Copy {
    /// The method, for messages: `"row"`, `"fixed_view"`.
    const METHOD: &'static str;
    /// The top-left element and the shape of the block taken from a matrix of `shape`.
    fn block(self, shape: (usize, usize)) -> ((usize, usize), (usize, usize));
}

impl BlockOf for Row {
    const METHOD: &'static str = "row";
    fn block(self, shape: (usize, usize)) -> ((usize, usize), (usize, usize)) {
        ((self.0, 0), (1, shape.1))
    }
}

impl BlockOf for Column {
    const METHOD: &'static str = "column";
    fn block(self, shape: (usize, usize)) -> ((usize, usize), (usize, usize)) {
        ((0, self.0), (shape.0, 1))
    }
}

impl BlockOf for Rows {
    const METHOD: &'static str = "rows";
    fn block(self, shape: (usize, usize)) -> ((usize, usize), (usize, usize)) {
        ((self.0, 0), (self.1, shape.1))
    }
}

impl BlockOf for Columns {
    const METHOD: &'static str = "columns";
    fn block(self, shape: (usize, usize)) -> ((usize, usize), (usize, usize)) {
        ((0, self.0), (shape.0, self.1))
    }
}

impl<const N: usize> BlockOf for FixedRows<N> {
    const METHOD: &'static str = "fixed_rows";
    fn block(self, shape: (usize, usize)) -> ((usize, usize), (usize, usize)) {
        ((self.0, 0), (N, shape.1))
    }
}

impl<const N: usize> BlockOf for FixedColumns<N> {
    const METHOD: &'static str = "fixed_columns";
    fn block(self, shape: (usize, usize)) -> ((usize, usize), (usize, usize)) {
        ((0, self.0), (shape.0, N))
    }
}

impl BlockOf for View {
    const METHOD: &'static str = "view";
    fn block(self, _shape: (usize, usize)) -> ((usize, usize), (usize, usize)) {
        (self.0, self.1)
    }
}

impl<const R: usize, const C: usize> BlockOf for FixedView<R, C> {
    const METHOD: &'static str = "fixed_view";
    fn block(self, _shape: (usize, usize)) -> ((usize, usize), (usize, usize)) {
        ((self.0, self.1), (R, C))
    }
}

impl<const N: usize> OpName for FixedRows<N> {
    const TORCH_NAME: &'static str = <Rows as OpName>::TORCH_NAME;
}

impl<const N: usize> OpName for FixedColumns<N> {
    const TORCH_NAME: &'static str = <Columns as OpName>::TORCH_NAME;
}

impl<const R: usize, const C: usize> OpName for FixedView<R, C> {
    const TORCH_NAME: &'static str = <View as OpName>::TORCH_NAME;
}

/// The block `op` takes from a matrix of `shape`, checked to fit in it.
fn checked_block<Op: BlockOf>(op: Op, shape: (usize, usize)) -> ((usize, usize), (usize, usize)) {
    let ((i, j), (r, c)) = op.block(shape);
    let fits =
        |start: usize, len: usize, size: usize| start.checked_add(len).is_some_and(|e| e <= size);
    assert!(
        fits(i, r, shape.0) && fits(j, c, shape.1),
        "{}: the {r}x{c} block at ({i}, {j}) is out of bounds for a {}x{} matrix",
        Op::METHOD,
        shape.0,
        shape.1
    );
    ((i, j), (r, c))
}

/// The block `op` takes from `x`, as an owned matrix with dimensions `RO x CO`.
fn take_block<T: Real, R: Dim, C: Dim, RO: Dim, CO: Dim, Op: BlockOf>(
    x: &OMatrix<T, R, C>,
    op: Op,
) -> OMatrix<T, RO, CO>
where
    DefaultAllocator: Allocator<R, C> + Allocator<RO, CO>,
{
    let ((i, j), (r, c)) = checked_block(op, x.shape());
    let m = x.nrows();
    let x = x.as_slice();
    let it = (j..j + c).flat_map(|col| x[i + col * m..i + r + col * m].iter().copied());
    crate::workspace::pooled_from_iter(RO::from_usize(r), CO::from_usize(c), it)
}

/// `gx[block] += g` for the block `op` takes from `x`.
fn add_block<T: Real, R: Dim, C: Dim, RO: Dim, CO: Dim, Op: BlockOf>(
    x: &OMatrix<T, R, C>,
    op: Op,
    g: &OMatrix<T, RO, CO>,
    gx: &mut OMatrix<T, R, C>,
) where
    DefaultAllocator: Allocator<R, C> + Allocator<RO, CO>,
{
    let ((i, j), (r, c)) = checked_block(op, x.shape());
    if g.is_empty() {
        // A symbolic zero, or an empty block: nothing flows back.
        return;
    }
    check_cotangent(Op::TORCH_NAME, g.shape(), (r, c));
    let (m, n) = x.shape();
    ensure_shape(gx, m, n);
    let gx = gx.as_mut_slice();
    for (k, gcol) in g.as_slice().chunks_exact(r).enumerate() {
        let col = &mut gx[i + (j + k) * m..i + r + (j + k) * m];
        for (v, &d) in col.iter_mut().zip(gcol) {
            *v += d;
        }
    }
}

/// `UnaryOp<$op>` for every matrix type, with the result's dimensions `$ro x $co`.
macro_rules! block_rule {
    ($op:ty, [$($generics:tt)*], $ro:ty, $co:ty) => {
        impl<T: Real, R: Dim, C: Dim, $($generics)*> UnaryOp<$op> for OMatrix<T, R, C>
        where
            DefaultAllocator: Allocator<R, C> + Allocator<$ro, $co>,
        {
            type Output = OMatrix<T, $ro, $co>;

            #[inline]
            fn forward(&self, op: $op) -> Self::Output {
                take_block(self, op)
            }

            /// `gx[block] += g`.
            #[inline]
            fn vjp(&self, op: $op, _y: &Self::Output, g: &Self::Output, gx: &mut Self) {
                add_block(self, op, g, gx)
            }
        }
    };
}

block_rule!(Row, [], U1, C);
block_rule!(Column, [], R, U1);
block_rule!(Rows, [], Dyn, C);
block_rule!(Columns, [], R, Dyn);
block_rule!(FixedRows<N>, [const N: usize], Const<N>, C);
block_rule!(FixedColumns<N>, [const N: usize], R, Const<N>);
block_rule!(View, [], Dyn, Dyn);
block_rule!(FixedView<RO, CO>, [const RO: usize, const CO: usize], Const<RO>, Const<CO>);

fn check_cross(a: (usize, usize), b: (usize, usize)) {
    assert!(
        a == b && (a == (3, 1) || a == (1, 3)),
        "cross: the operands must be two 3-vectors of one shape, but they are {}x{} and {}x{}",
        a.0,
        a.1,
        b.0,
        b.1
    );
}

/// `x × y` of two 3-element slices, added into `out`.
fn add_cross<T: Real>(x: &[T], y: &[T], out: &mut [T]) {
    out[0] += x[1] * y[2] - x[2] * y[1];
    out[1] += x[2] * y[0] - x[0] * y[2];
    out[2] += x[0] * y[1] - x[1] * y[0];
}

impl<T: Real, R: Dim, C: Dim> BinaryOp<Cross, OMatrix<T, R, C>> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;

    fn forward(&self, _op: Cross, b: &Self) -> Self {
        check_cross(self.shape(), b.shape());
        let (rows, cols) = self.shape_generic();
        let mut out = [T::zero(); 3];
        add_cross(self.as_slice(), b.as_slice(), &mut out);
        crate::workspace::pooled_from_iter(rows, cols, out)
    }

    /// `ga += b × g`.
    fn vjp_lhs(&self, _op: Cross, b: &Self, _y: &Self, g: &Self, ga: &mut Self) {
        if g.is_empty() {
            return;
        }
        check_cross(self.shape(), b.shape());
        check_cotangent(<Cross as OpName>::TORCH_NAME, g.shape(), self.shape());
        ensure_shape(ga, self.nrows(), self.ncols());
        add_cross(b.as_slice(), g.as_slice(), ga.as_mut_slice());
    }

    /// `gb += g × a`.
    fn vjp_rhs(&self, _op: Cross, b: &Self, _y: &Self, g: &Self, gb: &mut Self) {
        if g.is_empty() {
            return;
        }
        check_cross(self.shape(), b.shape());
        check_cotangent(<Cross as OpName>::TORCH_NAME, g.shape(), self.shape());
        ensure_shape(gb, b.nrows(), b.ncols());
        add_cross(g.as_slice(), self.as_slice(), gb.as_mut_slice());
    }
}
