//! The reverse code: adjoints accumulated in place, statements visited backwards.
//!
//! Every active variable gets one adjoint, declared as a symbolic zero at the start of
//! the reverse of the block that defines it; every rule call adds its contribution into
//! the operand's adjoint. Branches replay the arm the forward pass took (read from the
//! tape) and loops pop their tape, so iterations run in reverse.

use super::tape::{
    defined_in_arm, defined_in_loop, has_reverse, reverse_reads, rule_reads, saved, shape_witness,
    Facts,
};
use super::{
    adjoint, adjoint_is_field, adjoint_place, operand, pooled_values, primal, pullback,
    recycle_block_adjoints, recycle_values, rule_value, tape, tuple,
};
use crate::ir::{Block, Eqn, Func, Op, Stmt, VarId};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use std::collections::BTreeSet;

/// Reverse code generator.
pub struct Reverse<'f> {
    /// The function.
    pub f: &'f Func,
    /// Shapes and scopes (which rule operands the reverse reads).
    facts: Facts,
    /// The loops whose tapes hold every run (see [`super::tape::nested_loops`]).
    nested: BTreeSet<VarId>,
}

impl<'f> Reverse<'f> {
    /// The reverse code generator of `f`.
    pub fn new(f: &'f Func) -> Self {
        Reverse {
            f,
            facts: Facts::of(f),
            nested: super::tape::nested_loops(f),
        }
    }

