//! Generic `#[differentiable]` functions: a type parameter bounded by `Real` stands for
//! the scalar (`fn f<T: Real>(x: T, m: &DMatrix<T>) -> T`).
//!
//! The macro cannot see types, so what the parameter changes is decided on syntax, here:
//! which type parameters are scalars ([`check`]), that a type written as one of them is a
//! scalar ([`is_scalar_param`], read by `sig::classify`), the body rewritten before it is
//! lowered ([`rewrite_body`]: float literals become values of the parameter, `T::exp(x)`
//! becomes `x.exp()`), the gradient-free float methods written unambiguously
//! ([`disambiguate`]), and the generic parameters of the emitted items ([`ItemGenerics`]).

use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use std::cell::RefCell;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, GenericParam, Generics, Ident};

thread_local! {
    /// The scalar type parameters of the function being expanded.
    static SCALARS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// While alive, the names of the scalar type parameters of the function being expanded;
/// dropped, the previous ones again (expansions may nest: a method block's methods).
pub struct Scope {
    previous: Vec<String>,
}

impl Scope {
    /// Enters a function whose scalar type parameters are `params`.
    pub fn enter(params: &[Ident]) -> Self {
        let names = params.iter().map(Ident::to_string).collect();
        let previous = SCALARS.with(|s| std::mem::replace(&mut *s.borrow_mut(), names));
        Scope { previous }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = std::mem::take(&mut self.previous);
        SCALARS.with(|s| *s.borrow_mut() = previous);
    }
}

/// Whether `name` is a scalar type parameter of the function being expanded.
pub fn is_scalar_param(name: &str) -> bool {
    SCALARS.with(|s| s.borrow().iter().any(|p| p == name))
}

/// Whether the function being expanded has scalar type parameters.
fn in_generic_fn() -> bool {
    SCALARS.with(|s| !s.borrow().is_empty())
}

/// Whether `bound` is `Real` (`Real`, `autodiff::Real`, `autodiff::prelude::Real`, ...).
fn is_real_bound(bound: &syn::TypeParamBound) -> bool {
    match bound {
        syn::TypeParamBound::Trait(t) => t
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Real" && s.arguments.is_empty()),
        _ => false,
    }
}

/// Whether type parameter `t` of `generics` is bounded by `Real`, where it is declared or
/// in the `where` clause.
pub fn is_real_param(generics: &Generics, t: &syn::TypeParam) -> bool {
    let in_where = |ident: &Ident| {
        generics.where_clause.as_ref().is_some_and(|w| {
            w.predicates.iter().any(|p| match p {
                syn::WherePredicate::Type(t) => {
                    matches!(&t.bounded_ty, syn::Type::Path(tp) if tp.qself.is_none() && tp.path.is_ident(ident))
                        && t.bounds.iter().any(is_real_bound)
                }
                _ => false,
            })
        })
    };
    t.bounds.iter().any(is_real_bound) || in_where(&t.ident)
}

/// The scalar type parameters of `generics` (each bounded by `Real`, where it is declared
/// or in the `where` clause). Records an error for every other type parameter.
pub fn check(generics: &Generics, errors: &mut Errors) -> Vec<Ident> {
    let mut scalars = Vec::new();
    for p in &generics.params {
        match p {
            GenericParam::Type(t) => {
                if is_real_param(generics, t) {
                    if let Some(first) = scalars.first() {
                        errors.push_spanned(
                            t,
                            format!(
                                "a #[differentiable] function has one scalar type parameter, `{first}`; `{}` would be a second, and its gradient holds one scalar type: write `{first}` for both",
                                t.ident
                            ),
                        );
                    } else {
                        scalars.push(t.ident.clone());
                    }
                } else {
                    errors.push_spanned(
                        t,
                        format!(
                            "a type parameter of a #[differentiable] function stands for the scalar and must be bounded by `Real`: `{}: Real` (`Real` is in `autodiff::prelude`)",
                            t.ident
                        ),
                    );
                }
            }
            GenericParam::Lifetime(_) | GenericParam::Const(_) => {}
        }
    }
    scalars
}

/// In a function generic over the scalar `scalars[0]`, a differentiated parameter whose
/// type is written with `f64` or `f32` is an error: the gradient struct holds one scalar
/// type. Whether there was none.
pub fn check_params(sig: &crate::sig::Signature, scalars: &[Ident], errors: &mut Errors) -> bool {
    let Some(t) = scalars.first() else {
        return true;
    };
    let before = errors.len();
    for p in sig.params.iter().filter(|p| p.wrt) {
        let mut f = crate::dual_twin::FloatsSeen::default();
        f.visit_type(&p.ty);
        if f.f32 || f.f64 {
            errors.push_spanned(
                &p.ty,
                format!(
                    "`{}` is differentiated and written with a concrete float type in a function generic over `{t}`, but the gradient holds one scalar type: write its type with `{t}`, or leave it out of `wrt(..)`",
                    p.ident
                ),
            );
        }
    }
    errors.len() == before
}

/// The function as the stand-in for a function with errors: as written, or, generic over
/// a scalar, with a body that never runs (the body is ordinary Rust only for the macro:
/// `x.tanh()` on a `T: Real` is ambiguous, so compiling it would add errors).
pub fn stand_in(item: &syn::ItemFn, scalars: &[Ident]) -> syn::ItemFn {
    let mut item = item.clone();
    if !scalars.is_empty() {
        let span = item.block.brace_token.span.join();
        item.block = Box::new(syn::parse_quote_spanned!(span=> { ::core::unreachable!() }));
        item.attrs
            .push(syn::parse_quote!(#[allow(unused_variables)]));
    }
    item
}

/// The generic parameters of the emitted items.
pub struct ItemGenerics {
    /// The user's lifetime parameters, with their bounds.
    lifetimes: Vec<syn::LifetimeParam>,
    /// The user's type and const parameters, with their bounds.
    others: Vec<GenericParam>,
    /// The user's `where` clause.
    where_clause: Option<syn::WhereClause>,
}

impl ItemGenerics {
    /// The generics of `sig`.
    pub fn of(sig: &syn::Signature) -> Self {
        let mut lifetimes = Vec::new();
        let mut others = Vec::new();
        for p in &sig.generics.params {
            match p {
                GenericParam::Lifetime(l) => lifetimes.push(l.clone()),
                other => others.push(other.clone()),
            }
        }
        ItemGenerics {
            lifetimes,
            others,
            where_clause: sig.generics.where_clause.clone(),
        }
    }

    /// `<'a, extra.., T: Real, const N: usize>` (nothing when there is nothing).
    pub fn decl(&self, extra: &[TokenStream]) -> TokenStream {
        let lifetimes = &self.lifetimes;
        let others = &self.others;
        let all: Vec<TokenStream> = lifetimes
            .iter()
            .map(ToTokens::to_token_stream)
            .chain(extra.iter().cloned())
            .chain(others.iter().map(ToTokens::to_token_stream))
            .collect();
        if all.is_empty() {
            quote!()
        } else {
            quote!(<#(#all),*>)
        }
    }

    /// The names of the parameters for `use<..>`: the user's lifetimes, `extra`, the types
    /// and consts.
    pub fn use_list(&self, extra: &[syn::Lifetime]) -> TokenStream {
        let lifetimes = self
            .lifetimes
            .iter()
            .map(|l| l.lifetime.to_token_stream())
            .chain(extra.iter().map(ToTokens::to_token_stream));
        let names = self.others.iter().map(|p| match p {
            GenericParam::Type(t) => t.ident.to_token_stream(),
            GenericParam::Const(c) => c.ident.to_token_stream(),
            GenericParam::Lifetime(l) => l.lifetime.to_token_stream(),
        });
        let all: Vec<TokenStream> = lifetimes.chain(names).collect();
        quote!(#(#all),*)
    }

    /// `::<T, N>` for a call of another emitted item (nothing without type or const
    /// parameters; lifetimes are inferred).
    pub fn turbofish(&self) -> TokenStream {
        let names: Vec<&Ident> = self
            .others
            .iter()
            .filter_map(|p| match p {
                GenericParam::Type(t) => Some(&t.ident),
                GenericParam::Const(c) => Some(&c.ident),
                GenericParam::Lifetime(_) => None,
            })
            .collect();
        if names.is_empty() {
            quote!()
        } else {
            quote!(::<#(#names),*>)
        }
    }

    /// The `where` clause.
    pub fn where_clause(&self) -> TokenStream {
        self.where_clause.to_token_stream()
    }

    /// The generics of a struct whose fields have the types `tys`: the parameters those
    /// types mention (a struct may not declare a parameter it does not use), with the
    /// `where` predicates on them.
    pub fn for_fields<'t>(&self, tys: impl IntoIterator<Item = &'t syn::Type>) -> Generics {
        #[derive(Default)]
        struct Mentions(Vec<String>);
        impl<'ast> Visit<'ast> for Mentions {
            fn visit_ident(&mut self, i: &'ast Ident) {
                self.0.push(i.to_string());
            }
            fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
                self.0.push(l.to_string());
            }
        }
        let mut m = Mentions::default();
        for t in tys {
            m.visit_type(t);
        }
        let used = |name: String| m.0.contains(&name);
        let mut params = syn::punctuated::Punctuated::new();
        for l in &self.lifetimes {
            if used(l.lifetime.to_string()) {
                params.push(GenericParam::Lifetime(l.clone()));
            }
        }
        for p in &self.others {
            let name = match p {
                GenericParam::Type(t) => t.ident.to_string(),
                GenericParam::Const(c) => c.ident.to_string(),
                GenericParam::Lifetime(l) => l.lifetime.to_string(),
            };
            if used(name) {
                params.push(p.clone());
            }
        }
        let where_clause = self.where_clause.as_ref().map(|w| {
            let mut w = w.clone();
            w.predicates = w
                .predicates
                .into_iter()
                .filter(|p| {
                    let mut pm = Mentions::default();
                    pm.visit_where_predicate(p);
                    params.iter().any(|q| match q {
                        GenericParam::Type(t) => pm.0.contains(&t.ident.to_string()),
                        GenericParam::Const(c) => pm.0.contains(&c.ident.to_string()),
                        GenericParam::Lifetime(l) => pm.0.contains(&l.lifetime.to_string()),
                    })
                })
                .collect();
            w
        });
        Generics {
            lt_token: (!params.is_empty()).then(Default::default),
            params: params.clone(),
            gt_token: (!params.is_empty()).then(Default::default),
            where_clause: where_clause.filter(|w| !w.predicates.is_empty()),
        }
    }
}

/// In a generic function, rewrites the gradient-free float methods of an expression kept
/// as written (`x.floor()`) to the runtime's unambiguous ones
/// (`{ use FloatMethods as _; x.ad_floor() }`); elsewhere leaves it alone.
pub fn disambiguate(e: &mut Expr) {
    struct Rewrite;
    impl VisitMut for Rewrite {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            syn::visit_mut::visit_expr_mut(self, e);
            if let Expr::MethodCall(m) = e {
                let name = m.method.to_string();
                if crate::rules::GRADIENT_FREE_FLOAT_METHODS.contains(&name.as_str())
                    && m.turbofish.is_none()
                {
                    let span = m.method.span();
                    let receiver = &m.receiver;
                    let method = format_ident!("ad_{}", name, span = span);
                    let args = &m.args;
                    *e = syn::parse_quote_spanned! {span=>
                        { use ::autodiff::__private::FloatMethods as _; (#receiver).#method(#args) }
                    };
                }
            }
        }
    }
    if in_generic_fn() {
        Rewrite.visit_expr_mut(e);
    }
}

/// A float literal the macro writes itself (the `0.0` a `sum()` starts from): in a generic
/// function a value of its scalar parameter, unless `turbofish` (`sum::<f64>()`) names a
/// concrete float.
pub fn literal(lit: syn::ExprLit, turbofish: Option<&syn::AngleBracketedGenericArguments>) -> Expr {
    let concrete = turbofish.is_some_and(|t| {
        t.args
            .iter()
            .any(|a| matches!(a, syn::GenericArgument::Type(ty) if is_float_type(ty)))
    });
    let scalar = SCALARS.with(|s| s.borrow().first().cloned());
    match scalar {
        Some(t) if !concrete => {
            let t = Ident::new(&t, lit.span());
            Literals::scalar_literal_of(&t, &lit)
        }
        _ => Expr::Lit(lit),
    }
}

/// Whether `e` is a constant of a scalar type parameter (`<T as Real>::c(0.5)`,
/// `T::zero()`): for shape inference, a scalar like a literal.
pub fn is_scalar_constant(e: &Expr) -> bool {
    let Expr::Call(c) = e else { return false };
    let Expr::Path(p) = &*c.func else {
        return false;
    };
    if let Some(q) = &p.qself {
        return matches!(&*q.ty, syn::Type::Path(tp) if tp.path.get_ident().is_some_and(|i| is_scalar_param(&i.to_string())));
    }
    p.path.segments.len() == 2 && is_scalar_param(&p.path.segments[0].ident.to_string())
}

/// The literal a rewritten float literal (`<T as ::autodiff::Real>::c(2.0)`) was written
/// as (`"2.0"`), for the graph's labels.
pub fn literal_of(e: &Expr) -> Option<String> {
    let Expr::Call(c) = e else { return None };
    let Expr::Path(p) = &*c.func else {
        return None;
    };
    let is_real_c = p.qself.is_some()
        && p.path.leading_colon.is_some()
        && p.path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .eq(["autodiff", "Real", "c"]);
    match (is_real_c, c.args.first()) {
        (true, Some(Expr::Lit(l))) if c.args.len() == 1 => Some(l.to_token_stream().to_string()),
        _ => None,
    }
}

/// Rewrites the body of a function with scalar type parameters `scalars` before it is
/// lowered: an unsuffixed float literal becomes a value of the parameter
/// (`<T as ::autodiff::Real>::c(2.0)`) unless it stands next to a visibly `f64`/`f32`
/// value (a cast `as f64`, a suffixed literal, a variable declared or initialised as one,
/// the argument of `T::c(..)` / `T::from(..)`), and `T::name(a, ..)` for a method the
/// macro knows becomes `a.name(..)`.
pub fn rewrite_body(item: &mut syn::ItemFn, scalars: &[Ident]) {
    let Some(scalar) = scalars.first() else {
        return;
    };
    let mut concrete_names = Vec::new();
    for input in &item.sig.inputs {
        if let syn::FnArg::Typed(pt) = input {
            if let (syn::Pat::Ident(pi), true) = (&*pt.pat, is_float_type(&pt.ty)) {
                concrete_names.push(pi.ident.to_string());
            }
        }
    }
    let mut r = Literals {
        scalar,
        concrete: false,
        concrete_names,
    };
    r.visit_block_mut(&mut item.block);
}

/// Whether `ty` is `f32` or `f64` (or a reference to one).
fn is_float_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            p.path.get_ident().is_some_and(|i| i == "f64" || i == "f32")
        }
        syn::Type::Reference(r) => is_float_type(&r.elem),
        syn::Type::Paren(p) => is_float_type(&p.elem),
        _ => false,
    }
}

struct Literals<'a> {
    /// The scalar type parameter.
    scalar: &'a Ident,
    /// Whether the expression being visited is visibly a concrete float.
    concrete: bool,
    /// Variables known to hold an `f64` or `f32`.
    concrete_names: Vec<String>,
}

impl Literals<'_> {
    /// Whether `e` is visibly an `f64` or `f32` (and so are the literals next to it).
    fn is_concrete(&self, e: &Expr) -> bool {
        match e {
            Expr::Lit(l) => match &l.lit {
                syn::Lit::Float(f) => matches!(f.suffix(), "f32" | "f64"),
                syn::Lit::Int(i) => matches!(i.suffix(), "f32" | "f64"),
                _ => false,
            },
            Expr::Cast(c) => is_float_type(&c.ty),
            Expr::Paren(p) => self.is_concrete(&p.expr),
            Expr::Group(g) => self.is_concrete(&g.expr),
            Expr::Unary(u) => self.is_concrete(&u.expr),
            Expr::Binary(b) if is_arithmetic(&b.op) => {
                self.is_concrete(&b.left) || self.is_concrete(&b.right)
            }
            Expr::MethodCall(m) => m.method == "to_f64_lossless" || self.is_concrete(&m.receiver),
            Expr::Path(p) if p.qself.is_none() => {
                let segs: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                match segs.as_slice() {
                    [one] => self.concrete_names.contains(one),
                    _ => segs.iter().any(|s| s == "f64" || s == "f32"),
                }
            }
            Expr::Call(c) => match &*c.func {
                Expr::Path(p) => p
                    .path
                    .segments
                    .iter()
                    .rev()
                    .skip(1)
                    .any(|s| s.ident == "f64" || s.ident == "f32"),
                _ => false,
            },
            _ => false,
        }
    }

    /// Visits `e` with [`Self::concrete`] set to `concrete`.
    fn with(&mut self, concrete: bool, e: &mut Expr) {
        let saved = std::mem::replace(&mut self.concrete, concrete);
        self.visit_expr_mut(e);
        self.concrete = saved;
    }

    /// The value of the scalar parameter for literal `lit`.
    fn scalar_literal(&self, lit: &syn::ExprLit) -> Expr {
        Self::scalar_literal_of(self.scalar, lit)
    }

    /// `<t as ::autodiff::Real>::c(lit)`.
    fn scalar_literal_of(t: &Ident, lit: &syn::ExprLit) -> Expr {
        let span = lit.span();
        syn::parse_quote_spanned!(span=> <#t as ::autodiff::Real>::c(#lit))
    }
}

fn is_arithmetic(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        Add(_)
            | Sub(_)
            | Mul(_)
            | Div(_)
            | Rem(_)
            | AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | Lt(_)
            | Le(_)
            | Gt(_)
            | Ge(_)
            | Eq(_)
            | Ne(_)
    )
}

