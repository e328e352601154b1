//! The tapes of loops in generated reverse code: what each iteration saves for the
//! reverse pass, pushed by the forward pass and popped by the reverse pass, in storage that
//! is reused from one gradient call to the next.
//!
//! A loop inside a loop has one [`Tape`] for all its runs (the enclosing iterations save how
//! many entries each run pushed), so a GMM objective's innermost loop pushes a million
//! entries into one tape per gradient call. Allocating that storage anew at every call
//! costs more than the loop (fresh pages fault in, and are unmapped again at the end), so a
//! tape takes its storage from a per-thread cache of blocks and gives it back when it is
//! dropped: from the second call of the same function on, the tapes allocate nothing. The
//! cache keeps at most [`TAPE_CACHE_LIMIT`] bytes per thread; [`release_tape_cache`] frees
//! it, and [`cached_tape_bytes`] tells how much it holds.
//!
//! ```
//! use autodiff_runtime::tape::{cached_tape_bytes, release_tape_cache, Tape};
//! let mut t = Tape::new();
//! for i in 0..1000_u64 {
//!     t.push((i, i as f64));
//! }
//! assert_eq!(t.pop(), Some((999, 999.0)));
//! let run: Vec<_> = t.pop_run(2).collect();
//! assert_eq!(run, [(998, 998.0), (997, 997.0)]);
//! drop(t); // its storage goes to this thread's cache
//! assert!(cached_tape_bytes() >= 1000 * 16);
//! release_tape_cache();
//! assert_eq!(cached_tape_bytes(), 0);
//! ```

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::RefCell;
use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most bytes of free tape storage a thread keeps for later calls.
pub const TAPE_CACHE_LIMIT: usize = 1 << 30;

/// The alignment of every block: at least any entry's (an entry of a larger alignment
/// panics with a message).
const BLOCK_ALIGN: usize = 64;

/// How many entries the tape of one loop held the last time it ran, so that the next run
/// takes a block of that size at once (one per loop of the generated code, in a `static`).
#[derive(Debug, Default)]
pub struct TapeHint(AtomicUsize);

impl TapeHint {
    /// No run yet.
    pub const fn new() -> Self {
        TapeHint(AtomicUsize::new(0))
    }

    /// The entries of the last run.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// A stack of entries in storage from the per-thread block cache (see the module docs).
pub struct Tape<T> {
    ptr: NonNull<T>,
    len: usize,
    /// The most entries held at once.
    peak: usize,
    /// Where the peak is recorded when the tape is dropped.
    hint: Option<&'static TapeHint>,
    /// Entries the block holds (`usize::MAX` for zero-sized entries, which need none).
    cap: usize,
    /// Bytes of the block (0: no block).
    block: usize,
    _owns: PhantomData<T>,
}

// SAFETY: a `Tape<T>` owns its entries as a `Vec<T>` does; its block is plain memory from
// the global allocator, which any thread may free.
unsafe impl<T: Send> Send for Tape<T> {}
// SAFETY: shared access gives only `len`, as for a `Vec<T>`.
unsafe impl<T: Sync> Sync for Tape<T> {}

impl<T> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for Tape<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tape").field("len", &self.len).finish()
    }
}

impl<T> Tape<T> {
    /// An empty tape; it takes a block at its first push.
    #[inline]
    pub const fn new() -> Self {
        Tape {
            ptr: NonNull::dangling(),
            len: 0,
            peak: 0,
            hint: None,
            cap: if size_of::<T>() == 0 { usize::MAX } else { 0 },
            block: 0,
            _owns: PhantomData,
        }
    }

    /// An empty tape with room for as many entries as `hint` says the last run held; its
    /// own peak goes to `hint` when it is dropped.
    #[inline]
    pub fn with_hint(hint: &'static TapeHint) -> Self {
        let mut t = Self::new();
        t.hint = Some(hint);
        t.reserve(hint.get());
        t
    }

