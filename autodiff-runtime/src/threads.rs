//! Intra-op parallelism: how many threads the large loops of the runtime use.
//!
//! Elementwise loops (the fused chains of `#[differentiable]`, the vectorized slice
//! kernels of [`crate::simd`], the unary rules on matrices) over more than
//! [`PARALLEL_MIN_ELEMS`] elements per thread, and matrix products of more than
//! [`PARALLEL_MIN_MACS`] multiply-adds per thread, are split into contiguous pieces run on
//! scoped threads ([`std::thread::scope`]; no thread pool, no dependency). Smaller ones
//! run on the calling thread, where starting a thread would cost more than it saves.
//!
//! Results do not depend on the thread count: elementwise maps compute every element as
//! one thread does, products split the output's columns (each element's sum keeps its
//! order), and sums add partial sums over fixed blocks of elements (whose boundaries
//! depend on the data's shape only) in block order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The environment variable read, once, for the default thread count.
pub const NUM_THREADS_ENV: &str = "AUTODIFF_NUM_THREADS";

/// Elements per thread below which an elementwise loop is not split: with fewer, starting
/// a thread costs more than it saves. Set from `cargo bench -p autodiff-benches --bench
/// threads` (`threads/threshold`), conservatively: on a machine whose cores are busy a
/// second thread waits for one, and below this size that costs more than it saves.
pub const PARALLEL_MIN_ELEMS: usize = 64 * 1024;

/// Multiply-adds (`m k n`) per thread below which a matrix product is not split: the
/// MLP's 64x784x128 products (6.4 million) stay on one thread, a 256x256x256 one splits.
pub const PARALLEL_MIN_MACS: usize = 1 << 22;

/// The thread count set by [`set_num_threads`]; 0 until it or [`num_threads`] runs.
static SETTING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// How many threads the runtime's operations called on this thread have started.
    static SPAWNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// `AUTODIFF_NUM_THREADS` if it holds a positive integer, else the machine's available
