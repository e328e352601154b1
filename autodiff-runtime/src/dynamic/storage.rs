//! [`Storage`]: a tensor's value and its version counter, shared by a tensor and every
//! tensor [`detach`](super::Tensor::detach)ed from it, as PyTorch's storage and
//! `_version` are.

use std::cell::{Cell, Ref, RefCell};
use std::rc::Rc;

use nalgebra::DMatrix;

/// The value behind one or more tensors, and how many in-place updates it has seen.
///
/// The matrix sits in an `Rc` that the graph's nodes share when they save it; an
/// in-place update copies it first when it is shared, so a saved value never changes.
/// What tells a backward pass that the tensor it saved was updated since is the version:
/// every in-place update adds one, and a node checks the version it recorded.
pub(crate) struct Storage {
    value: RefCell<Rc<DMatrix<f64>>>,
    version: Cell<u64>,
}

impl Storage {
    /// A storage at version 0 holding `value`.
    pub(crate) fn new(value: Rc<DMatrix<f64>>) -> Rc<Storage> {
        Rc::new(Storage {
            value: RefCell::new(value),
            version: Cell::new(0),
        })
    }

    /// The value, borrowed.
    #[inline]
    pub(crate) fn borrow(&self) -> Ref<'_, DMatrix<f64>> {
        Ref::map(self.value.borrow(), |value| &**value)
    }

    /// The value, shared (cheap).
    #[inline]
    pub(crate) fn rc(&self) -> Rc<DMatrix<f64>> {
        Rc::clone(&self.value.borrow())
    }

    /// `(rows, columns)`.
    #[inline]
    pub(crate) fn shape(&self) -> (usize, usize) {
        self.value.borrow().shape()
    }

    /// How many in-place updates the value has seen (PyTorch's `_version`).
    #[inline]
    pub(crate) fn version(&self) -> u64 {
        self.version.get()
    }

    /// Counts one in-place update.
    #[inline]
    pub(crate) fn bump(&self) {
        self.version.set(self.version.get() + 1);
    }

    /// Changes the value in place (copying it first if a node shares it) and counts the
    /// update.
    pub(crate) fn modify<R>(&self, f: impl FnOnce(&mut DMatrix<f64>) -> R) -> R {
        let result = f(Rc::make_mut(&mut self.value.borrow_mut()));
        self.bump();
        result
    }

    /// Replaces the value (of the same shape) and counts the update.
    pub(crate) fn replace(&self, value: Rc<DMatrix<f64>>) {
        *self.value.borrow_mut() = value;
        self.bump();
    }

    /// Sets every element to 0 (in place, or in a new buffer when a node shares the
    /// value, which is then not copied) and counts the update.
    pub(crate) fn zero(&self) {
        {
            let mut value = self.value.borrow_mut();
            match Rc::get_mut(&mut value) {
                Some(value) => value.fill(0.0),
                None => {
                    let (rows, cols) = value.shape();
                    *value = Rc::new(DMatrix::zeros(rows, cols));
                }
            }
        }
        self.bump();
    }

    /// The value, taken out without a copy when nothing else holds it.
    pub(crate) fn into_value(self) -> DMatrix<f64> {
        Rc::try_unwrap(self.value.into_inner()).unwrap_or_else(|rc| (*rc).clone())
    }
}
