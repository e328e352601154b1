//! Code for fused elementwise chains ([`Op::Fused`], [`Op::FusedSum`]).
//!
//! The chain's scalar code becomes a method generic over the runtime's `FusedValue`, on a
//! local struct that holds the chain's run-time constants (the `n` of `powi(n)`):
//! `FusedMap::eval` forward, `FusedVjp::vjp` in reverse. A closure would not do: the
//! runtime instantiates the same code for four-lane vectors and for scalars. The body is
//! the ordinary forward and reverse code of the chain's IR, so every formula still comes
//! from the rules.

use super::{adjoint_place, operand, primal, tuple};
use crate::ir::{Block, Eqn, Func, Op, Param, RuleRef, Stmt, VarId, VarInfo};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

/// The integer literal (`2`, `-1`) that defines `v` in `f`, if that is how `v` is defined.
fn integer_literal(f: &Func, v: VarId) -> Option<syn::Expr> {
    fn find(block: &Block, v: VarId) -> Option<&Eqn> {
        block.stmts.iter().find_map(|s| match s {
            Stmt::Eqn(e) if e.out == v => Some(e),
            Stmt::Eqn(_) => None,
            other => other.blocks().into_iter().find_map(|b| find(b, v)),
        })
    }
    fn is_integer(e: &syn::Expr) -> bool {
        match e {
            syn::Expr::Lit(l) => matches!(l.lit, syn::Lit::Int(_)),
            syn::Expr::Unary(u) => matches!(u.op, syn::UnOp::Neg(_)) && is_integer(&u.expr),
            syn::Expr::Paren(p) => is_integer(&p.expr),
            _ => false,
        }
    }
    match &find(&f.body, v)?.op {
        Op::Opaque(e) if is_integer(e) => Some(e.clone()),
        _ => None,
    }
}