    /// Declarations of the symbolic-zero adjoints of the active variables in `defined`.
    pub fn declare(&self, defined: &BTreeSet<VarId>) -> TokenStream {
        let pinned = super::aggregates::pinned(self.f);
        let decls = defined
            .iter()
            .filter(|&&v| self.f.active(v) && !adjoint_is_field(self.f, v))
            .map(|&v| {
                if pinned.contains(&v) {
                    return super::aggregates::declare_pinned(self.f, v);
                }
                let a = adjoint(v);
                // The adjoint has its primal's type: name it where it is known (parameters,
                // annotated `let`s), so that field adjoints of struct parameters resolve.
                let info = &self.f.vars[v];
                let owned = !info.by_ref || self.f.params.iter().any(|p| p.var == v);
                if self.f.params.iter().any(|p| p.var == v && p.seq) {
                    let ty = &info.ty;
                    let x = super::operand(self.f, v);
                    return quote!(let mut #a: #ty = ::autodiff::__private::seq_adjoint(#x););
                }
                match (&info.ty, owned) {
                    (Some(ty), true) if !matches!(ty, syn::Type::Reference(_)) => {
                        quote!(let mut #a: #ty = ::autodiff::__private::adjoint_zero();)
                    }
                    _ => quote!(let mut #a = ::autodiff::__private::adjoint_zero();),
                }
            });
        quote!(#(#decls)*)
    }

    /// At the end of the reverse code of a nested block: gives back the adjoints declared
    /// for it (except `moved` ones) and the values a rule made in it that its tape saved.
    fn recycle_block(
        &self,
        block: &Block,
        defined: &BTreeSet<VarId>,
        moved: BTreeSet<VarId>,
    ) -> TokenStream {
        let reads = reverse_reads(self.f, block);
        let values = recycle_values(
            pooled_values(self.f, block)
                .into_iter()
                .filter(|v| reads.contains(v)),
        );
        let adjoints = recycle_block_adjoints(self.f, block, defined, moved);
        quote!(#values #adjoints)
    }

    /// Operand `v` of a rule whose reverse reads it: `&v`, or `v` read again from the
    /// sequence it was read from (see [`Facts::reloads`]).
    fn read_operand(&self, v: VarId) -> TokenStream {
        match &self.facts.reloads[v] {
            Some((r, x)) => {
                let rule = rule_value(r);
                let xo = operand(self.f, *x);
                quote!(&::autodiff::__private::unary(#rule, #xo))
            }
            None => operand(self.f, v),
        }
    }

    /// `adjoint(target) += value` when `target` is active.
    fn add_into(&self, target: VarId, value: TokenStream) -> TokenStream {
        if self.f.active(target) {
            let a = adjoint_place(self.f, target);
            quote!(::autodiff::__private::accumulate(&mut #a, &#value);)
        } else {
            quote!()
        }
    }

    /// `adjoint(target) += value`, taking `value` (an adjoint that is still the symbolic
    /// zero takes its buffer); `value` goes back to the pool when `target` has no adjoint.
    fn add_owned_into(&self, target: VarId, value: TokenStream) -> TokenStream {
        if self.f.active(target) {
            let a = adjoint_place(self.f, target);
            quote!(::autodiff::__private::accumulate_owned(&mut #a, #value);)
        } else {
            quote!(::autodiff::__private::recycle(#value);)
        }
    }

    /// The adjoint of `v` as a value (moved), or a symbolic zero when `v` has none.
    fn take(&self, v: VarId) -> TokenStream {
        if self.f.active(v) {
            let a = adjoint(v);
            quote!(#a)
        } else {
            quote!(::autodiff::__private::adjoint_zero())
        }
    }

    /// The reverse of `block`'s statements (adjoints must already be declared).
    pub fn block(&self, block: &Block) -> TokenStream {
        let stmts = block.stmts.iter().rev().map(|s| self.stmt(s));
        quote!(#(#stmts)*)
    }

    fn stmt(&self, s: &Stmt) -> TokenStream {
        if !has_reverse(self.f, s) {
            return quote!();
        }
        match s {
            Stmt::Eqn(e) => self.eqn(e),
            Stmt::Branch {
                arms, outs, span, ..
            } => {
                let t = tape(outs[0]);
                let n = arms.len();
                let replays = arms.iter().enumerate().map(|(k, arm)| {
                    let defined = defined_in_arm(arm);
                    let pat = saved(self.f, &arm.block, &defined, true);
                    let slots = (0..n).map(|j| {
                        if j == k {
                            quote!(::core::option::Option::Some(#pat))
                        } else {
                            quote!(_)
                        }
                    });
                    let decl = self.declare(&defined);
                    let joins = outs
                        .iter()
                        .zip(&arm.outs)
                        .filter(|(o, _)| self.f.active(**o))
                        .map(|(&o, &b)| {
                            let ao = adjoint_place(self.f, o);
                            self.add_into(b, quote!(#ao))
                        });
                    let rev = self.block(&arm.block);
                    let recycle = self.recycle_block(&arm.block, &defined, BTreeSet::new());
                    quote!((#(#slots,)*) => { #decl #(#joins)* #rev #recycle })
                });
                quote_spanned! {*span=>
                    match #t {
                        #(#replays)*
                        _ => {}
                    }
                }
            }
            Stmt::For {
                index,
                lo,
                carried_in,
                params,
                body,
                body_outs,
                outs,
                span,
                ..
            } => {
                let t = tape(outs[0]);
                let carry = format_ident!("__adjc_{}", outs[0]);
                let slots: Vec<usize> = (0..outs.len())
                    .filter(|&k| self.f.active(outs[k]) || self.f.active(params[k]))
                    .collect();
                let init = tuple(
                    &slots
                        .iter()
                        .map(|&k| self.take(outs[k]))
                        .collect::<Vec<_>>(),
                );
                let incoming: Vec<syn::Ident> = slots
                    .iter()
                    .map(|&k| format_ident!("__adjin_{}", body_outs[k]))
                    .collect();
                let incoming_pat = tuple(&incoming.iter().map(|i| quote!(#i)).collect::<Vec<_>>());
                let defined = defined_in_loop(body, params, *index);
                let pat = saved(
                    self.f,
                    body,
                    &super::tape::saved_in_loop(body, params, *index),
                    true,
                );
                let index_again = super::tape::reverse_index(self.f, &self.facts, body, *index, lo);
                let decl = self.declare(&defined);
                let joins = slots
                    .iter()
                    .zip(&incoming)
                    .map(|(&k, inc)| self.add_owned_into(body_outs[k], quote!(#inc)));
                let rev = self.block(body);
                let next = tuple(
                    &slots
                        .iter()
                        .map(|&k| self.take(params[k]))
                        .collect::<Vec<_>>(),
                );
                let exits = slots.iter().enumerate().map(|(j, &k)| {
                    let j = syn::Index::from(j);
                    self.add_owned_into(carried_in[k], quote!(#carry.#j))
                });
                // The incoming adjoints and the carry went into adjoints; the body's
                // adjoints but the carried ones (moved into the carry) and the saved values
                // go back to the pool.
                let recycle_body =
                    self.recycle_block(body, &defined, params.iter().copied().collect());
                // A nested loop's tape holds every run: this run's iterations are the last.
                let nested = self.nested.contains(&outs[0]);
                let iterations = match (nested, index_again.is_some()) {
                    (true, false) => {
                        let n = super::tape::run_length(outs[0]);
                        quote!(for #pat in #t.pop_run(#n))
                    }
                    (true, true) => {
                        let n = super::tape::run_length(outs[0]);
                        quote!(for (__ad_k, #pat) in ::core::iter::Iterator::zip(::core::iter::Iterator::rev(0..#n), #t.pop_run(#n)))
                    }
                    (false, false) => {
                        quote!(while let ::core::option::Option::Some(#pat) = #t.pop())
                    }
                    (false, true) => {
                        quote!(while let ::core::option::Option::Some(#pat) = #t.pop())
                    }
                };
                // The iteration's position, when the index is recomputed: entries left below.
                let position =
                    (!nested && index_again.is_some()).then(|| quote!(let __ad_k = #t.len();));
                quote_spanned! {*span=>
                    let mut #carry = #init;
                    #iterations {
                        #position
                        #index_again
                        let #incoming_pat = #carry;
                        #decl
                        #(#joins)*
                        #rev
                        #carry = #next;
                        #recycle_body
                    }
                    #(#exits)*
                }
            }
        }
    }

    fn eqn(&self, e: &Eqn) -> TokenStream {
        let f = self.f;
        let out = primal(e.out);
        let g = adjoint_place(f, e.out);
        let span = e.span;
        match &e.op {
            Op::Unary(r) => {
                let rule = rule_value(r);
                let x = e.args[0];
                if !f.active(x) {
                    return quote!();
                }
                let reads = rule_reads(f, &self.facts, e, r);
                let gx = adjoint_place(f, x);
                if reads.witness {
                    let w = shape_witness(x);
                    return quote_spanned!(span=> ::autodiff::__private::index_vjp(#rule, &#w, &#g, &mut #gx););
                }
                // What the rule does not read, the cotangent (a float too) stands in for.
                let xo = if reads.args[0] {
                    self.read_operand(x)
                } else {
                    quote!(&#g)
                };
                let y = if reads.out {
                    quote!(&#out)
                } else {
                    quote!(&#g)
                };
                quote_spanned!(span=> ::autodiff::__private::unary_vjp(#rule, #xo, #y, &#g, &mut #gx);)
            }
            Op::Binary(r) => {
                let rule = rule_value(r);
                let (a, b) = (e.args[0], e.args[1]);
                let reads = rule_reads(f, &self.facts, e, r);
                let stand_in = |v: VarId, read: bool| {
                    if read {
                        self.read_operand(v)
                    } else {
                        quote!(&#g)
                    }
                };
                let (ao, bo) = (stand_in(a, reads.args[0]), stand_in(b, reads.args[1]));
                let out = if reads.out {
                    quote!(&#out)
                } else {
                    quote!(&#g)
                };
                let mut code = quote!();
                if f.active(a) {
                    let ga = adjoint_place(f, a);
                    code.extend(quote_spanned!(span=> ::autodiff::__private::binary_vjp_lhs(#rule, #ao, #bo, #out, &#g, &mut #ga);));
                }
                if f.active(b) {
                    let gb = adjoint_place(f, b);
                    code.extend(quote_spanned!(span=> ::autodiff::__private::binary_vjp_rhs(#rule, #ao, #bo, #out, &#g, &mut #gb);));
                }
                code
            }
            // The field's adjoint is the struct adjoint's field (`adjoint_place`):
            // every contribution already landed there.
            Op::Field(_) => quote!(),
            Op::Call {
                path,
                borrowed,
                recompute,
            } => {
                let pb = pullback(e.out);
                let cot = format_ident!("__cot_{}", e.out);
                let call = if *recompute {
                    // The callee's forward again on the arguments the tape kept, with its
                    // vector-Jacobian product.
                    let args: Vec<TokenStream> = e
                        .args
                        .iter()
                        .zip(borrowed)
                        .map(|(&a, &b)| super::call_arg(f, a, b))
                        .collect();
                    let direct = super::callee::direct_call(path, &args, &quote!(#g), span);
                    quote_spanned! {span=>
                        let (__ad_again, #cot) = #direct;
                        ::autodiff::__private::recycle_value(__ad_again);
                    }
                } else if super::tape::writes_by_index(&e.op) {
                    // `out[i] = x` undone: the cotangent of `x` is element `i` of the
                    // result's, the old `out`'s the rest.
                    let i = primal(e.args[2]);
                    let w = super::tape::type_witness(e.out);
                    quote_spanned!(span=> let #cot = ::autodiff::__private::index_set_vjp_of(#g, ::core::clone::Clone::clone(&#i), #w);)
                } else {
                    quote_spanned!(span=> let #cot = #pb(#g);)
                };
                // The cotangents are the callee's adjoints: an adjoint still the symbolic
                // zero takes its buffer; the others' go back to the pool.
                let adds = e.args.iter().enumerate().map(|(k, &a)| {
                    let k = syn::Index::from(k);
                    if f.active(a) {
                        let ga = adjoint_place(f, a);
                        quote!(::autodiff::__private::accumulate_cotangent_owned(&mut #ga, #cot.#k);)
                    } else {
                        quote!(::autodiff::__private::recycle_value(#cot.#k);)
                    }
                });
                quote_spanned! {span=>
                    #call
                    #(#adds)*
                }
            }
            Op::Fused(inner) => super::fused::reverse(f, e, inner, false, g, None),
            Op::FusedSum(inner) => super::fused::reverse(f, e, inner, true, g, None),
            Op::Map(inner) => {
                let x = e.args[0];
                if !f.active(x) {
                    return quote!();
                }
                let (xo, gx) = (operand(f, x), adjoint_place(f, x));
                let param = &inner.params[0].ident;
                let body = super::vjp_body(inner);
                let cot = super::param_cotangent(inner, 0);
                quote_spanned! {span=>
                    ::autodiff::__private::map_vjp(#xo, &#g, &mut #gx, |#param, __ad_dout| { #body #cot });
                }
            }
            Op::Construct(ctor) => super::aggregates::reverse(f, e, ctor),
            Op::FromFn(ff) => super::aggregates::from_fn_reverse(f, e, ff),
            Op::Param(_) | Op::Opaque(_) | Op::StopGradient => quote!(),
        }
    }
}
