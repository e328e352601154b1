//! PyTorch autograd semantics of the dynamic engine, one behaviour per test.

use std::cell::Cell;
use std::rc::Rc;

use autodiff_runtime::dynamic::{is_grad_enabled, no_grad, GradError, NoGradGuard, Tensor};

fn row(values: &[f64]) -> Tensor {
    Tensor::from_row_slice(1, values.len(), values)
}

#[test]
fn gradients_accumulate_until_zero_grad() -> Result<(), GradError> {
    let w = Tensor::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]).requires_grad();
    // d sum(w * w) / dw = 2 w
    (&w * &w).sum().backward()?;
    (&w * &w).sum().backward()?;
    assert_eq!(w.grad().unwrap().value(), w.value() * 4.0);
    w.zero_grad();
    assert!(w.grad().is_none());
    (&w * &w).sum().backward()?;
    assert_eq!(w.grad().unwrap().value(), w.value() * 2.0);
    Ok(())
}

#[test]
fn backward_on_many_elements_names_backward_with_grad() {
    let x = Tensor::vector(&[1.0, 2.0, 3.0]).requires_grad();
    let y = &x * 2.0;
    let err = y.backward().unwrap_err();
    assert_eq!(err, GradError::NonScalarBackward { shape: (3, 1) });
    let message = err.to_string();
    assert!(message.contains("backward_with_grad(seed)"), "{message}");
    assert!(message.contains("(3, 1)"), "{message}");
}

#[test]
fn backward_with_grad_is_a_vector_jacobian_product() -> Result<(), GradError> {
    let x = Tensor::vector(&[1.0, 2.0, 3.0]).requires_grad();
    let y = x.powi(2);
    // J = diag(2 x), so J^T v = 2 x v.
    y.backward_with_grad(&Tensor::vector(&[1.0, 0.1, 0.01]))?;
    assert_eq!(x.grad().unwrap().value().as_slice(), &[2.0, 0.4, 0.06]);
    let err = x
        .powi(2)
        .backward_with_grad(&Tensor::vector(&[1.0, 2.0]))
        .unwrap_err();
    assert!(err.to_string().contains("(3, 1) and (2, 1)"), "{err}");
    Ok(())
}

#[test]
fn backward_without_anything_requiring_grad_is_an_error() {
    let x = Tensor::scalar(2.0);
    let err = (&x * 3.0).backward().unwrap_err();
    assert_eq!(err, GradError::NoGrad);
    assert!(err.to_string().contains(".requires_grad()"));
}

#[test]
fn ops_that_save_nothing_can_backward_twice_as_in_pytorch() -> Result<(), GradError> {
    let x = Tensor::scalar(1.0).requires_grad();
    let y = -(&x + 1.0) - &x;
    y.backward()?;
    y.backward()?;
    assert_eq!(x.grad().unwrap().item(), -4.0);
    Ok(())
}

#[test]
fn a_freed_graph_is_detected_before_any_gradient_moves() -> Result<(), GradError> {
    let a = Tensor::scalar(3.0).requires_grad();
    let b = Tensor::scalar(4.0).requires_grad();
    let shared = &a * &b;
    shared.backward()?;
    // A new graph on top of the freed MulBackward0: b's path is fine, a's is not.
    let loss = &shared + &b;
    assert_eq!(
        loss.backward(),
        Err(GradError::GraphFreed { op: "MulBackward0" })
    );
    assert_eq!(b.grad().unwrap().item(), 3.0, "nothing was added to b");
    Ok(())
}

#[test]
fn no_grad_closure_records_nothing_and_returns_its_value() {
    let w = Tensor::scalar(2.0).requires_grad();
    let (y, enabled) = no_grad(|| ((&w * 3.0).exp(), is_grad_enabled()));
    assert!(!enabled);
    assert!(is_grad_enabled());
    assert_eq!(y.grad_fn(), None);
    assert!(y.is_leaf());
    assert!(!y.requires_grad_flag());
    assert!(matches!(y.backward(), Err(GradError::NoGrad)));
}

