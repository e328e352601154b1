//! Calls by bare name (`helper(x)`) and what they need from the callee, found through a
//! trait so that a callee that is not differentiable is a spanned error that says so.
//!
//! The macro cannot see whether `helper` is `#[differentiable]`. Naming its generated
//! items directly (its pullback) fails with "cannot find" errors about those items when it
//! is not. So every differentiable function also emits a hidden trait, implemented for
//! the runtime's `Probe`, whose methods forward to its items, and a caller reaches them
//! as methods of `Probe`: `Probe.differentiable_helper(&helper)`. Beside each such call,
//! the caller declares a trait of its own with the same methods on `&Probe`, which method
//! resolution takes only where `helper`'s trait is not in scope (a by-value receiver
//! matches first). Its check method requires a trait that nothing implements and whose
//! `#[diagnostic::on_unimplemented]` message is ours: "`helper` is not differentiable:
//! mark it `#[differentiable]` or give it a `custom_vjp`", at the call. Its other methods
//! type-check the caller's code (their cotangents are `NotDifferentiated`) and never run,
//! since the program does not compile.
//!
//! The `wrt` check of such a call is a type check too: the check method returns one
//! marker per parameter, `Differentiated` or `NotDifferentiated` (from the callee's
//! `wrt`), and each argument that depends on a differentiated parameter requires its
//! marker to be `Differentiated`, with the message naming the callee and the argument.
//! Calls by path (`module::g(x)`) keep naming the callee's items.
//!
//! The trait is named as the function (see [`callee_trait`]), so a call by bare name finds
//! the callee wherever the function itself is in scope: defined in the same module, or
//! imported by `use module::g;` or `use module::*;`.

use super::items::{cotangent_types, named_lifetimes, Names};
use crate::ir::{Block, Func, Op, Stmt};
use crate::sig::Signature;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;

/// The callee of a call written with a bare name (`helper(x)`), reached through traits.
pub fn local_callee(path: &syn::Path) -> Option<&syn::Ident> {
    match path.segments.first() {
        Some(s)
            if path.leading_colon.is_none()
                && path.segments.len() == 1
                && matches!(s.arguments, syn::PathArguments::None) =>
        {
            Some(&s.ident)
        }
        _ => None,
    }
}

fn check_method(name: &syn::Ident) -> syn::Ident {
    format_ident!("differentiable_{}", name.unraw())
}

/// The callee's trait is named as the function is: a trait lives in the type namespace
/// and a function in the value namespace, so they do not clash, and whatever brings the
/// function into scope brings the trait too (`use module::g;` as well as `use module::*;`).
/// A type or module of the same name as a differentiable function in one module clashes.
fn callee_trait(name: &syn::Ident) -> syn::Ident {
    name.clone()
}

/// The trait a differentiable function emits for its callers (see the module docs): its
/// `wrt` markers, and its pullback and straight-line VJP as methods of `Probe`. `stub`:
/// the function has errors and emits no pullback, so the trait has only the check.
pub fn callee_items(item: &syn::ItemFn, sig: &Signature, names: &Names, stub: bool) -> TokenStream {
    let vis = &item.vis;
    let tr = callee_trait(&names.name);
    let check = check_method(&names.name);
    let markers: Vec<TokenStream> = sig
        .params
        .iter()
        .map(|p| {
            if p.wrt {
                quote!(::autodiff::__private::Differentiated)
            } else {
                quote!(::autodiff::__private::NotDifferentiated)
            }
        })
        .collect();
    let marker_ty = super::tuple(&markers);
    let marker_value = super::tuple(&markers);
    let methods = if stub {
        quote!()
    } else {
        let (inputs, lifetimes) = named_lifetimes(&item.sig);
        let ret = &sig.ret;
        let cot = cotangent_types(sig);
        let args: Vec<&syn::Ident> = sig.params.iter().map(|p| &p.ident).collect();
        let (pullback, direct) = (&names.pullback, &names.direct);
        let plain_inputs = item.sig.inputs.iter();
        // A generic callee's methods are generic the same way (lifetimes first).
        let generics = &item.sig.generics;
        let own_lifetimes: Vec<&syn::LifetimeParam> = generics.lifetimes().collect();
        let others: Vec<&syn::GenericParam> = generics
            .params
            .iter()
            .filter(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
            .collect();
        let where_clause = &generics.where_clause;
        quote! {
            #[inline(always)]
            fn #pullback<#(#own_lifetimes,)* #(#lifetimes,)* #(#others,)* __AdF>(self, _f: __AdF, #(#inputs),*) -> (#ret, impl ::core::ops::FnOnce(#ret) -> #cot) #where_clause {
                #pullback(#(#args),*)
            }
            #[inline(always)]
            fn #direct<#(#own_lifetimes,)* #(#others,)* __AdF>(self, _f: __AdF, #(#plain_inputs,)* __ad_dout: #ret) -> (#ret, #cot) #where_clause {
                #direct(#(#args,)* __ad_dout)
            }
        }
    };
    let lints = super::items::allow_lints();
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #lints
        #vis trait #tr: ::core::marker::Sized {
            #[inline(always)]
            fn #check<__AdF>(self, _f: &__AdF) -> #marker_ty {
                #marker_value
            }
            #methods
        }
        #lints
        impl #tr for ::autodiff::__private::Probe {}
    }
}

