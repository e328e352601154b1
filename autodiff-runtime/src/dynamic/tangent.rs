//! [`Tangent`] for [`Tensor`]: the optimizers, clipping, gradient checking, the health
//! report and the training loop drive dynamic-engine tensors as they drive matrices.
//!
//! A tensor is one leaf of the parameter tree (its values in column-major order). A model
//! is any `Tangent` container of tensors: a `Vec<Tensor>`, a tuple, or a struct with
//! `#[derive(Tangent)]`. Its gradients are the same container holding each parameter's
//! [`Tensor::grad_or_zeros`]; those tensors share the gradient stored in the leaf, so
//! clipping them clips `w.grad()` too, as `torch.nn.utils.clip_grad_norm_` does.
//!
//! `autodiff-optim`'s `tests/dynamic_tensors.rs` shows it: `clip_grad_norm` on
//! `vec![w.grad_or_zeros()]` clips `w.grad()` in place, and `Sgd::step` on
//! `vec![w.clone()]` updates `w`.
//!
//! # Writing through a handle
//!
//! [`Tangent::visit_mut`] on a tensor writes its value directly, as an optimizer step
//! does under `torch.no_grad()`: it is not recorded and is allowed on a leaf that
//! requires grad. It advances the tensor's [`Tensor::version`], as an update under
//! `no_grad` does in PyTorch: a pending `backward()` that needs the old value returns
//! [`GradError::ModifiedInPlace`](super::GradError::ModifiedInPlace) instead of using it
//! (the value it saved is copied first, never overwritten). Because a `Tensor` is a
//! shared handle, writing through any clone updates the one parameter;
//! [`Tangent::zero_like`] makes a new tensor (a leaf that does not require grad).

// The visitor signatures are the trait's.
#![allow(clippy::type_complexity)]

use std::rc::Rc;

use nalgebra::DMatrix;

use super::tensor::Tensor;
use crate::rules::{Adjoint, Cotangent};
use crate::tangent::{StructureMismatch, Tangent};

fn shape_name((r, c): (usize, usize)) -> String {
    format!("{r}x{c} tensor")
}

fn assert_same_shape(a: (usize, usize), b: (usize, usize)) {
    if a != b {
        panic!(
            "Tangent: a {} paired with a {}; call `check_structure` first to get an error instead",
            shape_name(a),
            shape_name(b)
        );
    }
}

impl Tensor {
    /// The accumulated gradient, or a new tensor of zeros of this tensor's shape when
    /// there is none (before any `backward()`, after `zero_grad()`, or when the loss did
    /// not depend on this tensor). The gradient tensor returned shares the leaf's: an
    /// in-place change (clipping) is seen by [`Tensor::grad`].
    ///
    /// ```
    /// use autodiff_runtime::dynamic::Tensor;
    /// let w = Tensor::vector(&[1.0, 2.0]).requires_grad();
    /// assert_eq!(w.grad_or_zeros().value().as_slice(), [0.0, 0.0]);
    /// (&w * 3.0).sum().backward()?;
    /// assert_eq!(w.grad_or_zeros().value().as_slice(), [3.0, 3.0]);
    /// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
    /// ```
    pub fn grad_or_zeros(&self) -> Tensor {
        self.grad().unwrap_or_else(|| {
            let (rows, cols) = self.shape();
            Tensor::zeros(rows, cols)
        })
    }
}

/// A tensor is one leaf of a parameter tree, so optimizers, `clip_grad_norm` /
/// `clip_grad_value`, `gradcheck`, the health report and the `Trainer` take tensors and
/// containers of tensors. Writing through [`Tangent::visit_mut`] updates the value as an
/// optimizer step under `torch.no_grad()` does (unrecorded, allowed on a leaf that
/// requires grad; a value a pending graph saved is copied first).
impl Tangent for Tensor {
    type Scalar = f64;

    fn zero_like(&self) -> Self {
        let (rows, cols) = self.shape();
        Tensor::zeros(rows, cols)
    }

