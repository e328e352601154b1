//! `#[differentiable]` on an `impl` block: its methods marked `#[differentiable]`.
//!
//! An attribute on a method could emit items only inside its `impl`, and the gradient
//! struct must live outside it, hence the attribute on the block. Each marked method is
//! lowered as a free function whose first parameter is the receiver, named `self_`
//! (`&self` becomes `self_: &Model`, `Self` the type), through the same compiler as any
//! function; the block keeps thin methods that call the free functions (`loss`,
//! `loss_grad`, `loss_vjp`, `loss_graph`, ...) and the gradient struct (`ModelLossGrad`,
//! field `self_` for the receiver) is emitted beside the block. `self.other(..)` inside
//! a marked method calls the other method's free function, so gradients flow through it.

use crate::sig::{MethodInfo, Sibling};
use proc_macro2::{Group, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;

/// The name of the receiver in the free function, and of its field in the gradient struct.
pub const SELF: &str = "self_";

/// Expands `#[differentiable(attr)] impl Type { .. }`.
pub fn expand_impl(attr: TokenStream, mut block: syn::ItemImpl) -> TokenStream {
    let mut errors = Vec::new();
    if !attr.is_empty() {
        errors.push(syn::Error::new_spanned(
            &attr,
            "#[differentiable] on an `impl` block takes no arguments; put `#[differentiable(wrt(..))]` on its methods",
        ));
    }
    if let Some((_, path, _)) = &block.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "#[differentiable] applies to an inherent `impl` block (`impl Model { .. }`), not a trait implementation",
        ));
    }
    let type_name = match &*block.self_ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    };
    let Some(type_name) = type_name.filter(|_| errors.is_empty()) else {
        if errors.is_empty() {
            errors.push(syn::Error::new_spanned(
                &block.self_ty,
                "#[differentiable] applies to an `impl` block of a named type",
            ));
        }
        // The methods are kept without their attributes, so each error is reported once.
        for item in &mut block.items {
            if let syn::ImplItem::Fn(m) = item {
                m.attrs.retain(|a| !is_differentiable(a));
            }
        }
        let errs = errors.iter().map(syn::Error::to_compile_error);
        return quote!(#block #(#errs)*);
    };
    let self_ty = (*block.self_ty).clone();

    // The marked methods, known to each other before any is lowered.
    let mut marked = Vec::new();
    for item in &block.items {
        if let syn::ImplItem::Fn(m) = item {
            if let Some(attr) = m.attrs.iter().find(|a| is_differentiable(a)) {
                let by_ref = match m.sig.receiver() {
                    Some(r) => r.reference.is_some(),
                    None => false,
                };
                marked.push((m.sig.ident.clone(), attr.clone(), by_ref));
            }
        }
    }
    let siblings: Vec<Sibling> = marked
        .iter()
        .map(|(name, _, by_ref)| Sibling {
            name: name.to_string(),
            free: free_ident(&type_name, name),
            by_ref: *by_ref,
        })
        .collect();

    let mut outside = Vec::new();
    let mut items = Vec::new();
    for item in std::mem::take(&mut block.items) {
        let syn::ImplItem::Fn(method) = item else {
            items.push(item);
            continue;
        };
        let Some((_, attr, _)) = marked.iter().find(|(n, _, _)| *n == method.sig.ident) else {
            items.push(syn::ImplItem::Fn(method));
            continue;
        };
        let (free_fn, receiver) =
            match free_function(&method, &type_name, &self_ty, &block.generics) {
                Ok(f) => f,
                Err(e) => {
                    let err = e.to_compile_error();
                    outside.push(err);
                    let mut method = method;
                    method.attrs.retain(|a| !is_differentiable(a));
                    items.push(syn::ImplItem::Fn(method));
                    continue;
                }
            };
        let args = match &attr.meta {
            syn::Meta::List(l) => substitute_self(l.tokens.clone(), None),
            _ => TokenStream::new(),
        };
        let info = MethodInfo {
            grad_struct: format_ident!(
                "{}{}Grad",
                type_name,
                crate::codegen::graph::upper_camel(&method.sig.ident.to_string())
            ),
            siblings: siblings.clone(),
        };
        let free_name = free_fn.sig.ident.clone();
        let expanded = crate::expand::differentiable_fn(args, free_fn, Some(info));
        let (wrappers, rest) = wrappers(expanded, &free_name, &method, receiver, &block.generics);
        items.extend(wrappers);
        outside.push(rest);
    }
    block.items = items;
    quote! {
        #block
        #(#outside)*
    }
}

fn is_differentiable(a: &syn::Attribute) -> bool {
    a.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "differentiable")
}

/// The free function a method is lowered to.
fn free_ident(type_name: &syn::Ident, method: &syn::Ident) -> syn::Ident {
    format_ident!("__ad_{}_{}", type_name, method)
}

