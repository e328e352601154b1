//! PyTorch's names for the ops, for graphs.

/// An op marker type that knows the name of PyTorch's backward node for it.
///
/// Every marker in [`crate::rules`] implements it: the elementwise and binary rules
/// (`Exp` is `"ExpBackward0"`), and the matrix-level ops (`Transpose` is `"TBackward0"`).
/// Where the operand types change the op (the `Mul` marker between two matrices is the
/// matrix product, `"MmBackward0"`), [`crate::rules::binary_torch_name`] gives the
/// type-directed name.
///
/// `Exp` also carries `ElementwiseRule::TORCH_NAME` (the same string): with both traits
/// in scope, name the trait, as in `<Exp as OpName>::TORCH_NAME`.
pub trait OpName {
    /// The name of PyTorch's backward node (`"SumBackward0"`).
    const TORCH_NAME: &'static str;
}