    /// The number of entries.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tape holds no entry.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room for `additional` more entries without taking another block.
    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        if self.cap - self.len < additional {
            self.grow(self.len.saturating_add(additional));
        }
    }

    /// Pushes one entry.
    #[inline(always)]
    pub fn push(&mut self, entry: T) {
        if self.len == self.cap {
            self.grow(self.len + 1);
        }
        // SAFETY: `len < cap`, so slot `len` is inside the block (or `T` is zero-sized and
        // any aligned pointer is valid); it holds no live entry.
        unsafe { self.ptr.as_ptr().add(self.len).write(entry) };
        self.len += 1;
    }

    /// Pops the last entry.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.peak = self.peak.max(self.len);
        self.len -= 1;
        // SAFETY: slot `len` held a live entry, which is moved out and no longer counted.
        Some(unsafe { self.ptr.as_ptr().add(self.len).read() })
    }

    /// The last `n` entries, popped last first: one run of a nested loop, in the order
    /// its reverse pass visits them.
    ///
    /// # Panics
    /// If the tape holds fewer than `n` entries.
    #[inline]
    pub fn pop_run(&mut self, n: usize) -> PopRun<'_, T> {
        assert!(
            n <= self.len,
            "tape: a run of {n} entries on a tape of {}",
            self.len
        );
        PopRun {
            tape: self,
            left: n,
        }
    }

    /// Moves the entries into a block for at least `min_cap` entries.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, min_cap: usize) {
        assert!(
            align_of::<T>() <= BLOCK_ALIGN,
            "tape: an entry aligned to {} bytes (at most {BLOCK_ALIGN})",
            align_of::<T>()
        );
        let want = min_cap.max(self.cap.saturating_mul(2)).max(16);
        let bytes = want
            .checked_mul(size_of::<T>())
            .expect("tape: more entries than memory can hold");
        let (block, got) = take_block(bytes);
        let new = block.cast::<T>();
        if self.block != 0 {
            // SAFETY: both blocks hold at least `len` entries of `T` and are distinct; the
            // old block's entries are moved (not dropped) and the block is given back.
            unsafe {
                std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), new.as_ptr(), self.len);
                give_block(self.ptr.cast(), self.block);
            }
        }
        self.ptr = new;
        self.cap = got / size_of::<T>();
        self.block = got;
    }
}

impl<T> Drop for Tape<T> {
    fn drop(&mut self) {
        let peak = self.peak.max(self.len);
        if let Some(hint) = self.hint {
            hint.0.store(peak, Ordering::Relaxed);
        }
        let _ = RECORDED.try_with(|r| {
            if let Some(sizes) = r.borrow_mut().as_mut() {
                sizes.push(TapeSize {
                    entries: peak,
                    entry_bytes: size_of::<T>(),
                });
            }
        });
        while self.pop().is_some() {}
        if self.block != 0 {
            // SAFETY: the block came from `take_block` with `self.block` bytes and, every
            // entry popped, holds no live value.
            unsafe { give_block(self.ptr.cast(), self.block) };
        }
    }
}

/// The iterator of [`Tape::pop_run`].
pub struct PopRun<'t, T> {
    tape: &'t mut Tape<T>,
    left: usize,
}

impl<T> Iterator for PopRun<'_, T> {
    type Item = T;

    #[inline(always)]
    fn next(&mut self) -> Option<T> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.tape.pop()
    }
}

/// Free blocks of one thread: `(address, bytes)`.
struct BlockCache {
    free: Vec<(NonNull<u8>, usize)>,
    bytes: usize,
}

impl Drop for BlockCache {
    fn drop(&mut self) {
        for &(ptr, bytes) in &self.free {
            // SAFETY: every cached block came from `alloc` with this layout and is unused.
            unsafe { dealloc(ptr.as_ptr(), block_layout(bytes)) };
        }
    }
}

thread_local! {
    static CACHE: RefCell<BlockCache> = const {
        RefCell::new(BlockCache { free: Vec::new(), bytes: 0 })
    };
}

fn block_layout(bytes: usize) -> Layout {
    Layout::from_size_align(bytes, BLOCK_ALIGN).expect("tape: block too large")
}

/// A block of at least `bytes` bytes: the smallest cached one that fits, or a new one.
fn take_block(bytes: usize) -> (NonNull<u8>, usize) {
    let cached = CACHE
        .try_with(|c| {
            let mut c = c.borrow_mut();
            // The block given back last, when it fits without wasting much (calls that
            // repeat take and give back their blocks in the same order).
            if let Some(&(ptr, b)) = c.free.last() {
                if b >= bytes && b / 4 <= bytes {
                    c.free.pop();
                    c.bytes -= b;
                    return Some((ptr, b));
                }
            }
            let best = c
                .free
                .iter()
                .enumerate()
                .filter(|(_, &(_, b))| b >= bytes)
                .min_by_key(|(_, &(_, b))| b)
                .map(|(i, _)| i)?;
            let block = c.free.swap_remove(best);
            c.bytes -= block.1;
            Some(block)
        })
        .ok()
        .flatten();
    if let Some(block) = cached {
        return block;
    }
    // Whole pages, so that blocks of nearby sizes serve each other's requests.
    let bytes = bytes.div_ceil(4096) * 4096;
    let layout = block_layout(bytes);
    // SAFETY: `bytes > 0` (a tape asks for at least 16 entries of a non-zero size).
    let ptr = unsafe { alloc(layout) };
    match NonNull::new(ptr) {
        Some(p) => (p, bytes),
        None => handle_alloc_error(layout),
    }
}

/// Gives a block back to the cache, or to the allocator when the cache is full.
///
/// # Safety
/// `ptr` came from [`take_block`] with `bytes` bytes and holds no live value.
unsafe fn give_block(ptr: NonNull<u8>, bytes: usize) {
    let kept = CACHE
        .try_with(|c| {
            let mut c = c.borrow_mut();
            if c.bytes + bytes > TAPE_CACHE_LIMIT {
                return false;
            }
            c.free.push((ptr, bytes));
            c.bytes += bytes;
            true
        })
        .unwrap_or(false);
    if !kept {
        // SAFETY: the caller's contract: the block came from `alloc` with this layout.
        unsafe { dealloc(ptr.as_ptr(), block_layout(bytes)) };
    }
}