#[test]
fn no_grad_guard_nests_and_restores_the_previous_mode() {
    let w = Tensor::scalar(2.0).requires_grad();
    {
        let _outer = NoGradGuard::new();
        assert!(!is_grad_enabled());
        {
            let _inner = NoGradGuard::new();
            assert_eq!((&w * 2.0).grad_fn(), None);
        }
        assert!(!is_grad_enabled(), "the inner guard restores 'off'");
        assert_eq!((&w * 2.0).grad_fn(), None);
        let nested = no_grad(|| no_grad(is_grad_enabled));
        assert!(!nested);
    }
    assert!(is_grad_enabled());
    assert_eq!((&w * 2.0).grad_fn(), Some("MulBackward0"));
}

#[test]
fn no_grad_restores_the_mode_after_a_panic() {
    let result = std::panic::catch_unwind(|| no_grad(|| panic!("inside no_grad")));
    assert!(result.is_err());
    assert!(is_grad_enabled());
}

#[test]
fn in_place_updates_on_a_leaf_that_requires_grad_need_no_grad() -> Result<(), GradError> {
    let w = row(&[1.0, 2.0]).requires_grad();
    let step = row(&[0.5, 0.5]);
    for (result, op) in [
        (w.sub_(&step), "sub_"),
        (w.add_(&step), "add_"),
        (w.mul_(&step), "mul_"),
        (w.zero_(), "zero_"),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err, GradError::InPlaceOnLeaf { op });
        assert!(err.to_string().contains("no_grad"), "{err}");
    }
    assert_eq!(w.value().as_slice(), &[1.0, 2.0], "errors change nothing");
    no_grad(|| -> Result<(), GradError> {
        w.sub_(&step)?;
        assert_eq!(w.value().as_slice(), &[0.5, 1.5]);
        w.add_(&Tensor::scalar(1.0))?;
        assert_eq!(w.value().as_slice(), &[1.5, 2.5]);
        w.mul_(&row(&[2.0, 4.0]))?;
        assert_eq!(w.value().as_slice(), &[3.0, 10.0]);
        w.zero_()?;
        assert_eq!(w.value().as_slice(), &[0.0, 0.0]);
        Ok(())
    })?;
    assert!(w.requires_grad_flag() && w.is_leaf());
    Ok(())
}

#[test]
fn in_place_updates_of_plain_tensors_and_their_limits() -> Result<(), GradError> {
    let c = Tensor::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    c.add_(&row(&[10.0, 20.0]))?;
    assert_eq!(c.value().as_slice(), &[11.0, 13.0, 22.0, 24.0]);
    let err = c.add_(&row(&[1.0, 2.0, 3.0])).unwrap_err();
    assert!(err.to_string().contains("(2, 2) and (1, 3)"), "{err}");
    assert_eq!(c.version(), 1, "a failed update does not count");
    // On a tensor with a grad_fn, or with an operand that requires grad, the update is
    // recorded, as in PyTorch (tests/dynamic_inplace.rs has PyTorch's own cases).
    let w = Tensor::scalar(1.0).requires_grad();
    let y = &w * 2.0;
    y.add_(&Tensor::scalar(1.0))?;
    assert_eq!((y.item(), y.grad_fn()), (3.0, Some("AddBackward0")));
    let plain = Tensor::scalar(0.0);
    plain.add_(&w)?;
    assert_eq!(plain.grad_fn(), Some("AddBackward0"));
    assert!(!plain.is_leaf() && plain.requires_grad_flag());
    (&y + &plain).backward()?;
    assert_eq!(w.grad().unwrap().item(), 3.0);
    Ok(())
}

#[test]
fn in_place_update_makes_a_pending_backward_that_needs_the_value_fail() -> Result<(), GradError> {
    let w = Tensor::scalar(3.0).requires_grad();
    let loss = w.powi(2);
    no_grad(|| w.sub_(&Tensor::scalar(1.0)))?;
    // PowBackward0 needs w = 3, which is now at version 1: refused, as in PyTorch.
    let err = loss.backward().unwrap_err();
    assert_eq!(
        err,
        GradError::ModifiedInPlace {
            op: "PowBackward0",
            shape: (1, 1),
            version: 1,
            expected: 0
        }
    );
    assert!(w.grad().is_none(), "no gradient moved");
    assert_eq!(w.item(), 2.0);
    Ok(())
}

