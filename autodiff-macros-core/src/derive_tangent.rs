//! `#[derive(Tangent)]`: implements `Tangent` for a struct, field by field.
//!
//! Before:
//!
//! ```text
//! #[derive(Clone, Tangent)]
//! struct Mlp {
//!     w1: DMatrix<f64>,
//!     b1: RowDVector<f64>,
//!     #[tangent(skip)]
//!     activation: Activation,
//! }
//! ```
//!
//! After (paths shortened; the generated code names only `::autodiff::__private::...`):
//!
//! ```text
//! impl Tangent for Mlp {
//!     type Scalar = <DMatrix<f64> as Tangent>::Scalar;
//!     fn zero_like(&self) -> Self {
//!         Self { w1: Tangent::zero_like(&self.w1), b1: Tangent::zero_like(&self.b1),
//!                activation: Clone::clone(&self.activation) }
//!     }
//!     fn visit(&self, f: &mut dyn FnMut(&[Self::Scalar])) {
//!         Tangent::visit(&self.w1, f);
//!         Tangent::visit(&self.b1, f);
//!     }
//!     // visit_mut, visit_zip, visit_zip_mut, visit_named ("w1", "b1"), visit_named_shaped,
//!     // check_structure
//! }
//! ```
//!
//! The first differentiated field fixes `Scalar`; every other one must have the same
//! (a mixed `f32` / `f64` struct is a type error on the offending field). Skipped fields
//! are cloned by `zero_like` and ignored otherwise. Generic structs are supported: field
//! types that mention a type parameter get the bounds `Ty: Tangent<Scalar = ..>` (or
//! `Ty: Clone` when skipped). Enums, unions and structs without a
//! differentiated field are rejected with a spanned error; the error is emitted next to a
//! placeholder impl so that one mistake gives one error.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Generics, Ident, ItemStruct, Member, Type};

/// Expands `#[derive(Tangent)]`. A rejected input still gives `Ok`: the compile error
/// next to a placeholder impl (see [`with_fallback`]), so that one mistake is one error.
/// The `Result` fits the entry point's `unwrap_or_else(syn::Error::into_compile_error)`.
pub(crate) fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let fields = match &input.data {
        Data::Struct(data) => &data.fields,
        Data::Enum(data) => {
            let err = syn::Error::new(
                data.enum_token.span,
                "#[derive(Tangent)] supports structs only, not enums; \
                 a parameter tree has one fixed shape, so use a struct with one field per parameter",
            );
            return Ok(with_fallback(&input.ident, &input.generics, err));
        }
        Data::Union(data) => {
            let err = syn::Error::new(
                data.union_token.span,
                "#[derive(Tangent)] supports structs only, not unions; \
                 use a struct with one field per parameter",
            );
            return Ok(with_fallback(&input.ident, &input.generics, err));
        }
    };
    Ok(expand_parts(
        &input.ident,
        &input.generics,
        &input.attrs,
        fields,
    ))
}

/// Implements `Tangent` for a struct item, for example the gradient struct that
/// `#[differentiable]` generates. Fields may carry `#[tangent(skip)]`.
pub(crate) fn expand_struct(item: &ItemStruct) -> syn::Result<TokenStream> {
    Ok(expand_parts(
        &item.ident,
        &item.generics,
        &item.attrs,
        &item.fields,
    ))
}