/// parallelism (1 if unknown); read once.
fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        std::env::var(NUM_THREADS_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// Sets how many threads the runtime's large loops and matrix products use, for the whole
/// process (like `torch.set_num_threads`). `n = 0` resets to the default: the value of
/// the environment variable `AUTODIFF_NUM_THREADS` if it holds a positive integer, else
/// [`std::thread::available_parallelism`]. It never panics.
///
/// Results are bit-identical for every thread count (see the [module docs](self)).
///
/// ```
/// use autodiff_runtime::threads::{num_threads, set_num_threads};
///
/// set_num_threads(1); // everything on the calling thread
/// assert_eq!(num_threads(), 1);
/// set_num_threads(0); // back to the default
/// assert!(num_threads() >= 1);
/// ```
pub fn set_num_threads(n: usize) {
    let n = if n == 0 { default_threads() } else { n };
    SETTING.store(n, Ordering::Relaxed);
}

/// How many threads the runtime's large loops and matrix products use (at least 1): the
/// value given to [`set_num_threads`], or the default (`AUTODIFF_NUM_THREADS`, else
/// [`std::thread::available_parallelism`]).
///
/// ```
/// let n = autodiff_runtime::threads::num_threads();
/// assert!(n >= 1);
/// ```
pub fn num_threads() -> usize {
    match SETTING.load(Ordering::Relaxed) {
        0 => {
            let d = default_threads();
            // A concurrent `set_num_threads` wins over the default.
            match SETTING.compare_exchange(0, d, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => d,
                Err(set) => set,
            }
        }
        n => n,
    }
}

/// How many threads the runtime's operations called on the current thread have started so
/// far (all of them scoped: each has ended when the operation that started it returns).
/// A diagnostic: with `set_num_threads(1)` it does not change.
///
/// ```
/// use autodiff_runtime::threads::{set_num_threads, threads_spawned};
///
/// set_num_threads(1);
/// let before = threads_spawned();
/// let mut x = vec![0.5; 1 << 20];
/// autodiff_runtime::simd::tanh_in_place(&mut x);
/// assert_eq!(threads_spawned(), before);
/// ```
pub fn threads_spawned() -> usize {
    SPAWNED.with(|n| n.get())
}

/// How many threads a loop of `work` units uses, where one thread is worth it only for
/// `min_per_thread` units or more: between 1 and [`num_threads`].
pub(crate) fn threads_for(work: usize, min_per_thread: usize) -> usize {
    let n = num_threads();
    if n <= 1 {
        return 1;
    }
    (work / min_per_thread.max(1)).clamp(1, n)
}

/// Runs `f` on every piece, in `threads` contiguous runs of pieces (the first on the
/// calling thread, the others on scoped threads), and returns the results in the pieces'
/// order. A panic in any run is resumed on the calling thread, after every run ended.
pub(crate) fn run_pieces<P, R, F>(pieces: Vec<P>, threads: usize, f: F) -> Vec<R>
where
    P: Send,
    R: Send,
    F: Fn(P) -> R + Sync,
{
    let count = pieces.len();
    let threads = threads.clamp(1, count.max(1));
    if threads == 1 {
        return pieces.into_iter().map(f).collect();
    }
    // Run `t` gets pieces `[t count / threads, (t + 1) count / threads)`.
    let mut runs: Vec<Vec<P>> = Vec::with_capacity(threads);
    let mut rest = pieces.into_iter();
    for t in 0..threads {
        let len = (t + 1) * count / threads - t * count / threads;
        runs.push(rest.by_ref().take(len).collect());
    }
    let f = &f;
    let mut runs = runs.into_iter();
    let first = runs.next().unwrap_or_default();
    SPAWNED.with(|n| n.set(n.get() + runs.len()));
    std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .map(|run| s.spawn(move || run.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = first.into_iter().map(f).collect();
        let mut panic = None;
        for h in handles {
            match h.join() {
                Ok(r) => out.extend(r),
                Err(payload) => panic = panic.or(Some(payload)),
            }
        }
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
        out
    })
}

/// Calls `f(offset, chunk)` on contiguous chunks of `out` (each a multiple of `align`
/// elements long but the last), on up to [`num_threads`] threads when `out` has at least
/// `2 * PARALLEL_MIN_ELEMS` elements, else once on the whole slice.
pub(crate) fn for_chunks_mut<T, F>(out: &mut [T], align: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T]) + Sync,
{
    let len = out.len();
    let threads = threads_for(len, PARALLEL_MIN_ELEMS);
    if threads == 1 {
        f(0, out);
        return;
    }
    let align = align.max(1);
    let chunk = len.div_ceil(threads).div_ceil(align) * align;
    let pieces: Vec<(usize, &mut [T])> = out
        .chunks_mut(chunk)
        .enumerate()
        .map(|(i, c)| (i * chunk, c))
        .collect();
    let threads = pieces.len();
    run_pieces(pieces, threads, |(at, c)| f(at, c));
}

/// Serializes the unit tests that change the thread count (a process-wide setting).
#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_come_back_in_order_for_every_thread_count() {
        for threads in 1..6 {
            let out = run_pieces((0..17).collect(), threads, |i: usize| i * i);
            assert_eq!(out, (0..17).map(|i| i * i).collect::<Vec<_>>());
        }
        assert!(run_pieces(Vec::<u8>::new(), 3, |x| x).is_empty());
    }

    #[test]
    fn a_panic_in_a_worker_reaches_the_caller_with_its_message() {
        let r = std::panic::catch_unwind(|| {
            run_pieces((0..4).collect(), 4, |i: i32| {
                assert!(i != 3, "piece three fails");
                i
            })
        });
        let payload = r.expect_err("the panic propagates");
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        assert_eq!(msg, Some("piece three fails"));
    }
}
