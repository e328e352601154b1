//! Code for values built from components ([`Op::Construct`], [`Op::FromFn`]) and for
//! the adjoints of the values projections read ([`Op::Field`] of a local value).
//!
//! The reverse of a construction adds the `k`-th component of its cotangent into the
//! `k`-th operand's adjoint; a projection's adjoint is the component of the aggregate's
//! adjoint (see [`super::adjoint_place`]), so the aggregate's adjoint must have a known
//! type where it is declared: it is declared as the symbolic zero of its primal's type
//! (`adjoint_zero_like(&primal)`), and nested blocks save that primal on their tape.

use super::{adjoint_place, operand, owned, primal, tuple};
use crate::ir::{Block, Ctor, Eqn, FromFn, Func, Op, Stmt, VarId};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use std::collections::BTreeSet;

/// The forward code of `out = ctor(args)`.
pub fn forward(f: &Func, e: &Eqn, ctor: &Ctor) -> TokenStream {
    let out = primal(e.out);
    let ty = f.vars[e.out].ty.as_ref().map(|t| quote!(: #t));
    let args: Vec<TokenStream> = e.args.iter().map(|&a| owned(f, a)).collect();
    let value = match ctor {
        Ctor::Tuple => tuple(&args),
        Ctor::Struct(path, members) => quote!(#path { #(#members: #args),* }),
        Ctor::New(path) => quote!(#path::new(#(#args),*)),
        Ctor::FromVec(path) => quote!(#path::from_vec(::std::vec![#(#args),*])),
        Ctor::Vec => quote!(::std::vec![#(#args),*]),
        Ctor::Array => quote!([#(#args),*]),
    };
    let span = e.span;
    quote_spanned!(span=> let #out #ty = #value;)
}

/// The reverse code of `out = ctor(args)`: component `k` of the cotangent into the
/// adjoint of operand `k`.
pub fn reverse(f: &Func, e: &Eqn, ctor: &Ctor) -> TokenStream {
    let g = adjoint_place(f, e.out);
    let span = e.span;
    let adds = e.args.iter().enumerate().filter(|(_, &a)| f.active(a)).map(|(k, &a)| {
        let ga = adjoint_place(f, a);
        match ctor {
            Ctor::Tuple => {
                let k = syn::Index::from(k);
                quote_spanned!(span=> ::autodiff::__private::accumulate(&mut #ga, &#g.#k);)
            }
            Ctor::Struct(_, members) => {
                let m = &members[k];
                quote_spanned!(span=> ::autodiff::__private::accumulate(&mut #ga, &#g.#m);)
            }
            Ctor::New(_) => {
                quote_spanned!(span=> ::autodiff::__private::add_entry_row_major(&#g, #k, &mut #ga);)
            }
            Ctor::FromVec(_) | Ctor::Vec | Ctor::Array => {
                quote_spanned!(span=> ::autodiff::__private::add_element(&#g, #k, &mut #ga);)
            }
        }
    });
    quote!(#(#adds)*)
}

/// The closure's parameters, typed (`|i: usize, j: usize|`).
fn index_params(inner: &Func) -> Vec<TokenStream> {
    inner
        .params
        .iter()
        .map(|p| {
            let id = &p.ident;
            quote!(#id: usize)
        })
        .collect()
}

/// The forward code of `out = Ty::from_fn(sizes.., |i, j| body)`.
pub fn from_fn_forward(f: &Func, e: &Eqn, ff: &FromFn) -> TokenStream {
    let out = primal(e.out);
    let ty_ann = f.vars[e.out].ty.as_ref().map(|t| quote!(: #t));
    let ty = &ff.ty;
    let sizes = e.args[..ff.sizes].iter().map(|&s| primal(s));
    let inner = &ff.body;
    let params = index_params(inner);
    let body = super::forward::Forward::nested(inner).block(&inner.body);
    let ret = primal(inner.ret);
    let span = e.span;
    quote_spanned! {span=>
        let #out #ty_ann = #ty::from_fn(#(#sizes,)* |#(#params),*| { #body #ret });
    }
}

/// The reverse code of `from_fn`: the closure's vector-Jacobian product for each element,
/// with that element's cotangent, adding into the adjoints of the values it reads.
pub fn from_fn_reverse(f: &Func, e: &Eqn, ff: &FromFn) -> TokenStream {
    let g = adjoint_place(f, e.out);
    let inner = &ff.body;
    if !inner.captured.iter().any(|&v| inner.active(v)) {
        return quote!();
    }
    let params = index_params(inner);
    let body = super::vjp_body(inner);
    let span = e.span;
    quote_spanned! {span=>
        ::autodiff::__private::from_fn_vjp(&#g, |#(#params,)* __ad_dout| { #body });
    }
}

/// Calls `visit` on every equation of `block`, the blocks nested in it and the bodies of
/// the `from_fn` closures in them.
fn each_eqn(block: &Block, visit: &mut impl FnMut(&Eqn)) {
    for s in &block.stmts {
        match s {
            Stmt::Eqn(e) => {
                visit(e);
                // A `from_fn` closure projects the enclosing values it reads too.
                if let Op::FromFn(ff) = &e.op {
                    each_eqn(&ff.body.body, visit);
                }
            }
            s => {
                for b in s.blocks() {
                    each_eqn(b, visit);
                }
            }
        }
    }
}

/// Whether the adjoint of `v` is read as a whole by a component: `v` is built here, or a
/// projection reads a component of it (and it is not a parameter, whose type is known).
fn pins(f: &Func, e: &Eqn) -> Option<VarId> {
    match &e.op {
        Op::Construct(_) | Op::FromFn(_) => Some(e.out),
        Op::Field(_) => {
            let base = e.args[0];
            let param = f.params.iter().any(|p| p.var == base);
            (!param && !super::adjoint_is_field(f, base)).then_some(base)
        }
        _ => None,
    }
}

/// The active variables whose adjoints are declared as the zero of their primal's type
/// (see the module documentation).
pub fn pinned(f: &Func) -> BTreeSet<VarId> {
    let mut out = BTreeSet::new();
    each_eqn(&f.body, &mut |e| {
        if let Some(v) = pins(f, e).filter(|&v| f.active(v)) {
            out.insert(v);
        }
    });
    out
}

/// The declaration of the pinned adjoint of `v`.
pub fn declare_pinned(f: &Func, v: VarId) -> TokenStream {
    let a = super::adjoint(v);
    let x = operand(f, v);
    quote!(let mut #a = ::autodiff::__private::adjoint_zero_like(#x);)
}

/// Adds to `reads` the primal values the reverse code of the active equation `e` reads:
/// the values pinned adjoints are declared from, and what a `from_fn` closure reads.
pub fn reverse_reads(f: &Func, e: &Eqn, reads: &mut BTreeSet<VarId>) {
    if let Some(v) = pins(f, e) {
        reads.insert(v);
    }
    if let Op::FromFn(_) = e.op {
        reads.extend(e.args.iter().copied());
    }
}

/// The graph node's name of a construction: PyTorch's `StackBackward0` for vectors built
/// from scalars, TorchScript's `TupleConstruct` for tuples and `CreateObject` for structs.
pub fn graph_name(ctor: &Ctor) -> &'static str {
    match ctor {
        Ctor::Tuple => "TupleConstruct",
        Ctor::Struct(..) => "CreateObject",
        Ctor::New(_) | Ctor::FromVec(_) | Ctor::Vec | Ctor::Array => "StackBackward0",
    }
}

/// The graph node's name of a projection out of a value built in the function
/// (TorchScript's `TupleIndex` and `GetAttr`), or `None` for a field of a parameter
/// (drawn as an input of its own).
pub fn graph_field_name(f: &Func, e: &Eqn) -> Option<&'static str> {
    let base = e.args[0];
    if f.params.iter().any(|p| p.var == base) || f.vars[base].field_of.is_some() {
        return None;
    }
    match &e.op {
        Op::Field(syn::Member::Unnamed(_)) => Some("TupleIndex"),
        Op::Field(syn::Member::Named(_)) => Some("GetAttr"),
        _ => None,
    }
}