/// Implements `Tangent` for a generated gradient struct through the runtime's
/// `TangentFields` (the field tuple, the names and four conversions; the blanket impl
/// gives `Tangent`), and `Adjoint` and `Cotangent` through its field-tuple helpers: a
/// few lines per struct instead of a field-by-field body per trait method. The field
/// types are the owned types of differentiated parameters, already checked by the
/// signature analysis. Structs of no or more than 12 fields (the largest tuple the
/// runtime implements) get the field-by-field impls of [`expand_struct`].
pub(crate) fn expand_fields(item: &ItemStruct) -> syn::Result<TokenStream> {
    let n = item.fields.len();
    if n == 0 || n > 12 {
        return expand_struct(item);
    }
    let p = quote!(::autodiff::__private);
    let ident = &item.ident;
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    let members: Vec<Member> = item
        .fields
        .iter()
        .enumerate()
        .map(|(k, f)| match &f.ident {
            Some(id) => Member::Named(id.clone()),
            None => Member::Unnamed(syn::Index::from(k)),
        })
        .collect();
    let names: Vec<String> = members
        .iter()
        .map(|m| match m {
            Member::Named(id) => unraw(id),
            Member::Unnamed(i) => i.index.to_string(),
        })
        .collect();
    let tys = item.fields.iter().map(|f| &f.ty);
    let index = (0..n).map(syn::Index::from);
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #p::TangentFields for #ident #ty_generics #where_clause {
            type Fields = (#(#tys,)*);
            const NAMES: &'static [&'static ::core::primitive::str] = &[#(#names),*];
            fn fields(&self) -> #p::FieldRefs<'_, Self> {
                (#(&self.#members,)*)
            }
            fn fields_mut(&mut self) -> #p::FieldMuts<'_, Self> {
                (#(&mut self.#members,)*)
            }
            fn from_fields(f: Self::Fields) -> Self {
                Self { #(#members: f.#index),* }
            }
            fn into_fields(self) -> Self::Fields {
                (#(self.#members,)*)
            }
        }
        #[automatically_derived]
        impl #impl_generics #p::Adjoint for #ident #ty_generics #where_clause {
            fn adjoint_zero() -> Self {
                #p::fields_adjoint_zero()
            }
            fn accumulate(&mut self, other: &Self) {
                #p::fields_accumulate(self, other)
            }
            fn finish(self, primal: &Self) -> Self {
                #p::fields_finish(self, primal)
            }
            fn recycle(self) {
                #p::fields_recycle(self)
            }
        }
        #[automatically_derived]
        impl #impl_generics #p::Cotangent<#ident #ty_generics> for #ident #ty_generics #where_clause {
            fn add_to(&self, acc: &mut Self) {
                #p::fields_accumulate(acc, self)
            }
        }
    })
}

/// One field of the struct, as the expansion sees it.
struct Field<'a> {
    member: Member,
    /// The name used in `visit_named` paths: the field name, or its index.
    name: String,
    ty: &'a Type,
    skip: bool,
}

fn expand_parts(
    ident: &Ident,
    generics: &Generics,
    attrs: &[syn::Attribute],
    fields: &Fields,
) -> TokenStream {
    let mut errors = Errors::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("tangent")) {
        errors.push(syn::Error::new_spanned(
            attr,
            "#[tangent(..)] on a struct has no options; put `#[tangent(skip)]` on a field",
        ));
    }

    let mut parsed = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let (member, name) = match &field.ident {
            Some(id) => (Member::Named(id.clone()), unraw(id)),
            None => (Member::Unnamed(syn::Index::from(index)), index.to_string()),
        };
        let skip = parse_field_attrs(&field.attrs, &mut errors);
        parsed.push(Field {
            member,
            name,
            ty: &field.ty,
            skip,
        });
    }

    if !parsed.iter().any(|f| !f.skip) {
        let span = match fields {
            Fields::Unit => ident.span(),
            _ => fields.span(),
        };
        errors.push(syn::Error::new(
            span,
            "#[derive(Tangent)] needs at least one field that is not `#[tangent(skip)]`; \
             the first such field fixes the scalar type",
        ));
    }

    if let Some(err) = errors.finish() {
        return with_fallback(ident, generics, err);
    }
    generate(ident, generics, &parsed)
}

/// Reads `#[tangent(skip)]`; reports anything else.
fn parse_field_attrs(attrs: &[syn::Attribute], errors: &mut Errors) -> bool {
    let mut skip = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("tangent")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown tangent attribute; the only field option is `#[tangent(skip)]`",
                ))
            }
        });
        if let Err(err) = result {
            errors.push(err);
        }
    }
    skip
}

fn unraw(id: &Ident) -> String {
    let s = id.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}

