//! Buffer reuse across gradient calls: [`Workspace`], the pool of matrix buffers behind
//! the `name_grad_with` / `name_vjp_with` entry points of `#[differentiable]`.
//!
//! A gradient call allocates one buffer for every intermediate matrix of the forward pass
//! and every matrix adjoint of the reverse pass. A [`Workspace`] keeps those buffers
//! between calls: while a `_with` entry point runs, the workspace's pool is *installed*
//! on the current thread, every rule that makes a dynamically sized matrix (`DMatrix`,
//! `DVector`, `RowDVector` of `f32` or `f64`) takes its buffer from the pool, and the
//! generated code gives every intermediate value and adjoint back at the end. The
//! gradient stays in the workspace until the next call, which gives its buffers back
//! first. From the second call on (same shapes), a training step takes every buffer
//! from the pool and the allocator is not called.
//!
//! Without an installed pool (the plain `name_grad`), [`pooled_zeros`] and friends
//! allocate as nalgebra does and [`recycle_value`] drops its argument, so the rules cost
//! the same as before. Statically sized matrices live inline and are never pooled.
//!
//! Installation is a stack: a `_with` call inside another (a workspace per function, or
//! a custom backward that calls a gradient) installs its own pool and restores the
//! outer one when it returns, also when it unwinds from a panic.
//!
//! ```
//! use autodiff_runtime::nalgebra::DMatrix;
//! use autodiff_runtime::workspace::{pooled_zeros, recycle_value, Workspace};
//! use autodiff_runtime::nalgebra::Dyn;
//!
//! let mut ws: Workspace<()> = Workspace::new();
//! let first = ws.scope(|| {
//!     let m: DMatrix<f64> = pooled_zeros(Dyn(3), Dyn(4));
//!     let ptr = m.as_ptr();
//!     recycle_value(m); // back into the pool
//!     ptr
//! });
//! let second = ws.scope(|| {
//!     let m: DMatrix<f64> = pooled_zeros(Dyn(4), Dyn(3));
//!     let ptr = m.as_ptr();
//!     recycle_value(m);
//!     ptr
//! });
//! assert_eq!(first, second); // the same buffer, reused
//! assert_eq!(ws.buffers(), 1);
//! ```

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::fmt;

use nalgebra::allocator::Allocator;
use nalgebra::{DMatrix, DVector, DefaultAllocator, Dim, Dyn, OMatrix, RowDVector, VecStorage};

use crate::rules::{Adjoint, Real};

/// Free buffers of one element type.
struct FreeList<T> {
    /// Buffers waiting to be reused (capacity > 0), holding what they held when they came
    /// back: [`pooled_for_overwrite`] hands them out as they are.
    free: Vec<Vec<T>>,
    /// Buffers handed out and not given back. A buffer that comes back while none is
    /// out was not handed out by this pool (a matrix made elsewhere): it is dropped, so a
    /// program that gives back more than it takes cannot grow the pool without bound.
    out: usize,
}

impl<T> FreeList<T> {
    const fn new() -> Self {
        FreeList {
            free: Vec::new(),
            out: 0,
        }
    }

    /// A buffer with capacity for at least `len` elements, holding stale elements (or
    /// none, when new): the smallest free one that fits (best fit), or a new one.
    fn take(&mut self, len: usize) -> Vec<T> {
        if len == 0 {
            return Vec::new();
        }
        self.out += 1;
        let mut best: Option<(usize, usize)> = None;
        for (i, b) in self.free.iter().enumerate() {
            let cap = b.capacity();
            if cap >= len && best.is_none_or(|(_, c)| cap < c) {
                best = Some((i, cap));
            }
        }
        match best {
            Some((i, _)) => self.free.swap_remove(i),
            None => {
                // Room for every buffer of the pool to come back: only a call that makes a
                // new buffer can grow the free list itself.
                self.free.reserve(self.out);
                Vec::with_capacity(len)
            }
        }
    }