#[test]
fn requires_grad_flag_changes_in_place() -> Result<(), GradError> {
    let x = Tensor::scalar(2.0);
    assert!(!x.requires_grad_flag());
    x.requires_grad_(true)?;
    assert!(x.requires_grad_flag());
    let y = &x * &x;
    assert_eq!(y.grad_fn(), Some("MulBackward0"));
    assert_eq!(
        y.requires_grad_(false),
        Err(GradError::NonLeafRequiresGrad {
            grad_fn: "MulBackward0"
        })
    );
    y.requires_grad_(true)?;
    x.requires_grad_(false)?;
    assert_eq!((&x * 2.0).grad_fn(), None);
    Ok(())
}

#[test]
fn detach_cuts_the_graph() -> Result<(), GradError> {
    let x = Tensor::scalar(3.0).requires_grad();
    let y = &x * &x;
    let d = y.detach();
    assert!(d.is_leaf() && !d.requires_grad_flag());
    assert_eq!(d.item(), 9.0);
    // z = detach(x^2) * x: only the direct path counts, dz/dx = 9.
    (&d * &x).backward()?;
    assert_eq!(x.grad().unwrap().item(), 9.0);
    Ok(())
}

#[test]
fn retain_grad_keeps_a_non_leaf_gradient() -> Result<(), GradError> {
    let x = Tensor::scalar(2.0).requires_grad();
    let y = &x * 3.0;
    let kept = &y + 0.0;
    kept.retain_grad()?;
    let loss = (&y * &kept).sum();
    loss.backward_retain_graph()?;
    // loss = y * kept with kept = y: dloss/dkept = y = 6, dloss/dy (not retained) unset.
    assert_eq!(kept.grad().unwrap().item(), 6.0);
    assert!(
        y.grad().is_none(),
        "a non-leaf keeps no gradient by default"
    );
    assert_eq!(x.grad().unwrap().item(), 36.0);
    loss.backward()?;
    assert_eq!(
        kept.grad().unwrap().item(),
        12.0,
        "retained gradients accumulate"
    );
    assert_eq!(
        Tensor::scalar(1.0).retain_grad(),
        Err(GradError::HookOnConstant { op: "retain_grad" })
    );
    x.retain_grad()?; // a no-op on a leaf
    Ok(())
}

#[test]
fn hooks_read_and_replace_gradients() -> Result<(), GradError> {
    let x = Tensor::scalar(2.0).requires_grad();
    let y = x.powi(3);
    let seen = Rc::new(Cell::new(0.0));
    let seen_in_hook = Rc::clone(&seen);
    y.register_hook(move |g| {
        seen_in_hook.set(g.item());
        None
    })?;
    // Doubles the gradient flowing into y, so x's becomes 2 * 3 x^2 = 24.
    y.register_hook(|g| Some(g * 2.0))?;
    y.retain_grad()?;
    let x_calls = Rc::new(Cell::new(0));
    let x_calls_in_hook = Rc::clone(&x_calls);
    x.register_hook(move |g| {
        x_calls_in_hook.set(x_calls_in_hook.get() + 1);
        Some(g + 1.0)
    })?;
    (&y * 5.0).backward()?;
    assert_eq!(seen.get(), 5.0, "the first hook saw the incoming gradient");
    assert_eq!(
        y.grad().unwrap().item(),
        10.0,
        "retain_grad sees the hooked gradient"
    );
    assert_eq!(x.grad().unwrap().item(), 10.0 * 12.0 + 1.0);
    assert_eq!(
        x_calls.get(),
        1,
        "a leaf hook runs once with the summed gradient"
    );
    Ok(())
}