/// The local struct holding the chain's run-time constants, its constructor call, and the
/// code that binds every constant inside the chain's method. A constant the user wrote
/// as a literal (`powi(2)`) is written into the method, so that the compiler sees it
/// (`x * x`, no match on the exponent in the loop); the others become fields.
fn constants(
    outer: &Func,
    inner: &Func,
    name: &syn::Ident,
) -> (TokenStream, TokenStream, TokenStream) {
    let (literal, fields): (Vec<_>, Vec<_>) = inner
        .captured
        .iter()
        .map(|&c| (c, integer_literal(outer, c)))
        .partition(|(_, lit)| lit.is_some());
    let values: Vec<_> = fields.iter().map(|&(c, _)| primal(c)).collect();
    let unpack_literal = literal.iter().map(|(c, lit)| {
        let c = primal(*c);
        quote!(let #c: i32 = #lit;)
    });
    let unpack_field = fields.iter().enumerate().map(|(k, &(c, _))| {
        let c = primal(c);
        let k = syn::Index::from(k);
        quote!(let #c = self.#k;)
    });
    let unpack = quote!(#(#unpack_literal)* #(#unpack_field)*);
    let fields = fields.iter().map(|_| quote!(i32));
    let def = if values.is_empty() {
        quote!(struct #name;)
    } else {
        quote!(struct #name(#(#fields),*);)
    };
    let make = if values.is_empty() {
        quote!(#name)
    } else {
        quote!(#name(#(#values),*))
    };
    (def, make, unpack)
}

/// The inputs of the chain as a tuple of references.
fn inputs(f: &Func, e: &Eqn) -> TokenStream {
    let xs: Vec<TokenStream> = e.args.iter().map(|&a| operand(f, a)).collect();
    tuple(&xs)
}

/// The forward code: `let out = fused_map((inputs), Chain)` or `fused_sum(..)`.
pub fn forward(f: &Func, e: &Eqn, inner: &Func, sum: bool, ty: Option<TokenStream>) -> TokenStream {
    let out = primal(e.out);
    let n = e.args.len();
    let name = format_ident!("__AdFused{}", e.out);
    let (def, make, unpack) = constants(f, inner, &name);
    let params: Vec<&syn::Ident> = inner.params.iter().map(|p| &p.ident).collect();
    let body = super::forward::Forward::nested(inner).block(&inner.body);
    let ret = primal(inner.ret);
    let driver = if sum {
        quote!(fused_sum)
    } else {
        quote!(fused_map)
    };
    let xs = inputs(f, e);
    let span = e.span;
    quote_spanned! {span=>
        let #out #ty = {
            #def
            impl ::autodiff::__private::FusedMap<#n> for #name {
                #[inline(always)]
                fn eval<__AdV: ::autodiff::__private::FusedValue>(&self, __ad_in: [__AdV; #n]) -> __AdV {
                    let [#(#params),*] = __ad_in;
                    #unpack
                    #body
                    #ret
                }
            }
            ::autodiff::__private::#driver(#xs, #make)
        };
    }
}

/// The chain's IR for the reverse loop of an elementwise chain: when its last op is a
/// unary rule, that op reads the output the forward loop saved (`Saved(rule)`, fed by an
/// extra parameter `__ad_y`) instead of computing it again.
fn with_saved_output(inner: &Func) -> Func {
    let mut vjp = inner.clone();
    let root = vjp.body.stmts.iter().rposition(
        |s| matches!(s, Stmt::Eqn(e) if e.out == vjp.ret && matches!(e.op, Op::Unary(_))),
    );
    let Some(at) = root else { return vjp };
    let y = vjp.vars.len();
    vjp.vars.push(VarInfo {
        name: None,
        by_ref: false,
        varied: false,
        useful: false,
        live: true,
        ty: None,
        span: vjp.vars[vjp.ret].span,
        field_of: None,
        seq: false,
    });
    let index = vjp.params.len();
    vjp.params.push(Param {
        ident: format_ident!("__ad_y"),
        wrt: false,
        var: y,
        seq: false,
    });
    if let Stmt::Eqn(e) = &mut vjp.body.stmts[at] {
        if let Op::Unary(r) = &e.op {
            e.op = Op::Binary(RuleRef {
                saved: true,
                ..r.clone()
            });
            e.args.push(y);
        }
    }
    vjp.body.stmts.insert(
        0,
        Stmt::Eqn(Eqn {
            out: y,
            op: Op::Param(index),
            args: Vec::new(),
            span: vjp.vars[vjp.ret].span,
        }),
    );
    vjp
}

/// The reverse code: `fused_map_vjp((inputs), &y, &g, (adjoints), Chain)`, or for a sum
/// `fused_sum_vjp((inputs), &g, (adjoints), Chain)` (which also returns the sum; `value`
/// names a variable to bind it to, for the one-loop value and gradient).
pub fn reverse(
    f: &Func,
    e: &Eqn,
    inner: &Func,
    sum: bool,
    g: TokenStream,
    value: Option<TokenStream>,
) -> TokenStream {
    let n = e.args.len();
    let name = format_ident!("__AdFusedVjp{}", e.out);
    let vjp = if sum {
        inner.clone()
    } else {
        with_saved_output(inner)
    };
    let (def, make, unpack) = constants(f, &vjp, &name);
    let params: Vec<&syn::Ident> = vjp.params[..n].iter().map(|p| &p.ident).collect();
    let saved = if vjp.params.len() > n {
        quote!()
    } else {
        quote!(let _ = __ad_y;)
    };
    let body = super::vjp_body(&vjp);
    let cots: Vec<TokenStream> = (0..n).map(|k| super::param_cotangent(&vjp, k)).collect();
    let ret = primal(vjp.ret);
    let targets: Vec<TokenStream> = e
        .args
        .iter()
        .map(|&a| {
            if f.active(a) {
                let ga = adjoint_place(f, a);
                quote!(&mut #ga)
            } else {
                quote!(::autodiff::__private::NoAdjoint)
            }
        })
        .collect();
    let targets = tuple(&targets);
    let xs = inputs(f, e);
    let call = if sum {
        quote!(::autodiff::__private::fused_sum_vjp(#xs, &#g, #targets, #make))
    } else {
        let out = primal(e.out);
        quote!(::autodiff::__private::fused_map_vjp(#xs, &#out, &#g, #targets, #make))
    };
    let bind = match value {
        Some(v) => quote!(let #v = #call;),
        None => quote!(#call;),
    };
    let span = e.span;
    quote_spanned! {span=>
        #def
        impl ::autodiff::__private::FusedVjp<#n> for #name {
            #[inline(always)]
            fn vjp<__AdV: ::autodiff::__private::FusedValue>(
                &self,
                __ad_in: [__AdV; #n],
                __ad_y: __AdV,
                __ad_dout: __AdV,
            ) -> (__AdV, [__AdV; #n]) {
                let [#(#params),*] = __ad_in;
                #saved
                #unpack
                #body
                (#ret, [#(#cots),*])
            }
        }
        #bind
    }
}
