//! Fused elementwise chains: `#[differentiable]` turns a chain such as
//! `(a.component_mul(x) + b).tanh()` into one loop forward and one loop in reverse, with
//! no intermediate matrix, and a chain that ends in `.sum()` into one loop that never
//! materialises its elements at all.
//!
//! The macro writes the chain's scalar code once, as a method generic over
//! [`FusedValue`] ([`FusedMap::eval`] forward, [`FusedVjp::vjp`] reverse); these drivers
//! run it over whole matrices, four `f64` or eight `f32` elements at a time on the vector
//! math of [`crate::simd`] (AVX2+FMA when the CPU has them, chosen at run time). The last,
//! partial group is padded with the last element of each input, so every element goes
//! through the same vector code.
//!
//! Inputs broadcast like the ops they replace: a matrix of the output's shape is read
//! element by element, a `1 x n` row along the rows, an `m x 1` column along the
//! columns, a scalar (or a `1 x 1` matrix) everywhere. The output has the type of
//! `a + b + ...`.
//!
//! Rounding: every element is computed exactly as the unfused ops compute it (the same
//! formulas, the same vector kernels), except sums: `fused_sum` and the reverse
//! accumulation into a broadcast input add one partial sum per lane, as a vectorised `sum`
//! does, instead of adding left to right.
//!
//! Threads: a loop over more than [`FUSED_BLOCK`] elements runs as fixed blocks of
//! about that many elements (of whole columns where an input broadcasts along rows or
//! columns), whose boundaries depend on the shape only; contiguous runs of blocks go to
//! the threads of [`crate::threads`]. Each block's sums (the value of a chain ending in
//! `.sum()`, the cotangent of a scalar input) are added in block order, so the results
//! are the same for every thread count; they differ from one unblocked loop's only in
//! how the sums of long loops are grouped. A chain whose reverse loop accumulates into
//! an `m x 1` column broadcast across columns runs unblocked, on one thread.

// Lane types implement `+` but not `+=` (the AVX2 type has only what `Lanes` needs).
#![allow(clippy::assign_op_pattern)]

use super::lanes::MAX_LANES;
use super::matrix::{ensure_shape, ensure_shape_for_overwrite};
use super::{Add, BinaryOp, FusedKernel, FusedValue, Real};
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};
use std::marker::PhantomData;

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

/// An input of a fused chain as the loops read it.
#[derive(Debug, Clone, Copy)]
pub enum FusedIn<'a, T> {
    /// A matrix: its column-major elements and shape.
    Matrix {
        /// The elements, column-major.
        data: &'a [T],
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A scalar.
    Scalar(T),
}

/// The adjoint of an input as the reverse loop writes it.
#[derive(Debug)]
pub enum FusedAdj<'a, T> {
    /// A matrix's adjoint elements (already sized to the matrix), and whether they were a
    /// symbolic zero before (then a loop that writes each element once may store
    /// instead of add).
    Matrix(&'a mut [T], bool),
    /// A scalar's adjoint.
    Scalar(&'a mut T),
}

/// An input of a fused chain: a scalar or a matrix.
pub trait FusedArg<T: Real> {
    /// The input as the loops read it.
    fn fused_in(&self) -> FusedIn<'_, T>;
    /// The adjoint as the reverse loop writes it, after sizing a symbolic zero to `primal`:
    /// with zeros, or, when `overwritten` (the loop writes every element of a fresh
    /// adjoint before reading any), with whatever a reused buffer held.
    fn fused_adj<'a>(adj: &'a mut Self, primal: &Self, overwritten: bool) -> FusedAdj<'a, T>;
}

impl<T: Real> FusedArg<T> for T {
    #[inline(always)]
    fn fused_in(&self) -> FusedIn<'_, T> {
        FusedIn::Scalar(*self)
    }
    #[inline(always)]
    fn fused_adj<'a>(adj: &'a mut Self, _primal: &Self, _overwritten: bool) -> FusedAdj<'a, T> {
        FusedAdj::Scalar(adj)
    }
}

impl<T: Real, R: Dim, C: Dim> FusedArg<T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    #[inline(always)]
    fn fused_in(&self) -> FusedIn<'_, T> {
        let (rows, cols) = self.shape();
        FusedIn::Matrix {
            data: self.as_slice(),
            rows,
            cols,
        }
    }
    fn fused_adj<'a>(adj: &'a mut Self, primal: &Self, overwritten: bool) -> FusedAdj<'a, T> {
        let fresh = adj.is_empty();
        let (rows, cols) = primal.shape();
        if fresh && overwritten {
            ensure_shape_for_overwrite(adj, rows, cols);
        } else {
            ensure_shape(adj, rows, cols);
        }
        FusedAdj::Matrix(adj.as_mut_slice(), fresh)
    }
}

/// The output of a fused chain: a matrix.
pub trait FusedOut<T: Real>: Sized {
    /// A `rows x cols` matrix (its elements are all overwritten by the loop), from the
    /// installed workspace pool where there is one.
    fn fused_new(rows: usize, cols: usize) -> Self;
    /// The elements, column-major.
    fn fused_data(&self) -> &[T];
    /// The elements, column-major, for writing.
    fn fused_data_mut(&mut self) -> &mut [T];
    /// The shape.
    fn fused_shape(&self) -> (usize, usize);
}

impl<T: Real, R: Dim, C: Dim> FusedOut<T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn fused_new(rows: usize, cols: usize) -> Self {
        crate::workspace::pooled_for_overwrite(R::from_usize(rows), C::from_usize(cols))
    }
    #[inline(always)]
    fn fused_data(&self) -> &[T] {
        self.as_slice()
    }
    #[inline(always)]
    fn fused_data_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
    #[inline(always)]
    fn fused_shape(&self) -> (usize, usize) {
        self.shape()
    }
}

/// The forward code of a fused chain ending in an elementwise op: one output element
/// from one element of each of the `N` inputs. Implemented by code `#[differentiable]`
/// generates.
pub trait FusedMap<const N: usize> {
    /// The chain on one value of each input.
    fn eval<V: FusedValue>(&self, inputs: [V; N]) -> V;
}

/// The reverse code of a fused chain: given one value of each input, the chain's value
/// `y` there (when the forward loop saved it) and the output cotangent `g`, returns the
/// chain's value and one cotangent per input. Implemented by generated code.
pub trait FusedVjp<const N: usize> {
    /// The value and the input cotangents at one value of each input.
    fn vjp<V: FusedValue>(&self, inputs: [V; N], y: V, g: V) -> (V, [V; N]);
}

