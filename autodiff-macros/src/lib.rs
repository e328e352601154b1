//! Procedural macros of the `autodiff` crate: `#[differentiable]`. Use them through `autodiff`.
//!
//! The macro is a small compiler: [`expand`] parses the function, `lower` turns the
//! body into an IR in A-normal form (`ir`), passes (`pass::activity`, `pass::dce`) prune
//! what needs no derivative, and `codegen` writes the forward code, the reverse code and
//! the public items. Derivative formulas live in `autodiff-runtime`; `rules` maps syntax
//! to them.
#![warn(missing_docs)]

mod args;
mod check;
mod codegen;
mod errors;
mod expand;
mod ir;
mod lower;
mod pass;
mod rules;
mod sig;

use proc_macro::TokenStream;

/// Differentiates a function at compile time.
///
/// For `fn name(p1: T1, ...) -> R` it emits `name` (the same function), `name_grad`
/// (value and gradient, when `R` is `f32`/`f64`), `name_vjp` (value and vector-Jacobian
/// product), the gradient struct `NameGrad` with one field per differentiated parameter,
/// and `name_graph()`. Arguments: `wrt(a, b)` differentiates only those parameters;
/// `custom_vjp = backward` takes the gradient from the user's `backward` function.
///
/// | supported | refused with a compile error |
/// | --- | --- |
/// | `let`, `let mut`, assignment, `+= -= *= /=`, blocks, literals, `&x` | `while`, `loop`, `match`, `return`, `break` |
/// | `+ - * /`, unary `-`, comparisons and casts (no gradient) | closures other than `.map(\|e\| ..)` |
/// | `powi powf exp ln log10 log2 sqrt recip sin cos tan tanh sinh cosh abs max min exp_m1 ln_1p` | `unsafe`, `async`, `?`, macros, items |
/// | `relu sigmoid softplus softmax log_softmax logsumexp cross_entropy mse stop_gradient` | `&mut`, unknown methods on differentiated values |
/// | `if`/`else` (statement and value), `for i in a..b` | loop bounds or conditions that depend on a differentiated value |
/// | calls to other `#[differentiable]` functions | generic functions, methods |
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::differentiable(attr.into(), item.into()).into()
}
