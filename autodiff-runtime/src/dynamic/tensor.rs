//! [`Tensor`]: the handle, its constructors, accessors and in-place updates.

use std::cell::{Cell, Ref, RefCell};
use std::rc::Rc;

use nalgebra::DMatrix;

use super::backward::run_backward;
use super::error::GradError;
use super::hook::{HookEntry, HookHandle};
use super::no_grad::is_grad_enabled;
use super::node::{BackwardFn, Edge, GradSink, Node, Recorder, SavedVersion, Saves, SAVED_OUTPUT};
use super::storage::Storage;

/// The state behind a [`Tensor`] handle, besides its value.
pub(crate) struct TensorData {
    /// Whether gradients flow to (a leaf) or through (a non-leaf) this tensor.
    pub(crate) requires_grad: bool,
    /// The op that computed this tensor; `None` for a leaf.
    pub(crate) grad_fn: Option<Rc<Node>>,
    /// The accumulated gradient (leaves, and non-leaves that `retain_grad()`).
    pub(crate) grad: Option<Tensor>,
    /// Hooks of a leaf (a non-leaf keeps its hooks on its node).
    pub(crate) hooks: Vec<HookEntry>,
}

/// A matrix of `f64` that records the ops computed from it, as a PyTorch tensor does.
///
/// A `Tensor` is a cheap handle: `clone()` shares the same tensor (value, gradient,
/// graph node). Values live in an `nalgebra::DMatrix<f64>`, in a storage with a version
/// counter that [`Tensor::detach`] shares and every in-place update advances
/// ([`Tensor::version`]); a scalar is 1x1 and [`Tensor::vector`] makes an n x 1 column.
/// `Display` and `Debug` print like PyTorch, an n x 1 tensor (so a scalar too) as
/// PyTorch prints a 1-d tensor: `tensor([9.])`.
///
/// Arithmetic operators (`+ - * /`, unary `-`) work on `Tensor` and `&Tensor`, with an
/// `f64` on either side, elementwise with broadcasting: equal shapes, a 1x1 tensor with
/// any shape, and a `1 x n` row (or `m x 1` column) with an `m x n` matrix. Operators
/// **panic** on shapes that do not broadcast, with a message naming both shapes; the
/// `try_add`, `try_sub`, `try_mul`, `try_div`, `try_matmul`, `try_mse` and
/// `try_cross_entropy` methods return a [`GradError`] instead.
///
/// ```
/// use autodiff_runtime::dynamic::Tensor;
/// let w = Tensor::scalar(1.0).requires_grad();
/// let x = Tensor::scalar(2.0);
/// let loss = (&w * &x - 5.0).powi(2);
/// assert_eq!(loss.to_string(), "tensor([9.], grad_fn=<PowBackward0>)");
/// loss.backward()?;
/// assert_eq!(w.grad().unwrap().item(), -12.0);
/// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
/// ```
#[derive(Clone)]
pub struct Tensor {
    pub(crate) data: Rc<RefCell<TensorData>>,
    /// The value and its version; never replaced, so every handle (and every tensor
    /// detached from this one) sees the same.
    pub(crate) storage: Rc<Storage>,
}

impl Tensor {
    /// A leaf holding `value`, not requiring grad.
    pub(crate) fn leaf(value: Rc<DMatrix<f64>>) -> Tensor {
        Tensor::leaf_on(Storage::new(value))
    }

    /// A leaf on `storage`, not requiring grad.
    fn leaf_on(storage: Rc<Storage>) -> Tensor {
        Tensor {
            data: Rc::new(RefCell::new(TensorData {
                requires_grad: false,
                grad_fn: None,
                grad: None,
                hooks: Vec::new(),
            })),
            storage,
        }
    }

    /// A tensor holding `value` whose `grad_fn` is `node`: how a recorded backward sees
    /// a value that node computed (the gradient flows into `node`).
    pub(crate) fn on_node(node: Rc<Node>, value: Rc<DMatrix<f64>>) -> Tensor {
        Tensor {
            data: Rc::new(RefCell::new(TensorData {
                requires_grad: true,
                grad_fn: Some(node),
                grad: None,
                hooks: Vec::new(),
            })),
            storage: Storage::new(value),
        }
    }