#[test]
fn hook_errors() -> Result<(), GradError> {
    assert_eq!(
        Tensor::scalar(1.0).register_hook(|_| None),
        Err(GradError::HookOnConstant {
            op: "register_hook"
        })
    );
    let x = Tensor::scalar(1.0).requires_grad();
    x.register_hook(|_| Some(Tensor::vector(&[1.0, 2.0])))?;
    let err = (&x * 2.0).backward().unwrap_err();
    assert_eq!(
        err,
        GradError::HookShape {
            expected: (1, 1),
            returned: (2, 1)
        }
    );
    Ok(())
}

#[test]
fn grad_fn_names_follow_pytorch() {
    let a = Tensor::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]).requires_grad();
    let b = Tensor::from_row_slice(2, 2, &[0.5, 1.0, 1.5, 2.0]).requires_grad();
    let cases: Vec<(Tensor, &str)> = vec![
        (&a + &b, "AddBackward0"),
        (&a - &b, "SubBackward0"),
        (&a * &b, "MulBackward0"),
        (&a / &b, "DivBackward0"),
        (-&a, "NegBackward0"),
        (&a - 1.0, "SubBackward0"),
        (1.0 - &a, "RsubBackward1"),
        (2.0 * &a, "MulBackward0"),
        (a.powi(2), "PowBackward0"),
        (a.powf(0.5), "PowBackward0"),
        (a.pow(&b), "PowBackward1"),
        (a.matmul(&b), "MmBackward0"),
        (a.t(), "TBackward0"),
        (a.sum(), "SumBackward0"),
        (a.mean(), "MeanBackward0"),
        (a.exp(), "ExpBackward0"),
        (a.ln(), "LogBackward0"),
        (a.sqrt(), "SqrtBackward0"),
        (a.sin(), "SinBackward0"),
        (a.cos(), "CosBackward0"),
        (a.tanh(), "TanhBackward0"),
        (a.sigmoid(), "SigmoidBackward0"),
        (a.relu(), "ReluBackward0"),
        (a.abs(), "AbsBackward0"),
        (a.softmax(), "SoftmaxBackward0"),
        (a.log_softmax(), "LogSoftmaxBackward0"),
        (a.cross_entropy(&[0, 1]), "NllLossBackward0"),
        (a.mse(&b), "MseLossBackward0"),
        (a.maximum(&b), "MaximumBackward0"),
    ];
    for (t, name) in cases {
        assert_eq!(t.grad_fn(), Some(name));
        assert!(!t.is_leaf());
    }
    assert_eq!(a.grad_fn(), None);
    assert!(a.is_leaf());
}

#[test]
fn graph_labels_leaves_with_shapes_and_lists_ops_in_order() {
    let x = Tensor::from_row_slice(4, 3, &[0.1; 12]);
    let w = Tensor::zeros(3, 2).requires_grad();
    let b = Tensor::zeros(1, 2).requires_grad();
    let loss = (x.matmul(&w) + &b).relu().sum();
    let graph = loss.graph();
    let nodes = graph.nodes();
    let summary: Vec<(&str, &str, Vec<usize>)> = nodes
        .iter()
        .map(|n| (n.op.as_str(), n.label.as_str(), n.inputs.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("AccumulateGrad", "(3, 2)", vec![]),
            ("MmBackward0", "", vec![0]),
            ("AccumulateGrad", "(1, 2)", vec![]),
            ("AddBackward0", "", vec![1, 2]),
            ("ReluBackward0", "", vec![3]),
            ("SumBackward0", "", vec![4]),
        ]
    );
    assert!(graph.to_svg().contains("MmBackward0"));
    assert_eq!(w.graph().nodes().len(), 1);
    assert_eq!(x.graph().nodes()[0].label, "(4, 3)");
}

#[test]
fn shared_subgraphs_appear_once_in_the_graph() {
    let x = Tensor::scalar(1.0).requires_grad();
    let y = x.exp();
    let z = &y * &y + &x;
    let ops: Vec<String> = z.graph().nodes().iter().map(|n| n.op.clone()).collect();
    assert_eq!(
        ops,
        [
            "AccumulateGrad",
            "ExpBackward0",
            "MulBackward0",
            "AddBackward0"
        ]
    );
}

