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

/// Which runtime trait gives the entry's PyTorch name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    /// `ElementwiseRule` types.
    Elementwise,
    /// `BinaryRule` types.
    Binary,
    /// Matrix-level ops (reductions, products, softmax, ...): the `OpName` trait.
    Matrix,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The marker type's name in `autodiff_runtime::rules`.
    pub marker: &'static str,
    /// How it is applied.
    pub shape: Shape,
    /// Where its name comes from.
    pub family: Family,
}

const fn e(marker: &'static str, shape: Shape, family: Family) -> Entry {
    Entry {
        marker,
        shape,
        family,
    }
}

use Family::{Binary as Bin, Elementwise as Elem, Matrix as Mat};
use Shape::{Binary, NonDiff, Unary, UnaryParam};

const METHODS: &[(&str, Entry)] = &[
    ("exp", e("Exp", Unary, Elem)),
    ("ln", e("Ln", Unary, Elem)),
    ("log10", e("Log10", Unary, Elem)),
    ("log2", e("Log2", Unary, Elem)),
    ("sqrt", e("Sqrt", Unary, Elem)),
    ("recip", e("Recip", Unary, Elem)),
    ("sin", e("Sin", Unary, Elem)),
    ("cos", e("Cos", Unary, Elem)),
    ("tan", e("Tan", Unary, Elem)),
    ("tanh", e("Tanh", Unary, Elem)),
    ("sinh", e("Sinh", Unary, Elem)),
    ("cosh", e("Cosh", Unary, Elem)),
    ("abs", e("Abs", Unary, Elem)),
    ("exp_m1", e("ExpM1", Unary, Elem)),
    ("ln_1p", e("Ln1p", Unary, Elem)),
    ("powi", e("PowI", UnaryParam, Elem)),
    ("powf", e("Powf", Binary, Bin)),
    ("max", e("Max", Binary, Bin)),
    ("min", e("Min", Binary, Bin)),
    ("transpose", e("Transpose", Unary, Mat)),
    ("sum", e("Sum", Unary, Mat)),
    ("mean", e("Mean", Unary, Mat)),
    ("norm", e("Norm", Unary, Mat)),
    ("norm_squared", e("NormSquared", Unary, Mat)),
    ("row_sum", e("RowSum", Unary, Mat)),
    ("column_sum", e("ColumnSum", Unary, Mat)),
    ("dot", e("Dot", Binary, Mat)),
    ("component_mul", e("ComponentMul", Binary, Mat)),
    ("component_div", e("ComponentDiv", Binary, Mat)),
    ("floor", e("", NonDiff, Elem)),
    ("ceil", e("", NonDiff, Elem)),
    ("round", e("", NonDiff, Elem)),
    ("trunc", e("", NonDiff, Elem)),
    ("signum", e("", NonDiff, Elem)),
    ("is_nan", e("", NonDiff, Elem)),
    ("is_finite", e("", NonDiff, Elem)),
    ("is_infinite", e("", NonDiff, Elem)),
    ("is_sign_positive", e("", NonDiff, Elem)),
    ("is_sign_negative", e("", NonDiff, Elem)),
    ("partial_cmp", e("", NonDiff, Elem)),
    ("total_cmp", e("", NonDiff, Elem)),
    ("nrows", e("", NonDiff, Elem)),
    ("ncols", e("", NonDiff, Elem)),
    ("len", e("", NonDiff, Elem)),
    ("shape", e("", NonDiff, Elem)),
    ("is_empty", e("", NonDiff, Elem)),
];

const FUNCTIONS: &[(&str, Entry)] = &[
    ("relu", e("Relu", Unary, Elem)),
    ("sigmoid", e("Sigmoid", Unary, Elem)),
    ("softplus", e("Softplus", Unary, Elem)),
    ("softmax", e("Softmax", Unary, Mat)),
    ("log_softmax", e("LogSoftmax", Unary, Mat)),
    ("logsumexp", e("LogSumExp", Unary, Mat)),
    ("cross_entropy", e("CrossEntropy", Binary, Mat)),
    ("mse", e("Mse", Binary, Mat)),
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
    Some(e(marker, Binary, Bin))
}

/// The rule for unary minus.
pub fn negation() -> Entry {
    e("Neg", Unary, Elem)
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

    /// The trait through which the marker's `TORCH_NAME` is read.
    pub fn name_trait(&self) -> TokenStream {
        match self.family {
            Family::Elementwise => quote!(::autodiff::__private::ElementwiseRule),
            Family::Binary => quote!(::autodiff::__private::BinaryRule),
            Family::Matrix => quote!(::autodiff::__private::OpName),
        }
    }
}
