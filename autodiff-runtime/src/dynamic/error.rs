//! [`GradError`]: everything the dynamic engine reports instead of panicking.

use std::fmt;

/// A shape as `(rows, columns)`.
pub type Shape = (usize, usize);

/// An error of the dynamic engine. Each message says what went wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GradError {
    /// `backward()` reached an op whose saved values an earlier `backward()` freed.
    GraphFreed {
        /// The PyTorch name of the op (`"PowBackward0"`).
        op: &'static str,
    },
    /// `backward()` (no seed) on a tensor of more than one element.
    NonScalarBackward {
        /// The tensor's shape.
        shape: Shape,
    },
    /// [`grad`](super::grad), [`grad_create_graph`](super::grad_create_graph),
    /// [`hvp`](super::hvp) or [`Tensor::backward_create_graph`](super::Tensor::backward_create_graph)
    /// on an output of more than one element.
    NonScalarOutput {
        /// The function (`"grad"`, `"backward_create_graph"`).
        op: &'static str,
        /// The output's shape.
        shape: Shape,
    },
    /// [`hvp`](super::hvp) given a number of vectors different from the number of inputs.
    VectorCount {
        /// How many inputs were given.
        inputs: usize,
        /// How many vectors were given.
        vectors: usize,
    },
    /// `backward()` on a tensor that neither requires grad nor has a `grad_fn`.
    NoGrad,
    /// An in-place op on a leaf that requires grad, outside `no_grad`.
    InPlaceOnLeaf {
        /// The in-place op (`"sub_"`).
        op: &'static str,
    },
    /// A backward pass reached an op that saved a value for its gradient which was
    /// updated in place since (through the tensor, a handle to it, or a tensor
    /// [`detach`](super::Tensor::detach)ed from it), as PyTorch's "one of the variables
    /// needed for gradient computation has been modified by an inplace operation".
    ModifiedInPlace {
        /// The PyTorch name of the op whose backward needs the value (`"MulBackward0"`).
        op: &'static str,
        /// The value's shape.
        shape: Shape,
        /// The value's version now ([`Tensor::version`](super::Tensor::version)).
        version: u64,
        /// The version the op saved.
        expected: u64,
    },
    /// Two shapes that an op cannot combine.
    ShapeMismatch {
        /// The op (`"add"`, `"matmul"`, `"backward_with_grad"`).
        op: &'static str,
        /// The left (or only) operand's shape.
        left: Shape,
        /// The right operand's (or the expected) shape.
        right: Shape,
        /// What shapes the op accepts.
        hint: &'static str,
    },
    /// `cross_entropy` was given a label outside `0..classes`.
    LabelOutOfRange {
        /// The row of the offending label.
        row: usize,
        /// The label.
        label: usize,
        /// The number of classes (columns of the logits).
        classes: usize,
    },
    /// `cross_entropy` was given a number of labels different from the number of rows.
    LabelCount {
        /// How many labels were given.
        labels: usize,
        /// How many rows the logits have.
        rows: usize,
    },
    /// `requires_grad_(false)` on a tensor that has a `grad_fn`.
    NonLeafRequiresGrad {
        /// The tensor's `grad_fn` name.
        grad_fn: &'static str,
    },
    /// `register_hook` or `retain_grad` on a tensor that does not require grad.
    HookOnConstant {
        /// `"register_hook"` or `"retain_grad"`.
        op: &'static str,
    },
    /// A hook returned a gradient of another shape than the one it was given.
    HookShape {
        /// The shape of the gradient the hook received.
        expected: Shape,
        /// The shape of the gradient it returned.
        returned: Shape,
    },
}

fn shape(s: Shape) -> String {
    format!("({}, {})", s.0, s.1)
}

impl fmt::Display for GradError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GradError::GraphFreed { op } => write!(
                f,
                "trying to backward through the graph a second time: the values {op} saved were \
                 freed by the first backward(); call backward_retain_graph() the first time if you \
                 need to backward through the graph again"
            ),
            GradError::NonScalarBackward { shape: s } => write!(
                f,
                "backward() needs a tensor of one element, but this one has shape {}; call \
                 backward_with_grad(seed) with a seed of that shape (often ones), or reduce the \
                 tensor first with sum() or mean()",
                shape(*s)
            ),
            GradError::NonScalarOutput { op, shape: s } => write!(
                f,
                "{op} needs an output of one element, but this one has shape {}; reduce it \
                 first with sum() or mean(), or take (output * seed).sum() for the \
                 vector-Jacobian product with a seed of that shape",
                shape(*s)
            ),
            GradError::VectorCount { inputs, vectors } => write!(
                f,
                "hvp: {vectors} vectors for {inputs} inputs; pass one vector per input, of the \
                 input's shape"
            ),
            GradError::NoGrad => write!(
                f,
                "this tensor does not require grad and has no grad_fn; call .requires_grad() on \
                 the leaves you want gradients for, before computing with them and outside no_grad"
            ),
            GradError::InPlaceOnLeaf { op } => write!(
                f,
                "a leaf tensor that requires grad is used in the in-place operation {op}; wrap the \
                 update in no_grad(|| ...) or hold a NoGradGuard, as in PyTorch"
            ),
            GradError::ModifiedInPlace {
                op,
                shape: s,
                version,
                expected,
            } => write!(
                f,
                "one of the variables needed for gradient computation has been modified by an \
                 inplace operation: the {} tensor saved by {op} is at version {version}; expected \
                 version {expected} instead. Hint: an in-place op (add_, mul_, zero_, ...) \
                 changed it after {op} saved it; apply the out-of-place op instead, or clone the \
                 value (e.g. `&t + 0.0`) before modifying it in place",
                shape(*s)
            ),
            GradError::ShapeMismatch {
                op,
                left,
                right,
                hint,
            } => write!(
                f,
                "{op}: shapes {} and {} do not match; {hint}",
                shape(*left),
                shape(*right)
            ),
            GradError::LabelOutOfRange {
                row,
                label,
                classes,
            } => write!(
                f,
                "cross_entropy: label {label} of row {row} is out of range for {classes} classes; \
                 labels must be in 0..{classes}"
            ),
            GradError::LabelCount { labels, rows } => write!(
                f,
                "cross_entropy: {labels} labels for {rows} rows of logits; pass one label per row"
            ),
            GradError::NonLeafRequiresGrad { grad_fn } => write!(
                f,
                "requires_grad_(false) on a non-leaf tensor (grad_fn={grad_fn}); call detach() to \
                 get a tensor outside the graph instead"
            ),
            GradError::HookOnConstant { op } => write!(
                f,
                "{op} on a tensor that does not require grad; call .requires_grad() on it (or on \
                 the leaves it is computed from) first"
            ),
            GradError::HookShape { expected, returned } => write!(
                f,
                "a gradient hook returned a gradient of shape {} for a tensor of shape {}; return \
                 a gradient of the tensor's shape, or None to keep the gradient",
                shape(*returned),
                shape(*expected)
            ),
        }
    }
}

impl std::error::Error for GradError {}
