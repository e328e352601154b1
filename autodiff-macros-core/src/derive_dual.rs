//! The dual twin of a `#[derive(Tangent)]` struct, so that `jvp` and `hvp` functions can
//! differentiate it: the same fields generic over the scalar (`DMatrix<f64>` becomes
//! `DMatrix<DualScalar>`), found from the struct through `DualStruct`, with the lifting of a
//! value and its tangent into the twin at `Dual<f64>` and the splitting back.
//!
//! ```text
//! #[derive(Clone, Tangent)]
//! struct Mlp { w1: DMatrix<f64>, b1: RowDVector<f64>, #[tangent(skip)] act: Act }
//! // adds:
//! struct __AdDualMlp<DualScalar: Real> { w1: DMatrix<DualScalar>, b1: RowDVector<DualScalar>, act: Act }
//! impl<DualScalar: Real> DualStruct<DualScalar> for Mlp { type Twin = __AdDualMlp<DualScalar>; }
//! impl DualArg for Mlp { type Lifted = __AdDualMlp<Dual<f64>>; .. }
//! impl DualSplit for __AdDualMlp<Dual<f64>> { type Parts = Mlp; .. }
//! ```
//!
//! A field whose type mentions `f64`/`f32` gets the scalar in its place; a
//! `#[tangent(skip)]` field keeps its type and is cloned. Only structs whose every other
//! field is a float, a nalgebra matrix of floats, or an array or `Vec` of those get a twin
//! (a nested struct or a `Tensor` field may have none); generic structs (over `T: Real`)
//! and tuple structs get none.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::{Data, DeriveInput, Fields, Ident, Type};

