//! Grad mode: a thread-local flag that says whether ops record a graph.
//!
//! As in PyTorch, `no_grad(|| ...)` and [`NoGradGuard`] turn recording off for the
//! current thread; they nest, and each restores the mode it found.

use std::cell::Cell;
use std::marker::PhantomData;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops record a graph on this thread (`torch.is_grad_enabled()`).
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

fn set_grad_enabled(enabled: bool) -> bool {
    GRAD_ENABLED.with(|flag| flag.replace(enabled))
}

/// Runs `f` with graph recording off and returns its value (`with torch.no_grad():`).
///
/// ```
/// use autodiff_runtime::dynamic::{no_grad, Tensor};
/// let w = Tensor::scalar(3.0).requires_grad();
/// let y = no_grad(|| &w * 2.0);
/// assert_eq!(y.grad_fn(), None);
/// assert!(!y.requires_grad_flag());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

/// Turns graph recording off until it is dropped, then restores the previous mode
/// (also when unwinding from a panic).
///
/// ```
/// use autodiff_runtime::dynamic::{is_grad_enabled, NoGradGuard};
/// {
///     let _guard = NoGradGuard::new();
///     assert!(!is_grad_enabled());
/// }
/// assert!(is_grad_enabled());
/// ```
#[must_use = "recording is back on as soon as the guard is dropped; bind it with `let _guard = ...`"]
pub struct NoGradGuard {
    previous: bool,
    // The flag is per thread, so the guard must stay on the thread that made it.
    _not_send: PhantomData<*const ()>,
}

impl NoGradGuard {
    /// Turns recording off for the current thread.
    pub fn new() -> Self {
        NoGradGuard {
            previous: set_grad_enabled(false),
            _not_send: PhantomData,
        }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.previous);
    }
}

/// Sets grad mode until it is dropped, then restores the previous mode: a recorded
/// backward pass turns it on, as PyTorch's engine sets it to `create_graph`.
pub(crate) struct GradModeGuard {
    previous: bool,
}

impl GradModeGuard {
    /// Sets grad mode to `enabled` for the current thread.
    pub(crate) fn set(enabled: bool) -> Self {
        GradModeGuard {
            previous: set_grad_enabled(enabled),
        }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.previous);
    }
}