/// The size of one tape, as [`record_tape_sizes`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapeSize {
    /// The most entries it held: one per iteration of its loop, over every run.
    pub entries: usize,
    /// The bytes of one entry: what one iteration saves for the reverse pass.
    pub entry_bytes: usize,
}

impl TapeSize {
    /// The bytes of all its entries.
    pub fn bytes(&self) -> usize {
        self.entries * self.entry_bytes
    }
}

thread_local! {
    static RECORDED: RefCell<Option<Vec<TapeSize>>> = const { RefCell::new(None) };
}

/// Runs `f` and reports the size of every tape dropped on this thread meanwhile (the tapes
/// of the gradient calls `f` makes, in the order they were dropped): how many bytes each
/// loop of a differentiated function saves per iteration, and in all.
///
/// ```
/// use autodiff_runtime::tape::{record_tape_sizes, Tape};
/// let ((), sizes) = record_tape_sizes(|| {
///     let mut t = Tape::new();
///     (0..10).for_each(|i| t.push((i as f64, i)));
/// });
/// assert_eq!(sizes[0].entries, 10);
/// assert_eq!(sizes[0].entry_bytes, 16);
/// ```
pub fn record_tape_sizes<R>(f: impl FnOnce() -> R) -> (R, Vec<TapeSize>) {
    let outer = RECORDED.with(|r| r.replace(Some(Vec::new())));
    let out = f();
    let sizes = RECORDED.with(|r| r.replace(outer)).unwrap_or_default();
    (out, sizes)
}

/// The bytes of free tape storage this thread keeps for later gradient calls.
pub fn cached_tape_bytes() -> usize {
    CACHE.try_with(|c| c.borrow().bytes).unwrap_or(0)
}

/// Frees the tape storage this thread keeps (as `torch.cuda.empty_cache` frees
/// PyTorch's cached blocks); later gradient calls allocate it again.
pub fn release_tape_cache() {
    let _ = CACHE.try_with(|c| {
        let mut c = c.borrow_mut();
        for (ptr, bytes) in c.free.drain(..) {
            // SAFETY: every cached block came from `alloc` with this layout and is unused.
            unsafe { dealloc(ptr.as_ptr(), block_layout(bytes)) };
        }
        c.bytes = 0;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn pushes_and_pops_in_order_across_growth() {
        let mut t = Tape::new();
        for i in 0..10_000 {
            t.push(vec![i; 3]);
        }
        assert_eq!(t.len(), 10_000);
        for i in (9_000..10_000).rev() {
            assert_eq!(t.pop(), Some(vec![i; 3]));
        }
        let run: Vec<Vec<i32>> = t.pop_run(3).collect();
        assert_eq!(run, vec![vec![8999; 3], vec![8998; 3], vec![8997; 3]]);
        assert_eq!(t.len(), 8_997);
    }

    #[test]
    fn drops_what_was_not_popped_once() {
        let counted = Rc::new(());
        {
            let mut t = Tape::new();
            for _ in 0..100 {
                t.push(Rc::clone(&counted));
            }
            t.pop();
            assert_eq!(Rc::strong_count(&counted), 100);
        }
        assert_eq!(Rc::strong_count(&counted), 1);
    }

    #[test]
    fn storage_is_reused_by_the_next_tape() {
        release_tape_cache();
        let first = {
            let mut t = Tape::new();
            t.reserve(50_000);
            t.push(1.0_f64);
            t.ptr.as_ptr() as usize
        };
        assert!(cached_tape_bytes() >= 50_000 * 8);
        let mut t = Tape::new();
        t.reserve(40_000);
        t.push(2.0_f64);
        assert_eq!(t.ptr.as_ptr() as usize, first);
        assert_eq!(cached_tape_bytes(), 0);
    }

    #[test]
    fn a_hinted_tape_takes_the_last_runs_size_at_once() {
        static HINT: TapeHint = TapeHint::new();
        {
            let mut t = Tape::with_hint(&HINT);
            (0..5000_u64).for_each(|i| t.push(i));
            t.pop_run(10).for_each(drop);
        }
        assert_eq!(HINT.get(), 5000);
        let t: Tape<u64> = Tape::with_hint(&HINT);
        assert!(t.cap >= 5000);
    }

    #[test]
    fn zero_sized_entries_need_no_storage() {
        let mut t = Tape::new();
        for _ in 0..1000 {
            t.push(());
        }
        assert_eq!(t.pop_run(1000).count(), 1000);
        assert_eq!(t.pop(), None);
    }

    #[test]
    #[should_panic(expected = "a run of 3 entries on a tape of 2")]
    fn a_run_longer_than_the_tape_panics() {
        let mut t = Tape::new();
        t.push(1_u8);
        t.push(2_u8);
        let _ = t.pop_run(3);
    }
}
