//! `#[differentiable(checkpoint)]`: callers keep a checkpointed function's arguments, not
//! its intermediates, and recompute them in their reverse pass. The gradient is bit for
//! bit the one without checkpointing; a simulation of `n` steps split into `sqrt(n)`
//! checkpointed segments of `sqrt(n)` steps keeps `O(sqrt(n))` states instead of `O(n)`.
//!
//! Memory is measured by a global allocator that counts the bytes live on the calling
//! thread and their peak (other tests run on other threads).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

#[path = "../benches/workloads/segments.rs"]
#[allow(dead_code)]
mod segments;

use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;
use segments::{final_angle, final_angle_flat_grad, final_angle_grad, final_angle_kept_grad};

/// The system allocator, keeping the live bytes of the calling thread and their peak.
struct Counting;

thread_local! {
    /// Bytes allocated and not yet freed by this thread (may go below zero when a thread
    /// frees what another allocated: only differences are read).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest value of `LIVE` since the last [`reset_peak`].
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grow(bytes: isize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + bytes;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

/// Starts a peak measurement: returns the live bytes now.
fn reset_peak() -> isize {
    let now = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(now));
    now
}

/// The peak since [`reset_peak`] returned `base`, in bytes above `base`.
fn peak_above(base: isize) -> usize {
    (PEAK.with(Cell::get) - base).max(0) as usize
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for Counting {
    // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` needs.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size() as isize);
        // SAFETY: same layout as our caller gave, forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    // SAFETY: the caller upholds `alloc_zeroed`'s contract, which `System` needs.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size() as isize);
        // SAFETY: same layout as our caller gave, forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    // SAFETY: the caller upholds `realloc`'s contract (ptr from this allocator, which is `System`).
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grow(new_size as isize - layout.size() as isize);
        // SAFETY: `ptr` came from `System` through this allocator; arguments unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    // SAFETY: the caller upholds `dealloc`'s contract (ptr from this allocator, which is `System`).
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grow(-(layout.size() as isize));
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A checkpointed function with matrices, called twice on one value.
#[differentiable(checkpoint)]
fn layer(w: &DMatrix<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    (w * x).map(|e| e.tanh())
}

#[differentiable(wrt(w), checkpoint)]
fn layer_loss(w: &DMatrix<f64>, x: &DMatrix<f64>) -> f64 {
    let h = layer(w, x);
    let h2 = layer(w, &h);
    h2.component_mul(&h2).sum()
}

#[differentiable]
fn layer_plain(w: &DMatrix<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    (w * x).map(|e| e.tanh())
}

#[differentiable(wrt(w))]
fn layer_loss_plain(w: &DMatrix<f64>, x: &DMatrix<f64>) -> f64 {
    let h = layer_plain(w, x);
    let h2 = layer_plain(w, &h);
    h2.component_mul(&h2).sum()
}

#[test]
fn checkpointed_gradients_are_bit_for_bit_the_kept_ones() {
    for (segments, steps) in [(1, 1), (3, 7), (20, 50)] {
        let a = final_angle_grad(0.7, 9.81, 1e-3, segments, steps);
        let b = final_angle_kept_grad(0.7, 9.81, 1e-3, segments, steps);
        let c = final_angle_flat_grad(0.7, 9.81, 1e-3, segments * steps);
        assert_eq!(a.0.to_bits(), b.0.to_bits());
        assert_eq!(
            a.1.theta0.to_bits(),
            b.1.theta0.to_bits(),
            "{segments}x{steps}"
        );
        assert_eq!(a.1.g.to_bits(), b.1.g.to_bits(), "{segments}x{steps}");
        // One loop is another program: the adjoint of `g` is summed in another order.
        assert_eq!(a.0.to_bits(), c.0.to_bits());
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * y.abs().max(1.0);
        assert!(close(a.1.theta0, c.1.theta0), "{segments}x{steps}");
        assert!(close(a.1.g, c.1.g), "{segments}x{steps}");
    }
    let w = DMatrix::from_fn(3, 3, |i, j| 0.3 * i as f64 - 0.2 * j as f64 + 0.1);
    let x = DMatrix::from_fn(3, 2, |i, j| (i + 2 * j) as f64 * 0.25 - 0.5);
    let (v, g) = layer_loss_grad(&w, &x);
    let (vp, gp) = layer_loss_plain_grad(&w, &x);
    assert_eq!(v.to_bits(), vp.to_bits());
    assert_eq!(g.w, gp.w);
}

#[test]
fn checkpointed_gradient_matches_finite_differences() {
    let (_, g) = final_angle_grad(0.7, 9.81, 1e-3, 10, 30);
    let f = |t: f64, g: f64| final_angle(t, g, 1e-3, 10, 30);
    let h = 1e-6;
    let dt = (f(0.7 + h, 9.81) - f(0.7 - h, 9.81)) / (2.0 * h);
    let dg = (f(0.7, 9.81 + h) - f(0.7, 9.81 - h)) / (2.0 * h);
    assert!(
        (g.theta0 - dt).abs() < 1e-6 * dt.abs().max(1.0),
        "{} vs {dt}",
        g.theta0
    );
    assert!(
        (g.g - dg).abs() < 1e-6 * dg.abs().max(1.0),
        "{} vs {dg}",
        g.g
    );
}

/// 10^6 steps: as 1000 checkpointed segments of 1000, the peak memory of the gradient is
/// a small fraction of the flat loop's and of the same segments without checkpointing
/// (both keep every step), and the gradient is bit for bit the latter's.
#[test]
fn a_million_steps_in_sqrt_n_memory() {
    let n = 1_000_000;
    let base = reset_peak();
    let flat = final_angle_flat_grad(0.7, 9.81, 1e-5, n);
    let flat_peak = peak_above(base);
    let base = reset_peak();
    let kept = final_angle_kept_grad(0.7, 9.81, 1e-5, 1000, 1000);
    let kept_peak = peak_above(base);
    let base = reset_peak();
    let segmented = final_angle_grad(0.7, 9.81, 1e-5, 1000, 1000);
    let segmented_peak = peak_above(base);
    assert_eq!(kept.1.theta0.to_bits(), segmented.1.theta0.to_bits());
    assert_eq!(kept.1.g.to_bits(), segmented.1.g.to_bits());
    assert!((flat.1.g - segmented.1.g).abs() <= 1e-10 * flat.1.g.abs());
    assert!(kept_peak >= 8 * n, "kept peak {kept_peak} bytes");
    // The flat loop keeps at least one float per step.
    assert!(flat_peak >= 8 * n, "flat peak {flat_peak} bytes");
    assert!(
        segmented_peak * 50 < flat_peak,
        "segmented peak {segmented_peak} bytes against flat {flat_peak}"
    );
    println!(
        "peak bytes: flat {flat_peak}, 1000 segments of 1000 kept {kept_peak}, checkpointed {segmented_peak}"
    );
}