/// The inputs of a fused chain: a tuple of `N` references to scalars or matrices.
pub trait FusedArgs<T: Real, const N: usize> {
    /// The output matrix type: the type of `a + b + ...`.
    type Out;
    /// The inputs as the loops read them.
    fn views(&self) -> [FusedIn<'_, T>; N];
}

/// The adjoints a reverse loop writes: a tuple of `N` [`AdjointSlot`]s matching the
/// inputs `X` (`&mut A` for an input that gets a gradient, [`NoAdjoint`] for one that
/// does not, `Option<&mut A>` when that is known only at run time).
pub trait FusedAdjoints<'a, T: Real, const N: usize, X> {
    /// Which slots always and which never hold an adjoint, as a type the loops are
    /// compiled for.
    type Presence: Presence<N>;
    /// The adjoints as the loop writes them, each sized to its input; a fresh one whose
    /// `overwritten[k]` is set (the loop writes each of its elements once) is not zeroed.
    fn views(self, inputs: &X, overwritten: [bool; N]) -> [Option<FusedAdj<'a, T>>; N];
}

/// One element of [`FusedAdjoints`]: where the cotangent of one input goes.
pub trait AdjointSlot<'a, T: Real, A> {
    /// Whether the slot holds an adjoint: always, never, or depending on its value.
    type Kind: SlotKind;
    /// The adjoint as the loop writes it (see [`FusedArg::fused_adj`]).
    fn view(self, primal: &A, overwritten: bool) -> Option<FusedAdj<'a, T>>;
}

/// The slot of an input without a gradient (the generated code passes it where the
/// chain's input is not differentiated).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAdjoint;

/// Whether an [`AdjointSlot`] holds an adjoint, known when the loop is compiled.
pub trait SlotKind {
    /// It always does.
    const ALWAYS: bool;
    /// It never does.
    const NEVER: bool;
}

/// [`SlotKind`] of `&mut A`.
#[derive(Debug)]
pub struct Always;
/// [`SlotKind`] of [`NoAdjoint`].
#[derive(Debug)]
pub struct Never;
/// [`SlotKind`] of `Option<&mut A>`.
#[derive(Debug)]
pub struct Dynamic;

impl SlotKind for Always {
    const ALWAYS: bool = true;
    const NEVER: bool = false;
}
impl SlotKind for Never {
    const ALWAYS: bool = false;
    const NEVER: bool = true;
}
impl SlotKind for Dynamic {
    const ALWAYS: bool = false;
    const NEVER: bool = false;
}

/// The [`SlotKind`]s of a tuple of `N` slots.
pub trait Presence<const N: usize> {
    /// Slots that always hold an adjoint.
    const ALWAYS: [bool; N];
    /// Slots that never do.
    const NEVER: [bool; N];
}

impl<'a, T: Real, A: FusedArg<T> + 'a> AdjointSlot<'a, T, A> for &'a mut A {
    type Kind = Always;
    #[inline(always)]
    fn view(self, primal: &A, overwritten: bool) -> Option<FusedAdj<'a, T>> {
        Some(A::fused_adj(self, primal, overwritten))
    }
}

impl<'a, T: Real, A: FusedArg<T> + 'a> AdjointSlot<'a, T, A> for Option<&'a mut A> {
    type Kind = Dynamic;
    #[inline(always)]
    fn view(self, primal: &A, overwritten: bool) -> Option<FusedAdj<'a, T>> {
        self.map(|adj| A::fused_adj(adj, primal, overwritten))
    }
}

impl<'a, T: Real, A> AdjointSlot<'a, T, A> for NoAdjoint {
    type Kind = Never;
    #[inline(always)]
    fn view(self, _primal: &A, _overwritten: bool) -> Option<FusedAdj<'a, T>> {
        None
    }
}

macro_rules! fused_tuples {
    ($n:literal; $out:ty; $($a:ident : $A:ident : $S:ident : $k:tt),+) => {
        impl<'r, T: Real, $($A: FusedArg<T>),+> FusedArgs<T, $n> for ($(&'r $A,)+)
        where
            ($($A,)+): FusedOutType,
        {
            type Out = <($($A,)+) as FusedOutType>::Output;
            #[inline(always)]
            fn views(&self) -> [FusedIn<'_, T>; $n] {
                [$(self.$k.fused_in()),+]
            }
        }

        impl<'a, 'r, T: Real, $($A: FusedArg<T> + 'a, $S: AdjointSlot<'a, T, $A>),+>
            FusedAdjoints<'a, T, $n, ($(&'r $A,)+)> for ($($S,)+)
        {
            type Presence = ($($S::Kind,)+);
            #[inline(always)]
            fn views(
                self,
                inputs: &($(&'r $A,)+),
                overwritten: [bool; $n],
            ) -> [Option<FusedAdj<'a, T>>; $n] {
                [$(self.$k.view(inputs.$k, overwritten[$k])),+]
            }
        }

        impl<$($S: SlotKind),+> Presence<$n> for ($($S,)+) {
            const ALWAYS: [bool; $n] = [$($S::ALWAYS),+];
            const NEVER: [bool; $n] = [$($S::NEVER),+];
        }
    };
}

/// The output type of a fused chain over a tuple of input types: `a + b + ...`.
pub trait FusedOutType {
    /// The output type.
    type Output;
}

impl<A: Clone> FusedOutType for (A,) {
    type Output = A;
}
impl<A: BinaryOp<Add, B>, B> FusedOutType for (A, B) {
    type Output = A::Output;
}
impl<A: BinaryOp<Add, B>, B, C> FusedOutType for (A, B, C)
where
    A::Output: BinaryOp<Add, C>,
{
    type Output = <(A::Output, C) as FusedOutType>::Output;
}
impl<A: BinaryOp<Add, B>, B, C, D> FusedOutType for (A, B, C, D)
where
    A::Output: BinaryOp<Add, C>,
    <A::Output as BinaryOp<Add, C>>::Output: BinaryOp<Add, D>,
{
    type Output = <(A::Output, C, D) as FusedOutType>::Output;
}
impl<A: BinaryOp<Add, B>, B, C, D, E> FusedOutType for (A, B, C, D, E)
where
    (A::Output, C, D): FusedOutType,
    <(A::Output, C, D) as FusedOutType>::Output: BinaryOp<Add, E>,
{
    type Output = <<(A::Output, C, D) as FusedOutType>::Output as BinaryOp<Add, E>>::Output;
}
impl<A: BinaryOp<Add, B>, B, C, D, E, F> FusedOutType for (A, B, C, D, E, F)
where
    (A::Output, C, D, E): FusedOutType,
    <(A::Output, C, D, E) as FusedOutType>::Output: BinaryOp<Add, F>,
{
    type Output = <<(A::Output, C, D, E) as FusedOutType>::Output as BinaryOp<Add, F>>::Output;
}

fused_tuples!(1; A; a: A: SA: 0);
fused_tuples!(2; A; a: A: SA: 0, b: B: SB: 1);
fused_tuples!(3; A; a: A: SA: 0, b: B: SB: 1, c: C: SC: 2);
fused_tuples!(4; A; a: A: SA: 0, b: B: SB: 1, c: C: SC: 2, d: D: SD: 3);
fused_tuples!(5; A; a: A: SA: 0, b: B: SB: 1, c: C: SC: 2, d: D: SD: 3, e: E: SE: 4);
fused_tuples!(6; A; a: A: SA: 0, b: B: SB: 1, c: C: SC: 2, d: D: SD: 3, e: E: SE: 4, f: F: SF: 5);

/// How every input is read, for an output of `rows x cols`.
#[derive(Clone, Copy)]
struct Plan<const N: usize> {
    rows: usize,
    cols: usize,
    modes: [Broadcast; N],
    /// No input is broadcast along rows or columns: the loops treat the output as one
    /// column of `rows * cols` elements.
    flat: bool,
}

