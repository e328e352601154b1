//! The optimizers and clipping on `Tensor`s of the dynamic engine: a step writes through
//! the handles into the tensors, and clipping scales the leaves' gradients.

use autodiff_optim::clip::{clip_grad_norm, clip_grad_value};
use autodiff_optim::optim::{Adam, Optimizer, Sgd};
use autodiff_runtime::dynamic::Tensor;
use autodiff_runtime::nalgebra::DMatrix;

fn matrices() -> (DMatrix<f64>, DMatrix<f64>) {
    (
        DMatrix::from_row_slice(2, 2, &[1.0, -2.0, 0.5, 3.0]),
        DMatrix::from_row_slice(1, 2, &[0.25, -0.75]),
    )
}

#[test]
fn adam_on_tensors_follows_adam_on_matrices() {
    let (w, b) = matrices();
    let mut plain = (w.clone(), b.clone());
    let tensors = (
        Tensor::from(w).requires_grad(),
        Tensor::from(b).requires_grad(),
    );
    let mut handles = tensors.clone();
    let (mut opt_plain, mut opt_tensor) = (Adam::new(0.1), Adam::new(0.1));
    for _ in 0..5 {
        // loss = sum(w^3) / 3 + sum(b^2): gradients w^2 and 2b
        let grad_plain = (plain.0.map(|x| x * x), &plain.1 * 2.0);
        opt_plain.step(&mut plain, &grad_plain).unwrap();
        tensors.0.zero_grad();
        tensors.1.zero_grad();
        let loss = tensors.0.powi(3).sum() * (1.0 / 3.0) + tensors.1.powi(2).sum();
        loss.backward().unwrap();
        let grads = (tensors.0.grad_or_zeros(), tensors.1.grad_or_zeros());
        opt_tensor.step(&mut handles, &grads).unwrap();
    }
    // the step wrote through the handles into the original tensors
    for (t, m) in [(&tensors.0, &plain.0), (&tensors.1, &plain.1)] {
        let diff = (t.value() - m).abs().max();
        assert!(diff < 1e-14, "{diff}");
    }
}

#[test]
fn clipping_tensor_gradients_clips_the_leaf_gradients() {
    let w = Tensor::vector(&[3.0, 0.0]).requires_grad();
    let v = Tensor::vector(&[4.0]).requires_grad();
    // gradients: w and v themselves, total norm 5
    ((&w * &w).sum() * 0.5 + (&v * &v).sum() * 0.5)
        .backward()
        .unwrap();
    let mut grads = vec![w.grad_or_zeros(), v.grad_or_zeros()];
    assert_eq!(clip_grad_norm(&mut grads, 1.0).unwrap(), 5.0);
    let expected = 1.0 / (5.0 + 1e-6);
    assert!((w.grad().unwrap().value()[0] - 3.0 * expected).abs() < 1e-15);
    assert!((v.grad().unwrap().item() - 4.0 * expected).abs() < 1e-15);
    clip_grad_value(&mut grads, 0.5).unwrap();
    assert_eq!(v.grad().unwrap().item(), 0.5);
    assert_eq!(w.value().as_slice(), [3.0, 0.0]);
}

/// The example of the runtime's `dynamic::tangent` docs: the gradients share the leaf's
/// gradient, so clipping them clips `w.grad()`; the parameters are handles, so the step
/// updates `w`.
#[test]
fn clipping_and_a_step_act_on_the_leaf() -> Result<(), Box<dyn std::error::Error>> {
    let w = Tensor::vector(&[3.0, 4.0]).requires_grad();
    let loss = (&w * &w).sum() * 0.5; // gradient: w itself
    loss.backward()?;
    let mut grads = vec![w.grad_or_zeros()];
    let norm = clip_grad_norm(&mut grads, 1.0)?; // clips w.grad() in place
    assert_eq!(norm, 5.0);
    assert!((w.grad().unwrap().value()[0] - 0.6).abs() < 1e-6);

    let mut params = vec![w.clone()]; // a handle: the step updates `w`
    Sgd::new(1.0).step(&mut params, &grads)?;
    assert!((w.value()[1] - 3.2).abs() < 1e-6);
    Ok(())
}