    fn visit(&self, f: &mut dyn FnMut(&[f64])) {
        f(self.value_ref().as_slice())
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [f64])) {
        self.storage.modify(|value| f(value.as_mut_slice()))
    }

    fn visit_zip(&self, other: &Self, f: &mut dyn FnMut(&[f64], &[f64])) {
        let (a, b) = (self.value_ref(), other.value_ref());
        assert_same_shape(a.shape(), b.shape());
        f(a.as_slice(), b.as_slice())
    }

    fn visit_zip_mut(&mut self, other: &Self, f: &mut dyn FnMut(&mut [f64], &[f64])) {
        // `other` may be a handle to this very tensor: hold its value (an `Rc`), so that
        // writing copies instead of aliasing.
        let b: Rc<DMatrix<f64>> = other.value_rc();
        assert_same_shape(self.shape(), b.shape());
        self.storage
            .modify(|value| f(value.as_mut_slice(), b.as_slice()))
    }

    fn visit_named(&self, prefix: &str, f: &mut dyn FnMut(&str, &[f64])) {
        f(prefix, self.value_ref().as_slice())
    }

    fn visit_named_shaped(&self, prefix: &str, f: &mut dyn FnMut(&str, &[usize], &[f64])) {
        let value = self.value_ref();
        let (rows, cols) = value.shape();
        f(prefix, &[rows, cols], value.as_slice())
    }

    fn check_structure(&self, other: &Self) -> Result<(), StructureMismatch> {
        let (a, b) = (self.shape(), other.shape());
        if a == b {
            Ok(())
        } else {
            Err(StructureMismatch {
                path: String::new(),
                expected: shape_name(a),
                found: shape_name(b),
            })
        }
    }
}

/// Adjoint accumulation on the tensors' values (an empty 0x0 tensor is the symbolic
/// zero, as for matrices), so that `#[derive(Tangent)]` works on a model struct whose
/// fields are tensors.
impl Adjoint for Tensor {
    fn adjoint_zero() -> Self {
        Tensor::from(<DMatrix<f64> as Adjoint>::adjoint_zero())
    }

    fn accumulate(&mut self, other: &Self) {
        let b = other.value_rc();
        self.storage.modify(|value| Adjoint::accumulate(value, &*b));
    }

    fn finish(self, primal: &Self) -> Self {
        if self.shape() == primal.shape() {
            return self;
        }
        Tensor::from(Adjoint::finish(self.value(), &*primal.value_ref()))
    }
}

impl Cotangent<Tensor> for Tensor {
    fn add_to(&self, acc: &mut Tensor) {
        Adjoint::accumulate(acc, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamic::GradError;

    #[test]
    fn updates_make_a_pending_backward_that_needs_the_old_value_fail() {
        let w = Tensor::vector(&[2.0]).requires_grad();
        let loss = (&w * &w).sum();
        let mut p = w.clone();
        p.scale(10.0); // the graph saved w = 2, at version 0
        assert_eq!((w.item(), w.version()), (20.0, 1));
        assert_eq!(
            loss.backward(),
            Err(GradError::ModifiedInPlace {
                op: "MulBackward0",
                shape: (1, 1),
                version: 1,
                expected: 0
            })
        );
        assert!(w.grad().is_none(), "no gradient moved");
        // A graph recorded after the update runs.
        (&w * &w).sum().backward().unwrap();
        assert_eq!(w.grad().unwrap().item(), 40.0);
    }

    #[test]
    fn a_tensor_zipped_with_itself_reads_the_old_values() {
        let mut t = Tensor::vector(&[1.0, 2.0]);
        let same = t.clone();
        t.add_assign(&same);
        assert_eq!(t.value().as_slice(), [2.0, 4.0]);
        assert_eq!(same.value().as_slice(), [2.0, 4.0]);
    }

    #[test]
    fn adjoints_start_empty_and_take_the_primal_shape() {
        let primal = Tensor::zeros(2, 1);
        let mut acc = <Tensor as Adjoint>::adjoint_zero();
        assert_eq!(acc.shape(), (0, 0));
        assert_eq!(Adjoint::finish(acc.clone(), &primal).shape(), (2, 1));
        Adjoint::accumulate(&mut acc, &Tensor::vector(&[1.0, 2.0]));
        Tensor::vector(&[0.5, 0.5]).add_to(&mut acc);
        assert_eq!(Adjoint::finish(acc, &primal).value().as_slice(), [1.5, 2.5]);
    }

    #[test]
    fn shapes_are_checked_and_named() {
        let a = vec![Tensor::zeros(2, 3)];
        let b = vec![Tensor::zeros(3, 2)];
        let err = a.check_structure(&b).unwrap_err();
        assert_eq!(err.path, "0");
        assert_eq!(
            (err.expected.as_str(), err.found.as_str()),
            ("2x3 tensor", "3x2 tensor")
        );
        let z = a.zero_like();
        assert!(!z[0].requires_grad_flag());
        assert_eq!(z[0].shape(), (2, 3));
        assert_eq!(a.num_elements(), 6);
    }
}