impl<const N: usize> Plan<N> {
    /// The output shape (the largest extent of every matrix input in each dimension)
    /// and each input's broadcast mode.
    ///
    /// # Panics
    /// If an input cannot broadcast to the output's shape (naming both shapes).
    #[track_caller]
    fn new<T: Copy>(ins: &[FusedIn<'_, T>; N]) -> Self {
        let (rows, cols) = ins.iter().fold((1, 1), |(r, c), v| match v {
            FusedIn::Matrix { rows, cols, .. } => (r.max(*rows), c.max(*cols)),
            FusedIn::Scalar(_) => (r, c),
        });
        let empty = ins
            .iter()
            .any(|v| matches!(v, FusedIn::Matrix { data, .. } if data.is_empty()));
        let (rows, cols) = if empty { (0, 0) } else { (rows, cols) };
        let modes = ins.map(|v| match v {
            FusedIn::Scalar(_) => Broadcast::Scalar,
            FusedIn::Matrix {
                rows: r, cols: c, ..
            } => match (r, c) {
                _ if (r, c) == (rows, cols) => Broadcast::Full,
                // An empty result: every empty input has its no elements (`m.rows(i, 0)`).
                _ if empty && r * c == 0 => Broadcast::Full,
                (1, 1) => Broadcast::Scalar,
                (1, c) if c == cols => Broadcast::Row,
                (r, 1) if r == rows => Broadcast::Column,
                _ => panic!(
                    "fused elementwise chain: cannot broadcast a {r}x{c} matrix to the chain's \
                     {rows}x{cols} result; operands of elementwise ops must have equal shapes, \
                     or be a 1xn row, an mx1 column or a scalar"
                ),
            },
        });
        let flat = modes
            .iter()
            .all(|m| matches!(m, Broadcast::Full | Broadcast::Scalar));
        Plan {
            rows,
            cols,
            modes,
            flat,
        }
    }

    /// Which inputs have the output's shape (the reverse loops write each element of
    /// their adjoints once).
    fn full(&self) -> [bool; N] {
        self.modes.map(|m| m == Broadcast::Full)
    }

    /// The loops' columns: `(length, count)`.
    fn columns(&self) -> (usize, usize) {
        if self.flat {
            (self.rows * self.cols, 1)
        } else {
            (self.rows, self.cols)
        }
    }

    /// The fixed blocks of a loop over more than [`FUSED_BLOCK`] elements: runs of
    /// [`FUSED_BLOCK`] elements of a flat plan, else runs of whole columns of about that
    /// many elements. `None` for a loop of one block.
    fn pieces(&self) -> Option<Vec<Piece>> {
        let total = self.rows * self.cols;
        if total <= FUSED_BLOCK {
            return None;
        }
        if self.flat {
            let pieces = (0..total).step_by(FUSED_BLOCK).map(|start| Piece {
                start,
                len: FUSED_BLOCK.min(total - start),
                col0: 0,
                cols: 1,
            });
            return Some(pieces.collect());
        }
        let per = (FUSED_BLOCK / self.rows).max(1);
        if self.cols <= per {
            return None;
        }
        let pieces = (0..self.cols).step_by(per).map(|col0| {
            let cols = per.min(self.cols - col0);
            Piece {
                start: col0 * self.rows,
                len: cols * self.rows,
                col0,
                cols,
            }
        });
        Some(pieces.collect())
    }

    /// The plan of one block.
    fn piece(&self, p: &Piece) -> Self {
        if self.flat {
            Plan {
                rows: p.len,
                cols: 1,
                ..*self
            }
        } else {
            Plan {
                cols: p.cols,
                ..*self
            }
        }
    }

    /// The inputs of one block: the block's elements of each input of the output's
    /// shape, its columns of each row; columns and scalars whole.
    fn piece_ins<'a, T: Copy>(&self, ins: &[FusedIn<'a, T>; N], p: &Piece) -> [FusedIn<'a, T>; N] {
        let sub = self.piece(p);
        std::array::from_fn(|k| match (ins[k], self.modes[k]) {
            (FusedIn::Matrix { data, .. }, Broadcast::Full) => FusedIn::Matrix {
                data: &data[p.start..p.start + p.len],
                rows: sub.rows,
                cols: sub.cols,
            },
            (FusedIn::Matrix { data, .. }, Broadcast::Row) => FusedIn::Matrix {
                data: &data[p.col0..p.col0 + p.cols],
                rows: 1,
                cols: p.cols,
            },
            (other, _) => other,
        })
    }
}

/// The elements per block of a long fused loop (see the module docs): a multiple of
/// four, so that only a loop's last block of a flat plan has a partial group.
pub const FUSED_BLOCK: usize = 16 * 1024;

/// One block of a long fused loop: the output's elements `start..start + len`
/// (column-major), which are its columns `col0..col0 + cols` (a flat plan's block is
/// part of its one column).
#[derive(Clone, Copy, Debug)]
struct Piece {
    start: usize,
    len: usize,
    col0: usize,
    cols: usize,
}

/// How many threads a fused loop over the elements of `plan` uses.
fn loop_threads<const N: usize>(plan: &Plan<N>) -> usize {
    crate::threads::threads_for(plan.rows * plan.cols, crate::threads::PARALLEL_MIN_ELEMS)
}

/// Adds `values` left to right (the blocks' sums in block order).
fn in_order<T: Real>(values: Vec<T>) -> T {
    values
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or_else(T::zero)
}

/// Splits the first `len` elements off `rest`.
fn split_off<'a, T>(rest: &mut &'a mut [T], len: usize) -> &'a mut [T] {
    let (head, tail) = std::mem::take(rest).split_at_mut(len);
    *rest = tail;
    head
}

/// Where one input's values for one column come from.
#[derive(Clone, Copy)]
enum Src<'a, T> {
    /// The column's elements, one per output row.
    Contig(&'a [T]),
    /// One value for the whole column.
    Splat(T),
}

/// The sources of one column as the loops read them, without branching: source `k`
/// gives elements `at * step[k] ..`, where a splat is `MAX_LANES` copies of its value read with
/// step 0. The full groups are read through a [`Cursor`], the last, partial one here.
struct Streams<'s, T, const M: usize> {
    data: [&'s [T]; M],
    step: [usize; M],
    /// The column's length.
    len: usize,
}

