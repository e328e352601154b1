//! [`Tensor`]: the handle, its constructors, accessors and in-place updates.

use std::cell::{Ref, RefCell};
use std::rc::Rc;

use nalgebra::DMatrix;

use super::backward::run_backward;
use super::error::GradError;
use super::no_grad::is_grad_enabled;
use super::node::{BackwardFn, Edge, Hook, Node};

/// The state behind a [`Tensor`] handle.
pub(crate) struct TensorData {
    /// The value, shared with the nodes that saved it (copied on write by in-place ops).
    pub(crate) value: Rc<DMatrix<f64>>,
    /// Whether gradients flow to (a leaf) or through (a non-leaf) this tensor.
    pub(crate) requires_grad: bool,
    /// The op that computed this tensor; `None` for a leaf.
    pub(crate) grad_fn: Option<Rc<Node>>,
    /// The accumulated gradient (leaves, and non-leaves that `retain_grad()`).
    pub(crate) grad: Option<Tensor>,
    /// Hooks of a leaf (a non-leaf keeps its hooks on its node).
    pub(crate) hooks: Vec<Hook>,
}

/// A matrix of `f64` that records the ops computed from it, as a PyTorch tensor does.
///
/// A `Tensor` is a cheap handle: `clone()` shares the same tensor (value, gradient,
/// graph node). Values live in an `nalgebra::DMatrix<f64>`; a scalar is 1x1 and
/// [`Tensor::vector`] makes an n x 1 column. `Display` and `Debug` print like PyTorch,
/// an n x 1 tensor (so a scalar too) as PyTorch prints a 1-d tensor: `tensor([9.])`.
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
}

impl Tensor {
    /// A leaf holding `value`, not requiring grad.
    pub(crate) fn leaf(value: Rc<DMatrix<f64>>) -> Tensor {
        Tensor {
            data: Rc::new(RefCell::new(TensorData {
                value,
                requires_grad: false,
                grad_fn: None,
                grad: None,
                hooks: Vec::new(),
            })),
        }
    }

    /// The result of an op: records a node when grad mode is on and an input takes a
    /// gradient (`make` builds its backward only then), else a plain leaf.
    pub(crate) fn from_op(
        value: Rc<DMatrix<f64>>,
        name: &'static str,
        inputs: [Option<&Tensor>; 2],
        make: impl FnOnce(&Rc<DMatrix<f64>>) -> Box<dyn BackwardFn>,
    ) -> Tensor {
        if !is_grad_enabled() {
            return Tensor::leaf(value);
        }
        let edges = inputs.map(|t| t.and_then(Edge::to));
        if edges.iter().all(Option::is_none) {
            return Tensor::leaf(value);
        }
        let node = Node::new(name, edges, make(&value));
        Tensor {
            data: Rc::new(RefCell::new(TensorData {
                value,
                requires_grad: true,
                grad_fn: Some(Rc::new(node)),
                grad: None,
                hooks: Vec::new(),
            })),
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
        let data = self.data.borrow();
        assert_eq!(
            data.value.len(),
            1,
            "item() needs a tensor of one element, but this one has shape {:?}; use value() to read a matrix",
            data.value.shape()
        );
        data.value[0]
    }

    /// A copy of the value.
    pub fn value(&self) -> DMatrix<f64> {
        (*self.data.borrow().value).clone()
    }

    /// The value, borrowed without a copy (do not hold it across an in-place update).
    pub fn value_ref(&self) -> Ref<'_, DMatrix<f64>> {
        Ref::map(self.data.borrow(), |data| &*data.value)
    }

    /// The value shared with its tensor (cheap to clone, copied on write).
    pub(crate) fn value_rc(&self) -> Rc<DMatrix<f64>> {
        Rc::clone(&self.data.borrow().value)
    }