    /// The result of an op: records a node when grad mode is on and an input takes a
    /// gradient (`make` builds its backward only then), else a plain leaf. `saves` says
    /// which inputs and whether the output the backward reads: the node records their
    /// versions, and refuses to run once one of them was updated in place.
    pub(crate) fn from_op(
        value: Rc<DMatrix<f64>>,
        name: &'static str,
        inputs: [Option<&Tensor>; 2],
        saves: Saves,
        make: impl FnOnce(&Rc<DMatrix<f64>>) -> Box<dyn BackwardFn>,
    ) -> Tensor {
        if !is_grad_enabled() {
            return Tensor::leaf(value);
        }
        let edges = inputs.map(|t| t.and_then(Edge::to));
        if edges.iter().all(Option::is_none) {
            return Tensor::leaf(value);
        }
        let func = make(&value);
        let storage = Storage::new(value);
        let saved = saves.record(inputs, &edges, &storage);
        let node = Node::new(name, edges, func, saved);
        Tensor {
            data: Rc::new(RefCell::new(TensorData {
                requires_grad: true,
                grad_fn: Some(Rc::new(node)),
                grad: None,
                hooks: Vec::new(),
            })),
            storage,
        }
    }

    /// A 1x1 tensor (PyTorch prints it as `tensor([x.])`).
    pub fn scalar(x: f64) -> Tensor {
        Tensor::leaf(Rc::new(DMatrix::from_element(1, 1, x)))
    }

    /// An n x 1 column holding `values`.
    pub fn vector(values: &[f64]) -> Tensor {
        Tensor::leaf(Rc::new(DMatrix::from_column_slice(values.len(), 1, values)))
    }

    /// A `rows x cols` matrix from `values` in row-major order.
    ///
    /// # Panics
    /// If `values.len() != rows * cols`.
    pub fn from_row_slice(rows: usize, cols: usize, values: &[f64]) -> Tensor {
        assert_eq!(
            values.len(),
            rows * cols,
            "Tensor::from_row_slice: {} values cannot fill a ({rows}, {cols}) matrix; pass rows * cols = {} values",
            values.len(),
            rows * cols
        );
        Tensor::leaf(Rc::new(DMatrix::from_row_slice(rows, cols, values)))
    }