impl<'s, T: Real, const M: usize> Streams<'s, T, M> {
    /// The streams of `src` (contiguous sources of at least `len` elements), with the
    /// splatted values stored in `splat`.
    ///
    /// # Panics
    /// If a contiguous source is shorter than `len`.
    #[inline(always)]
    fn new(src: &[Src<'s, T>; M], splat: &'s mut [[T; MAX_LANES]; M], len: usize) -> Self {
        for (b, s) in splat.iter_mut().zip(src) {
            if let Src::Splat(v) = *s {
                *b = [v; MAX_LANES];
            }
        }
        let splat: &'s [[T; MAX_LANES]; M] = splat;
        let data = std::array::from_fn(|k| match src[k] {
            Src::Contig(d) => {
                assert!(
                    d.len() >= len,
                    "a fused loop's source is shorter than its column"
                );
                d
            }
            Src::Splat(_) => &splat[k][..],
        });
        let step = std::array::from_fn(|k| usize::from(matches!(src[k], Src::Contig(_))));
        Streams { data, step, len }
    }

    /// The column's elements in full groups of `V::LANES` (what a [`Cursor`] reads); the
    /// rest is the partial group.
    #[inline(always)]
    fn full<V: FusedValue<Elem = T>>(&self) -> usize {
        self.len - self.len % V::LANES
    }

    /// The `n` elements of source `k` from `at` (`n < V::LANES`), padded.
    #[inline(always)]
    fn partial<V: FusedValue<Elem = T>>(&self, k: usize, at: usize, n: usize) -> V {
        V::load_partial(&self.data[k][at * self.step[k]..][..n])
    }

    /// Every source's partial group at `at`.
    #[inline(always)]
    fn partial_group<V: FusedValue<Elem = T>>(&self, at: usize, n: usize) -> [V; M] {
        let mut group = [V::splat_elem(T::zero()); M];
        for (k, v) in group.iter_mut().enumerate() {
            *v = self.partial(k, at, n);
        }
        group
    }
}

/// The full groups of one column's sources, read front to back with raw pointers: the
/// lengths are checked once when it is made, so a loop over it has no bounds checks and
/// no index arithmetic per source (a pointer increment each).
struct Cursor<'s, V: FusedValue, const M: usize> {
    /// Each source's next group.
    ptr: [*const V::Elem; M],
    /// How far each pointer advances per group: `LANES`, or 0 for a splat read in place.
    step: [usize; M],
    /// Groups not yet read.
    left: usize,
    _data: PhantomData<&'s [V::Elem]>,
}

impl<'s, V: FusedValue, const M: usize> Cursor<'s, V, M> {
    /// The full groups of the column `src` ([`Streams::full`]).
    ///
    /// # Panics
    /// If `V::LANES > MAX_LANES`.
    #[inline(always)]
    fn new(src: &Streams<'s, V::Elem, M>) -> Self {
        assert!(V::LANES <= MAX_LANES);
        let full = src.full::<V>();
        let mut ptr = [std::ptr::null(); M];
        let mut step = [0; M];
        for k in 0..M {
            ptr[k] = src.data[k].as_ptr();
            step[k] = src.step[k] * V::LANES;
        }
        Cursor {
            ptr,
            step,
            left: full / V::LANES,
            _data: PhantomData,
        }
    }

    /// The next group of every source; `None` after the last full group.
    #[inline(always)]
    fn next(&mut self) -> Option<[V; M]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut group = [V::splat_elem(<V::Elem as num_traits::Zero>::zero()); M];
        for (k, v) in group.iter_mut().enumerate() {
            // SAFETY: a contiguous source has at least `src.len >= full` elements
            // (checked by `Streams::new`; `full` is derived from `src.len` in `new`), and
            // this is its group number
            // `full / LANES - left - 1`, so its `LANES` elements lie inside; a splat's
            // pointer stays on its `MAX_LANES` (>= LANES) elements.
            *v = V::load_elems(unsafe { std::slice::from_raw_parts(self.ptr[k], V::LANES) });
            self.ptr[k] = self.ptr[k].wrapping_add(self.step[k]);
        }
        Some(group)
    }
}

/// Each input's source for column `j` of `len` elements.
#[inline(always)]
fn column<'a, T: Real, const N: usize>(
    ins: &[FusedIn<'a, T>; N],
    plan: &Plan<N>,
    j: usize,
    len: usize,
) -> [Src<'a, T>; N] {
    std::array::from_fn(|k| match (ins[k], plan.modes[k]) {
        (FusedIn::Scalar(v), _) => Src::Splat(v),
        (FusedIn::Matrix { data, .. }, Broadcast::Full) => Src::Contig(&data[j * len..][..len]),
        (FusedIn::Matrix { data, .. }, Broadcast::Column) => Src::Contig(&data[..len]),
        (FusedIn::Matrix { data, .. }, Broadcast::Row) => Src::Splat(data[j]),
        (FusedIn::Matrix { data, .. }, Broadcast::Scalar) => Src::Splat(data[0]),
    })
}

/// The forward loop writing every element.
struct MapLoop<'a, 'o, T, B, const N: usize> {
    ins: [FusedIn<'a, T>; N],
    plan: Plan<N>,
    out: &'o mut [T],
    body: &'a B,
}

impl<T: Real, B: FusedMap<N>, const N: usize> FusedKernel<T> for MapLoop<'_, '_, T, B, N> {
    type Output = ();
    #[inline(always)]
    fn run<V: FusedValue<Elem = T>>(self) {
        let (len, count) = self.plan.columns();
        for j in 0..count {
            let src = column(&self.ins, &self.plan, j, len);
            let mut splat = [[T::zero(); MAX_LANES]; N];
            let src = Streams::new(&src, &mut splat, len);
            let out = &mut self.out[j * len..][..len];
            let full = src.full::<V>();
            let mut groups = Cursor::<V, N>::new(&src);
            for o in out[..full].chunks_exact_mut(V::LANES) {
                let e = groups.next().expect("one group per chunk");
                self.body.eval(e).store_elems(o);
            }
            let at = full;
            if at < len {
                let e = src.partial_group::<V>(at, len - at);
                self.body.eval(e).store_partial(&mut out[at..]);
            }
        }
    }
}

/// The forward loop summing every element.
struct SumLoop<'a, T, B, const N: usize> {
    ins: [FusedIn<'a, T>; N],
    plan: Plan<N>,
    body: &'a B,
}

impl<T: Real, B: FusedMap<N>, const N: usize> FusedKernel<T> for SumLoop<'_, T, B, N> {
    type Output = T;
    #[inline(always)]
    fn run<V: FusedValue<Elem = T>>(self) -> T {
        let (len, count) = self.plan.columns();
        let mut acc = V::splat_elem(T::zero());
        let mut tail = T::zero();
        for j in 0..count {
            let src = column(&self.ins, &self.plan, j, len);
            let mut splat = [[T::zero(); MAX_LANES]; N];
            let src = Streams::new(&src, &mut splat, len);
            let full = src.full::<V>();
            let mut groups = Cursor::<V, N>::new(&src);
            while let Some(e) = groups.next() {
                acc = acc + self.body.eval(e);
            }
            let at = full;
            if at < len {
                tail += self
                    .body
                    .eval(src.partial_group::<V>(at, len - at))
                    .sum_first(len - at);
            }
        }
        acc.sum_lanes() + tail
    }
}

/// Where the reverse loops get the chain's value `y` and its cotangent `g` at each
/// element: one type per driver, so that each loop is compiled for its own kind (a sum's
/// loop reads no `y` or `g` from memory at all).
trait Seeds<T: Real>: Copy + Send {
    /// The seeds of one column.
    type Column: SeedColumn<T>;
    /// Column `j` of `len` elements.
    fn column(self, j: usize, len: usize) -> Self::Column;
    /// The seeds of the output's elements `start..start + len` (a block of the loop).
    fn piece(self, start: usize, len: usize) -> Self;
}