/// The conversions whose argument is an `f64` (or any number): `T::c(..)`, `T::from(..)`.
const CONVERSIONS: &[&str] = &["c", "from", "from_f64", "from_f32", "from_subset"];

impl VisitMut for Literals<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Lit(l) => {
                if let syn::Lit::Float(f) = &l.lit {
                    if f.suffix().is_empty() && !self.concrete {
                        *e = self.scalar_literal(l);
                    }
                }
            }
            Expr::Paren(p) => self.visit_expr_mut(&mut p.expr),
            Expr::Group(g) => self.visit_expr_mut(&mut g.expr),
            Expr::Unary(u) => self.visit_expr_mut(&mut u.expr),
            Expr::Binary(b) if is_arithmetic(&b.op) => {
                let c = self.concrete || self.is_concrete(&b.left) || self.is_concrete(&b.right);
                self.with(c, &mut b.left);
                self.with(c, &mut b.right);
            }
            Expr::Assign(a) => {
                let c = self.is_concrete(&a.left) || self.is_concrete(&a.right);
                self.with(c, &mut a.left);
                self.with(c, &mut a.right);
            }
            Expr::Call(c) => {
                if let Some(m) = self.scalar_method_call(c) {
                    *e = Expr::MethodCall(m);
                    return self.visit_expr_mut(e);
                }
                let converts = match &*c.func {
                    Expr::Path(p) => {
                        p.path.segments.len() >= 2
                            && p.path.segments.last().is_some_and(|s| {
                                CONVERSIONS.contains(&s.ident.to_string().as_str())
                            })
                    }
                    _ => false,
                } || self.is_concrete(&Expr::Call(c.clone()));
                self.with(false, &mut c.func);
                for a in c.args.iter_mut() {
                    self.with(converts, a);
                }
            }
            Expr::MethodCall(m) => {
                let c = self.is_concrete(&m.receiver);
                let inherited = self.concrete;
                self.with(inherited, &mut m.receiver);
                for a in m.args.iter_mut() {
                    self.with(c, a);
                }
            }
            Expr::Macro(m) => {
                if let Some(parts) = crate::lower::vec_macro(m) {
                    let concrete = self.concrete;
                    let tokens = match parts {
                        crate::lower::VecMacro::Repeat(mut x, n) => {
                            self.with(concrete, &mut x);
                            quote!(#x; #n)
                        }
                        crate::lower::VecMacro::List(mut items) => {
                            for x in &mut items {
                                self.with(concrete, x);
                            }
                            quote!(#(#items),*)
                        }
                    };
                    m.mac.tokens = tokens;
                }
            }
            _ => {
                let saved = std::mem::replace(&mut self.concrete, false);
                syn::visit_mut::visit_expr_mut(self, e);
                self.concrete = saved;
            }
        }
    }

    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        let (name, ty) = match &local.pat {
            syn::Pat::Type(pt) => (pat_name(&pt.pat), Some(&*pt.ty)),
            p => (pat_name(p), None),
        };
        let typed = ty.map(is_float_type);
        if let Some(init) = &mut local.init {
            let concrete = typed.unwrap_or(false);
            let c = typed.unwrap_or_else(|| self.is_concrete(&init.expr));
            self.with(concrete, &mut init.expr);
            if let Some((_, diverge)) = &mut init.diverge {
                self.with(false, diverge);
            }
            if let Some(name) = name {
                self.concrete_names.retain(|n| *n != name);
                if c {
                    self.concrete_names.push(name);
                }
            }
        }
    }
}