    /// A `rows x cols` tensor of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Tensor {
        Tensor::leaf(Rc::new(DMatrix::zeros(rows, cols)))
    }

    /// A `rows x cols` tensor of ones.
    pub fn ones(rows: usize, cols: usize) -> Tensor {
        Tensor::leaf(Rc::new(DMatrix::from_element(rows, cols, 1.0)))
    }

    /// Makes this leaf require grad (builder form of `requires_grad_(true)`); a tensor
    /// with a `grad_fn` already requires grad and is returned unchanged.
    pub fn requires_grad(self) -> Tensor {
        self.data.borrow_mut().requires_grad = true;
        self
    }

    /// Sets whether this tensor requires grad, in place (`tensor.requires_grad_(flag)`).
    ///
    /// # Errors
    /// [`GradError::NonLeafRequiresGrad`] for `false` on a tensor with a `grad_fn`:
    /// use [`Tensor::detach`] to leave the graph.
    pub fn requires_grad_(&self, requires_grad: bool) -> Result<(), GradError> {
        let mut data = self.data.borrow_mut();
        if let Some(node) = &data.grad_fn {
            return if requires_grad {
                Ok(())
            } else {
                Err(GradError::NonLeafRequiresGrad { grad_fn: node.name })
            };
        }
        data.requires_grad = requires_grad;
        Ok(())
    }

    /// Whether gradients flow to or through this tensor (PyTorch's `requires_grad`).
    pub fn requires_grad_flag(&self) -> bool {
        self.data.borrow().requires_grad
    }

    /// Whether this tensor was not computed by a recorded op (it has no `grad_fn`).
    pub fn is_leaf(&self) -> bool {
        self.data.borrow().grad_fn.is_none()
    }

    /// PyTorch's name for the op that computed this tensor (`"PowBackward0"`), `None`
    /// for a leaf or anything computed under `no_grad`.
    pub fn grad_fn(&self) -> Option<&'static str> {
        self.data.borrow().grad_fn.as_ref().map(|node| node.name)
    }

    /// The value of a one-element tensor.
    ///
    /// # Panics
    /// If the tensor has more than one element: read [`Tensor::value`] instead.
    pub fn item(&self) -> f64 {
        let value = self.storage.borrow();
        assert_eq!(
            value.len(),
            1,
            "item() needs a tensor of one element, but this one has shape {:?}; use value() to read a matrix",
            value.shape()
        );
        value[0]
    }

    /// A copy of the value.
    pub fn value(&self) -> DMatrix<f64> {
        self.storage.borrow().clone()
    }

    /// The value, borrowed without a copy (do not hold it across an in-place update).
    pub fn value_ref(&self) -> Ref<'_, DMatrix<f64>> {
        self.storage.borrow()
    }

    /// The value shared with its tensor (cheap to clone, copied on write).
    pub(crate) fn value_rc(&self) -> Rc<DMatrix<f64>> {
        self.storage.rc()
    }

    /// `(rows, columns)`.
    pub fn shape(&self) -> (usize, usize) {
        self.storage.shape()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.storage.borrow().len()
    }

    /// How many in-place updates the value has seen, counted on its storage (shared
    /// with [`Tensor::detach`]ed tensors), as PyTorch's `tensor._version`.
    ///
    /// ```
    /// use autodiff_runtime::dynamic::Tensor;
    /// let x = Tensor::vector(&[1.0, 2.0]);
    /// let d = x.detach();
    /// assert_eq!(x.version(), 0);
    /// d.add_(&Tensor::scalar(1.0))?;
    /// assert_eq!((x.version(), d.version()), (1, 1));
    /// assert_eq!(x.value().as_slice(), &[2.0, 3.0]);
    /// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
    /// ```
    pub fn version(&self) -> u64 {
        self.storage.version()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new leaf that takes no gradient, on the same storage: the graph is cut here,
    /// but the value and its version counter are shared, as in PyTorch. An in-place
    /// update of either tensor is seen by both, and makes a backward pass that needs
    /// the value saved before it fail with [`GradError::ModifiedInPlace`].
    ///
    /// ```
    /// use autodiff_runtime::dynamic::{GradError, Tensor};
    /// let x = Tensor::scalar(3.0).requires_grad();
    /// let y = x.powi(2); // saves x
    /// x.detach().zero_()?;
    /// assert_eq!(x.item(), 0.0);
    /// assert!(matches!(y.backward(), Err(GradError::ModifiedInPlace { op: "PowBackward0", .. })));
    /// # Ok::<(), GradError>(())
    /// ```
    pub fn detach(&self) -> Tensor {
        Tensor::leaf_on(Rc::clone(&self.storage))
    }

    /// The gradient accumulated by `backward()` (leaves, and tensors that called
    /// [`Tensor::retain_grad`]); `None` before any backward or after [`Tensor::zero_grad`].
    /// The returned tensor shares the gradient: `w.grad().unwrap().zero_()` zeroes it.
    pub fn grad(&self) -> Option<Tensor> {
        self.data.borrow().grad.clone()
    }

    /// Clears the gradient (sets it to `None`, like `optimizer.zero_grad()` in PyTorch 2).
    pub fn zero_grad(&self) {
        self.data.borrow_mut().grad = None;
    }

    /// Adds `g` to the accumulated gradient.
    pub(crate) fn accumulate_grad(data: &RefCell<TensorData>, g: DMatrix<f64>) {
        let existing = data.borrow().grad.clone();
        match existing {
            None => data.borrow_mut().grad = Some(Tensor::leaf(Rc::new(g))),
            Some(grad) => grad.storage.modify(|value| *value += &g),
        }
    }

    /// Backpropagates from this one-element tensor, accumulating into the leaves'
    /// gradients, and frees the graph's saved values.
    ///
    /// # Errors
    /// [`GradError::NonScalarBackward`] on more than one element (use
    /// [`Tensor::backward_with_grad`]), [`GradError::GraphFreed`] through a graph an
    /// earlier `backward()` freed (use [`Tensor::backward_retain_graph`] the first time),
    /// [`GradError::NoGrad`] when nothing requires grad.
    pub fn backward(&self) -> Result<(), GradError> {
        run_backward(self, None, false)
    }

    /// As [`Tensor::backward`], but keeps the graph so it can be backpropagated again.
    pub fn backward_retain_graph(&self) -> Result<(), GradError> {
        run_backward(self, None, true)
    }

    /// Backpropagates the vector-Jacobian product with `seed` (the gradient of some
    /// scalar with respect to this tensor; same shape), and frees the graph.
    pub fn backward_with_grad(&self, seed: &Tensor) -> Result<(), GradError> {
        run_backward(self, Some(seed), false)
    }

    /// The general form of `backward`: an optional seed (`None` means 1 for a
    /// one-element tensor) and whether to keep the graph (PyTorch's `retain_graph`).
    pub fn backward_with(
        &self,
        seed: Option<&Tensor>,
        retain_graph: bool,
    ) -> Result<(), GradError> {
        run_backward(self, seed, retain_graph)
    }

    /// Keeps the gradient of this non-leaf tensor in [`Tensor::grad`] after `backward()`
    /// (a no-op on a leaf, which keeps its gradient anyway).
    ///
    /// # Errors
    /// [`GradError::HookOnConstant`] on a tensor that does not require grad.
    pub fn retain_grad(&self) -> Result<(), GradError> {
        let data = self.data.borrow();
        if !data.requires_grad {
            return Err(GradError::HookOnConstant { op: "retain_grad" });
        }
        if let Some(node) = &data.grad_fn {
            *node.retained.borrow_mut() = Some(Rc::downgrade(&self.data));
        }
        Ok(())
    }

    /// Registers `hook`, called with the gradient flowing into this tensor each time
    /// `backward()` computes it; returning `Some(g)` replaces the gradient, `None` keeps
    /// it. Hooks run in registration order, before the gradient is accumulated into a
    /// leaf's or a retained tensor's `grad`. The returned handle's
    /// [`remove`](HookHandle::remove) unregisters the hook; dropping it keeps the hook.
    ///
    /// As in PyTorch, a hook belongs to the tensor's version it was registered on: after
    /// an in-place op (`b.mul_(..)`), a hook registered before sees the gradient of the
    /// value before the update, one registered after sees the gradient of the new value.
    ///
    /// ```
    /// use autodiff_runtime::dynamic::Tensor;
    /// let x = Tensor::scalar(3.0).requires_grad();
    /// x.register_hook(|g| Some(g * 2.0))?;
    /// (&x * &x).backward()?;
    /// assert_eq!(x.grad().unwrap().item(), 12.0);
    /// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
    /// ```
    ///
    /// # Errors
    /// [`GradError::HookOnConstant`] on a tensor that does not require grad.
    pub fn register_hook(
        &self,
        hook: impl FnMut(&Tensor) -> Option<Tensor> + 'static,
    ) -> Result<HookHandle, GradError> {
        let mut data = self.data.borrow_mut();
        if !data.requires_grad {
            return Err(GradError::HookOnConstant {
                op: "register_hook",
            });
        }
        let removed = Rc::new(Cell::new(false));
        let entry = HookEntry {
            hook: Box::new(hook),
            removed: Rc::clone(&removed),
        };
        Ok(match &data.grad_fn {
            Some(node) => {
                node.hooks.borrow_mut().push(entry);
                HookHandle::on_node(node, removed)
            }
            None => {
                data.hooks.push(entry);
                HookHandle::on_leaf(&self.data, removed)
            }
        })
    }

    /// Whether an in-place op on this tensor must be recorded in the graph: when grad
    /// mode is on and the tensor has a `grad_fn`, or `other` requires grad (PyTorch's
    /// rule). Otherwise it is a plain update.
    ///
    /// # Errors
    /// [`GradError::InPlaceOnLeaf`] on a leaf that requires grad, outside `no_grad`.
    fn records_in_place(
        &self,
        op: &'static str,
        other: Option<&Tensor>,
    ) -> Result<bool, GradError> {
        if !is_grad_enabled() {
            return Ok(false);
        }
        let data = self.data.borrow();
        if data.grad_fn.is_none() && data.requires_grad {
            return Err(GradError::InPlaceOnLeaf { op });
        }
        Ok(data.grad_fn.is_some() || other.is_some_and(Tensor::requires_grad_flag))
    }

    /// Makes `result`, the out-of-place op just computed from this tensor, this tensor's
    /// new value and `grad_fn`, as PyTorch records an in-place op: the handle now points
    /// at the new node, the version advances, a `retain_grad()` moves to the new node,
    /// and hooks registered before stay with the old one.
    fn record_in_place(&self, op: &'static str, result: Tensor) -> Result<(), GradError> {
        let (left, right) = (self.shape(), result.shape());
        if left != right {
            return Err(GradError::ShapeMismatch {
                op,
                left,
                right,
                hint: IN_PLACE_SHAPE_HINT,
            });
        }
        let node = result.data.borrow_mut().grad_fn.take();
        let value = result.storage.rc();
        let Some(mut node) = node else {
            // Nothing required grad after all: a plain update.
            self.storage.replace(value);
            return Ok(());
        };
        let fresh = Rc::get_mut(&mut node).expect("a node just recorded has one owner");
        // The value before the update is the node's own copy (PyTorch saves a clone of
        // it), so only a later update of the output counts against it.
        fresh.saved[0] = None;
        if fresh.saved[SAVED_OUTPUT].is_some() {
            fresh.saved[SAVED_OUTPUT] = Some(SavedVersion {
                storage: Rc::downgrade(&self.storage),
                version: self.storage.version() + 1,
            });
        }
        self.storage.replace(value);
        let mut data = self.data.borrow_mut();
        if let Some(old) = data.grad_fn.replace(Rc::clone(&node)) {
            if let Some(retained) = old.retained.borrow_mut().take() {
                *node.retained.borrow_mut() = Some(retained);
            }
        }
        data.requires_grad = true;
        Ok(())
    }

    /// `self = self op other` elementwise in place, `other` broadcast to this tensor's
    /// shape: recorded as `out_of_place` when it must be, else `f` on each element.
    fn update_in_place(
        &self,
        op: &'static str,
        other: &Tensor,
        f: impl Fn(&mut f64, f64),
        out_of_place: impl FnOnce(&Tensor, &Tensor) -> Result<Tensor, GradError>,
    ) -> Result<(), GradError> {
        let record = self.records_in_place(op, Some(other))?;
        let (left, right) = (self.shape(), other.shape());
        let broadcasts = right == left
            || right == (1, 1)
            || (right.0 == 1 && right.1 == left.1)
            || (right.1 == 1 && right.0 == left.0);
        if !broadcasts {
            return Err(GradError::ShapeMismatch {
                op,
                left,
                right,
                hint: IN_PLACE_SHAPE_HINT,
            });
        }
        if record {
            return self.record_in_place(op, out_of_place(self, other)?);
        }
        let rhs = other.value_rc();
        self.storage.modify(|value| {
            if right == left {
                value.iter_mut().zip(rhs.iter()).for_each(|(a, &b)| f(a, b));
            } else if right == (1, 1) {
                let b = rhs[0];
                value.iter_mut().for_each(|a| f(a, b));
            } else {
                let (rows, cols) = left;
                for j in 0..cols {
                    for i in 0..rows {
                        let b = rhs[(
                            if right.0 == 1 { 0 } else { i },
                            if right.1 == 1 { 0 } else { j },
                        )];
                        f(&mut value[(i, j)], b);
                    }
                }
            }
        });
        Ok(())
    }

    /// `self = f(self)` elementwise in place: recorded as `out_of_place` when this
    /// tensor has a `grad_fn` (outside `no_grad`), else `f` on each element.
    pub(crate) fn map_in_place(
        &self,
        op: &'static str,
        f: impl Fn(f64) -> f64,
        out_of_place: impl FnOnce(&Tensor) -> Tensor,
    ) -> Result<(), GradError> {
        if self.records_in_place(op, None)? {
            return self.record_in_place(op, out_of_place(self));
        }
        self.storage
            .modify(|value| value.iter_mut().for_each(|v| *v = f(*v)));
        Ok(())
    }

    /// `self -= other` in place (broadcasting `other`), as `tensor.sub_(other)`.
    ///
    /// As in PyTorch: on a leaf that requires grad it is an error outside `no_grad`; on
    /// a tensor with a `grad_fn`, or with an `other` that requires grad, it is recorded
    /// (`SubBackward0`, which becomes the tensor's `grad_fn`); otherwise it is a plain
    /// update. Every update advances [`Tensor::version`].
    ///
    /// ```
    /// use autodiff_runtime::dynamic::{no_grad, Tensor};
    /// let w = Tensor::scalar(1.0).requires_grad();
    /// assert!(w.sub_(&Tensor::scalar(0.5)).is_err()); // a leaf that requires grad
    /// no_grad(|| w.sub_(&Tensor::scalar(0.5)))?;
    /// assert_eq!(w.item(), 0.5);
    ///
    /// let z = &w * 2.0; // not a leaf: recorded
    /// z.sub_(&Tensor::scalar(1.0))?;
    /// assert_eq!((z.item(), z.grad_fn()), (0.0, Some("SubBackward0")));
    /// z.backward()?;
    /// assert_eq!(w.grad().unwrap().item(), 2.0);
    /// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
    /// ```
    ///
    /// # Errors
    /// [`GradError::InPlaceOnLeaf`] on a leaf that requires grad outside `no_grad`;
    /// [`GradError::ShapeMismatch`] when `other` does not broadcast to this tensor's
    /// shape.
    pub fn sub_(&self, other: &Tensor) -> Result<(), GradError> {
        self.update_in_place("sub_", other, |a, b| *a -= b, Tensor::try_sub)
    }

    /// `self += other` in place (`AddBackward0` when recorded); rules and errors as
    /// [`Tensor::sub_`].
    pub fn add_(&self, other: &Tensor) -> Result<(), GradError> {
        self.update_in_place("add_", other, |a, b| *a += b, Tensor::try_add)
    }

    /// `self *= other` elementwise in place (`MulBackward0` when recorded); rules and
    /// errors as [`Tensor::sub_`].
    pub fn mul_(&self, other: &Tensor) -> Result<(), GradError> {
        self.update_in_place("mul_", other, |a, b| *a *= b, Tensor::try_mul)
    }

    /// `self /= other` elementwise in place (`DivBackward0` when recorded); rules and
    /// errors as [`Tensor::sub_`].
    pub fn div_(&self, other: &Tensor) -> Result<(), GradError> {
        self.update_in_place("div_", other, |a, b| *a /= b, Tensor::try_div)
    }

    /// Overwrites the value with `src`'s (same shape), as `tensor.copy_(src)`; recorded
    /// as `CopyBackwards` (the gradient flows to `src`, none to the old value) under the
    /// rules of [`Tensor::sub_`]. Under `no_grad` this is how an optimizer writes new
    /// values.
    ///
    /// ```
    /// use autodiff_runtime::dynamic::{no_grad, Tensor};
    /// let w = Tensor::vector(&[1.0, 2.0]).requires_grad();
    /// no_grad(|| w.copy_(&Tensor::vector(&[3.0, 4.0])))?;
    /// assert_eq!(w.value().as_slice(), &[3.0, 4.0]);
    /// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Tensor::sub_`]; the shapes must be equal.
    pub fn copy_(&self, src: &Tensor) -> Result<(), GradError> {
        let record = self.records_in_place("copy_", Some(src))?;
        let (left, right) = (self.shape(), src.shape());
        if left != right {
            return Err(GradError::ShapeMismatch {
                op: "copy_",
                left,
                right,
                hint: "the source must have the tensor's shape",
            });
        }
        let value = src.value_rc();
        if record {
            let shape = left;
            let result = Tensor::from_op(
                value,
                "CopyBackwards",
                [Some(self), Some(src)],
                Saves::NOTHING,
                |_| Box::new(CopyGrad { shape }),
            );
            return self.record_in_place("copy_", result);
        }
        self.storage.replace(value);
        Ok(())
    }

    /// Sets every element to 0 in place; recorded as `ZeroBackward0` (a zero gradient
    /// for the old value) under the rules of [`Tensor::sub_`].
    ///
    /// # Errors
    /// As [`Tensor::sub_`].
    pub fn zero_(&self) -> Result<(), GradError> {
        let (rows, cols) = self.shape();
        if self.records_in_place("zero_", None)? {
            let result = Tensor::from_op(
                Rc::new(DMatrix::zeros(rows, cols)),
                "ZeroBackward0",
                [Some(self), None],
                Saves::NOTHING,
                |_| {
                    Box::new(CopyGrad {
                        shape: (rows, cols),
                    })
                },
            );
            return self.record_in_place("zero_", result);
        }
        self.storage.zero();
        Ok(())
    }
}

impl From<DMatrix<f64>> for Tensor {
    fn from(value: DMatrix<f64>) -> Tensor {
        Tensor::leaf(Rc::new(value))
    }
}

impl From<f64> for Tensor {
    fn from(x: f64) -> Tensor {
        Tensor::scalar(x)
    }
}

/// What an in-place op tells the user when its operand does not fit.
const IN_PLACE_SHAPE_HINT: &str = "an in-place operand must have the tensor's shape, be 1x1, \
                                   or be a row or column that broadcasts to it";

/// Backward of `copy_` (`CopyBackwards`) and `zero_` (`ZeroBackward0`): a zero gradient
/// for the overwritten value (input 0), the gradient itself for the source (input 1).
struct CopyGrad {
    shape: (usize, usize),
}

impl BackwardFn for CopyGrad {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        // `add_with` leaves a gradient that is there unchanged, or starts one of zeros.
        sink.add_with(0, self.shape, |_, _| {});
        sink.add_scaled(1, 1.0, g);
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        let (rows, cols) = self.shape;
        [
            r.needs(0).then(|| Tensor::zeros(rows, cols)),
            r.needs(1).then(|| g.clone()),
        ]
    }

    fn saves_values(&self) -> bool {
        false
    }
}