/// The seeds of one column of the reverse loop.
trait SeedColumn<T: Real> {
    /// `(y, g)` at the group from `at` (`at + V::LANES <= len`).
    fn group<V: FusedValue<Elem = T>>(&self, at: usize) -> (V, V);
    /// `(y, g)` at the `n` elements from `at` (`n < V::LANES`), padded.
    fn partial<V: FusedValue<Elem = T>>(&self, at: usize, n: usize) -> (V, V);
}

/// A chain that ends in `.sum()`: no saved `y` (the loop recomputes the chain), and the
/// sum's cotangent everywhere.
#[derive(Clone, Copy)]
struct SumSeeds<T>(T);

impl<T: Real> Seeds<T> for SumSeeds<T> {
    type Column = Self;
    #[inline(always)]
    fn column(self, _j: usize, _len: usize) -> Self {
        self
    }
    #[inline(always)]
    fn piece(self, _start: usize, _len: usize) -> Self {
        self
    }
}

impl<T: Real> SeedColumn<T> for SumSeeds<T> {
    #[inline(always)]
    fn group<V: FusedValue<Elem = T>>(&self, _at: usize) -> (V, V) {
        (V::splat_elem(T::zero()), V::splat_elem(self.0))
    }
    #[inline(always)]
    fn partial<V: FusedValue<Elem = T>>(&self, at: usize, _n: usize) -> (V, V) {
        self.group(at)
    }
}

/// [`SumSeeds`] with the cotangent 1 known when the loop is compiled.
#[derive(Clone, Copy)]
struct UnitSumSeeds;

impl<T: Real> Seeds<T> for UnitSumSeeds {
    type Column = Self;
    #[inline(always)]
    fn column(self, _j: usize, _len: usize) -> Self {
        self
    }
    #[inline(always)]
    fn piece(self, _start: usize, _len: usize) -> Self {
        self
    }
}

impl<T: Real> SeedColumn<T> for UnitSumSeeds {
    #[inline(always)]
    fn group<V: FusedValue<Elem = T>>(&self, _at: usize) -> (V, V) {
        (V::splat_elem(T::zero()), V::splat_elem(T::one()))
    }
    #[inline(always)]
    fn partial<V: FusedValue<Elem = T>>(&self, at: usize, _n: usize) -> (V, V) {
        SeedColumn::<T>::group(self, at)
    }
}

/// A chain that ends in an elementwise op: its saved output `y` and cotangent `g`,
/// matrices of the output's shape.
#[derive(Clone, Copy)]
struct MapSeeds<'a, T> {
    y: &'a [T],
    g: &'a [T],
}

impl<'a, T: Real> Seeds<T> for MapSeeds<'a, T> {
    type Column = MapSeeds<'a, T>;
    #[inline(always)]
    fn column(self, j: usize, len: usize) -> Self {
        MapSeeds {
            y: &self.y[j * len..][..len],
            g: &self.g[j * len..][..len],
        }
    }
    #[inline(always)]
    fn piece(self, start: usize, len: usize) -> Self {
        MapSeeds {
            y: &self.y[start..start + len],
            g: &self.g[start..start + len],
        }
    }
}

impl<T: Real> SeedColumn<T> for MapSeeds<'_, T> {
    #[inline(always)]
    fn group<V: FusedValue<Elem = T>>(&self, at: usize) -> (V, V) {
        (V::load_elems(&self.y[at..]), V::load_elems(&self.g[at..]))
    }
    #[inline(always)]
    fn partial<V: FusedValue<Elem = T>>(&self, at: usize, n: usize) -> (V, V) {
        (
            V::load_partial(&self.y[at..][..n]),
            V::load_partial(&self.g[at..][..n]),
        )
    }
}

