//! From syntax (method names, operators, op functions) to rows of the op table.
//!
//! The ops themselves, their properties and their derivative rules are rows of one table,
//! `autodiff_ops::for_each_op!`, shared with the runtime: the macro writes no derivative
//! formula and knows no op by name. Adding an op is one row there. What is kept here is
//! the syntax that carries no gradient (`floor`, `len`, ...), which is no op at all.

use autodiff_ops::{Arity, OpId, Syntax, OPS};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// How an entry is applied.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    /// `x.f()` / `f(x)`: one differentiable operand.
    Unary,
    /// `x.f(n)` where `n` is a run-time constant that parameterises the rule (`powi`).
    UnaryParam,
    /// `x.f(a, ..)` whose rule is built from the arguments and const generics as written
    /// (`m.rows(i, n)`, `m.fixed_view::<2, 2>(i, j)`; see `lower::views`).
    UnaryParams,
    /// `a.f(b)` / `f(a, b)` / `a op b`: two operands.
    Binary,
    /// `a.f(b, c)`: three operands, every one differentiable; a call of the runtime's
    /// function of that name (`clamp`, `mul_add`).
    Ternary,
    /// Carries no gradient (`floor`, `signum`, `nrows`): evaluated as written.
    NonDiff,
}

/// What a name denotes: an op of the table (and how it is applied), or a method that
/// carries no gradient.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The op, `None` for [`Shape::NonDiff`].
    pub op: Option<OpId>,
    /// How it is applied.
    pub shape: Shape,
}

/// Float methods that carry no gradient (rounding and predicates): evaluated as written.
/// Both supertraits of `Real` define them, so a generic body reaches them through the
/// runtime's `FloatMethods` (see `generics`).
pub const GRADIENT_FREE_FLOAT_METHODS: &[&str] = &[
    "floor",
    "ceil",
    "round",
    "trunc",
    "signum",
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_sign_positive",
    "is_sign_negative",
];

/// Methods that carry no gradient: the [`GRADIENT_FREE_FLOAT_METHODS`] and the
/// comparisons, evaluated as written, on values or not.
fn is_non_differentiable(name: &str) -> bool {
    GRADIENT_FREE_FLOAT_METHODS.contains(&name) || matches!(name, "partial_cmp" | "total_cmp")
}

/// Methods that ask a value for its size (`len`, `nrows`, ...): they carry no gradient,
/// and unlike the other non-differentiable methods they say nothing about the values,
/// so loop bounds and indices may read them on differentiated values.
const SIZE_QUERIES: &[&str] = &["nrows", "ncols", "len", "shape", "is_empty"];

/// Whether `name` is one of the [`SIZE_QUERIES`].
pub fn is_size_query(name: &str) -> bool {
    SIZE_QUERIES.contains(&name)
}

fn entry(op: OpId) -> Entry {
    let shape = match op.info().arity {
        Arity::Unary => Shape::Unary,
        Arity::UnaryParam => Shape::UnaryParam,
        Arity::UnaryParams => Shape::UnaryParams,
        Arity::Binary => Shape::Binary,
        Arity::Ternary => Shape::Ternary,
    };
    Entry {
        op: Some(op),
        shape,
    }
}

/// The rule for method `name`, if there is one.
pub fn method(name: &str) -> Option<Entry> {
    if is_non_differentiable(name) || is_size_query(name) {
        return Some(Entry {
            op: None,
            shape: Shape::NonDiff,
        });
    }
    autodiff_ops::method(name).map(entry)
}

/// The rule for op function `name` (`relu`, `cross_entropy`, ...), if there is one.
pub fn function(name: &str) -> Option<Entry> {
    autodiff_ops::function(name).map(entry)
}

/// The rule for a binary operator.
pub fn operator(op: &syn::BinOp) -> Option<Entry> {
    let name = match op {
        syn::BinOp::Add(_) => "add",
        syn::BinOp::Sub(_) => "sub",
        syn::BinOp::Mul(_) => "mul",
        syn::BinOp::Div(_) => "div",
        _ => return None,
    };
    autodiff_ops::operator(name).map(entry)
}

/// The rule for unary minus.
pub fn negation() -> Entry {
    entry(OpId::Neg)
}

/// The differentiable method names, for error messages.
pub fn supported_methods() -> String {
    OPS.iter()
        .filter(|op| op.syntax == Syntax::Method)
        .map(|op| format!("`{}`", op.name))
        .chain(["`into_owned`", "`clone_owned`", "`map`"].map(String::from))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The marker type of `op` in generated code (`::autodiff::__private::Exp`).
pub fn marker_type(op: OpId) -> TokenStream {
    let m = format_ident!("{}", op.info().marker);
    quote!(::autodiff::__private::#m)
}

/// The runtime function a [`Shape::Ternary`] op calls (`::autodiff::__private::clamp`).
pub fn call_path(op: OpId) -> syn::Path {
    let name = format_ident!("{}", op.info().name);
    syn::parse_quote!(::autodiff::__private::#name)
}