    /// Keeps `buffer` for reuse (see [`FreeList::out`] for when it is dropped instead).
    fn put(&mut self, buffer: Vec<T>) {
        if buffer.capacity() == 0 || self.out == 0 {
            return;
        }
        self.out -= 1;
        self.free.push(buffer);
    }

    fn bytes(&self) -> usize {
        self.free.iter().map(|b| b.capacity()).sum::<usize>() * std::mem::size_of::<T>()
    }
}

/// The buffers of a [`Workspace`]: free `Vec<f64>` and `Vec<f32>` of various capacities.
struct BufferPool {
    f64: FreeList<f64>,
    f32: FreeList<f32>,
}

impl BufferPool {
    const fn new() -> Self {
        BufferPool {
            f64: FreeList::new(),
            f32: FreeList::new(),
        }
    }

    /// The free list of element type `T`, when `T` is `f64` or `f32`.
    fn list<T: 'static>(&mut self) -> Option<&mut FreeList<T>> {
        let list: &mut dyn Any = if TypeId::of::<T>() == TypeId::of::<f32>() {
            &mut self.f32
        } else {
            &mut self.f64
        };
        list.downcast_mut()
    }
}

thread_local! {
    /// The pool of the innermost running `_with` call on this thread.
    static INSTALLED: Cell<Option<BufferPool>> = const { Cell::new(None) };
}

/// Runs `f` on the installed pool; `None` when no pool is installed.
fn with_installed<R>(f: impl FnOnce(&mut BufferPool) -> R) -> Option<R> {
    INSTALLED
        .try_with(|slot| {
            let mut pool = slot.take()?;
            let r = f(&mut pool);
            slot.set(Some(pool));
            Some(r)
        })
        .ok()
        .flatten()
}

/// Puts `pool` in the thread's slot until the guard drops (also while unwinding), then
/// moves it back to `home` and restores what was installed before.
struct Installed<'p> {
    home: &'p mut BufferPool,
    outer: Option<BufferPool>,
}

impl<'p> Installed<'p> {
    fn new(home: &'p mut BufferPool) -> Self {
        let pool = std::mem::replace(home, BufferPool::new());
        let outer = INSTALLED.with(|slot| slot.replace(Some(pool)));
        Installed { home, outer }
    }
}

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        let outer = self.outer.take();
        if let Ok(Some(pool)) = INSTALLED.try_with(|slot| slot.replace(outer)) {
            *self.home = pool;
        }
    }
}

/// Reusable buffers for gradient calls, and the last gradient.
///
/// Made once and passed to a generated `name_grad_with(&mut ws, ...)` (or
/// `name_vjp_with`) on every training step: the call returns a reference to the gradient,
/// which lives in the workspace until the next call. From the second call with the same
/// shapes on, its intermediate matrices and adjoints are not allocated again; a
/// straight-line function such as an MLP loss then makes no allocation at all. Still
/// allocated: loop tapes and the values carried through loops, `matrixmultiply`'s packing
/// buffers for products whose dimensions are all at least 8, results of calls to other
/// functions (the full list is in `docs/workspace.md`). `G` is the gradient type
/// (`NameGrad`).
///
/// A workspace is plain data (`Send`); use one per thread and per function, or share one
/// between functions with the same gradient type.
pub struct Workspace<G> {
    pool: BufferPool,
    grad: Option<G>,
}

impl<G> Default for Workspace<G> {
    fn default() -> Self {
        Self::new()
    }
}

impl<G> fmt::Debug for Workspace<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workspace")
            .field("buffers", &self.buffers())
            .field("pooled_bytes", &self.pooled_bytes())
            .field("has_grad", &self.grad.is_some())
            .finish()
    }
}

impl<G> Workspace<G> {
    /// An empty workspace; it allocates nothing until the first call fills it.
    pub const fn new() -> Self {
        Workspace {
            pool: BufferPool::new(),
            grad: None,
        }
    }

    /// The gradient of the last call, if any.
    pub fn grad(&self) -> Option<&G> {
        self.grad.as_ref()
    }