/// What a reverse loop works on: the chain's inputs and how they broadcast, where its
/// value and cotangent come from, the adjoints it writes, and the chain's code.
struct VjpParts<'a, 'g, T, S, B, const N: usize> {
    ins: [FusedIn<'a, T>; N],
    plan: Plan<N>,
    seeds: S,
    adj: [Option<FusedAdj<'g, T>>; N],
    body: &'a B,
}

impl<T, S, B, const N: usize> VjpParts<'_, '_, T, S, B, N> {
    /// Whether [`StreamVjpLoop`] can write the adjoints: each is absent or a matrix of
    /// the output's shape.
    fn streams_only(&self) -> bool {
        self.adj.iter().zip(&self.plan.modes).all(|(a, m)| match a {
            None => true,
            Some(FusedAdj::Matrix(..)) => *m == Broadcast::Full,
            Some(FusedAdj::Scalar(_)) => false,
        })
    }
}

/// The reverse loop: cotangents of every element added into the inputs' adjoints; the
/// values summed (the value of a chain that ends in `sum`).
struct VjpLoop<'a, 'g, T, S, B, const N: usize>(VjpParts<'a, 'g, T, S, B, N>);

impl<T: Real, S: Seeds<T>, B: FusedVjp<N>, const N: usize> FusedKernel<T>
    for VjpLoop<'_, '_, T, S, B, N>
{
    type Output = T;
    #[inline(always)]
    fn run<V: FusedValue<Elem = T>>(self) -> T {
        let VjpParts {
            ins,
            plan,
            seeds,
            mut adj,
            body,
        } = self.0;
        let (len, count) = plan.columns();
        let zero = V::splat_elem(T::zero());
        // Per input: lane sums for the broadcast ones (added into a row element at the end
        // of each column, or into a scalar at the very end), plus the partial group's sum.
        let mut total = [zero; N];
        let mut total_tail = [T::zero(); N];
        let mut value = zero;
        let mut value_tail = T::zero();
        for j in 0..count {
            let src = column(&ins, &plan, j, len);
            let mut splat = [[T::zero(); MAX_LANES]; N];
            let src = Streams::new(&src, &mut splat, len);
            let seeds = seeds.column(j, len);
            let mut row = [zero; N];
            let mut row_tail = [T::zero(); N];
            let mut groups = Cursor::<V, N>::new(&src);
            let mut at = 0;
            while let Some(e) = groups.next() {
                let (ys, gs) = seeds.group::<V>(at);
                let (v, d) = body.vjp(e, ys, gs);
                value = value + v;
                for k in 0..N {
                    match (&mut adj[k], plan.modes[k]) {
                        (None, _) => {}
                        (Some(FusedAdj::Matrix(a, fresh)), Broadcast::Full) => {
                            let a = &mut a[j * len + at..];
                            if *fresh {
                                // `0 + d` as the addition into zeros would give (`-0.0`
                                // becomes `+0.0`), without reading the zeros.
                                (zero + d[k]).store_elems(a);
                            } else {
                                (V::load_elems(a) + d[k]).store_elems(a);
                            }
                        }
                        (Some(FusedAdj::Matrix(a, _)), Broadcast::Column) => {
                            let a = &mut a[at..];
                            (V::load_elems(a) + d[k]).store_elems(a);
                        }
                        (Some(FusedAdj::Matrix(..)), Broadcast::Row) => row[k] = row[k] + d[k],
                        (Some(FusedAdj::Scalar(_)), _) | (Some(_), Broadcast::Scalar) => {
                            total[k] = total[k] + d[k]
                        }
                    }
                }
                at += V::LANES;
            }
            if at < len {
                let n = len - at;
                let (ys, gs) = seeds.partial::<V>(at, n);
                let (v, d) = body.vjp(src.partial_group::<V>(at, n), ys, gs);
                value_tail += v.sum_first(n);
                for k in 0..N {
                    match (&mut adj[k], plan.modes[k]) {
                        (None, _) => {}
                        (Some(FusedAdj::Matrix(a, fresh)), Broadcast::Full) => {
                            let a = &mut a[j * len + at..][..n];
                            if *fresh {
                                (zero + d[k]).store_partial(a);
                            } else {
                                (V::load_partial(a) + d[k]).store_partial(a);
                            }
                        }
                        (Some(FusedAdj::Matrix(a, _)), Broadcast::Column) => {
                            let a = &mut a[at..][..n];
                            (V::load_partial(a) + d[k]).store_partial(a);
                        }
                        (Some(FusedAdj::Matrix(..)), Broadcast::Row) => {
                            row_tail[k] += d[k].sum_first(n)
                        }
                        (Some(FusedAdj::Scalar(_)), _) | (Some(_), Broadcast::Scalar) => {
                            total_tail[k] += d[k].sum_first(n)
                        }
                    }
                }
            }
            for k in 0..N {
                if plan.modes[k] == Broadcast::Row {
                    if let Some(FusedAdj::Matrix(a, _)) = &mut adj[k] {
                        a[j] += row[k].sum_lanes() + row_tail[k];
                    }
                }
            }
        }
        for k in 0..N {
            if plan.modes[k] == Broadcast::Scalar || matches!(adj[k], Some(FusedAdj::Scalar(_))) {
                let s = total[k].sum_lanes() + total_tail[k];
                match &mut adj[k] {
                    Some(FusedAdj::Matrix(a, _)) => a[0] += s,
                    Some(FusedAdj::Scalar(a)) => **a += s,
                    None => {}
                }
            }
        }
        value.sum_lanes() + value_tail
    }
}

/// The reverse loop when every adjoint it writes belongs to an input of the output's
/// shape (no broadcast input gets a gradient), as in `sum(tanh(a .* x + b)^2)`: each
/// cotangent element is stored into a fresh adjoint (whose buffer was not zeroed) or
/// added into an existing one, with no per-element choice of how to reduce. A kernel of
/// its own, not a branch of [`VjpLoop`]: LLVM compiles the two loops independently.
/// `P` says which adjoint slots always and which never hold an adjoint.
struct StreamVjpLoop<'a, 'g, T, S, B, P, const N: usize>(
    VjpParts<'a, 'g, T, S, B, N>,
    PhantomData<P>,
);

/// Where [`StreamColumn`] writes one adjoint: the next group to write, the group to read
/// and add to, and how far the read pointer advances per group.
type Sink<T> = (*mut T, *const T, usize);

/// One column of an adjoint for [`StreamColumn`], and whether to add into it.
type AdjColumn<'c, T> = Option<(&'c mut [T], bool)>;

/// One column of [`StreamVjpLoop`], walked group by group with raw pointers: the lengths
/// are checked once when it is made, so the loop has no bounds checks and no index
/// arithmetic per input (only pointer increments).
struct StreamColumn<'c, V: FusedValue, P, const N: usize> {
    /// The inputs.
    src: Cursor<'c, V, N>,
    /// Each differentiated input's adjoint: the next group to write, the group to read
    /// and add to (the adjoint itself, or `MAX_LANES` zeros for a fresh adjoint, which is
    /// stored without being read), and how far the read pointer advances. Null for an
    /// input without one.
    sink: [Sink<V::Elem>; N],
    /// Which inputs have an adjoint. Where `P` says a slot always or never has one, the
    /// loop does not look: the check is made once, in `new`.
    present: [bool; N],
    /// A group was loaded and its cotangents are not yet stored.
    pending: bool,
    _borrows: PhantomData<(&'c mut [V::Elem], P)>,
}

impl<'c, V: FusedValue, P: Presence<N>, const N: usize> StreamColumn<'c, V, P, N> {
    /// The full groups of a column ([`Streams::full`]): read from `src`, written into
    /// `out` (each exactly that many elements; `true` to add into it, else the
    /// `zeros` are read instead).
    ///
    /// # Panics
    /// If a length is wrong, `V::LANES > MAX_LANES`, or an adjoint is there or missing against
    /// what `P` says.
    #[inline(always)]
    fn new(
        src: &Streams<'c, V::Elem, N>,
        out: [AdjColumn<'c, V::Elem>; N],
        zeros: &'c [V::Elem; MAX_LANES],
    ) -> Self {
        let full = src.full::<V>();
        let src = Cursor::new(src);
        let mut sink = [(std::ptr::null_mut(), std::ptr::null(), 0); N];
        let mut present = [false; N];
        for (k, (s, o)) in sink.iter_mut().zip(out).enumerate() {
            present[k] = o.is_some();
            let agrees = if present[k] {
                !P::NEVER[k]
            } else {
                !P::ALWAYS[k]
            };
            assert!(
                agrees,
                "a fused loop's adjoint slot {k} disagrees with its type"
            );
            if let Some((a, add)) = o {
                assert_eq!(
                    a.len(),
                    full,
                    "a fused loop's adjoint column has the wrong length"
                );
                let write = a.as_mut_ptr();
                *s = if add {
                    (write, write.cast_const(), V::LANES)
                } else {
                    (write, zeros.as_ptr(), 0)
                };
            }
        }
        StreamColumn {
            src,
            sink,
            present,
            pending: false,
            _borrows: PhantomData,
        }
    }

    /// The next full group of every input; `None` after the last one.
    #[inline(always)]
    fn load(&mut self) -> Option<[V; N]> {
        if self.pending {
            return None;
        }
        let group = self.src.next()?;
        self.pending = true;
        Some(group)
    }

    /// Adds the cotangents of the group just loaded into the adjoints.
    #[inline(always)]
    fn store(&mut self, d: [V; N]) {
        assert!(self.pending, "store follows load");
        self.pending = false;
        for (k, ((write, read, step), d)) in self.sink.iter_mut().zip(d).enumerate() {
            // Constant for slots `P` fixes (`&mut A`, `NoAdjoint`): no test in the loop.
            let present = !P::NEVER[k] && (P::ALWAYS[k] || self.present[k]);
            if present {
                // SAFETY: `new` made the pointers of every present slot (and checked that
                // `P` agrees with which are present); the write pointer is on the group
                // just loaded, inside the `full`
                // elements of its column (checked in `new`; `pending` pairs each store
                // with one load); the read pointer is on that group too, or on the
                // `MAX_LANES` zeros (>= LANES).
                unsafe {
                    let base = V::load_elems(std::slice::from_raw_parts(*read, V::LANES));
                    (base + d).store_elems(std::slice::from_raw_parts_mut(*write, V::LANES));
                }
                *write = write.wrapping_add(V::LANES);
                *read = read.wrapping_add(*step);
            }
        }
    }
}

impl<T: Real, S: Seeds<T>, B: FusedVjp<N>, P: Presence<N>, const N: usize> FusedKernel<T>
    for StreamVjpLoop<'_, '_, T, S, B, P, N>
{
    type Output = T;
    #[inline(always)]
    fn run<V: FusedValue<Elem = T>>(self) -> T {
        let VjpParts {
            ins,
            plan,
            seeds,
            mut adj,
            body,
        } = self.0;
        let (len, count) = plan.columns();
        let zero = V::splat_elem(T::zero());
        let mut value = zero;
        let mut value_tail = T::zero();
        for j in 0..count {
            let src = column(&ins, &plan, j, len);
            let mut splat = [[T::zero(); MAX_LANES]; N];
            let src = Streams::new(&src, &mut splat, len);
            let seeds = seeds.column(j, len);
            // Per input: this column of its adjoint, and whether to add into it (else
            // store: `0 + d`, as adding into zeros would give, without reading), split
            // into the full groups and the partial one.
            let full = src.full::<V>();
            let mut heads: [AdjColumn<T>; N] = std::array::from_fn(|_| None);
            let mut tails: [AdjColumn<T>; N] = std::array::from_fn(|_| None);
            for ((a, h), t) in adj.iter_mut().zip(&mut heads).zip(&mut tails) {
                if let Some(FusedAdj::Matrix(a, fresh)) = a {
                    let (head, tail) = a[j * len..][..len].split_at_mut(full);
                    *h = Some((head, !*fresh));
                    *t = Some((tail, !*fresh));
                }
            }
            let zeros = [T::zero(); MAX_LANES];
            let mut groups = StreamColumn::<V, P, N>::new(&src, heads, &zeros);
            let mut at = 0;
            while let Some(e) = groups.load() {
                let (ys, gs) = seeds.group::<V>(at);
                let (v, d) = body.vjp(e, ys, gs);
                value = value + v;
                groups.store(d);
                at += V::LANES;
            }
            if at < len {
                let n = len - at;
                let (ys, gs) = seeds.partial::<V>(at, n);
                let (v, d) = body.vjp(src.partial_group::<V>(at, n), ys, gs);
                value_tail += v.sum_first(n);
                for (o, d) in tails.iter_mut().zip(d) {
                    if let Some((a, add)) = o {
                        let base = if *add { V::load_partial(a) } else { zero };
                        (base + d).store_partial(a);
                    }
                }
            }
        }
        value.sum_lanes() + value_tail
    }
}

/// Runs the reverse loop of a chain: [`StreamVjpLoop`] where it applies, else the general
/// [`VjpLoop`]; a long loop as blocks ([`Plan::pieces`]) on the threads of
/// [`crate::threads`].
#[inline]
fn run_vjp<T, S, B, P, const N: usize>(
    ins: [FusedIn<'_, T>; N],
    plan: Plan<N>,
    seeds: S,
    adj: [Option<FusedAdj<'_, T>>; N],
    body: &B,
) -> T
where
    T: Real,
    S: Seeds<T>,
    B: FusedVjp<N> + Sync,
    P: Presence<N>,
{
    // An adjoint broadcast across columns is written by every block: not blocked.
    let column_adjoint = adj
        .iter()
        .zip(&plan.modes)
        .any(|(a, m)| a.is_some() && *m == Broadcast::Column);
    let pieces = match plan.pieces() {
        Some(pieces) if !column_adjoint => pieces,
        _ => return run_vjp_block::<_, _, _, P, N>(ins, plan, seeds, adj, body),
    };
    /// What remains to hand out of one adjoint.
    enum Rest<'g, T> {
        /// No adjoint.
        None,
        /// The output's shape: the elements of the blocks still to come.
        Full(&'g mut [T], bool),
        /// A row: the columns of the blocks still to come.
        Row(&'g mut [T], bool),
        /// A scalar (or `1 x 1`): each block sums into a local, added here at the end.
        Local(FusedAdj<'g, T>),
    }
    let mut rest: [Rest<'_, T>; N] = std::array::from_fn(|_| Rest::None);
    for ((r, a), m) in rest.iter_mut().zip(adj).zip(&plan.modes) {
        *r = match (a, m) {
            (None, _) => Rest::None,
            (Some(FusedAdj::Matrix(a, fresh)), Broadcast::Full) => Rest::Full(a, fresh),
            (Some(FusedAdj::Matrix(a, fresh)), Broadcast::Row) => Rest::Row(a, fresh),
            (Some(a), _) => Rest::Local(a),
        };
    }
    let mut locals = vec![[T::zero(); N]; pieces.len()];
    let parts: Vec<_> = pieces
        .iter()
        .zip(&mut locals)
        .map(|(p, local)| {
            let mut sub: [Option<FusedAdj<'_, T>>; N] = std::array::from_fn(|_| None);
            for ((slot, r), l) in sub.iter_mut().zip(&mut rest).zip(local.each_mut()) {
                *slot = match r {
                    Rest::None => None,
                    Rest::Full(a, fresh) => Some(FusedAdj::Matrix(split_off(a, p.len), *fresh)),
                    Rest::Row(a, fresh) => Some(FusedAdj::Matrix(split_off(a, p.cols), *fresh)),
                    Rest::Local(_) => Some(FusedAdj::Scalar(l)),
                };
            }
            (
                plan.piece_ins(&ins, p),
                plan.piece(p),
                seeds.piece(p.start, p.len),
                sub,
            )
        })
        .collect();
    let values =
        crate::threads::run_pieces(parts, loop_threads(&plan), |(ins, plan, seeds, adj)| {
            run_vjp_block::<_, _, _, P, N>(ins, plan, seeds, adj, body)
        });
    for (k, r) in rest.iter_mut().enumerate() {
        if let Rest::Local(a) = r {
            let s = in_order(locals.iter().map(|l| l[k]).collect());
            match a {
                FusedAdj::Matrix(a, _) => a[0] += s,
                FusedAdj::Scalar(a) => **a += s,
            }
        }
    }
    in_order(values)
}

/// The reverse loop of one block (or of a whole loop): [`StreamVjpLoop`] where it
/// applies, else the general [`VjpLoop`].
#[inline]
fn run_vjp_block<T: Real, S: Seeds<T>, B: FusedVjp<N>, P: Presence<N>, const N: usize>(
    ins: [FusedIn<'_, T>; N],
    plan: Plan<N>,
    seeds: S,
    adj: [Option<FusedAdj<'_, T>>; N],
    body: &B,
) -> T {
    let parts = VjpParts {
        ins,
        plan,
        seeds,
        adj,
        body,
    };
    if parts.streams_only() {
        T::fused_dispatch(StreamVjpLoop(parts, PhantomData::<P>))
    } else {
        T::fused_dispatch(VjpLoop(parts))
    }
}

/// Forward of a fused chain ending in an elementwise op: the output matrix.
///
/// # Panics
/// If an input cannot broadcast to the output's shape.
#[track_caller]
pub fn fused_map<T, X, B, const N: usize>(inputs: X, body: B) -> X::Out
where
    T: Real,
    X: FusedArgs<T, N>,
    X::Out: FusedOut<T>,
    B: FusedMap<N> + Sync,
{
    let ins = inputs.views();
    let plan = Plan::new(&ins);
    let mut out = X::Out::fused_new(plan.rows, plan.cols);
    let threads = loop_threads(&plan);
    // Every element is computed alike in any block: one block on one thread.
    match plan.pieces() {
        Some(pieces) if threads > 1 => {
            let mut rest = out.fused_data_mut();
            let parts: Vec<_> = pieces
                .iter()
                .map(|p| {
                    let out = split_off(&mut rest, p.len);
                    (plan.piece_ins(&ins, p), plan.piece(p), out)
                })
                .collect();
            crate::threads::run_pieces(parts, threads, |(ins, plan, out)| {
                T::fused_dispatch(MapLoop {
                    ins,
                    plan,
                    out,
                    body: &body,
                })
            });
        }
        _ => T::fused_dispatch(MapLoop {
            ins,
            plan,
            out: out.fused_data_mut(),
            body: &body,
        }),
    }
    out
}

/// Reverse of a fused chain ending in an elementwise op: with `y` the forward output and
/// `g` its cotangent, adds every input's cotangent into the adjoints given as `Some`.
/// A symbolic-zero `g` (an empty matrix) adds nothing.
///
/// # Panics
/// If an input cannot broadcast to the output's shape.
#[track_caller]
pub fn fused_map_vjp<'g, T, X, G, B, const N: usize>(
    inputs: X,
    y: &X::Out,
    g: &X::Out,
    adjoints: G,
    body: B,
) where
    T: Real,
    X: FusedArgs<T, N>,
    X::Out: FusedOut<T>,
    G: FusedAdjoints<'g, T, N, X>,
    B: FusedVjp<N> + Sync,
{
    if g.fused_data().is_empty() {
        return;
    }
    let ins = inputs.views();
    let plan = Plan::new(&ins);
    assert_eq!(
        g.fused_shape(),
        (plan.rows, plan.cols),
        "fused elementwise chain: the cotangent's shape differs from the output's"
    );
    let adj = adjoints.views(&inputs, plan.full());
    run_vjp::<_, _, _, G::Presence, N>(
        ins,
        plan,
        MapSeeds {
            y: y.fused_data(),
            g: g.fused_data(),
        },
        adj,
        &body,
    );
}

/// Forward of a fused chain ending in `.sum()`: the sum of the chain over every element,
/// without materialising the elements.
///
/// # Panics
/// If an input cannot broadcast to the output's shape.
#[track_caller]
pub fn fused_sum<T, X, B, const N: usize>(inputs: X, body: B) -> T
where
    T: Real,
    X: FusedArgs<T, N>,
    B: FusedMap<N> + Sync,
{
    let ins = inputs.views();
    let plan = Plan::new(&ins);
    let Some(pieces) = plan.pieces() else {
        return T::fused_dispatch(SumLoop {
            ins,
            plan,
            body: &body,
        });
    };
    let parts: Vec<_> = pieces
        .iter()
        .map(|p| (plan.piece_ins(&ins, p), plan.piece(p)))
        .collect();
    let sums = crate::threads::run_pieces(parts, loop_threads(&plan), |(ins, plan)| {
        T::fused_dispatch(SumLoop {
            ins,
            plan,
            body: &body,
        })
    });
    in_order(sums)
}

/// Reverse of a fused chain ending in `.sum()` with cotangent `g` for the sum: adds every
/// input's cotangent into the adjoints given as `Some`, and returns the sum itself, so
/// that one loop gives both the value and the gradient.
///
/// # Panics
/// If an input cannot broadcast to the output's shape.
#[track_caller]
pub fn fused_sum_vjp<'g, T, X, G, B, const N: usize>(inputs: X, g: &T, adjoints: G, body: B) -> T
where
    T: Real,
    X: FusedArgs<T, N>,
    G: FusedAdjoints<'g, T, N, X>,
    B: FusedVjp<N> + Sync,
{
    let ins = inputs.views();
    let plan = Plan::new(&ins);
    let adj = adjoints.views(&inputs, plan.full());
    // `name_grad` seeds the sum with 1: a loop of its own, where the multiplications by
    // the cotangent fold away (`1 * x` is `x` to the bit).
    if *g == T::one() {
        run_vjp::<_, _, _, G::Presence, N>(ins, plan, UnitSumSeeds, adj, &body)
    } else {
        run_vjp::<_, _, _, G::Presence, N>(ins, plan, SumSeeds(*g), adj, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BinaryOp, Mul, Tanh, UnaryOp};
    use super::*;
    use nalgebra::{DMatrix, RowDVector};

    /// `tanh(h .* b + s)`: `h` full, `b` a row, `s` a scalar.
    struct Chain;

    impl FusedMap<3> for Chain {
        fn eval<V: FusedValue>(&self, [h, b, s]: [V; 3]) -> V {
            let p = BinaryOp::<Mul, V>::forward(&h, Mul, &b);
            let q = BinaryOp::<Add, V>::forward(&p, Add, &s);
            UnaryOp::<Tanh>::forward(&q, Tanh)
        }
    }

    /// The blocked loops (here 13 blocks of 23 columns) give the same sum and map for 1,
    /// 2 and 3 threads, and the map is the unblocked elementwise one.
    #[test]
    fn blocked_sums_and_maps_are_identical_for_one_two_and_three_threads() {
        let _guard = crate::threads::TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (rows, cols) = (700, 300);
        let h = DMatrix::from_fn(rows, cols, |i, j| ((i * 7 + j * 13) as f64 * 0.01).sin());
        let b = RowDVector::from_fn(cols, |_, j| (j as f64 * 0.1).cos());
        let s = 0.3;
        let plan = Plan::new(&(&h, &b, &s).views());
        assert_eq!(plan.pieces().map(|p| p.len()), Some(300usize.div_ceil(23)));
        let run = |threads: usize| {
            crate::threads::set_num_threads(threads);
            let before = crate::threads::threads_spawned();
            let sum = fused_sum((&h, &b, &s), Chain);
            let map: DMatrix<f64> = fused_map((&h, &b, &s), Chain);
            (sum, map, crate::threads::threads_spawned() - before)
        };
        let one = run(1);
        assert_eq!(one.2, 0);
        for threads in [2, 3] {
            let many = run(threads);
            assert!(many.2 > 0, "{threads} threads started none");
            assert_eq!(one.0.to_bits(), many.0.to_bits());
            assert!(one
                .1
                .iter()
                .zip(many.1.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        crate::threads::set_num_threads(0);
        let naive = DMatrix::from_fn(rows, cols, |i, j| (h[(i, j)] * b[j] + s).tanh());
        let err = (&one.1 - &naive).abs().max();
        assert!(err < 1e-14, "map error {err}");
        assert!(
            (one.0 - naive.sum()).abs() < 1e-9,
            "{} vs {}",
            one.0,
            naive.sum()
        );
    }
}
