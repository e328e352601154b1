//! The `#[differentiable]` compiler and `#[derive(Tangent)]` as plain library functions:
//! tokens in, tokens out, with every problem reported as a spanned `compile_error!`.
//! `autodiff-macros` forwards to them; tests, snapshot tools and fuzzers call them directly.
//!
//! The compiler: [`differentiable`] parses the function, `lower` turns the body into an
//! IR in A-normal form (`ir`; control flow, exits included, in two structured statements), passes rewrite it (`pass::inline_map` turns elementwise
//! `map` closures into matrix ops, `pass::fuse` turns elementwise chains into fused loops;
//! `pass::shape` says what is known to be a matrix) and prune what needs no derivative
//! (`pass::varied` forward and `pass::activity` backward, `pass::dce`), and `codegen` writes the forward code, the reverse
//! code and the public items. Derivative formulas live in `autodiff-runtime`; `rules` maps syntax to them.
//!
//! ```
//! let out = autodiff_macros_core::differentiable(
//!     quote::quote!(),
//!     quote::quote!(fn sq(x: f64) -> f64 { x * x }),
//! );
//! assert!(out.to_string().contains("fn sq_grad"));
//! let err = autodiff_macros_core::differentiable(
//!     quote::quote!(),
//!     quote::quote!(fn bad(x: f64) -> f64 { let y = async { x }; x }),
//! );
//! assert!(err.to_string().contains("compile_error"));
//! ```
#![warn(missing_docs)]

mod args;
mod check;
mod codegen;
mod derive_dual;
mod derive_tangent;
mod dual_twin;
mod errors;
mod expand;
mod generics;
mod ir;
mod ir_print;
mod ir_verify;
mod lower;
mod methods;
mod pass;
mod rules;
mod sig;

use proc_macro2::TokenStream;

/// Expands `#[differentiable(attr)] item`. Never panics: bad input gives spanned
/// `compile_error!`s next to stand-ins for the items callers use.
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::differentiable(attr, item)
}

/// The IR of the function `item` after lowering and after each pass, printed (see
/// `ir_print`), each checked by the verifier; the error names the pass after which the
/// IR is malformed, or the function's own errors. For tests and snapshot tools.
#[doc(hidden)]
pub fn ir_after_each_pass(
    attr: TokenStream,
    item: TokenStream,
) -> Result<Vec<(&'static str, String)>, String> {
    expand::ir_after_each_pass(attr, item)
}

/// How many loop bodies lowering has lowered on this thread so far: once each, unless a
/// choice of how to lower the body depended on a carried value's activity. For tests.
#[doc(hidden)]
pub fn loop_bodies_lowered() -> usize {
    lower::loop_bodies_lowered()
}

/// On this thread, lower a loop body again whenever its carried values' activity grows
/// (as lowering did before forward activity was a pass), instead of only when a choice
/// made while lowering it changes. For a test that the two give the same expansion.
#[doc(hidden)]
pub fn relower_loops_on_growth(on: bool) {
    lower::relower_loops_on_growth(on)
}

/// Expands `#[derive(Tangent)]` on `input`. Never panics.
pub fn derive_tangent(input: TokenStream) -> TokenStream {
    match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => {
            let twin = derive_dual::twin_items(&input);
            let tangent =
                derive_tangent::expand(input).unwrap_or_else(syn::Error::into_compile_error);
            // A refused struct gets its errors only, not the twin's consequences of them.
            if tangent.to_string().contains("compile_error") {
                tangent
            } else {
                quote::quote!(#tangent #twin)
            }
        }
        Err(e) => e.into_compile_error(),
    }
}