impl Literals<'_> {
    /// `T::name(a, rest..)` for a scalar parameter `T` and a method `name` the macro
    /// knows, as the method call `a.name(rest..)`.
    fn scalar_method_call(&self, c: &syn::ExprCall) -> Option<syn::ExprMethodCall> {
        let Expr::Path(fp) = &*c.func else {
            return None;
        };
        let [ty, name] = [fp.path.segments.first()?, fp.path.segments.last()?];
        if fp.qself.is_some()
            || fp.path.segments.len() != 2
            || *self.scalar != ty.ident
            || crate::rules::method(&name.ident.to_string()).is_none()
        {
            return None;
        }
        crate::lower::call_as_method(c, name.ident.clone())
    }
}

/// The name a simple pattern binds.
fn pat_name(p: &syn::Pat) -> Option<String> {
    match p {
        syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body of `item` after [`rewrite_body`], as a string.
    fn rewritten(item: syn::ItemFn) -> String {
        let mut errors = Errors::default();
        let scalars = check(&item.sig.generics, &mut errors);
        assert!(errors.finish().is_ok());
        let mut item = item;
        rewrite_body(&mut item, &scalars);
        item.block.to_token_stream().to_string()
    }

    #[test]
    fn literals_become_values_of_the_scalar_except_next_to_an_f64() {
        let body = rewritten(syn::parse_quote! {
            fn f<T: Real>(x: T, n: usize, s: f64) -> T {
                let a = n as f64 * 0.5;
                let b: f64 = 0.75;
                let c = a * 0.125 + s * 4.0;
                let v = vec![0.0; n];
                x * 2.0 + T::c(0.25) + T::c(b * 3.0) + x.max(1.0) + T::exp(x) + (0.5f64 * 8.0) as usize
            }
        });
        let scalar = |lit: &str| format!("< T as :: autodiff :: Real > :: c ({lit})");
        for lit in ["2.0", "1.0", "0.0"] {
            assert!(body.contains(&scalar(lit)), "{lit} in {body}");
        }
        for lit in ["0.5", "0.75", "0.125", "4.0", "0.25", "3.0", "8.0"] {
            assert!(!body.contains(&scalar(lit)), "{lit} in {body}");
        }
        assert!(body.contains("x . exp ()"), "{body}");
    }

    #[test]
    fn only_real_bounded_parameters_are_scalars() {
        let mut errors = Errors::default();
        let g: Generics = syn::parse_quote!(<'a, T, const N: usize>);
        let mut g = g;
        g.where_clause = Some(syn::parse_quote!(where T: autodiff::Real));
        assert_eq!(check(&g, &mut errors).len(), 1);
        assert!(errors.finish().is_ok());
        let mut errors = Errors::default();
        let g: Generics = syn::parse_quote!(<T: Copy>);
        assert!(check(&g, &mut errors).is_empty());
        assert!(errors.finish().is_err());
    }
}
