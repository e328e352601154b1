//! The dual twin of a function written for `f64` or `f32`: the same function generic over
//! a scalar `DualScalar: Real`, so that forward mode (`jvp`) and forward-over-reverse
//! (`hvp`) can run its code, and the code of its gradient, on dual numbers
//! (`autodiff::Dual`), which carry a tangent next to every value.
//!
//! The rewrite is on syntax: every type written `f64` (or `f32`) becomes `DualScalar` (in
//! parameters, the result, annotations, turbofishes and closures); `f64::max(a, b)`
//! becomes `DualScalar::max(a, b)` (which `generics::rewrite_body` turns into `a.max(b)`);
//! a constant or a conversion of the float type (`f64::EPSILON`, `std::f64::consts::PI`,
//! `n as f64`, `f64::from(k)`) becomes a constant of the scalar
//! (`<DualScalar as Real>::c(n as f64)`); suffixed literals (`2.0f64`) lose their suffix and
//! become values of the scalar like every other literal. A function generic over `Real`
//! already is its own twin.

use proc_macro2::Span;
use quote::format_ident;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident};

/// The name of the twin's scalar type parameter.
pub const SCALAR: &str = "DualScalar";

/// The twin's name: `__ad_dual_name`.
pub fn twin_ident(name: &Ident) -> Ident {
    use syn::ext::IdentExt;
    format_ident!("__ad_dual_{}", name.unraw())
}

/// `ty` with every `f64`/`f32` the scalar `DualScalar` (for the fields of a struct's twin).
pub fn scalar_type(ty: &syn::Type) -> syn::Type {
    let scalar = Ident::new(SCALAR, Span::call_site());
    let mut ty = ty.clone();
    Rewrite { scalar: &scalar }.visit_type_mut(&mut ty);
    ty
}

/// The twin of `item`, a function written for `f64` or `f32`. The parameters named in
/// `structs` (differentiated `#[derive(Tangent)]` structs) take the struct's own twin,
/// `<Mlp as DualStruct<DualScalar>>::Twin`.
pub fn twin(item: &syn::ItemFn, structs: &[Ident]) -> syn::ItemFn {
    let mut twin = item.clone();
    twin.sig.ident = twin_ident(&item.sig.ident);
    twin.vis = syn::Visibility::Inherited;
    twin.attrs.retain(|a| !a.path().is_ident("doc"));
    twin.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    twin.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
    let scalar = Ident::new(SCALAR, Span::call_site());
    twin.sig
        .generics
        .params
        .insert(0, syn::parse_quote!(#scalar: ::autodiff::Real));
    let mut r = Rewrite { scalar: &scalar };
    for input in twin.sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(pt) = input {
            let named = matches!(&*pt.pat, syn::Pat::Ident(pi) if structs.contains(&pi.ident));
            if named {
                struct_twin(&mut pt.ty, &scalar);
                continue;
            }
        }
        r.visit_fn_arg_mut(input);
    }
    r.visit_return_type_mut(&mut twin.sig.output);
    r.visit_block_mut(&mut twin.block);
    twin
}

/// `Mlp` (or `&Mlp`) as `<Mlp as DualStruct<DualScalar>>::Twin` (behind the same reference).
fn struct_twin(ty: &mut syn::Type, scalar: &Ident) {
    match ty {
        syn::Type::Reference(r) => struct_twin(&mut r.elem, scalar),
        syn::Type::Paren(p) => struct_twin(&mut p.elem, scalar),
        t => {
            let span = t.span();
            *t = syn::parse_quote_spanned!(span=> <#t as ::autodiff::__private::DualStruct<#scalar>>::Twin);
        }
    }
}

/// The float type a non-generic function is written for: `f32` if a parameter or the
/// result is written with it and none with `f64`, else `f64`.
pub fn float_of(sig: &syn::Signature) -> &'static str {
    let mut seen = FloatsSeen::default();
    for input in &sig.inputs {
        syn::visit::Visit::visit_fn_arg(&mut seen, input);
    }
    syn::visit::Visit::visit_return_type(&mut seen, &sig.output);
    if seen.f32 && !seen.f64 {
        "f32"
    } else {
        "f64"
    }
}

/// Which float types the syntax it visits names.
#[derive(Default)]
pub struct FloatsSeen {
    /// `f32` appears.
    pub f32: bool,
    /// `f64` appears.
    pub f64: bool,
}

impl<'ast> syn::visit::Visit<'ast> for FloatsSeen {
    fn visit_ident(&mut self, i: &'ast Ident) {
        self.f32 |= i == "f32";
        self.f64 |= i == "f64";
    }
}

struct Rewrite<'a> {
    scalar: &'a Ident,
}

fn is_float_ident(i: &Ident) -> bool {
    i == "f64" || i == "f32"
}

/// Whether `p` names something of a float type's module (`f64::EPSILON`,
/// `std::f64::consts::PI`, `f64::max`).
fn mentions_float(p: &syn::Path) -> bool {
    p.segments.iter().any(|s| is_float_ident(&s.ident))
}