/// The caller's stand-ins for the callee's methods, on `&Probe` (see the module docs).
fn stand_in(callee: &syn::Ident, nargs: usize, span: Span) -> TokenStream {
    let check = check_method(callee);
    let pullback = format_ident!("__ad_pullback_{}", callee.unraw());
    let direct = format_ident!("__ad_vjp_{}", callee.unraw());
    let nd: Vec<TokenStream> = (0..nargs)
        .map(|_| quote!(::autodiff::__private::NotDifferentiated))
        .collect();
    let cot = super::tuple(&nd);
    let yes: Vec<TokenStream> = (0..nargs)
        .map(|_| quote!(::autodiff::__private::Differentiated))
        .collect();
    let yes = super::tuple(&yes);
    let tys: Vec<syn::Ident> = (0..nargs).map(|k| format_ident!("A{}", k)).collect();
    let vals: Vec<syn::Ident> = (0..nargs).map(|k| format_ident!("_a{}", k)).collect();
    let message = format!(
        "`{callee}` is not a differentiable function: mark it `#[differentiable]` or give it a `custom_vjp`"
    );
    let label = format!("`{callee}` is called here with a differentiated argument");
    let note = format!(
        "a `#[differentiable]` function from another module is called by its path (`module::{callee}(..)`) or imported (`use module::{callee};`)"
    );
    quote_spanned! {span=>
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        trait Differentiable {}
        #[allow(non_snake_case, dead_code, clippy::all)]
        trait NotDifferentiable: ::core::marker::Sized {
            fn #check<F: Differentiable>(self, _f: &F) -> #yes {
                ::core::unreachable!()
            }
            fn #pullback<R, #(#tys),*>(self, _r: ::core::marker::PhantomData<fn() -> R>, #(#vals: #tys),*) -> (R, fn(R) -> #cot) {
                ::core::unreachable!()
            }
            fn #direct<R, #(#tys),*>(self, _r: ::core::marker::PhantomData<fn() -> R>, #(#vals: #tys,)* _d: R) -> (R, #cot) {
                ::core::unreachable!()
            }
        }
        impl NotDifferentiable for &::autodiff::__private::Probe {}
    }
}