    /// Takes the gradient of the last call out of the workspace (its buffers then belong
    /// to the caller, and the next call allocates new ones).
    pub fn take_grad(&mut self) -> Option<G> {
        self.grad.take()
    }

    /// The number of free buffers in the pool.
    pub fn buffers(&self) -> usize {
        self.pool.f64.free.len() + self.pool.f32.free.len()
    }

    /// The capacity of the free buffers, in bytes.
    pub fn pooled_bytes(&self) -> usize {
        self.pool.f64.bytes() + self.pool.f32.bytes()
    }

    /// Frees every pooled buffer and the stored gradient.
    pub fn clear(&mut self) {
        self.pool = BufferPool::new();
        self.grad = None;
    }

    /// Gives a value back to the pool: a dynamically sized matrix (`DMatrix`, `DVector`,
    /// `RowDVector` of `f32`/`f64`) becomes a free buffer, anything else is dropped. For
    /// a matrix-valued result of `name_vjp_with` that is no longer needed, so that the
    /// next call reuses its buffer.
    pub fn recycle<X: 'static>(&mut self, value: X) {
        let _in_pool = Installed::new(&mut self.pool);
        recycle_value(value);
    }

    /// Runs `f` with this workspace's pool installed: every matrix the rules make inside
    /// takes its buffer from the pool, and [`recycle_value`] / [`Adjoint::recycle`] give
    /// buffers back to it. The previous pool (if a call is already running) is restored
    /// afterwards, also on panic.
    pub fn scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let _in_pool = Installed::new(&mut self.pool);
        f()
    }

    /// What the generated `_with` entry points run: gives the previous gradient's buffers
    /// back, runs `f` (the value and gradient of one call) in [`Workspace::scope`], keeps
    /// the gradient and returns the value with a reference to it.
    pub fn run<V>(&mut self, f: impl FnOnce() -> (V, G)) -> (V, &G)
    where
        G: Adjoint,
    {
        let previous = self.grad.take();
        let (value, grad) = {
            let _in_pool = Installed::new(&mut self.pool);
            if let Some(g) = previous {
                g.recycle();
            }
            // Buffers of earlier calls that never came back (dropped by code that does not
            // recycle, such as loop bodies) are forgotten here, so the count of buffers out
            // stays bounded by one call.
            with_installed(|pool| {
                pool.f64.out = 0;
                pool.f32.out = 0;
            });
            f()
        };
        (value, self.grad.insert(grad))
    }
}

/// Whether matrices of type `M` (with elements `T`) are backed by a `Vec` the pool can hold.
#[inline(always)]
fn is_pooled<M: 'static, T: 'static>() -> bool {
    let m = TypeId::of::<M>();
    m == TypeId::of::<DMatrix<T>>()
        || m == TypeId::of::<DVector<T>>()
        || m == TypeId::of::<RowDVector<T>>()
}

/// Wraps `data` (exactly `rows * cols` elements) as a pooled matrix type.
fn wrap<T: Real, R: Dim, C: Dim>(rows: usize, cols: usize, data: Vec<T>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut slot: Option<OMatrix<T, R, C>> = None;
    let any: &mut dyn Any = &mut slot;
    if let Some(s) = any.downcast_mut::<Option<DMatrix<T>>>() {
        *s = Some(DMatrix::from_data(VecStorage::new(
            Dyn(rows),
            Dyn(cols),
            data,
        )));
    } else if let Some(s) = any.downcast_mut::<Option<DVector<T>>>() {
        *s = Some(DVector::from_data(VecStorage::new(
            Dyn(rows),
            nalgebra::Const::<1>,
            data,
        )));
    } else if let Some(s) = any.downcast_mut::<Option<RowDVector<T>>>() {
        *s = Some(RowDVector::from_data(VecStorage::new(
            nalgebra::Const::<1>,
            Dyn(cols),
            data,
        )));
    }
    slot.expect("wrap is only called for pooled matrix types")
}