impl Rewrite<'_> {
    /// `<DualScalar as Real>::c(e)`: a constant of the scalar from an `f64` value.
    fn constant(&self, e: Expr, span: Span) -> Expr {
        let s = self.scalar;
        let float = Ident::new("f64", span);
        syn::parse_quote_spanned!(span=> <#s as ::autodiff::Real>::c((#e) as #float))
    }
}

impl VisitMut for Rewrite<'_> {
    fn visit_type_mut(&mut self, t: &mut syn::Type) {
        if let syn::Type::Path(p) = t {
            if p.qself.is_none() && p.path.get_ident().is_some_and(is_float_ident) {
                let span = p.span();
                let s = Ident::new(SCALAR, span);
                *t = syn::parse_quote_spanned!(span=> #s);
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, t);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let span = e.span();
        match e {
            Expr::Cast(c) if matches!(&*c.ty, syn::Type::Path(p) if p.path.get_ident().is_some_and(is_float_ident)) =>
            {
                // A conversion to the float type: a constant of the scalar (the operand
                // is a count or an index; a float operand would already be a scalar).
                let inner = (*c.expr).clone();
                *e = self.constant(inner, span);
            }
            Expr::Lit(l) => {
                let unsuffixed = match &l.lit {
                    syn::Lit::Float(f) if matches!(f.suffix(), "f64" | "f32") => {
                        Some(f.base10_digits().to_string())
                    }
                    syn::Lit::Int(i) if matches!(i.suffix(), "f64" | "f32") => {
                        Some(format!("{}.0", i.base10_digits()))
                    }
                    _ => None,
                };
                if let Some(digits) = unsuffixed {
                    l.lit = syn::Lit::Float(syn::LitFloat::new(&digits, l.lit.span()));
                }
            }
            Expr::Call(c) => {
                if let Expr::Path(fp) = &mut *c.func {
                    let segs = &fp.path.segments;
                    if fp.qself.is_none() && segs.len() == 2 && is_float_ident(&segs[0].ident) {
                        let name = segs[1].ident.to_string();
                        if crate::rules::method(&name).is_some() {
                            // `f64::max(a, b)`: the scalar's method.
                            let s0 = &mut fp.path.segments[0];
                            s0.ident = Ident::new(SCALAR, s0.ident.span());
                            for a in c.args.iter_mut() {
                                self.visit_expr_mut(a);
                            }
                            return;
                        }
                    }
                    if fp.qself.is_none() && mentions_float(&fp.path) {
                        // `f64::from(k)`, `f64::from_bits(b)`: a constant.
                        let whole = Expr::Call(c.clone());
                        *e = self.constant(whole, span);
                        return;
                    }
                }
                syn::visit_mut::visit_expr_mut(self, e);
            }
            Expr::Path(p) if p.qself.is_none() && mentions_float(&p.path) => {
                let whole = Expr::Path(p.clone());
                *e = self.constant(whole, span);
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {
        // Items nested in the body (a `const`, a helper `fn`) keep their own types.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    #[test]
    fn floats_become_the_scalar_and_constants_convert() {
        let item: syn::ItemFn = syn::parse_quote! {
            pub fn f(x: f64, w: &DMatrix<f64>, n: usize, v: &[f64]) -> f64 {
                let a: f64 = n as f64 * 0.5;
                let b = f64::max(x, 2.0f64) + f64::EPSILON + std::f64::consts::PI;
                let s = v.iter().map(|e: &f64| e * 2.0).sum::<f64>();
                a * b * s + w.sum()
            }
        };
        let t = twin(&item, &[]).to_token_stream().to_string();
        assert!(
            t.contains("fn __ad_dual_f < DualScalar : :: autodiff :: Real >"),
            "{t}"
        );
        assert!(t.contains("x : DualScalar"), "{t}");
        assert!(t.contains("DMatrix < DualScalar >"), "{t}");
        assert!(t.contains("& [DualScalar]"), "{t}");
        assert!(t.contains("-> DualScalar"), "{t}");
        assert!(t.contains("let a : DualScalar"), "{t}");
        assert!(
            t.contains("< DualScalar as :: autodiff :: Real > :: c ((n) as f64)"),
            "{t}"
        );
        assert!(t.contains("DualScalar :: max (x , 2.0)"), "{t}");
        assert!(t.contains(":: c ((f64 :: EPSILON) as f64)"), "{t}");
        assert!(
            t.contains(":: c ((std :: f64 :: consts :: PI) as f64)"),
            "{t}"
        );
        assert!(t.contains("sum :: < DualScalar >"), "{t}");
        assert!(t.contains("e : & DualScalar"), "{t}");
        assert!(!t.contains("pub fn"), "{t}");
    }

    #[test]
    fn the_float_type_is_read_off_the_signature() {
        let f: syn::ItemFn = syn::parse_quote!(
            fn f(x: f32, n: usize) -> f32 {
                x
            }
        );
        assert_eq!(float_of(&f.sig), "f32");
        let f: syn::ItemFn = syn::parse_quote!(
            fn f(x: &DMatrix<f64>) -> f64 {
                x.sum()
            }
        );
        assert_eq!(float_of(&f.sig), "f64");
    }
}
