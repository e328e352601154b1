//! The forward code: the function's value, one `let` per operation.
//!
//! In recording mode (inside the pullback) calls to other differentiable functions keep
//! their pullbacks, and branches and loops that the reverse pass revisits save what it
//! needs on their tapes (see [`super::tape`]).

use super::tape::{defined_in, defined_in_loop, has_reverse, reverse_reads, saved};
use super::{
    cloned, operand, pooled_values, primal, pullback, recycle_values, rule_value, tape, tuple,
};
use crate::ir::{Block, Eqn, Func, Op, Stmt, VarId};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use std::collections::BTreeSet;

/// Forward code generator.
pub struct Forward<'f> {
    /// The function.
    pub f: &'f Func,
    /// Whether to record what the reverse pass needs.
    pub record: bool,
}

impl Forward<'_> {
    /// The statements of `block`.
    pub fn block(&self, block: &Block) -> TokenStream {
        let stmts = block.stmts.iter().map(|s| self.stmt(s));
        quote!(#(#stmts)*)
    }

    /// Gives back the values a rule made in `block` at its end, except those saved on a
    /// tape (`record`: the reverse pass reads them, and recycles them after).
    fn recycle_block(&self, block: &Block, defined: &BTreeSet<VarId>, record: bool) -> TokenStream {
        let saved: BTreeSet<VarId> = if record {
            reverse_reads(self.f, block)
                .intersection(defined)
                .copied()
                .collect()
        } else {
            BTreeSet::new()
        };
        recycle_values(
            pooled_values(self.f, block)
                .into_iter()
                .filter(|v| !saved.contains(v)),
        )
    }

    fn stmt(&self, s: &Stmt) -> TokenStream {
        match s {
            Stmt::Eqn(e) => self.eqn(e),
            Stmt::If {
                cond,
                then_block,
                else_block,
                outs,
                then_outs,
                else_outs,
                span,
                ..
            } => {
                let record = self.record && has_reverse(self.f, s);
                let out_pat: Vec<TokenStream> = outs
                    .iter()
                    .map(|&o| {
                        let id = primal(o);
                        quote!(#id)
                    })
                    .collect();
                let then_vals: Vec<TokenStream> =
                    then_outs.iter().map(|&v| cloned(self.f, v)).collect();
                let else_vals: Vec<TokenStream> =
                    else_outs.iter().map(|&v| cloned(self.f, v)).collect();
                let then_code = self.block(then_block);
                let else_code = self.block(else_block);
                let then_recycle = self.recycle_block(then_block, &defined_in(then_block), record);
                let else_recycle = self.recycle_block(else_block, &defined_in(else_block), record);
                if record {
                    let t = tape(outs[0]);
                    let then_saved = saved(self.f, then_block, &defined_in(then_block), false);
                    let else_saved = saved(self.f, else_block, &defined_in(else_block), false);
                    let pat = tuple(&out_pat);
                    let then_tuple = tuple(&then_vals);
                    let else_tuple = tuple(&else_vals);
                    quote_spanned! {*span=>
                        let (#pat, #t) = if #cond {
                            #then_code
                            let __ad_outs = #then_tuple;
                            #then_recycle
                            (__ad_outs, (::core::option::Option::Some(#then_saved), ::core::option::Option::None))
                        } else {
                            #else_code
                            let __ad_outs = #else_tuple;
                            #else_recycle
                            (__ad_outs, (::core::option::Option::None, ::core::option::Option::Some(#else_saved)))
                        };
                    }
                } else {
                    let pat = tuple(&out_pat);
                    let then_tuple = tuple(&then_vals);
                    let else_tuple = tuple(&else_vals);
                    quote_spanned! {*span=>
                        let #pat = if #cond {
                            #then_code
                            let __ad_outs = #then_tuple;
                            #then_recycle
                            __ad_outs
                        } else {
                            #else_code
                            let __ad_outs = #else_tuple;
                            #else_recycle
                            __ad_outs
                        };
                    }
                }
            }
            Stmt::For {
                index,
                lo,
                hi,
                inclusive,
                carried_in,
                params,
                body,
                body_outs,
                outs,
                span,
                ..
            } => {
                let record = self.record && has_reverse(self.f, s);
                let carry = format_ident!("__carry_{}", outs[0]);
                let range = format_ident!("__range_{}", outs[0]);
                let init = tuple(
                    &carried_in
                        .iter()
                        .map(|&v| cloned(self.f, v))
                        .collect::<Vec<_>>(),
                );
                let param_pat = tuple(
                    &params
                        .iter()
                        .map(|&p| {
                            let id = primal(p);
                            quote!(#id)
                        })
                        .collect::<Vec<_>>(),
                );
                let next = tuple(
                    &body_outs
                        .iter()
                        .map(|&v| cloned(self.f, v))
                        .collect::<Vec<_>>(),
                );
                let out_pat = tuple(
                    &outs
                        .iter()
                        .map(|&o| {
                            let id = primal(o);
                            quote!(#id)
                        })
                        .collect::<Vec<_>>(),
                );
                let idx = primal(*index);
                let dots = if *inclusive { quote!(..=) } else { quote!(..) };
                let body_code = self.block(body);
                let body_recycle =
                    self.recycle_block(body, &defined_in_loop(body, params, *index), record);
                let (tape_init, tape_push) = if record {
                    let t = tape(outs[0]);
                    let saved = saved(self.f, body, &defined_in_loop(body, params, *index), false);
                    (
                        quote!(let mut #t = ::std::vec::Vec::with_capacity(::core::iter::Iterator::size_hint(&#range).0);),
                        quote!(#t.push(#saved);),
                    )
                } else {
                    (quote!(), quote!())
                };
                quote_spanned! {*span=>
                    let mut #carry = #init;
                    let #range = (#lo) #dots (#hi);
                    #tape_init
                    for #idx in #range {
                        let #param_pat = #carry;
                        #body_code
                        #carry = #next;
                        #tape_push
                        #body_recycle
                    }
                    let #out_pat = #carry;
                }
            }
        }
    }

    fn eqn(&self, e: &Eqn) -> TokenStream {
        let f = self.f;
        let out = primal(e.out);
        let ty = f.vars[e.out].ty.as_ref().map(|t| quote!(: #t));
        let span = e.span;
        match &e.op {
            Op::Param(i) => {
                let p = &f.params[*i].ident;
                quote!(let #out = #p;)
            }
            Op::Opaque(expr) => quote_spanned!(span=> let #out #ty = #expr;),
            Op::Unary(r) => {
                let rule = rule_value(r);
                let x = operand(f, e.args[0]);
                quote_spanned!(span=> let #out #ty = ::autodiff::__private::unary(#rule, #x);)
            }
            Op::Binary(r) => {
                let rule = rule_value(r);
                let a = operand(f, e.args[0]);
                let b = operand(f, e.args[1]);
                quote_spanned!(span=> let #out #ty = ::autodiff::__private::binary(#rule, #a, #b);)
            }
            Op::Fused(inner) => super::fused::forward(f, e, inner, false, ty),
            Op::FusedSum(inner) => super::fused::forward(f, e, inner, true, ty),
            Op::Map(inner) => {
                let x = operand(f, e.args[0]);
                let param = &inner.params[0].ident;
                let body = Forward {
                    f: inner,
                    record: false,
                }
                .block(&inner.body);
                let ret = primal(inner.ret);
                quote_spanned!(span=> let #out #ty = ::autodiff::__private::map(#x, |#param| { #body #ret });)
            }
            Op::StopGradient => {
                let x = operand(f, e.args[0]);
                quote_spanned!(span=> let #out #ty = ::core::clone::Clone::clone(#x);)
            }
            Op::Field(member) => {
                let base = primal(e.args[0]);
                quote_spanned!(span=> let #out = &#base.#member;)
            }
            Op::Call { path, borrowed } => {
                let args: Vec<TokenStream> = e
                    .args
                    .iter()
                    .zip(borrowed)
                    .map(|(&a, &b)| if b { operand(f, a) } else { cloned(f, a) })
                    .collect();
                if self.record && f.active(e.out) {
                    let pb = pullback(e.out);
                    let callee = super::items::pullback_path(path);
                    quote_spanned!(span=> let (#out, #pb) = #callee(#(#args),*);)
                } else {
                    quote_spanned!(span=> let #out #ty = #path(#(#args),*);)
                }
            }
        }
    }
}
