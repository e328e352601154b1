//! `name_jvp`, `name_hvp` and `name_hessian`: forward mode and forward-over-reverse, by
//! running the function (for `jvp`) or its gradient (for `hvp`) on dual numbers.
//!
//! A function written for `f64` runs as its dual twin (`dual_twin`), the same code
//! generic over the scalar; a function generic over `T: Real` runs as itself at
//! `Dual<T>`. Each differentiated argument is lifted with its tangent (`re` the value,
//! `eps` the tangent), every other float argument with a zero tangent; the result's
//! parts are split again. The Hessian is one `hvp` per column (a unit tangent each).

use crate::args::Args;
use crate::codegen::items::{allow_lints, Names};
use crate::generics::ItemGenerics;
use crate::sig::{Kind, Signature};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use syn::ext::IdentExt;
use syn::{GenericParam, Ident};

/// The items `args` asks for (`jvp`, `hvp`), or the errors that prevent them.
pub fn generate(
    item: &syn::ItemFn,
    sig: &Signature,
    args: &Args,
    scalars: &[Ident],
) -> Result<TokenStream, syn::Error> {
    check(item, sig, args)?;
    let names = Names::for_sig(&item.sig.ident, Some(sig));
    let base = item.sig.ident.unraw();
    let generics = ItemGenerics::of(&item.sig);
    let decl = generics.decl(&[]);
    let where_clause = generics.where_clause();
    let user_fish = generics.turbofish();
    let struct_generics =
        generics.for_fields(sig.params.iter().filter(|p| p.wrt).map(|p| &p.owned_ty));
    let (_, struct_args, _) = struct_generics.split_for_impl();
    let grad_struct = &names.grad_struct;
    let grad_ty = quote!(#grad_struct #struct_args);
    let vis = &item.vis;
    let inputs = &item.sig.inputs;
    let ret = &sig.ret;
    let lints = allow_lints();

    // The scalar the function computes in, its dual, and what runs on the dual.
    let (elem, target, target_grad, fish) = match scalars.first() {
        Some(t) => {
            let dual = quote!(::autodiff::Dual<#t>);
            let fish = dual_turbofish(&item.sig.generics, Some(t), &dual);
            (
                t.to_token_stream(),
                item.sig.ident.clone(),
                names.grad.clone(),
                fish,
            )
        }
        None => {
            let float = Ident::new(crate::dual_twin::float_of(&item.sig), item.sig.ident.span());
            let dual = quote!(::autodiff::Dual<#float>);
            let fish = dual_turbofish(&item.sig.generics, None, &dual);
            let twin = crate::dual_twin::twin_ident(&item.sig.ident);
            let twin_grad = format_ident!("{}_grad", twin);
            (float.to_token_stream(), twin, twin_grad, fish)
        }
    };

    let taken: Vec<String> = sig.params.iter().map(|p| p.ident.to_string()).collect();
    let fresh = |name: &str| {
        if taken.iter().any(|t| t == name) {
            format_ident!("__ad_{}", name)
        } else {
            format_ident!("{}", name)
        }
    };
    let comma = if inputs.is_empty() || inputs.trailing_punct() {
        quote!()
    } else {
        quote!(,)
    };

    let mut out = TokenStream::new();
    if args.jvp.is_some() {
        let jvp = format_ident!("{}_jvp", base);
        let tangent = fresh("tangent");
        let (lifts, passed) = lifted_args(sig, &tangent);
        let doc = format!(
            "Value of [`{name}`] and its directional derivative along `{tangent}` (one tangent per \
             differentiated parameter), in one forward pass on dual numbers (forward mode).",
            name = item.sig.ident
        );
        out.extend(quote! {
            #[doc = #doc]
            #lints
            #vis fn #jvp #decl(#inputs #comma #tangent: &#grad_ty) -> (#ret, #ret) #where_clause {
                #(#lifts)*
                let __ad_out = #target #fish(#(#passed),*);
                ::autodiff::__private::dual_split(__ad_out)
            }
        });
    }
    if args.hvp.is_some() {
        let hvp = format_ident!("{}_hvp", base);
        let hessian = format_ident!("{}_hessian", base);
        let v = fresh("v");
        let (lifts, passed) = lifted_args(sig, &v);
        let wrt: Vec<&Ident> = sig
            .params
            .iter()
            .filter(|p| p.wrt)
            .map(|p| &p.ident)
            .collect();
        let g_parts: Vec<Ident> = wrt
            .iter()
            .map(|w| format_ident!("__ad_g_{}", w.unraw()))
            .collect();
        let h_parts: Vec<Ident> = wrt
            .iter()
            .map(|w| format_ident!("__ad_h_{}", w.unraw()))
            .collect();
        let hvp_doc = format!(
            "Value of [`{name}`], its gradient, and the Hessian times `{v}`: forward-over-reverse \
             (the gradient's code run once on dual numbers), a small constant multiple of the \
             gradient's cost.",
            name = item.sig.ident
        );
        let hessian_doc = format!(
            "Value of [`{name}`], its gradient, and its full Hessian over the differentiated \
             parameters flattened in `Tangent` order (row and column `i` are the `i`-th scalar \
             of the gradient struct): one Hessian-vector product per column, for small \
             parameter counts.",
            name = item.sig.ident
        );
        let grad = &names.grad;
        let again: Vec<TokenStream> = sig
            .params
            .iter()
            .map(|p| {
                let id = &p.ident;
                if p.by_ref {
                    quote!(#id)
                } else {
                    quote!(::core::clone::Clone::clone(&#id))
                }
            })
            .collect();
        out.extend(quote! {
            #[doc = #hvp_doc]
            #lints
            #vis fn #hvp #decl(#inputs #comma #v: &#grad_ty) -> (#ret, #grad_ty, #grad_ty) #where_clause {
                #(#lifts)*
                let (__ad_y, __ad_g) = #target_grad #fish(#(#passed),*);
                let (__ad_y, _) = ::autodiff::__private::dual_split(__ad_y);
                #(let (#g_parts, #h_parts) = ::autodiff::__private::dual_split(__ad_g.#wrt);)*
                (__ad_y, #grad_struct { #(#wrt: #g_parts),* }, #grad_struct { #(#wrt: #h_parts),* })
            }

            #[doc = #hessian_doc]
            #lints
            #vis fn #hessian #decl(#inputs) -> (#ret, #grad_ty, ::autodiff::nalgebra::DMatrix<#elem>) #where_clause {
                let (_, __ad_g0) = #grad #user_fish(#(#again),*);
                ::autodiff::__private::hessian_columns(__ad_g0, |__ad_v: &#grad_ty| {
                    #hvp #user_fish(#(#again,)* __ad_v)
                })
            }
        });
    }
    Ok(out)
}

/// What makes the dual items impossible: a method, a custom VJP, `hvp` on a function
/// whose result is not a scalar.
fn check(item: &syn::ItemFn, sig: &Signature, args: &Args) -> Result<(), syn::Error> {
    let flag = args.hvp.as_ref().or(args.jvp.as_ref()).expect("asked for");
    if sig.method.is_some() || item.sig.receiver().is_some() {
        return Err(syn::Error::new(
            flag.span(),
            format!("`{flag}` is not available on a method yet: write the method's body as a free #[differentiable({flag})] function and call it"),
        ));
    }
    if args.custom_vjp.is_some() {
        return Err(syn::Error::new(
            flag.span(),
            format!("`{flag}` needs the function's body, which a `custom_vjp` function replaces: leave out one of the two"),
        ));
    }
    if let Some(h) = &args.hvp {
        if !sig.ret_scalar {
            return Err(syn::Error::new_spanned(
                &sig.ret,
                format!(
                    "`{h}` needs a scalar result (`f64`, `f32` or the scalar type parameter): a Hessian is of a scalar function, and this one returns `{}`; keep `jvp` for it, or differentiate a scalar loss",
                    sig.ret.to_token_stream().to_string().replace(" < ", "<").replace(" >", ">").replace("< ", "<")
                ),
            ));
        }
    }
    Ok(())
}

/// `let` statements lifting every float argument (with its tangent from `tangent.name`
/// when differentiated, else with a zero tangent), and the arguments as passed.
fn lifted_args(sig: &Signature, tangent: &Ident) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let mut lifts = Vec::new();
    let mut passed = Vec::new();
    for p in &sig.params {
        let id = &p.ident;
        if p.kind == Kind::Constant || (p.kind == Kind::Struct && !p.wrt) {
            passed.push(quote!(#id));
            continue;
        }
        let lifted = format_ident!("__ad_lift_{}", id.unraw());
        let src = if p.by_ref { quote!(#id) } else { quote!(&#id) };
        let value = if p.wrt {
            let t = if p.kind == Kind::Sequence {
                quote!(&#tangent.#id[..])
            } else {
                quote!(&#tangent.#id)
            };
            quote!(::autodiff::__private::dual_lift(#src, #t))
        } else {
            quote!(::autodiff::__private::dual_constant(#src))
        };
        lifts.push(quote!(let #lifted = #value;));
        passed.push(if p.by_ref {
            quote!(&#lifted)
        } else {
            quote!(#lifted)
        });
    }
    (lifts, passed)
}

/// `::<Dual<T>, N>`: the turbofish that runs the function (or its twin, whose first
/// parameter is the scalar) at `dual`.
fn dual_turbofish(
    generics: &syn::Generics,
    scalar: Option<&Ident>,
    dual: &TokenStream,
) -> TokenStream {
    let mut list = Vec::new();
    if scalar.is_none() {
        list.push(dual.clone());
    }
    for p in &generics.params {
        match p {
            GenericParam::Type(t) if Some(&t.ident) == scalar => list.push(dual.clone()),
            GenericParam::Type(t) => list.push(t.ident.to_token_stream()),
            GenericParam::Const(c) => list.push(c.ident.to_token_stream()),
            GenericParam::Lifetime(_) => {}
        }
    }
    quote!(::<#(#list),*>)
}
