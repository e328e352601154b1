//! The table from syntax (method names, operators, op functions) to runtime rules.
//!
//! The macro writes no derivative formula: each entry names a marker type in
//! `autodiff_runtime::rules`, whose implementation holds the math. Adding an op is one
//! row here and one rule in the runtime.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// How an entry is applied.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    /// `x.f()` / `f(x)`: one differentiable operand.
    Unary,
    /// `x.f(n)` where `n` is a run-time constant that parameterises the rule (`powi`).
    UnaryParam,
    /// `a.f(b)` / `f(a, b)` / `a op b`: two operands.
    Binary,
    /// Carries no gradient (`floor`, `signum`, `nrows`): evaluated as written.
    NonDiff,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The marker type's name in `autodiff_runtime::rules`.
    pub marker: &'static str,
    /// How it is applied.
    pub shape: Shape,
}

/// The elementwise unary rules a fused loop can run (`pass::fuse`): exactly the unary
/// supertraits of the runtime's `FusedValue`, so that the generated loop body compiles
/// for four-lane vectors as well as for scalars.
pub const FUSABLE_UNARY: &[&str] = &[
    "Neg", "Exp", "Ln", "Log10", "Log2", "Sqrt", "Recip", "Sin", "Cos", "Tan", "Tanh", "Sinh",
    "Cosh", "Abs", "ExpM1", "Ln1p", "Relu", "Sigmoid", "Softplus", "PowI",
];

const fn e(marker: &'static str, shape: Shape) -> Entry {
    Entry { marker, shape }
}

use Shape::{Binary, NonDiff, Unary, UnaryParam};

const METHODS: &[(&str, Entry)] = &[
    ("exp", e("Exp", Unary)),
    ("ln", e("Ln", Unary)),
    ("log10", e("Log10", Unary)),
    ("log2", e("Log2", Unary)),
    ("sqrt", e("Sqrt", Unary)),
    ("recip", e("Recip", Unary)),
    ("sin", e("Sin", Unary)),
    ("cos", e("Cos", Unary)),
    ("tan", e("Tan", Unary)),
    ("tanh", e("Tanh", Unary)),
    ("sinh", e("Sinh", Unary)),
    ("cosh", e("Cosh", Unary)),
    ("abs", e("Abs", Unary)),
    ("exp_m1", e("ExpM1", Unary)),
    ("ln_1p", e("Ln1p", Unary)),
    ("powi", e("PowI", UnaryParam)),
    ("powf", e("Powf", Binary)),
    ("max", e("Max", Binary)),
    ("min", e("Min", Binary)),
    ("transpose", e("Transpose", Unary)),
    ("sum", e("Sum", Unary)),
    ("mean", e("Mean", Unary)),
    ("norm", e("Norm", Unary)),
    ("norm_squared", e("NormSquared", Unary)),
    ("row_sum", e("RowSum", Unary)),
    ("column_sum", e("ColumnSum", Unary)),
    ("dot", e("Dot", Binary)),
    ("component_mul", e("ComponentMul", Binary)),
    ("component_div", e("ComponentDiv", Binary)),
    ("floor", e("", NonDiff)),
    ("ceil", e("", NonDiff)),
    ("round", e("", NonDiff)),
    ("trunc", e("", NonDiff)),
    ("signum", e("", NonDiff)),
    ("is_nan", e("", NonDiff)),
    ("is_finite", e("", NonDiff)),
    ("is_infinite", e("", NonDiff)),
    ("is_sign_positive", e("", NonDiff)),
    ("is_sign_negative", e("", NonDiff)),
    ("partial_cmp", e("", NonDiff)),
    ("total_cmp", e("", NonDiff)),
    ("nrows", e("", NonDiff)),
    ("ncols", e("", NonDiff)),
    ("len", e("", NonDiff)),
    ("shape", e("", NonDiff)),
    ("is_empty", e("", NonDiff)),
];

const FUNCTIONS: &[(&str, Entry)] = &[
    ("relu", e("Relu", Unary)),
    ("sigmoid", e("Sigmoid", Unary)),
    ("softplus", e("Softplus", Unary)),
    ("softmax", e("Softmax", Unary)),
    ("log_softmax", e("LogSoftmax", Unary)),
    ("logsumexp", e("LogSumExp", Unary)),
    ("cross_entropy", e("CrossEntropy", Binary)),
    ("mse", e("Mse", Binary)),
];

/// The rule for method `name`, if there is one.
pub fn method(name: &str) -> Option<Entry> {
    METHODS.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// The rule for op function `name` (`relu`, `cross_entropy`, ...), if there is one.
pub fn function(name: &str) -> Option<Entry> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// The rule for a binary operator.
pub fn operator(op: &syn::BinOp) -> Option<Entry> {
    let marker = match op {
        syn::BinOp::Add(_) | syn::BinOp::AddAssign(_) => "Add",
        syn::BinOp::Sub(_) | syn::BinOp::SubAssign(_) => "Sub",
        syn::BinOp::Mul(_) | syn::BinOp::MulAssign(_) => "Mul",
        syn::BinOp::Div(_) | syn::BinOp::DivAssign(_) => "Div",
        _ => return None,
    };
    Some(e(marker, Binary))
}

/// The rule for unary minus.
pub fn negation() -> Entry {
    e("Neg", Unary)
}

/// The differentiable method names, for error messages.
pub fn supported_methods() -> String {
    METHODS
        .iter()
        .filter(|(_, e)| e.shape != NonDiff)
        .map(|(n, _)| format!("`{n}`"))
        .chain(std::iter::once("`map`".to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Entry {
    /// The marker type's path in generated code.
    pub fn ty(&self) -> TokenStream {
        let m = format_ident!("{}", self.marker);
        quote!(::autodiff::__private::#m)
    }

    /// The trait through which the marker's `TORCH_NAME` is read (every marker has it).
    pub fn name_trait(&self) -> TokenStream {
        quote!(::autodiff::__private::OpName)
    }
}
