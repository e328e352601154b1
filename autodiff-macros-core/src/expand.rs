//! `#[differentiable]` from tokens to tokens: parse, check, lower, run the passes,
//! generate; on any error, the fallback items plus every error found.

use crate::args::Args;
use crate::codegen::items;
use crate::errors::Errors;
use crate::{generics, lower, pass, sig};
use proc_macro2::TokenStream;

/// A pass over the IR.
type Pass = fn(&mut crate::ir::Func);

/// The passes, in the order they run after lowering.
const PASSES: &[(&str, Pass)] = &[
    ("varied", pass::varied::run),
    ("copies", pass::copies::run),
    ("inline_map", pass::inline_map::run),
    ("fuse", pass::fuse::run),
    ("activity", pass::activity::run),
    ("dce", pass::dce::run),
    ("recompute", pass::recompute::run),
];

/// See [`crate::ir_after_each_pass`].
pub fn ir_after_each_pass(
    attr: TokenStream,
    item: TokenStream,
) -> Result<Vec<(&'static str, String)>, String> {
    let mut func: syn::ItemFn = syn::parse2(item).map_err(|e| e.to_string())?;
    let args: Args = syn::parse2(attr).map_err(|e| e.to_string())?;
    let mut errors = Errors::default();
    let scalars = generics::check(&func.sig.generics, &mut errors);
    let _scope = generics::Scope::enter(&scalars);
    generics::rewrite_body(&mut func, &scalars);
    let sig = sig::analyze(&func, &args, &mut errors);
    if let Some(s) = &sig {
        generics::check_params(s, &scalars, &mut errors);
    }
    let lowered = sig
        .as_ref()
        .and_then(|s| lower::lower(&func, s, &mut errors));
    if let Err(e) = errors.finish() {
        return Err(e.to_string());
    }
    let mut f = lowered.ok_or("the function did not lower")?;
    let mut out = Vec::new();
    crate::ir_verify::verify(&f).map_err(|e| format!("after lowering: {e}"))?;
    out.push(("lower", crate::ir_print::print(&f)));
    for (name, pass) in PASSES {
        pass(&mut f);
        crate::ir_verify::verify(&f).map_err(|e| format!("after {name}: {e}"))?;
        out.push((*name, crate::ir_print::print(&f)));
    }
    Ok(out)
}

/// Expands `#[differentiable(attr)] item`. Never panics: bad input gives `compile_error!`s.
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Ok(block) = syn::parse2::<syn::ItemImpl>(item.clone()) {
        let alias = impl_alias(&block);
        let out = crate::methods::expand_impl(attr, block);
        return match alias {
            Some(alias) => crate::codegen::short_paths::shorten(out, &alias),
            None => out,
        };
    }
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = syn::Error::new(
                proc_macro2::Span::call_site(),
                "#[differentiable] applies to a function (`fn name(...) -> f64 { ... }`)",
            )
            .to_compile_error();
            return quote::quote!(#item #err);
        }
    };
    // A function with a receiver is a method written outside a `#[differentiable]`
    // block: its expansion (an error) stays inside the `impl`, where no `use` may go.
    let method = func.sig.receiver().is_some();
    let alias = quote::format_ident!("__ad_p_{}", func.sig.ident);
    let out = differentiable_fn(attr, func, None);
    if method {
        out
    } else {
        crate::codegen::short_paths::shorten(out, &alias)
    }
}

/// The name of the runtime's alias for the expansion of an `impl` block: after its
/// type and first method, so that it differs from the alias of any other expansion.
fn impl_alias(block: &syn::ItemImpl) -> Option<syn::Ident> {
    let syn::Type::Path(p) = &*block.self_ty else {
        return None;
    };
    let ty = &p.path.segments.last()?.ident;
    let first = block.items.iter().find_map(|item| match item {
        syn::ImplItem::Fn(m) => Some(&m.sig.ident),
        _ => None,
    })?;
    Some(quote::format_ident!("__ad_p_{}_{}", ty, first))
}

