//! Printing matches PyTorch's (`torch/_tensor_str.py`, default print options). Expected
//! strings are PyTorch's own outputs: from its documentation (`set_printoptions`,
//! `logspace`, `zeros`) or its rules applied by hand where noted.

use autodiff_runtime::dynamic::{GradError, Tensor};

fn logspace(start: f64, end: f64, steps: usize) -> Tensor {
    let values: Vec<f64> = (0..steps)
        .map(|i| 10f64.powf(start + (end - start) * i as f64 / (steps - 1) as f64))
        .collect();
    Tensor::vector(&values)
}

fn arange(n: usize) -> Tensor {
    Tensor::vector(&(0..n).map(|i| i as f64).collect::<Vec<_>>())
}

#[test]
fn scalars_print_as_one_element_vectors() {
    assert_eq!(Tensor::scalar(9.0).to_string(), "tensor([9.])");
    assert_eq!(Tensor::scalar(-12.0).to_string(), "tensor([-12.])");
    assert_eq!(
        Tensor::scalar(2.0).requires_grad().to_string(),
        "tensor([2.], requires_grad=True)"
    );
    // torch.set_printoptions docstring: torch.tensor([1.12345]) -> tensor([1.1235])
    assert_eq!(Tensor::vector(&[1.12345]).to_string(), "tensor([1.1235])");
}

#[test]
fn number_formats_follow_pytorch() {
    // torch.logspace documentation examples.
    assert_eq!(
        logspace(-10.0, 10.0, 5).to_string(),
        "tensor([1.0000e-10, 1.0000e-05, 1.0000e+00, 1.0000e+05, 1.0000e+10])"
    );
    assert_eq!(
        logspace(3.0, 10.0, 5).to_string(),
        "tensor([1.0000e+03, 5.6234e+04, 3.1623e+06, 1.7783e+08, 1.0000e+10])"
    );
    assert_eq!(
        logspace(0.1, 1.0, 5).to_string(),
        "tensor([ 1.2589,  2.1135,  3.5481,  5.9566, 10.0000])"
    );
    // Integers right-aligned to the widest, with the trailing dot.
    assert_eq!(
        Tensor::vector(&[1.0, -2.0, 10.0]).to_string(),
        "tensor([ 1., -2., 10.])"
    );
    // A value below 1e-4 among non-integers switches to scientific notation.
    assert_eq!(
        Tensor::vector(&[1e-5, 1.0]).to_string(),
        "tensor([1.0000e-05, 1.0000e+00])"
    );
    // Non-finite values are spelled as Python does and padded to the finite width.
    assert_eq!(
        Tensor::vector(&[f64::NAN, 1.0]).to_string(),
        "tensor([nan, 1.])"
    );
    assert_eq!(
        Tensor::vector(&[f64::INFINITY, 1.5]).to_string(),
        "tensor([   inf, 1.5000])"
    );
}

#[test]
fn matrices_print_one_row_per_line() -> Result<(), GradError> {
    // torch.zeros documentation example.
    assert_eq!(
        Tensor::zeros(2, 3).to_string(),
        "tensor([[0., 0., 0.],\n        [0., 0., 0.]])"
    );
    let a = Tensor::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]).requires_grad();
    assert_eq!(
        a.to_string(),
        "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)"
    );
    assert_eq!(
        (&a * 2.0).to_string(),
        "tensor([[2., 4.],\n        [6., 8.]], grad_fn=<MulBackward0>)"
    );
    assert_eq!(
        Tensor::from_row_slice(1, 3, &[1.0, 2.0, 3.0]).to_string(),
        "tensor([[1., 2., 3.]])"
    );
    assert_eq!(format!("{a:?}"), a.to_string(), "Debug is PyTorch's repr");
    Ok(())
}

#[test]
fn long_vectors_wrap_at_eighty_columns() {
    // Width 3 ("29."), so (80 - 7) / (3 + 2) = 14 numbers a line.
    assert_eq!(
        arange(30).to_string(),
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        \
         14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n        \
         28., 29.])"
    );
    // A suffix that would pass column 80 goes on its own line, indented.
    assert_eq!(
        arange(14).requires_grad().to_string(),
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.],\n       \
         requires_grad=True)"
    );
}

#[test]
fn large_tensors_are_summarized() {
    assert_eq!(
        arange(10000).to_string(),
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9970e+03, 9.9980e+03,\n        \
         9.9990e+03])"
    );
    let row = "[1., 1., 1.,  ..., 1., 1., 1.]";
    let expected = format!(
        "tensor([{row},\n        {row},\n        {row},\n        ...,\n        {row},\n        {row},\n        {row}])"
    );
    assert_eq!(Tensor::ones(100, 100).to_string(), expected);
}

#[test]
fn empty_tensors() {
    assert_eq!(Tensor::vector(&[]).to_string(), "tensor([])");
    assert_eq!(Tensor::zeros(0, 3).to_string(), "tensor([], size=(0, 3))");
}