/// The twin items for `input`, or nothing where it gets no twin.
pub fn twin_items(input: &DeriveInput) -> TokenStream {
    let Data::Struct(data) = &input.data else {
        return quote!();
    };
    let Fields::Named(named) = &data.fields else {
        return quote!();
    };
    if !input.generics.params.is_empty() {
        return quote!();
    }
    // Every differentiated field one the runtime lifts: other fields (a nested struct, a
    // `Tensor`) may have no twin.
    let skipped = |f: &syn::Field| f.attrs.iter().any(|a| a.path().is_ident("tangent"));
    if named.named.iter().any(|f| !skipped(f) && !twinnable(&f.ty)) {
        return quote!();
    }
    let Some(float) = float_of(named.named.iter().filter(|f| !skipped(f)).map(|f| &f.ty)) else {
        return quote!();
    };
    let float = Ident::new(float, input.ident.span());
    let ident = &input.ident;
    let twin = format_ident!("__AdDual{}", syn::ext::IdentExt::unraw(ident));
    let s = Ident::new(crate::dual_twin::SCALAR, proc_macro2::Span::call_site());
    let vis = &input.vis;
    let p = quote!(::autodiff::__private);

    let mut twin_fields = Vec::new();
    let mut lifts = Vec::new();
    let mut constants = Vec::new();
    let mut splits = Vec::new();
    let mut re_fields = Vec::new();
    let mut eps_fields = Vec::new();
    for f in &named.named {
        let name = f.ident.as_ref().expect("named field");
        let fvis = &f.vis;
        let skip = skipped(f);
        let (re, eps) = (
            format_ident!("__ad_re_{}", name),
            format_ident!("__ad_eps_{}", name),
        );
        let ty: Type = if skip {
            f.ty.clone()
        } else {
            crate::dual_twin::scalar_type(&f.ty)
        };
        twin_fields.push(quote!(#fvis #name: #ty));
        if skip {
            lifts.push(quote!(#name: ::core::clone::Clone::clone(&self.#name)));
            constants.push(quote!(#name: ::core::clone::Clone::clone(&self.#name)));
            splits.push(
                quote!(let (#re, #eps) = (::core::clone::Clone::clone(&self.#name), self.#name);),
            );
        } else {
            // A sequence's tangent is a slice.
            let t = if is_sequence(&f.ty) {
                quote!(&t.#name[..])
            } else {
                quote!(&t.#name)
            };
            lifts.push(quote!(#name: #p::dual_lift(&self.#name, #t)));
            constants.push(quote!(#name: #p::dual_constant(&self.#name)));
            splits.push(quote!(let (#re, #eps) = #p::dual_split(self.#name);));
        }
        re_fields.push(quote!(#name: #re));
        eps_fields.push(quote!(#name: #eps));
    }
    let doc = format!("The dual twin of [`{ident}`], for `jvp` and `hvp` functions.");
    let twin_struct: DeriveInput = syn::parse_quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[derive(Clone)]
        #[allow(non_camel_case_types)]
        #vis struct #twin<#s: ::autodiff::Real> {
            #(#twin_fields,)*
        }
    };
    let tangent = crate::derive_tangent::expand(twin_struct.clone())
        .unwrap_or_else(syn::Error::into_compile_error);
    let dual = quote!(::autodiff::Dual<#float>);
    // Debug by hand: a skipped field's type need not be `Debug`.
    let shown: Vec<&Ident> = named
        .named
        .iter()
        .filter(|f| !skipped(f))
        .filter_map(|f| f.ident.as_ref())
        .collect();
    let shown_names: Vec<String> = shown.iter().map(|i| i.to_string()).collect();
    let twin_name = twin.to_string();
    quote! {
        #twin_struct
        impl<#s: ::autodiff::Real> ::core::fmt::Debug for #twin<#s> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#twin_name)
                    #(.field(#shown_names, &self.#shown))*
                    .finish_non_exhaustive()
            }
        }
        #tangent
        impl<#s: ::autodiff::Real> #p::DualStruct<#s> for #ident {
            type Twin = #twin<#s>;
        }
        impl #p::DualArg for #ident {
            type Lifted = #twin<#dual>;
            type Tangent = #ident;
            fn lift(&self, t: &#ident) -> #twin<#dual> {
                #twin { #(#lifts),* }
            }
            fn lift_constant(&self) -> #twin<#dual> {
                #twin { #(#constants),* }
            }
        }
        impl #p::DualSplit for #twin<#dual> {
            type Parts = #ident;
            fn split(self) -> (#ident, #ident) {
                #(#splits)*
                (#ident { #(#re_fields),* }, #ident { #(#eps_fields),* })
            }
        }
    }
}

/// Whether the runtime can lift `ty` to dual numbers: a float, a nalgebra matrix of
/// floats, or an array or `Vec` of those.
fn twinnable(ty: &Type) -> bool {
    fn leaf(ty: &Type) -> bool {
        mentions_float(ty)
            && matches!(
                crate::sig::classify(ty),
                crate::sig::Kind::Scalar | crate::sig::Kind::Matrix
            )
    }
    match ty {
        Type::Array(a) => leaf(&a.elem),
        Type::Path(p) if p.qself.is_none() => match p.path.segments.last() {
            Some(s) if s.ident == "Vec" => match &s.arguments {
                syn::PathArguments::AngleBracketed(a) => {
                    a.args.len() == 1
                        && matches!(a.args.first(), Some(syn::GenericArgument::Type(t)) if leaf(t))
                }
                _ => false,
            },
            _ => leaf(ty),
        },
        _ => false,
    }
}

/// Whether `ty` is an array or a `Vec`.
fn is_sequence(ty: &Type) -> bool {
    match ty {
        Type::Array(_) => true,
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Vec"),
        _ => false,
    }
}

/// Whether `ty` is written with `f64` or `f32`.
fn mentions_float(ty: &Type) -> bool {
    float_of(std::iter::once(ty)).is_some()
}

/// `"f32"` or `"f64"`: the one float type the types mention; `None` if they mention
/// neither or both.
fn float_of<'a>(types: impl Iterator<Item = &'a Type>) -> Option<&'static str> {
    let mut seen = crate::dual_twin::FloatsSeen::default();
    for t in types {
        seen.visit_type(t);
    }
    match (seen.f64, seen.f32) {
        (true, false) => Some("f64"),
        (false, true) => Some("f32"),
        // Both: the struct is refused by the `Tangent` derive already; neither: no floats.
        _ => None,
    }
}