/// Expands `#[differentiable(attr)]` on the function `func`; `method` when it is a method
/// of a `#[differentiable] impl` block, lowered as a free function.
pub fn differentiable_fn(
    attr: TokenStream,
    mut func: syn::ItemFn,
    method: Option<crate::sig::MethodInfo>,
) -> TokenStream {
    let args: Args = match syn::parse2(attr) {
        Ok(a) => a,
        Err(e) => return items::fallback(&func, None, e),
    };
    let mut errors = Errors::default();
    // A type parameter bounded by `Real` stands for the scalar: the body's float literals
    // become its values before anything reads the body.
    let scalars = generics::check(&func.sig.generics, &mut errors);
    if errors.len() > 0 {
        // The stand-ins would be generic over the refused parameters too: only the errors.
        return match errors.finish() {
            Err(e) => items::fallback(&func, None, e),
            Ok(()) => quote::quote!(#func),
        };
    }
    let _scope = generics::Scope::enter(&scalars);
    generics::rewrite_body(&mut func, &scalars);
    // What stands in for the function when it has errors: itself, or for a generic one
    // its signature (its body, ordinary Rust only for the macro, would add errors).
    let stand_in = generics::stand_in(&func, &scalars);
    let mut sig = sig::analyze(&func, &args, &mut errors);
    if let Some(s) = &mut sig {
        s.method = method;
    }
    // The stand-ins' gradient struct would mix the scalar types too: only the errors.
    let mixed = sig
        .as_ref()
        .is_some_and(|s| !generics::check_params(s, &scalars, &mut errors));
    if mixed {
        return match errors.finish() {
            Err(e) => items::fallback(&stand_in, None, e),
            Ok(()) => quote::quote!(#func),
        };
    }
    if let (Some(backward), Some(s)) = (&args.custom_vjp, &sig) {
        return match errors.finish() {
            Ok(()) => items::generate_custom(&func, s, backward),
            Err(e) => items::fallback(&stand_in, Some(s), e),
        };
    }
    let lowered = match &sig {
        Some(s) => lower::lower(&func, s, &mut errors),
        None => None,
    };
    match (errors.finish(), lowered, &sig) {
        (Ok(()), Some(mut f), Some(s)) => {
            for (_, pass) in PASSES {
                pass(&mut f);
            }
            let mut out = items::generate(&func, s, &f, args.checkpoint.is_some());
            if args.wants_dual() {
                out.extend(dual_items(&args, &func, s, &scalars));
            }
            out
        }
        (Err(e), _, s) => items::fallback(&stand_in, s.as_ref(), e),
        (Ok(()), _, s) => items::fallback(
            &stand_in,
            s.as_ref(),
            syn::Error::new_spanned(
                &func.sig.ident,
                "#[differentiable] could not lower this function",
            ),
        ),
    }
}

/// `name_jvp`, `name_hvp`, `name_hessian` and, for a function written for `f64` or `f32`,
/// its dual twin's expansion (see `dual_twin`); or the errors that prevent them.
fn dual_items(
    args: &Args,
    func: &syn::ItemFn,
    sig: &sig::Signature,
    scalars: &[proc_macro2::Ident],
) -> TokenStream {
    let wrappers = match crate::codegen::dual_items::generate(func, sig, args, scalars) {
        Ok(w) => w,
        Err(e) => return e.to_compile_error(),
    };
    if !scalars.is_empty() {
        return wrappers;
    }
    let structs: Vec<proc_macro2::Ident> = sig
        .params
        .iter()
        .filter(|p| p.wrt && p.kind == sig::Kind::Struct)
        .map(|p| p.ident.clone())
        .collect();
    let twin = crate::dual_twin::twin(func, &structs);
    let wrt = args.wrt.iter().flatten();
    let attr = if args.wrt.is_some() {
        quote::quote!(wrt(#(#wrt),*))
    } else {
        quote::quote!()
    };
    let twin_items = differentiable_fn(attr, twin, None);
    quote::quote!(#twin_items #wrappers)
}
