//! The tutorial's walkthrough of the dynamic engine, with the numbers derived by hand.

use autodiff_runtime::dynamic::{no_grad, GradError, Tensor};

/// loss = (w x - 5)^2 at w = 1, x = 2: y = 2, loss = (2 - 5)^2 = 9,
/// dloss/dw = 2 (w x - 5) x = 2 * (-3) * 2 = -12, dloss/dx = 2 (w x - 5) w = -6.
#[test]
fn scalar_loss_value_gradient_and_printing() -> Result<(), GradError> {
    let w = Tensor::scalar(1.0).requires_grad();
    let x = Tensor::scalar(2.0);
    let y = &w * &x;
    let loss = (&y - 5.0).powi(2);
    assert_eq!(w.to_string(), "tensor([1.], requires_grad=True)");
    assert_eq!(x.to_string(), "tensor([2.])");
    assert_eq!(y.to_string(), "tensor([2.], grad_fn=<MulBackward0>)");
    assert_eq!(loss.to_string(), "tensor([9.], grad_fn=<PowBackward0>)");
    assert_eq!(loss.item(), 9.0);
    loss.backward()?;
    assert_eq!(w.grad().unwrap().item(), -12.0);
    assert!(x.grad().is_none(), "x does not require grad");
    assert_eq!(
        w.grad().unwrap().to_string(),
        "tensor([-12.])",
        "a gradient is a plain tensor"
    );
    Ok(())
}

#[test]
fn graph_of_the_scalar_loss_names_pytorch_ops() {
    let w = Tensor::scalar(1.0).requires_grad();
    let x = Tensor::scalar(2.0);
    let loss = ((&w * &x) - 5.0).powi(2);
    let graph = loss.graph();
    let ops: Vec<&str> = graph.nodes().iter().map(|n| n.op.as_str()).collect();
    assert_eq!(
        ops,
        [
            "AccumulateGrad",
            "MulBackward0",
            "SubBackward0",
            "PowBackward0"
        ]
    );
    assert_eq!(graph.nodes()[0].label, "(1, 1)");
    assert_eq!(graph.nodes()[1].inputs, [0]);
    assert_eq!(graph.nodes()[3].inputs, [2]);
    let dot = graph.to_dot();
    assert!(dot.contains("n0 -> n1") && dot.contains("PowBackward0"));
}

/// d/dx x^3 = 3 x^2 = 12 at x = 2.
#[test]
fn cube_derivative() -> Result<(), GradError> {
    let x = Tensor::scalar(2.0).requires_grad();
    let y = x.powi(3);
    assert_eq!(y.item(), 8.0);
    y.backward()?;
    assert_eq!(x.grad().unwrap().item(), 12.0);
    Ok(())
}

/// Mistake 1: without zero_grad the second backward adds to the first: -12 + -12.
#[test]
fn forgetting_zero_grad_accumulates() -> Result<(), GradError> {
    let w = Tensor::scalar(1.0).requires_grad();
    for expected in [-12.0, -24.0, -36.0] {
        let loss = (&w * 2.0 - 5.0).powi(2);
        loss.backward()?;
        assert_eq!(w.grad().unwrap().item(), expected);
    }
    w.zero_grad();
    assert!(w.grad().is_none());
    (&w * 2.0 - 5.0).powi(2).backward()?;
    assert_eq!(w.grad().unwrap().item(), -12.0);
    Ok(())
}

/// Mistake 2: backward twice through the same graph.
#[test]
fn backward_twice_is_an_error_that_names_the_fix() -> Result<(), GradError> {
    let w = Tensor::scalar(1.0).requires_grad();
    let loss = (&w * 2.0 - 5.0).powi(2);
    loss.backward()?;
    let err = loss.backward().unwrap_err();
    assert_eq!(err, GradError::GraphFreed { op: "PowBackward0" });
    assert!(err.to_string().contains("backward_retain_graph()"), "{err}");
    assert_eq!(
        w.grad().unwrap().item(),
        -12.0,
        "the failed call added nothing"
    );

    let w = Tensor::scalar(1.0).requires_grad();
    let loss = (&w * 2.0 - 5.0).powi(2);
    loss.backward_retain_graph()?;
    loss.backward()?;
    assert_eq!(w.grad().unwrap().item(), -24.0);
    assert!(matches!(loss.backward(), Err(GradError::GraphFreed { .. })));
    Ok(())
}

#[test]
fn no_grad_inference_records_nothing() {
    let w = Tensor::scalar(2.5).requires_grad();
    let prediction = no_grad(|| &w * 4.0 + 1.0);
    assert_eq!(prediction.item(), 11.0);
    assert_eq!(prediction.grad_fn(), None);
    assert!(!prediction.requires_grad_flag());
    assert_eq!(prediction.to_string(), "tensor([11.])");
    assert!(matches!(prediction.backward(), Err(GradError::NoGrad)));
}

/// Gradient descent on loss(w) = (2 w - 5)^2 from w = 10 with lr 0.1:
/// grad = 4 (2 w - 5) = 8 w - 20, so w' = w - 0.1 (8 w - 20) = 0.2 w + 2, whose fixed
/// point is 2.5 and whose error shrinks by 0.2 a step: w_20 = 2.5 + 7.5 * 0.2^20.
#[test]
fn gradient_descent_converges_to_two_and_a_half() -> Result<(), GradError> {
    let w = Tensor::scalar(10.0).requires_grad();
    let x = Tensor::scalar(2.0);
    let lr = 0.1;
    for _ in 0..20 {
        let loss = (&w * &x - 5.0).powi(2);
        loss.backward()?;
        no_grad(|| w.sub_(&(w.grad().unwrap() * lr)))?;
        w.zero_grad();
    }
    let expected = 2.5 + 7.5 * 0.2f64.powi(20);
    assert!((w.item() - expected).abs() < 1e-12, "{}", w.item());
    assert!((w.item() - 2.5).abs() < 1e-6);
    Ok(())
}
