//! What generated code reaches a callee's items through: calls by bare name in
//! `#[differentiable]` bodies (`helper(x)`) are method calls on [`Probe`], so that a callee
//! that is not differentiable is an error that says so at the call (see
//! `autodiff-macros-core/src/codegen/callee.rs`).

/// The receiver of the methods a `#[differentiable]` function emits for its callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Probe;

/// The marker of a parameter that a callee differentiates (its `wrt` includes it); the
/// one it excludes has [`super::NotDifferentiated`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Differentiated;

/// The result type of `f`, as a value that borrows nothing; `f` is never called. A call
/// by bare name passes it to its callee's methods, so that they know the value's type
/// without capturing the arguments.
#[inline(always)]
pub fn result_type<R, F: FnOnce() -> R>(f: F) -> core::marker::PhantomData<fn() -> R> {
    drop(f);
    core::marker::PhantomData
}
