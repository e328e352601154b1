//! Code generation from the IR: the forward code, the reverse (adjoint) code, the
//! gradient struct and the graph. Generated names use the reserved prefix `__ad`.

pub mod forward;
pub mod graph;
pub mod items;
pub mod reverse;
pub mod tape;

use crate::ir::{Func, VarId};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub use crate::lower::var_ident as primal;

/// The adjoint of `v`.
pub fn adjoint(v: VarId) -> syn::Ident {
    format_ident!("__adj_{}", v)
}

/// The pullback closure of the call defining `v`.
pub fn pullback(v: VarId) -> syn::Ident {
    format_ident!("__pb_{}", v)
}

/// The tape of the control-flow statement whose first output is `v`.
pub fn tape(v: VarId) -> syn::Ident {
    format_ident!("__tape_{}", v)
}

/// `v` as an operand: a reference to its value (`&__ad_3`, or `__ad_3` when it is one).
pub fn operand(f: &Func, v: VarId) -> TokenStream {
    let id = primal(v);
    if f.vars[v].by_ref {
        quote!(#id)
    } else {
        quote!(&#id)
    }
}

/// An owned copy of `v` (a no-op for scalars; shares the reference for borrowed values).
pub fn cloned(f: &Func, v: VarId) -> TokenStream {
    let id = primal(v);
    let span = f.vars[v].span;
    quote_spanned!(span=> ::core::clone::Clone::clone(&#id))
}

/// A tuple expression or pattern of `items`: `()`, `(a,)`, `(a, b,)`.
pub fn tuple(items: &[TokenStream]) -> TokenStream {
    if items.is_empty() {
        quote!(())
    } else {
        quote!((#(#items,)*))
    }
}

/// The rule value of an op (`::autodiff::__private::Exp` or `...::PowI(__ad_4)`).
pub fn rule_value(r: &crate::ir::RuleRef) -> TokenStream {
    let ty = &r.ty;
    match r.param {
        // `m[(i, j)]`: the index is one tuple value, the rule takes two fields.
        Some(p) if r.ty.to_string().ends_with("Index2") => {
            let p = primal(p);
            quote!(#ty(#p.0, #p.1))
        }
        Some(p) => {
            let p = primal(p);
            quote!(#ty(#p))
        }
        None => quote!(#ty),
    }
}
