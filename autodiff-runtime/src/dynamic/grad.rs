//! Gradients returned as values ([`grad`], as `torch.autograd.grad`), gradients that are
//! themselves recorded ([`grad_create_graph`], [`Tensor::backward_create_graph`]:
//! PyTorch's `create_graph=True`), and the Hessian-vector product built from them
//! ([`hvp`]).

use super::backward::{run_grad, run_recorded};
use super::error::GradError;
use super::tensor::Tensor;

/// The gradients of the one-element `output` with respect to each of `inputs`, as
/// `torch.autograd.grad(output, inputs)`, without touching any `.grad()`.
///
/// - No [`Tensor::grad`] changes: neither the leaves' nor those of tensors that called
///   [`Tensor::retain_grad`]. Hooks on the tensors the pass goes through run, as in
///   PyTorch, and an input's gradient is taken after its hooks.
/// - An input the output does not depend on, including one that does not require
///   grad, gets a **zero tensor of its shape**. (PyTorch raises an error there unless
///   `allow_unused=True`, and then returns `None`; zeros are what a Hessian-vector
///   product or an optimizer wants.)
/// - The gradients are constants, without a `grad_fn`. Only the part of the graph that
///   leads to `inputs` runs, and, as [`Tensor::backward`] does, it frees the values the
///   ops that ran saved: to differentiate the gradients again, or to backpropagate
///   through the same graph afterwards, use [`grad_create_graph`].
/// - An input may be a leaf or any tensor of the graph (its gradient is the gradient
///   flowing into it), and may appear more than once.
///
/// ```
/// use autodiff_runtime::dynamic::{grad, Tensor};
///
/// let x = Tensor::scalar(2.0).requires_grad();
/// let y = Tensor::vector(&[1.0, 3.0]).requires_grad();
/// let z = Tensor::scalar(5.0).requires_grad(); // unused
/// let f = (&x.powi(3) * &y).sum(); // x^3 (y0 + y1)
/// let g = grad(&f, &[&x, &y, &z])?;
/// assert_eq!(g[0].item(), 48.0); // 3 x^2 (y0 + y1)
/// assert_eq!(g[1].value().as_slice(), &[8.0, 8.0]); // x^3
/// assert_eq!(g[2].item(), 0.0);
/// assert!(x.grad().is_none() && y.grad().is_none());
/// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
/// ```
///
/// # Errors
/// [`GradError::NonScalarOutput`] for an output of more than one element (reduce it
/// with `sum()` or `mean()`, or take `(output * seed).sum()`), [`GradError::NoGrad`]
/// when the output does not require grad, [`GradError::GraphFreed`] through a graph an
/// earlier pass freed, [`GradError::ModifiedInPlace`] when a value the pass needs was
/// updated in place, [`GradError::HookShape`] from a hook. Nothing is computed then.
pub fn grad(output: &Tensor, inputs: &[&Tensor]) -> Result<Vec<Tensor>, GradError> {
    run_grad(output, inputs)
}

/// As [`grad`], but the gradients are recorded (PyTorch's
/// `torch.autograd.grad(output, inputs, create_graph=True)`): each is computed with
/// `Tensor` ops, so it has a `grad_fn` (when it depends on something that requires
/// grad) and can be differentiated again, by [`grad`], [`grad_create_graph`] or
/// `backward()`. The graph of `output` is kept, as PyTorch's `retain_graph` defaults to
/// `create_graph`, so it can be backpropagated again.
///
/// Zeros for unused inputs and no `.grad()` change, as [`grad`]. A recorded pass costs
/// more than a plain one (each product is an op with its own node); [`grad`] and
/// `backward()` are unchanged by it.
///
/// ```
/// use autodiff_runtime::dynamic::{grad, grad_create_graph, Tensor};
///
/// let x = Tensor::scalar(2.0).requires_grad();
/// let y = x.powi(3);
/// let dy = grad_create_graph(&y, &[&x])?.remove(0);
/// assert_eq!((dy.item(), dy.requires_grad_flag()), (12.0, true)); // 3 x^2
/// let d2y = grad_create_graph(&dy, &[&x])?.remove(0);
/// assert_eq!(d2y.item(), 12.0); // 6 x
/// let d3y = grad(&d2y, &[&x])?.remove(0);
/// assert_eq!(d3y.item(), 6.0);
/// assert!(x.grad().is_none());
/// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
/// ```
///
/// # Errors
/// As [`grad`].
pub fn grad_create_graph(output: &Tensor, inputs: &[&Tensor]) -> Result<Vec<Tensor>, GradError> {
    run_recorded(output, Some(inputs), "grad_create_graph")
}