#[test]
fn long_chains_backward_and_drop_without_overflowing_the_stack() -> Result<(), GradError> {
    let x = Tensor::scalar(1.0).requires_grad();
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = &y * 1.0;
    }
    y.backward()?;
    assert_eq!(x.grad().unwrap().item(), 1.0);
    drop(y);
    Ok(())
}

#[test]
#[should_panic(expected = "add: shapes (2, 3) and (3, 2) do not match")]
fn operator_shape_mismatch_panics_naming_both_shapes() {
    let _ = Tensor::zeros(2, 3) + Tensor::zeros(3, 2);
}

#[test]
#[should_panic(expected = "matmul: shapes (2, 3) and (2, 3) do not match")]
fn matmul_shape_mismatch_panics_naming_both_shapes() {
    let _ = Tensor::zeros(2, 3).matmul(&Tensor::zeros(2, 3));
}

#[test]
fn checked_variants_return_errors() {
    let (a, b) = (Tensor::zeros(2, 3), Tensor::zeros(3, 2));
    for result in [
        a.try_add(&b),
        a.try_sub(&b),
        a.try_mul(&b),
        a.try_div(&b),
        a.try_mse(&b),
    ] {
        let err = result.unwrap_err();
        assert!(err.to_string().contains("(2, 3) and (3, 2)"), "{err}");
    }
    assert!(a.try_matmul(&a).is_err());
    assert!(a.try_matmul(&b).is_ok());
    assert_eq!(
        a.try_cross_entropy(&[0]).unwrap_err(),
        GradError::LabelCount { labels: 1, rows: 2 }
    );
    let err = a.try_cross_entropy(&[0, 3]).unwrap_err();
    assert_eq!(
        err,
        GradError::LabelOutOfRange {
            row: 1,
            label: 3,
            classes: 3
        }
    );
    assert!(err.to_string().contains("0..3"), "{err}");
}

#[test]
fn losses_are_stable_for_huge_logits() -> Result<(), GradError> {
    let logits =
        Tensor::from_row_slice(2, 3, &[1000.0, 0.0, -1000.0, 0.0, 1000.0, 1000.0]).requires_grad();
    let loss = logits.cross_entropy(&[0, 1]);
    // Row 0: -log softmax = 0; row 1: two equal maxima, -ln(1/2). Mean: ln(2)/2.
    assert!((loss.item() - std::f64::consts::LN_2 / 2.0).abs() < 1e-12);
    loss.backward()?;
    let g = logits.grad().unwrap().value();
    assert!(g.iter().all(|v| v.is_finite()));
    // (softmax - onehot) / rows: row 1 is (0, 0.5 - 1, 0.5) / 2.
    assert!((g[(1, 1)] + 0.25).abs() < 1e-12 && (g[(1, 2)] - 0.25).abs() < 1e-12);
    let s = logits.softmax().value();
    assert!(s.iter().all(|v| v.is_finite()));
    Ok(())
}

#[test]
fn clone_shares_the_tensor() -> Result<(), GradError> {
    let w = Tensor::scalar(1.0).requires_grad();
    let alias = w.clone();
    (&w * 4.0).backward()?;
    assert_eq!(alias.grad().unwrap().item(), 4.0);
    no_grad(|| alias.sub_(&Tensor::scalar(1.0)))?;
    assert_eq!(w.item(), 0.0);
    Ok(())
}

#[test]
fn copy_overwrites_the_value_under_the_in_place_rules() -> Result<(), GradError> {
    let w = row(&[1.0, 2.0]).requires_grad();
    let src = row(&[5.0, 6.0]);
    assert_eq!(w.copy_(&src), Err(GradError::InPlaceOnLeaf { op: "copy_" }));
    no_grad(|| w.copy_(&src))?;
    assert_eq!(w.value().as_slice(), &[5.0, 6.0]);
    // The source is not affected by later in-place updates of the copy.
    no_grad(|| w.add_(&Tensor::scalar(1.0)))?;
    assert_eq!(src.value().as_slice(), &[5.0, 6.0]);
    let err = no_grad(|| w.copy_(&Tensor::scalar(1.0))).unwrap_err();
    assert!(err.to_string().contains("(1, 2) and (1, 1)"), "{err}");
    Ok(())
}