    /// `(rows, columns)`.
    pub fn shape(&self) -> (usize, usize) {
        self.data.borrow().value.shape()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.borrow().value.len()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new leaf with the same value that takes no gradient: the graph is cut here.
    /// The value is shared until either tensor is updated in place.
    pub fn detach(&self) -> Tensor {
        Tensor::leaf(self.value_rc())
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
            Some(grad) => *Rc::make_mut(&mut grad.data.borrow_mut().value) += &g,
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
    /// leaf's or a retained tensor's `grad`.
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
    ) -> Result<(), GradError> {
        let mut data = self.data.borrow_mut();
        if !data.requires_grad {
            return Err(GradError::HookOnConstant {
                op: "register_hook",
            });
        }
        match &data.grad_fn {
            Some(node) => node.hooks.borrow_mut().push(Box::new(hook)),
            None => data.hooks.push(Box::new(hook)),
        }
        Ok(())
    }

    /// Checks that an in-place op may run: not on a leaf that requires grad, and nothing
    /// that would have to be recorded, unless grad mode is off.
    fn check_in_place(&self, op: &'static str, other: Option<&Tensor>) -> Result<(), GradError> {
        if !is_grad_enabled() {
            return Ok(());
        }
        let data = self.data.borrow();
        if data.grad_fn.is_none() && data.requires_grad {
            return Err(GradError::InPlaceOnLeaf { op });
        }
        if data.grad_fn.is_some() || other.is_some_and(Tensor::requires_grad_flag) {
            return Err(GradError::InPlaceRecorded { op });
        }
        Ok(())
    }

    fn update_in_place(
        &self,
        op: &'static str,
        other: &Tensor,
        f: impl Fn(&mut f64, f64),
    ) -> Result<(), GradError> {
        self.check_in_place(op, Some(other))?;
        let rhs = other.value_rc();
        let mut data = self.data.borrow_mut();
        let (left, right) = (data.value.shape(), rhs.shape());
        let value = Rc::make_mut(&mut data.value);
        if right == left {
            value.iter_mut().zip(rhs.iter()).for_each(|(a, &b)| f(a, b));
        } else if right == (1, 1) {
            let b = rhs[0];
            value.iter_mut().for_each(|a| f(a, b));
        } else if (right.0 == 1 && right.1 == left.1) || (right.1 == 1 && right.0 == left.0) {
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
        } else {
            return Err(GradError::ShapeMismatch {
                op,
                left,
                right,
                hint: "an in-place operand must have the tensor's shape, be 1x1, or be a row or column that broadcasts to it",
            });
        }
        Ok(())
    }

    /// `self -= other` in place (broadcasting `other`), as `tensor.sub_(other)`.
    ///
    /// ```
    /// use autodiff_runtime::dynamic::{no_grad, Tensor};
    /// let w = Tensor::scalar(1.0).requires_grad();
    /// assert!(w.sub_(&Tensor::scalar(0.5)).is_err()); // a leaf that requires grad
    /// no_grad(|| w.sub_(&Tensor::scalar(0.5)))?;
    /// assert_eq!(w.item(), 0.5);
    /// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
    /// ```
    ///
    /// # Errors
    /// Outside `no_grad`: [`GradError::InPlaceOnLeaf`] on a leaf that requires grad,
    /// [`GradError::InPlaceRecorded`] on a tensor with a `grad_fn` or when `other`
    /// requires grad. [`GradError::ShapeMismatch`] when `other` does not broadcast.
    pub fn sub_(&self, other: &Tensor) -> Result<(), GradError> {
        self.update_in_place("sub_", other, |a, b| *a -= b)
    }

    /// `self += other` in place; errors as [`Tensor::sub_`].
    pub fn add_(&self, other: &Tensor) -> Result<(), GradError> {
        self.update_in_place("add_", other, |a, b| *a += b)
    }

    /// `self *= other` elementwise in place; errors as [`Tensor::sub_`].
    pub fn mul_(&self, other: &Tensor) -> Result<(), GradError> {
        self.update_in_place("mul_", other, |a, b| *a *= b)
    }

    /// Overwrites the value with `src`'s (same shape), as `tensor.copy_(src)`; errors
    /// as [`Tensor::sub_`]. Under `no_grad` this is how an optimizer writes new values.
    ///
    /// ```
    /// use autodiff_runtime::dynamic::{no_grad, Tensor};
    /// let w = Tensor::vector(&[1.0, 2.0]).requires_grad();
    /// no_grad(|| w.copy_(&Tensor::vector(&[3.0, 4.0])))?;
    /// assert_eq!(w.value().as_slice(), &[3.0, 4.0]);
    /// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
    /// ```
    pub fn copy_(&self, src: &Tensor) -> Result<(), GradError> {
        self.check_in_place("copy_", Some(src))?;
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
        self.data.borrow_mut().value = value;
        Ok(())
    }

    /// Sets every element to 0 in place; errors as [`Tensor::sub_`].
    pub fn zero_(&self) -> Result<(), GradError> {
        self.check_in_place("zero_", None)?;
        let mut data = self.data.borrow_mut();
        match Rc::get_mut(&mut data.value) {
            Some(value) => value.fill(0.0),
            None => {
                let (rows, cols) = data.value.shape();
                data.value = Rc::new(DMatrix::zeros(rows, cols));
            }
        }
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