fn generate(ident: &Ident, generics: &Generics, fields: &[Field<'_>]) -> TokenStream {
    let tangent = quote!(::autodiff::__private::Tangent);
    let active: Vec<&Field<'_>> = fields.iter().filter(|f| !f.skip).collect();
    let first_ty = active[0].ty;
    let scalar = quote!(<#first_ty as #tangent>::Scalar);

    let mut where_clause = generics
        .where_clause
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(where));
    // Bounds only on field types that mention a type parameter: a bound on a concrete
    // type (`DMatrix<f64>: Tangent`, or `RowDVector<f64>: Tangent<Scalar = ..>`) sends
    // rustc's trait solver into an overflow while normalizing `Scalar`. Concrete fields
    // are checked by the calls in the bodies, which are spanned on their types.
    // A field whose type mentions only parameters bounded by `Real` needs no bound either
    // (its impls are known: `DMatrix<T>`, `Vec<T>`, `T`), and one on a projection of it
    // overflows the same way.
    let params = unbounded_params(generics);
    let first_index = fields.iter().position(|f| !f.skip).unwrap_or(0);
    for (i, f) in fields.iter().enumerate() {
        let ty = f.ty;
        if !mentions_any(ty, &params) {
            continue;
        }
        let same_as_first = i != first_index
            && ty.to_token_stream().to_string() == first_ty.to_token_stream().to_string();
        let bound: syn::WherePredicate = if f.skip {
            syn::parse_quote_spanned!(ty.span()=> #ty: ::core::clone::Clone)
        } else if same_as_first {
            // The first field's bound already says it (and `T: Tangent<Scalar = <T as
            // Tangent>::Scalar>` would send the trait solver into an overflow).
            continue;
        } else if i == first_index {
            syn::parse_quote_spanned!(ty.span()=> #ty: #tangent)
        } else {
            syn::parse_quote_spanned!(ty.span()=> #ty: #tangent<Scalar = #scalar>)
        };
        where_clause.predicates.push(bound);
    }
    let (impl_generics, ty_generics, _) = generics.split_for_impl();

    let zero_fields = fields.iter().map(|f| {
        let m = &f.member;
        if f.skip {
            quote_spanned!(located_at(f.ty.span())=> #m: ::core::clone::Clone::clone(&self.#m))
        } else {
            quote_spanned!(located_at(f.ty.span())=> #m: ::autodiff::__private::Tangent::zero_like(&self.#m))
        }
    });
    let child = quote!(::autodiff::__private::tangent_child_path);
    let slice = quote!(&[#scalar]);
    let slice_mut = quote!(&mut [#scalar]);
    let visitor = format_ident!("__ad_visit", span = Span::mixed_site());
    // One statement per field and method, spanned on the field's type, so that a field
    // that is not `Tangent` or has another scalar type is reported on that field.
    let stmts = |method: Method| -> Vec<TokenStream> {
        active
            .iter()
            .map(|f| {
                let (m, name) = (&f.member, f.name.as_str());
                // The visitor as an argument: located on the field, resolved like the parameter.
                let visitor = Ident::new("__ad_visit", f.ty.span().resolved_at(Span::mixed_site()));
                match method {
                    Method::Visit => quote_spanned!(located_at(f.ty.span())=> ::autodiff::__private::Tangent::visit(&self.#m, #visitor);),
                    Method::VisitMut => {
                        quote_spanned!(located_at(f.ty.span())=> ::autodiff::__private::Tangent::visit_mut(&mut self.#m, #visitor);)
                    }
                    Method::VisitZip => quote_spanned!(located_at(f.ty.span())=>
                        ::autodiff::__private::Tangent::visit_zip(&self.#m, &other.#m, #visitor);),
                    Method::VisitZipMut => quote_spanned!(located_at(f.ty.span())=>
                        ::autodiff::__private::Tangent::visit_zip_mut(&mut self.#m, &other.#m, #visitor);),
                    Method::VisitNamed => quote_spanned!(located_at(f.ty.span())=>
                        ::autodiff::__private::Tangent::visit_named(&self.#m, &#child(prefix, #name), #visitor);),
                    Method::VisitNamedShaped => quote_spanned!(located_at(f.ty.span())=>
                        ::autodiff::__private::Tangent::visit_named_shaped(&self.#m, &#child(prefix, #name), #visitor);),
                    Method::Check => quote_spanned!(located_at(f.ty.span())=>
                        ::autodiff::__private::Tangent::check_structure(&self.#m, &other.#m).map_err(|e| e.within(#name))?;),
                }
            })
            .collect()
    };
    let visit = stmts(Method::Visit);
    let visit_mut = stmts(Method::VisitMut);
    let visit_zip = stmts(Method::VisitZip);
    let visit_zip_mut = stmts(Method::VisitZipMut);
    let visit_named = stmts(Method::VisitNamed);
    let visit_named_shaped = stmts(Method::VisitNamedShaped);
    let check = stmts(Method::Check);
    let adjoint = adjoint_impl(ident, generics, fields);
    quote! {
        #adjoint
        #[automatically_derived]
        impl #impl_generics #tangent for #ident #ty_generics #where_clause {
            type Scalar = #scalar;

            fn zero_like(&self) -> Self {
                Self { #(#zero_fields,)* }
            }
            fn visit(&self, #visitor: &mut dyn ::core::ops::FnMut(#slice)) {
                #(#visit)*
            }
            fn visit_mut(&mut self, #visitor: &mut dyn ::core::ops::FnMut(#slice_mut)) {
                #(#visit_mut)*
            }
            fn visit_zip(
                &self,
                other: &Self,
                #visitor: &mut dyn ::core::ops::FnMut(#slice, #slice),
            ) {
                #(#visit_zip)*
            }
            fn visit_zip_mut(
                &mut self,
                other: &Self,
                #visitor: &mut dyn ::core::ops::FnMut(#slice_mut, #slice),
            ) {
                #(#visit_zip_mut)*
            }
            fn visit_named(
                &self,
                prefix: &::core::primitive::str,
                #visitor: &mut dyn ::core::ops::FnMut(&::core::primitive::str, #slice),
            ) {
                #(#visit_named)*
            }
            fn visit_named_shaped(
                &self,
                prefix: &::core::primitive::str,
                #visitor: &mut dyn ::core::ops::FnMut(
                    &::core::primitive::str,
                    &[::core::primitive::usize],
                    #slice,
                ),
            ) {
                #(#visit_named_shaped)*
            }
            fn check_structure(
                &self,
                other: &Self,
            ) -> ::core::result::Result<(), ::autodiff::__private::StructureMismatch> {
                #(#check)*
                ::core::result::Result::Ok(())
            }
        }
    }
}

/// `Adjoint` and `Cotangent` for the struct, field by field, so that a struct parameter
/// of a `#[differentiable]` function (read as `m.w1`) gets its gradient as the same
/// struct, and a gradient gives its buffers back to a workspace field by field. Only for structs whose every field is differentiated
/// (a skipped field has no symbolic zero).
fn adjoint_impl(ident: &Ident, generics: &Generics, fields: &[Field<'_>]) -> TokenStream {
    if fields
        .iter()
        .any(|f| f.skip || plainly_not_differentiable(f.ty))
    {
        // The `Tangent` impl already reports a field that is not a parameter; an
        // `Adjoint` impl would only repeat that error.
        return quote!();
    }
    let adj = quote!(::autodiff::__private::Adjoint);
    // As for `Tangent`: bounds only on the field types that mention a type parameter.
    let params = unbounded_params(generics);
    let mut where_clause = generics
        .where_clause
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(where));
    for f in fields {
        let ty = f.ty;
        if mentions_any(ty, &params) {
            where_clause
                .predicates
                .push(syn::parse_quote_spanned!(ty.span()=> #ty: #adj));
        }
    }
    let (impl_generics, ty_generics, _) = generics.split_for_impl();
    let zero = fields.iter().map(|f| {
        let m = &f.member;
        quote_spanned!(located_at(f.ty.span())=> #m: #adj::adjoint_zero())
    });
    let acc = fields.iter().map(|f| {
        let m = &f.member;
        quote_spanned!(located_at(f.ty.span())=> #adj::accumulate(&mut self.#m, &other.#m);)
    });
    let finish = fields.iter().map(|f| {
        let m = &f.member;
        quote_spanned!(located_at(f.ty.span())=> #m: #adj::finish(self.#m, &primal.#m))
    });
    let recycle = fields.iter().map(|f| {
        let m = &f.member;
        quote_spanned!(located_at(f.ty.span())=> #adj::recycle(self.#m);)
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics #adj for #ident #ty_generics #where_clause {
            fn adjoint_zero() -> Self {
                Self { #(#zero,)* }
            }
            fn accumulate(&mut self, other: &Self) {
                #(#acc)*
            }
            fn finish(self, primal: &Self) -> Self {
                Self { #(#finish,)* }
            }
            fn recycle(self) {
                #(#recycle)*
            }
        }
        #[automatically_derived]
        impl #impl_generics ::autodiff::__private::Cotangent<#ident #ty_generics> for #ident #ty_generics #where_clause {
            fn add_to(&self, acc: &mut Self) {
                #adj::accumulate(acc, self)
            }
        }
    }
}

/// Whether a field type is one that can never hold parameters (integers, booleans,
/// strings, references), judged from its syntax.
fn plainly_not_differentiable(ty: &Type) -> bool {
    const NOT: &[&str] = &[
        "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
        "bool", "char", "str", "String", "Option", "HashMap", "BTreeMap",
    ];
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| NOT.contains(&s.ident.to_string().as_str())),
        Type::Paren(p) => plainly_not_differentiable(&p.elem),
        Type::Group(g) => plainly_not_differentiable(&g.elem),
        Type::Array(a) => plainly_not_differentiable(&a.elem),
        Type::Reference(_) | Type::Ptr(_) | Type::Slice(_) | Type::Tuple(_) => true,
        _ => false,
    }
}

/// The trait methods whose bodies visit every field.
#[derive(Clone, Copy)]
enum Method {
    Visit,
    VisitMut,
    VisitZip,
    VisitZipMut,
    VisitNamed,
    VisitNamedShaped,
    Check,
}

/// The type parameters of `generics` that are not bounded by `Real`.
fn unbounded_params(generics: &Generics) -> Vec<&Ident> {
    generics
        .type_params()
        .filter(|p| !crate::generics::is_real_param(generics, p))
        .map(|p| &p.ident)
        .collect()
}

/// Whether `ty` names one of the type parameters `params`.
fn mentions_any(ty: &Type, params: &[&Ident]) -> bool {
    struct Finder<'a> {
        params: &'a [&'a Ident],
        found: bool,
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_path(&mut self, path: &'ast syn::Path) {
            if let Some(first) = path.segments.first() {
                self.found |= self.params.iter().any(|p| first.ident == **p);
            }
            syn::visit::visit_path(self, path);
        }
    }
    let mut finder = Finder {
        params,
        found: false,
    };
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.found
}

/// The error, plus an impl with the right signatures and unreachable bodies, so that
/// code using the type's `Tangent` impl does not add a second error.
fn with_fallback(ident: &Ident, generics: &Generics, err: syn::Error) -> TokenStream {
    let tangent = quote!(::autodiff::__private::Tangent);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let error = err.into_compile_error();
    quote! {
        #error
        impl #impl_generics #tangent for #ident #ty_generics #where_clause {
            type Scalar = ::core::primitive::f64;
            fn zero_like(&self) -> Self {
                ::core::unreachable!()
            }
            fn visit(&self, _: &mut dyn ::core::ops::FnMut(&[::core::primitive::f64])) {}
            fn visit_mut(&mut self, _: &mut dyn ::core::ops::FnMut(&mut [::core::primitive::f64])) {}
            fn visit_zip(
                &self,
                _: &Self,
                _: &mut dyn ::core::ops::FnMut(&[::core::primitive::f64], &[::core::primitive::f64]),
            ) {
            }
            fn visit_zip_mut(
                &mut self,
                _: &Self,
                _: &mut dyn ::core::ops::FnMut(&mut [::core::primitive::f64], &[::core::primitive::f64]),
            ) {
            }
            fn visit_named(
                &self,
                _: &::core::primitive::str,
                _: &mut dyn ::core::ops::FnMut(&::core::primitive::str, &[::core::primitive::f64]),
            ) {
            }
            fn check_structure(
                &self,
                _: &Self,
            ) -> ::core::result::Result<(), ::autodiff::__private::StructureMismatch> {
                ::core::result::Result::Ok(())
            }
        }
    }
}

/// Collects every error so that the user sees all of them in one compile.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }
    fn finish(self) -> Option<syn::Error> {
        self.0
    }
}

/// A span at `span`'s place that resolves names at the call site: a field type written
/// through a `macro_rules!` argument (`$T`) carries that macro's hygiene, which would
/// hide `self` and the generated code's own names from code spanned at it.
fn located_at(span: proc_macro2::Span) -> proc_macro2::Span {
    proc_macro2::Span::call_site().located_at(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(src: &str) -> String {
        expand(syn::parse_str(src).unwrap()).unwrap().to_string()
    }

    #[test]
    fn named_fields_are_visited_in_order_with_their_names() {
        let out = expand_str("struct Mlp { w1: DMatrix<f64>, b1: RowDVector<f64> }");
        let visit = out.find("fn visit (").unwrap();
        let w1 = out[visit..].find("self . w1").unwrap();
        let b1 = out[visit..].find("self . b1").unwrap();
        assert!(w1 < b1, "{out}");
        assert!(out.contains("\"w1\"") && out.contains("\"b1\""), "{out}");
        assert!(out.contains("type Scalar = < DMatrix < f64 > as"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn generic_field_types_get_bounds() {
        let out = expand_str("struct G<T> { w: Vec<T>, b: T, n: f64 }");
        assert!(
            out.contains("Vec < T > : :: autodiff :: __private :: Tangent"),
            "{out}"
        );
        assert!(
            out.contains("T : :: autodiff :: __private :: Tangent < Scalar ="),
            "{out}"
        );
        assert!(!out.contains("f64 : :: autodiff"), "{out}");
    }

    #[test]
    fn tuple_structs_use_indices() {
        let out = expand_str("struct Pair(DMatrix<f64>, f64);");
        assert!(
            out.contains("self . 0") && out.contains("self . 1"),
            "{out}"
        );
        assert!(out.contains("\"0\"") && out.contains("\"1\""), "{out}");
    }

    #[test]
    fn skipped_fields_are_cloned_and_not_visited() {
        let out = expand_str("struct M { #[tangent(skip)] act: Act, w: f64 }");
        assert!(
            out.contains("act : :: core :: clone :: Clone :: clone (& self . act)"),
            "{out}"
        );
        assert!(!out.contains("visit (& self . act"), "{out}");
        assert!(out.contains("type Scalar = < f64 as"), "{out}");
    }

    #[test]
    fn unsupported_items_give_one_error_and_a_placeholder_impl() {
        for (src, message) in [
            ("enum E { A(f64) }", "supports structs only, not enums"),
            ("union U { a: f64 }", "supports structs only, not unions"),
            ("struct S;", "needs at least one field"),
            (
                "struct S { #[tangent(skip)] a: f64 }",
                "needs at least one field",
            ),
            (
                "struct S { #[tangent(frozen)] a: f64 }",
                "unknown tangent attribute",
            ),
        ] {
            let out = expand_str(src);
            assert_eq!(out.matches("compile_error").count(), 1, "{src}: {out}");
            assert!(out.contains(message), "{src}: {out}");
            assert!(
                out.contains("type Scalar = :: core :: primitive :: f64"),
                "{out}"
            );
        }
    }

    #[test]
    fn all_errors_are_reported_together() {
        let out =
            expand_str("#[tangent(x)] struct S { #[tangent(a)] a: f64, #[tangent(b)] b: f64 }");
        assert_eq!(out.matches("compile_error").count(), 3, "{out}");
    }

    #[test]
    fn expand_struct_accepts_a_generated_gradient_struct() {
        let item: ItemStruct =
            syn::parse_str("pub struct LossGrad { pub w: DMatrix<f64>, pub b: f64 }").unwrap();
        let out = expand_struct(&item).unwrap().to_string();
        assert!(out.contains("for LossGrad"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }
}