/// How the method takes its receiver.
#[derive(Clone, Copy)]
enum Receiver {
    /// `&self`.
    Ref,
    /// `self`.
    Value,
    /// None: an associated function.
    None,
}

/// The method as a free function: the receiver as the parameter `self_`, `self` and
/// `Self` in its body replaced by `self_` and the type, generic over the block's
/// parameters and then the method's.
fn free_function(
    method: &syn::ImplItemFn,
    type_name: &syn::Ident,
    self_ty: &syn::Type,
    block_generics: &syn::Generics,
) -> syn::Result<(syn::ItemFn, Receiver)> {
    let mut sig = method.sig.clone();
    sig.generics = merge_generics(block_generics, &method.sig.generics);
    let mut receiver = Receiver::None;
    let mut inputs = syn::punctuated::Punctuated::new();
    for input in std::mem::take(&mut sig.inputs) {
        match input {
            syn::FnArg::Receiver(r) => {
                if r.mutability.is_some() && r.reference.is_some() {
                    return Err(syn::Error::new_spanned(
                        &r,
                        "a #[differentiable] method takes `&self` or `self`, not `&mut self`",
                    ));
                }
                if r.colon_token.is_some() {
                    return Err(syn::Error::new_spanned(
                        &r,
                        "a #[differentiable] method takes `&self` or `self`, written as such",
                    ));
                }
                let ident = format_ident!("{}", SELF, span = r.self_token.span);
                let (ty, kind): (syn::Type, _) = match &r.reference {
                    Some(_) => (syn::parse_quote!(&#self_ty), Receiver::Ref),
                    None => (self_ty.clone(), Receiver::Value),
                };
                receiver = kind;
                inputs.push(syn::parse_quote!(#ident: #ty));
            }
            typed => inputs.push(substitute_fn_arg(typed, self_ty)),
        }
    }
    sig.inputs = inputs;
    sig.ident = free_ident(type_name, &method.sig.ident);
    let output = substitute_self(sig.output.to_token_stream(), Some(self_ty));
    sig.output = syn::parse2(output)?;
    let body = substitute_self(method.block.to_token_stream(), Some(self_ty));
    let block: syn::Block = syn::parse2(body)?;
    let attrs = method
        .attrs
        .iter()
        .filter(|a| !is_differentiable(a))
        .cloned()
        .collect();
    let vis = method.vis.clone();
    Ok((
        syn::ItemFn {
            attrs,
            vis,
            sig,
            block: Box::new(block),
        },
        receiver,
    ))
}

/// The generics of `outer` then `inner` (lifetimes first), with both `where` clauses.
fn merge_generics(outer: &syn::Generics, inner: &syn::Generics) -> syn::Generics {
    let is_lifetime = |p: &&syn::GenericParam| matches!(p, syn::GenericParam::Lifetime(_));
    let lifetimes = outer.params.iter().chain(&inner.params).filter(is_lifetime);
    let others = outer
        .params
        .iter()
        .chain(&inner.params)
        .filter(|p| !is_lifetime(p));
    let params: syn::punctuated::Punctuated<syn::GenericParam, syn::Token![,]> =
        lifetimes.chain(others).cloned().collect();
    let predicates: syn::punctuated::Punctuated<syn::WherePredicate, syn::Token![,]> = outer
        .where_clause
        .iter()
        .chain(&inner.where_clause)
        .flat_map(|w| w.predicates.iter().cloned())
        .collect();
    syn::Generics {
        lt_token: (!params.is_empty()).then(Default::default),
        gt_token: (!params.is_empty()).then(Default::default),
        params,
        where_clause: (!predicates.is_empty()).then(|| syn::WhereClause {
            where_token: Default::default(),
            predicates,
        }),
    }
}

/// The name a generic parameter declares.
fn param_name(p: &syn::GenericParam) -> String {
    match p {
        syn::GenericParam::Lifetime(l) => l.lifetime.to_string(),
        syn::GenericParam::Type(t) => t.ident.to_string(),
        syn::GenericParam::Const(c) => c.ident.to_string(),
    }
}

fn substitute_fn_arg(arg: syn::FnArg, self_ty: &syn::Type) -> syn::FnArg {
    let tokens = substitute_self(arg.to_token_stream(), Some(self_ty));
    syn::parse2(tokens.clone()).unwrap_or(arg)
}

/// `tokens` with `self` as `self_` and, given a type, `Self` as that type.
fn substitute_self(tokens: TokenStream, self_ty: Option<&syn::Type>) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|t| -> Vec<TokenTree> {
            match t {
                TokenTree::Ident(i) if i == "self" => {
                    vec![TokenTree::Ident(proc_macro2::Ident::new(SELF, i.span()))]
                }
                TokenTree::Ident(i) if i == "Self" && self_ty.is_some() => {
                    let ty = self_ty.map(|t| t.to_token_stream()).unwrap_or_default();
                    let g = Group::new(proc_macro2::Delimiter::None, ty);
                    vec![TokenTree::Group(g)]
                }
                TokenTree::Group(g) => {
                    let mut inner = Group::new(g.delimiter(), substitute_self(g.stream(), self_ty));
                    inner.set_span(g.span());
                    vec![TokenTree::Group(inner)]
                }
                other => vec![other],
            }
        })
        .collect()
}

/// Splits the free function's expansion into the methods of the block (one per public
/// entry point: `name`, `name_grad`, `name_vjp`, `name_graph`, ..., each calling its free
/// function) and what stays outside it (the free functions, hidden from the docs, the
/// gradient struct, the errors).
fn wrappers(
    expanded: TokenStream,
    free: &syn::Ident,
    method: &syn::ImplItemFn,
    receiver: Receiver,
    block_generics: &syn::Generics,
) -> (Vec<syn::ImplItem>, TokenStream) {
    let file: syn::File = match syn::parse2(expanded.clone()) {
        Ok(f) => f,
        Err(_) => return (Vec::new(), expanded),
    };
    let prefix = free.to_string();
    let mut methods = Vec::new();
    let mut rest = Vec::new();
    for item in file.items {
        let syn::Item::Fn(mut f) = item else {
            rest.push(item.into_token_stream());
            continue;
        };
        let name = f.sig.ident.to_string();
        let suffix = name
            .strip_prefix(&prefix)
            .filter(|s| s.is_empty() || s.starts_with('_'));
        if let Some(suffix) = suffix {
            methods.push(wrapper(&f, free, method, receiver, suffix, block_generics));
            f.attrs.retain(|a| !a.path().is_ident("doc"));
            f.attrs.push(syn::parse_quote!(#[doc(hidden)]));
        }
        rest.push(f.into_token_stream());
    }
    (methods, quote!(#(#rest)*))
}

/// The method `name + suffix` of the block, calling the free function `f`.
fn wrapper(
    f: &syn::ItemFn,
    free: &syn::Ident,
    method: &syn::ImplItemFn,
    receiver: Receiver,
    suffix: &str,
    block_generics: &syn::Generics,
) -> syn::ImplItem {
    let mut sig = f.sig.clone();
    // The block's parameters are in scope already: the method declares only its own.
    let outer: Vec<String> = block_generics.params.iter().map(param_name).collect();
    sig.generics.params = std::mem::take(&mut sig.generics.params)
        .into_iter()
        .filter(|p| !outer.contains(&param_name(p)))
        .collect();
    if sig.generics.params.is_empty() {
        sig.generics.lt_token = None;
        sig.generics.gt_token = None;
    }
    sig.ident = format_ident!(
        "{}{}",
        method.sig.ident,
        suffix,
        span = method.sig.ident.span()
    );
    let mut inputs = syn::punctuated::Punctuated::<syn::FnArg, syn::Token![,]>::new();
    let mut args = Vec::new();
    let mut has_self = false;
    for input in &f.sig.inputs {
        if let syn::FnArg::Typed(pt) = input {
            if let syn::Pat::Ident(pi) = &*pt.pat {
                if pi.ident == SELF {
                    has_self = true;
                    args.push(quote!(self));
                    continue;
                }
                let id = &pi.ident;
                args.push(quote!(#id));
            }
            inputs.push(input.clone());
        }
    }
    if has_self {
        let r: syn::FnArg = match receiver {
            Receiver::Ref => syn::parse_quote_spanned!(method.sig.span()=> &self),
            _ => syn::parse_quote_spanned!(method.sig.span()=> self),
        };
        inputs.insert(0, r);
    }
    sig.inputs = inputs;
    let attrs: Vec<&syn::Attribute> = if suffix.is_empty() {
        // The method itself keeps the user's attributes and docs.
        method
            .attrs
            .iter()
            .filter(|a| !is_differentiable(a))
            .collect()
    } else {
        f.attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect()
    };
    // The free function's docs name it; the method's name the method.
    let from = free.to_string();
    let to = method.sig.ident.to_string();
    let attrs: Vec<syn::Attribute> = attrs
        .into_iter()
        .map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => {
                    let text = s.value().replace(&from, &to);
                    syn::parse_quote!(#[doc = #text])
                }
                _ => a.clone(),
            },
            _ => a.clone(),
        })
        .collect();
    let callee = format_ident!("{}{}", free, suffix);
    let fish = crate::generics::ItemGenerics::of(&f.sig).turbofish();
    let vis = &method.vis;
    let lints = crate::codegen::items::allow_lints();
    syn::parse_quote! {
        #(#attrs)*
        #lints
        #[inline]
        #vis #sig {
            #callee #fish(#(#args),*)
        }
    }
}