/// The Hessian-vector products of the one-element `output` `f` of `inputs` `x_i`: for
/// each input, the gradient of `sum_i <df/dx_i, v_i>` with respect to it, where `v_i =
/// vectors[i]` has `x_i`'s shape. It is the two-line recipe
///
/// ```text
/// let g = grad_create_graph(output, inputs)?;
/// let hv = grad(&(sum over i of (&g[i] * vectors[i]).sum()), inputs)?;
/// ```
///
/// so it frees the graph of `output` as [`grad`] does. Where the gradient is constant
/// (`output` is linear in the inputs) the products are zeros.
///
/// ```
/// use autodiff_runtime::dynamic::{hvp, Tensor};
///
/// // f(x) = sum(x^3): the Hessian is diag(6 x).
/// let x = Tensor::vector(&[1.0, 2.0]).requires_grad();
/// let v = Tensor::vector(&[1.0, -1.0]);
/// let hv = hvp(&x.powi(3).sum(), &[&x], &[&v])?;
/// assert_eq!(hv[0].value().as_slice(), &[6.0, -12.0]);
/// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
/// ```
///
/// # Errors
/// [`GradError::VectorCount`] unless there is one vector per input,
/// [`GradError::ShapeMismatch`] for a vector of another shape than its input, else as
/// [`grad`].
pub fn hvp(
    output: &Tensor,
    inputs: &[&Tensor],
    vectors: &[&Tensor],
) -> Result<Vec<Tensor>, GradError> {
    if inputs.len() != vectors.len() {
        return Err(GradError::VectorCount {
            inputs: inputs.len(),
            vectors: vectors.len(),
        });
    }
    for (x, v) in inputs.iter().zip(vectors) {
        if x.shape() != v.shape() {
            return Err(GradError::ShapeMismatch {
                op: "hvp",
                left: x.shape(),
                right: v.shape(),
                hint: "each vector must have the shape of its input",
            });
        }
    }
    let g = grad_create_graph(output, inputs)?;
    let dot = g
        .iter()
        .zip(vectors)
        .map(|(g, v)| (g * *v).sum())
        .reduce(|a, b| &a + &b);
    match dot {
        Some(dot) if dot.requires_grad_flag() => grad(&dot, inputs),
        _ => Ok(inputs
            .iter()
            .map(|x| Tensor::zeros(x.shape().0, x.shape().1))
            .collect()),
    }
}

impl Tensor {
    /// As [`Tensor::backward`], but the gradients accumulated into the leaves' (and
    /// retained tensors') [`Tensor::grad`] are recorded, as PyTorch's
    /// `backward(create_graph=True)`: they have a `grad_fn` and can be backpropagated
    /// again. The graph is kept.
    ///
    /// As in PyTorch, a first gradient is stored as a recorded copy (`CloneBackward0`),
    /// a later one is added out of place (`grad = grad + g`, `AddBackward0`); a plain
    /// `backward()` afterwards adds into `.grad()` in place, so backpropagating the
    /// gradient itself accumulates the second derivative into it:
    ///
    /// ```
    /// use autodiff_runtime::dynamic::Tensor;
    ///
    /// let x = Tensor::scalar(2.0).requires_grad();
    /// x.powi(3).backward_create_graph()?;
    /// let g = x.grad().unwrap();
    /// assert_eq!((g.item(), g.grad_fn()), (12.0, Some("CloneBackward0"))); // 3 x^2
    /// g.backward()?; // adds 6 x into x.grad
    /// assert_eq!(x.grad().unwrap().item(), 24.0);
    /// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
    /// ```
    ///
    /// The recorded gradient refers to the graph, which refers to the leaf: as PyTorch
    /// warns, this is a reference cycle that keeps the graph alive until
    /// [`Tensor::zero_grad`] (or prefer [`grad_create_graph`], which has none).
    ///
    /// # Errors
    /// [`GradError::NonScalarOutput`] on more than one element (take
    /// `(t * seed).sum()` for a vector-Jacobian product), else as [`Tensor::backward`].
    pub fn backward_create_graph(&self) -> Result<(), GradError> {
        run_recorded(self, None, "backward_create_graph").map(drop)
    }
}