/// A `rows x cols` matrix whose buffer comes from the installed pool, filled by `fill`
/// (which gets the buffer with its stale elements and must leave exactly `rows * cols`
/// in it); `None` when the type is not pooled or no pool is installed.
#[inline]
fn from_pool<T: Real, R: Dim, C: Dim>(
    rows: R,
    cols: C,
    fill: impl FnOnce(&mut Vec<T>),
) -> Option<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    if !is_pooled::<OMatrix<T, R, C>, T>() {
        return None;
    }
    let (r, c) = (rows.value(), cols.value());
    let len = r.checked_mul(c).expect("matrix size overflows usize");
    let mut data = with_installed(|pool| pool.list::<T>().map(|l| l.take(len)))??;
    fill(&mut data);
    assert_eq!(
        data.len(),
        len,
        "a pooled {r}x{c} matrix was filled with {} elements",
        data.len()
    );
    Some(wrap(r, c, data))
}

/// A `rows x cols` matrix of zeros; for `DMatrix`, `DVector` and `RowDVector` with a
/// pool installed its buffer comes from the pool (no allocation once the pool holds a
/// buffer large enough), otherwise it is allocated as `OMatrix::zeros_generic` does.
#[inline]
pub fn pooled_zeros<T: Real, R: Dim, C: Dim>(rows: R, cols: C) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    pooled_sized(rows, cols, false)
}

/// A `rows x cols` matrix for a loop that writes every element before anything reads
/// it: from the installed pool its elements are whatever the reused buffer held (no
/// zero-fill: a 16 MB gradient costs no memset), otherwise zeros as in [`pooled_zeros`].
/// The elements are always initialised `T` values, only not meaningful ones.
#[inline]
pub fn pooled_for_overwrite<T: Real, R: Dim, C: Dim>(rows: R, cols: C) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    pooled_sized(rows, cols, true)
}

/// A pooled `rows x cols` matrix of zeros, or with `stale` of whatever the reused buffer
/// held (zeros past its old length); without a pool, zeros.
#[inline]
fn pooled_sized<T: Real, R: Dim, C: Dim>(rows: R, cols: C, stale: bool) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let len = rows.value() * cols.value();
    from_pool(rows, cols, |v| {
        if stale {
            v.truncate(len);
        } else {
            v.clear();
        }
        v.resize(len, T::zero())
    })
    .unwrap_or_else(|| OMatrix::zeros_generic(rows, cols))
}

/// A `rows x cols` matrix of the elements of `iter` in column-major order (it must give
/// exactly `rows * cols`), its buffer from the installed pool as in [`pooled_zeros`].
/// Each element is written once (no zero-fill first).
///
/// # Panics
/// If `iter` gives a different number of elements.
#[inline]
pub fn pooled_from_iter<T: Real, R: Dim, C: Dim, I: IntoIterator<Item = T>>(
    rows: R,
    cols: C,
    iter: I,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut iter = Some(iter);
    from_pool(rows, cols, |v| {
        v.clear();
        if let Some(it) = iter.take() {
            v.extend(it)
        }
    })
    .unwrap_or_else(|| {
        let it = iter.take().expect("the iterator is used once");
        OMatrix::from_iterator_generic(rows, cols, it)
    })
}

/// A copy of `m`, its buffer from the installed pool as in [`pooled_zeros`].
#[inline]
pub fn pooled_copy<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let (rows, cols) = m.shape_generic();
    from_pool(rows, cols, |v| {
        v.clear();
        v.extend_from_slice(m.as_slice())
    })
    .unwrap_or_else(|| m.clone())
}