/// `__ad_pullback_g(args)` for a call of `path`: through the traits for a bare name.
pub fn pullback_call(path: &syn::Path, args: &[TokenStream], span: Span) -> TokenStream {
    match local_callee(path) {
        Some(callee) => {
            let stand_in = stand_in(callee, args.len(), span);
            let method = format_ident!("__ad_pullback_{}", callee.unraw());
            quote_spanned! {span=>
                {
                    #stand_in
                    ::autodiff::__private::Probe.#method(::autodiff::__private::result_type(|| #path(#(#args),*)), #(#args),*)
                }
            }
        }
        None => {
            let callee = super::items::pullback_path(path);
            quote_spanned!(span=> #callee(#(#args),*))
        }
    }
}

/// `__ad_vjp_g(args, g)` for a call of `path`: through the traits for a bare name.
pub fn direct_call(
    path: &syn::Path,
    args: &[TokenStream],
    g: &TokenStream,
    span: Span,
) -> TokenStream {
    match local_callee(path) {
        Some(callee) => {
            let stand_in = stand_in(callee, args.len(), span);
            let method = format_ident!("__ad_vjp_{}", callee.unraw());
            quote_spanned! {span=>
                {
                    #stand_in
                    ::autodiff::__private::Probe.#method(::autodiff::__private::result_type(|| #path(#(#args),*)), #(#args,)* #g)
                }
            }
        }
        None => {
            let direct = super::items::direct_path(path);
            quote_spanned!(span=> #direct(#(#args,)* #g))
        }
    }
}

/// The checks of the calls by bare name in `f` that receive a differentiated value, as
/// items: that the callee is differentiable (one error per callee, at its first such
/// call), and that it differentiates every such argument.
pub fn checks(f: &Func) -> TokenStream {
    let mut calls = Vec::new();
    collect(f, &f.body, &mut calls);
    let mut out = Vec::new();
    let mut done: Vec<&syn::Ident> = Vec::new();
    for (callee, _path, span, nargs, _) in &calls {
        if done.contains(callee) {
            continue;
        }
        done.push(callee);
        let stand_in = stand_in(callee, *nargs, *span);
        let check = check_method(callee);
        let wrt = calls
            .iter()
            .filter(|c| c.0 == *callee)
            .flat_map(|c| c.4.iter());
        out.push(quote_spanned! {*span=>
            const _: () = {
                #stand_in
                #[allow(dead_code, clippy::all)]
                fn check() {
                    // A unit value named after the callee, not `&#path`: a generic callee's
                    // type arguments are unknown here; rustc's note then names `helper`.
                    #[allow(non_camel_case_types)]
                    struct #callee;
                    let markers = ::autodiff::__private::Probe.#check(&#callee);
                    #(#wrt)*
                }
            };
        });
    }
    quote!(#(#out)*)
}

/// Per call by bare name with a differentiated argument: the callee, its path, the
/// call's span, its argument count and the `wrt` checks of its differentiated arguments.
type Call<'f> = (&'f syn::Ident, &'f syn::Path, Span, usize, Vec<TokenStream>);

fn collect<'f>(f: &'f Func, block: &'f Block, out: &mut Vec<Call<'f>>) {
    for s in &block.stmts {
        match s {
            Stmt::Eqn(e) => {
                // Calls in a `map` closure or a fused chain are checked the same way.
                if let Op::Map(inner) | Op::Fused(inner) | Op::FusedSum(inner) = &e.op {
                    collect(inner, &inner.body, out);
                    continue;
                }
                let Op::Call { path, .. } = &e.op else {
                    continue;
                };
                let Some(callee) = local_callee(path) else {
                    continue;
                };
                let wrt: Vec<TokenStream> = (0..e.args.len())
                    .filter(|&k| f.vars[e.args[k]].varied)
                    .map(|k| {
                        // An expression written in the call is spanned where it is
                        // written; a named variable where it was defined, which may be
                        // another statement (another call of the same callee): point at
                        // this call instead.
                        let arg = &f.vars[e.args[k]];
                        let arg_span = if arg.name.is_some() { e.span } else { arg.span };
                        let idx = syn::Index {
                            index: k as u32,
                            span: arg_span,
                        };
                        let message = format!(
                            "argument {} of `{callee}` depends on a differentiated parameter, but `{callee}` does not differentiate with respect to that parameter (see its `wrt`); wrap the argument in `stop_gradient(..)` if that is intended",
                            k + 1
                        );
                        quote_spanned! {arg_span=>
                            {
                                #[diagnostic::on_unimplemented(message = #message, label = "this argument depends on a differentiated parameter")]
                                trait DifferentiatedArgument {}
                                impl DifferentiatedArgument for ::autodiff::__private::Differentiated {}
                                fn differentiates<M: DifferentiatedArgument>(_m: &M) {}
                                differentiates(&markers.#idx);
                            }
                        }
                    })
                    .collect();
                if !wrt.is_empty() {
                    out.push((callee, path, e.span, e.args.len(), wrt));
                }
            }
            other => {
                for b in other.blocks() {
                    collect(f, b, out);
                }
            }
        }
    }
}