/// Gives a value back to the installed pool: the buffer of a `DMatrix`, `DVector` or
/// `RowDVector` of `f32`/`f64` becomes free for the next [`pooled_zeros`]; any other value
/// (scalars, statically sized matrices, references) is dropped, as it is when no pool is
/// installed. Generated code calls this on every intermediate value at the end of a
/// gradient call.
#[inline]
pub fn recycle_value<X: 'static>(value: X) {
    if !has_pooled_buffer::<X>() {
        // Decided per type at compile time: the value is dropped where it is, never seen
        // through `dyn Any`, so the compiler may still keep a small `Vec` off the heap.
        return;
    }
    let mut slot = Some(value);
    let any: &mut dyn Any = &mut slot;
    if let Some(v) = vec_of::<f64>(any) {
        with_installed(|pool| pool.f64.put(v));
    } else if let Some(v) = vec_of::<f32>(any) {
        with_installed(|pool| pool.f32.put(v));
    }
}

/// Whether values of type `X` have a buffer the pool takes.
#[inline(always)]
fn has_pooled_buffer<X: 'static>() -> bool {
    is_pooled::<X, f64>() || is_pooled::<X, f32>()
}

/// The buffer of the pooled matrix in `slot` (an `Option<X>` as `dyn Any`) with elements `T`.
#[inline(always)]
fn vec_of<T: Real>(slot: &mut dyn Any) -> Option<Vec<T>> {
    if let Some(s) = slot.downcast_mut::<Option<DMatrix<T>>>() {
        return s.take().map(|m| Vec::from(m.data));
    }
    if let Some(s) = slot.downcast_mut::<Option<DVector<T>>>() {
        return s.take().map(|m| Vec::from(m.data));
    }
    if let Some(s) = slot.downcast_mut::<Option<RowDVector<T>>>() {
        return s.take().map(|m| Vec::from(m.data));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_pool_matrices_are_ordinary_and_recycling_drops() {
        let m: DMatrix<f64> = pooled_zeros(Dyn(2), Dyn(3));
        assert_eq!(m, DMatrix::zeros(2, 3));
        recycle_value(m);
        let ws: Workspace<()> = Workspace::new();
        assert_eq!(ws.buffers(), 0);
    }

    #[test]
    fn best_fit_picks_the_smallest_buffer_that_fits() {
        let mut ws: Workspace<()> = Workspace::new();
        ws.scope(|| {
            let big: DVector<f64> = pooled_zeros(Dyn(100), nalgebra::Const::<1>);
            let small: DVector<f64> = pooled_zeros(Dyn(10), nalgebra::Const::<1>);
            recycle_value(big);
            recycle_value(small);
        });
        assert_eq!(ws.buffers(), 2);
        ws.scope(|| {
            let m: DMatrix<f64> = pooled_zeros(Dyn(3), Dyn(3));
            assert_eq!(m.data.as_vec().capacity(), 10);
            assert_eq!(m, DMatrix::zeros(3, 3));
            recycle_value(m);
        });
    }

    #[test]
    fn reused_buffers_are_zeroed_except_for_overwrite() {
        let mut ws: Workspace<()> = Workspace::new();
        ws.scope(|| {
            let mut m: DMatrix<f64> = pooled_zeros(Dyn(2), Dyn(3));
            m.fill(7.0);
            recycle_value(m);
            let z: DMatrix<f64> = pooled_zeros(Dyn(3), Dyn(2));
            assert_eq!(z, DMatrix::zeros(3, 2));
            let mut z = z;
            z.fill(7.0);
            recycle_value(z);
            // Smaller: the stale elements as they were; larger: the extension zeroed.
            let s: DMatrix<f64> = pooled_for_overwrite(Dyn(2), Dyn(2));
            assert_eq!(s, DMatrix::from_element(2, 2, 7.0));
            recycle_value(s);
            let l: DVector<f64> = pooled_for_overwrite(Dyn(5), nalgebra::Const::<1>);
            assert_eq!(l.as_slice()[..4], [7.0; 4]);
            recycle_value(l);
        });
        assert_eq!(ws.buffers(), 1);
    }

    #[test]
    fn f32_and_f64_buffers_are_kept_apart() {
        let mut ws: Workspace<()> = Workspace::new();
        ws.scope(|| {
            let a: RowDVector<f32> =
                pooled_from_iter(nalgebra::Const::<1>, Dyn(3), [1.0, 2.0, 3.0]);
            assert_eq!(a, RowDVector::from_row_slice(&[1.0, 2.0, 3.0]));
            let b: DMatrix<f64> = pooled_copy(&DMatrix::from_element(2, 2, 7.0));
            assert_eq!(b, DMatrix::from_element(2, 2, 7.0));
            recycle_value(a);
            recycle_value(b);
        });
        assert_eq!(ws.pool.f32.free.len(), 1);
        assert_eq!(ws.pool.f64.free.len(), 1);
    }

    #[test]
    fn foreign_buffers_do_not_grow_the_pool() {
        let mut ws: Workspace<()> = Workspace::new();
        for _ in 0..10 {
            ws.scope(|| {
                let pooled: DMatrix<f64> = pooled_zeros(Dyn(4), Dyn(4));
                recycle_value(pooled);
                // Made outside the pool: given back, but never kept beyond what was taken.
                recycle_value(DMatrix::<f64>::zeros(4, 4));
            });
        }
        assert_eq!(ws.buffers(), 1);
    }

    #[test]
    fn buffers_dropped_instead_of_recycled_do_not_grow_the_workspace() {
        let mut ws: Workspace<f64> = Workspace::new();
        for _ in 0..100 {
            ws.run(|| {
                // Taken and dropped (as in a loop body): the pool makes a new one each call.
                drop(pooled_zeros::<f64, Dyn, Dyn>(Dyn(3), Dyn(3)));
                recycle_value(pooled_zeros::<f64, Dyn, Dyn>(Dyn(2), Dyn(2)));
                ((), 1.0)
            });
        }
        assert!(ws.buffers() <= 2, "{} buffers", ws.buffers());
        assert!(ws.pool.f64.free.capacity() <= 8);
        assert_eq!(ws.grad(), Some(&1.0));
    }

    #[test]
    fn static_matrices_and_scalars_pass_through() {
        let mut ws: Workspace<()> = Workspace::new();
        ws.scope(|| {
            let s: nalgebra::Matrix2<f64> =
                pooled_zeros(nalgebra::Const::<2>, nalgebra::Const::<2>);
            assert_eq!(s, nalgebra::Matrix2::zeros());
            recycle_value(s);
            recycle_value(3.0_f64);
            recycle_value("not a matrix");
        });
        assert_eq!(ws.buffers(), 0);
    }

    #[test]
    fn nested_scopes_restore_the_outer_pool() {
        let mut outer: Workspace<()> = Workspace::new();
        let mut inner: Workspace<()> = Workspace::new();
        outer.scope(|| {
            let a: DMatrix<f64> = pooled_zeros(Dyn(2), Dyn(2));
            inner.scope(|| {
                let b: DMatrix<f64> = pooled_zeros(Dyn(5), Dyn(5));
                recycle_value(b);
            });
            recycle_value(a);
        });
        assert_eq!(outer.pool.f64.free[0].capacity(), 4);
        assert_eq!(inner.pool.f64.free[0].capacity(), 25);
        assert!(with_installed(|_| ()).is_none(), "nothing stays installed");
    }

    #[test]
    fn a_panic_inside_leaves_the_pool_in_the_workspace() {
        let mut ws: Workspace<()> = Workspace::new();
        ws.scope(|| recycle_value(pooled_zeros::<f64, Dyn, Dyn>(Dyn(3), Dyn(3))));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ws.scope(|| {
                let _m: DMatrix<f64> = pooled_zeros(Dyn(1), Dyn(1));
                panic!("inside");
            })
        }));
        assert!(caught.is_err());
        assert!(with_installed(|_| ()).is_none());
        // The buffer in flight was dropped; the pool is usable and holds nothing else.
        assert_eq!(ws.buffers(), 0);
        ws.scope(|| recycle_value(pooled_zeros::<f64, Dyn, Dyn>(Dyn(3), Dyn(3))));
        assert_eq!(ws.buffers(), 1);
    }
}
