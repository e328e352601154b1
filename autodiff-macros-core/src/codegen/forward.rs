//! The forward code: the function's value, one `let` per operation.
//!
//! In recording mode (inside the pullback) calls to other differentiable functions keep
//! their pullbacks, and branches and loops that the reverse pass revisits save what it
//! needs on their tapes (see [`super::tape`]).

use super::tape::{defined_in_arm, defined_in_loop, has_reverse, reverse_reads, saved};
use super::{
    cloned, operand, pooled_values, primal, pullback, recycle_values, rule_value, tape, tuple,
};
use crate::ir::{Arm, Block, Eqn, Func, Head, Op, ReadSite, Stmt, VarId};
use crate::pass::shape::Shape;
use autodiff_ops::OpId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use std::collections::{BTreeMap, BTreeSet};

/// Forward code generator.
pub struct Forward<'f> {
    /// The function.
    pub f: &'f Func,
    /// Whether to record what the reverse pass needs.
    pub record: bool,
    /// Whether the code may use what `facts` knows of shapes (not in a nested function,
    /// whose values may be lanes).
    uses_shapes: bool,
    /// Shapes, and what the reverse reads depend on.
    facts: super::tape::Facts,
    /// How often each variable is read (empty where the code may not move values).
    uses: Vec<usize>,
    /// The loops whose tapes hold every run (recording only; see
    /// [`super::tape::nested_loops`]).
    nested: BTreeSet<VarId>,
    /// What the reverse pass reads (recording only): never moved.
    kept: BTreeSet<VarId>,
    /// The values moved by their last read (into a loop's carry, into `index_set`, into a
    /// call): not given back to the pool where they were made.
    moved: BTreeSet<VarId>,
    /// Where each moved value is moved.
    moved_sites: BTreeMap<VarId, ReadSite>,
}

impl<'f> Forward<'f> {
    /// The forward code of the function `f`: values known to be floats are added,
    /// subtracted, multiplied and divided with the operators.
    pub fn new(f: &'f Func, record: bool) -> Self {
        Forward {
            f,
            record,
            uses_shapes: true,
            facts: super::tape::Facts::of(f),
            uses: f.use_counts(),
            kept: if record {
                all_reverse_reads(f, &f.body)
            } else {
                BTreeSet::new()
            },
            nested: if record {
                super::tape::nested_loops(f)
            } else {
                BTreeSet::new()
            },
            moved: BTreeSet::new(),
            moved_sites: BTreeMap::new(),
        }
        .with_moves()
    }

    /// The code of a nested function (a `map` closure, a fused chain, a `from_fn`
    /// closure), whose values may be lanes rather than floats: every op through its rule.
    pub fn nested(f: &'f Func) -> Self {
        Forward {
            f,
            record: false,
            uses_shapes: false,
            facts: super::tape::Facts::of(f),
            uses: Vec::new(),
            kept: BTreeSet::new(),
            nested: BTreeSet::new(),
            moved: BTreeSet::new(),
            moved_sites: BTreeMap::new(),
        }
    }

    /// An owned copy of `v` read at `site`: the float itself (it is `Copy`), `v` moved
    /// where this is its last read, or a clone.
    fn copy_of(&self, v: VarId, site: ReadSite) -> TokenStream {
        if (self.is_scalar(v) || self.moved_at(v, site)) && !self.f.vars[v].by_ref {
            primal_tokens(v)
        } else {
            cloned(self.f, v)
        }
    }

    /// Whether the read of `v` at `site` moves it.
    fn moved_at(&self, v: VarId, site: ReadSite) -> bool {
        self.moved_sites.get(&v) == Some(&site)
    }

    /// Finds the values its code moves (see [`Forward::moved`]): owned, not read by the
    /// reverse pass, at their last read in program order when that read runs once per
    /// run of the block that defines them (not in a loop nested in it: a loop body runs
    /// again).
    fn with_moves(mut self) -> Self {
        /// The loop level (numbered in order, 0 outside every loop) that defines each
        /// variable, and the inner level of each loop (by its first output).
        fn levels(
            b: &Block,
            lp: usize,
            next: &mut usize,
            at: &mut [usize],
            inner_of: &mut [usize],
        ) {
            for s in &b.stmts {
                for &d in s.defs() {
                    at[d] = lp;
                }
                match s {
                    Stmt::Eqn(_) => {}
                    Stmt::Branch { arms, .. } => {
                        for a in arms {
                            a.binds.iter().for_each(|&v| at[v] = lp);
                            levels(&a.block, lp, next, at, inner_of);
                        }
                    }
                    Stmt::For {
                        index,
                        params,
                        body,
                        outs,
                        ..
                    } => {
                        *next += 1;
                        let inner = *next;
                        inner_of[outs[0]] = inner;
                        at[*index] = inner;
                        params.iter().for_each(|&p| at[p] = inner);
                        levels(body, inner, next, at, inner_of);
                    }
                }
            }
        }
        if self.uses.is_empty() {
            return self;
        }
        let n = self.f.vars.len();
        let (mut at, mut inner_of) = (vec![0; n], vec![0; n]);
        levels(&self.f.body, 0, &mut 0, &mut at, &mut inner_of);
        let mut last: Vec<Option<ReadSite>> = vec![None; n];
        self.f.visit_reads(&mut |v, site| last[v] = Some(site));
        let level = |site: ReadSite| match site {
            ReadSite::Arg { eqn, .. } => Some(at[eqn]),
            ReadSite::CarryIn { lp, .. } => Some(at[lp]),
            ReadSite::CarryOut { lp, .. } => Some(inner_of[lp]),
            ReadSite::Other => None,
        };
        let mut moved = BTreeMap::new();
        for (v, site) in last.into_iter().enumerate() {
            let Some(site) = site else { continue };
            if self.movable(v) && level(site) == Some(at[v]) {
                moved.insert(v, site);
            }
        }
        self.moved = moved.keys().copied().collect();
        self.moved_sites = moved;
        self
    }

    /// The values the code moves by their only read: the caller must not recycle them.
    pub fn moved(&self) -> &BTreeSet<VarId> {
        &self.moved
    }

    /// Whether the code may move owned `v` at its last read (recording: when the reverse
    /// pass does not read it); a vector written by index in a loop (`out[i] = ..`) then
    /// needs no copy of `out`.
    fn movable(&self, v: VarId) -> bool {
        !self.f.vars[v].by_ref && !self.f.vars[v].seq && !self.kept.contains(&v)
    }

    /// When recording: the shapes of those of `vars` whose shape the reverse pass reads
    /// (see [`super::tape::Facts::witnessed`]), kept right where they are defined.
    fn witnesses_of(&self, vars: &[VarId]) -> TokenStream {
        if !self.record {
            return quote!();
        }
        let lets = vars.iter().filter(|&&v| self.facts.witnessed[v]).map(|&v| {
            let w = super::tape::shape_witness(v);
            let x = operand(self.f, v);
            quote!(let #w = ::autodiff::__private::index_shape(#x);)
        });
        quote!(#(#lets)*)
    }

    /// Whether `v` is known to be a float.
    fn is_scalar(&self, v: VarId) -> bool {
        self.uses_shapes && self.facts.shapes.get(v) == Some(&Shape::Scalar)
    }

    /// The code of the function's top-level `block`: when recording, the tapes of its
    /// nested loops first (see [`super::tape::nested_loops`]), then its statements.
    pub fn top(&self, block: &Block) -> TokenStream {
        let tapes = if self.record {
            super::tape::nested_tape_declarations(self.f)
        } else {
            quote!()
        };
        let code = self.block(block);
        quote!(#tapes #code)
    }

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
                .filter(|v| !saved.contains(v) && !self.moved.contains(v)),
        )
    }

    fn stmt(&self, s: &Stmt) -> TokenStream {
        let code = self.stmt_code(s);
        let witnesses = self.witnesses_of(s.defs());
        quote!(#code #witnesses)
    }

    fn stmt_code(&self, s: &Stmt) -> TokenStream {
        match s {
            Stmt::Eqn(e) => self.eqn(e),
            Stmt::Branch {
                head,
                arms,
                outs,
                span,
                ..
            } => {
                let record = self.record && has_reverse(self.f, s);
                let out_pat = tuple(&outs.iter().map(|&o| primal_tokens(o)).collect::<Vec<_>>());
                let n = arms.len();
                let arm_code: Vec<TokenStream> = arms
                    .iter()
                    .enumerate()
                    .map(|(k, arm)| {
                        let vals = tuple(
                            &arm.outs
                                .iter()
                                .zip(outs)
                                .map(|(&v, &o)| joined_value(self.f, v, o))
                                .collect::<Vec<_>>(),
                        );
                        let code = self.block(&arm.block);
                        let defined = defined_in_arm(arm);
                        let recycle = self.recycle_block(&arm.block, &defined, record);
                        if record {
                            let saved = saved(self.f, &arm.block, &defined, false);
                            let slots = (0..n).map(|j| {
                                if j == k {
                                    quote!(::core::option::Option::Some(#saved))
                                } else {
                                    quote!(::core::option::Option::None)
                                }
                            });
                            quote!({ #code let __ad_outs = #vals; #recycle (__ad_outs, (#(#slots,)*)) })
                        } else {
                            quote!({ #code let __ad_outs = #vals; #recycle __ad_outs })
                        }
                    })
                    .collect();
                let choice = branch_expr(head, arms, &arm_code);
                if record {
                    let t = tape(outs[0]);
                    quote_spanned!(*span=> let (#out_pat, #t) = #choice;)
                } else {
                    quote_spanned!(*span=> let #out_pat = #choice;)
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
                exit,
                span,
                ..
            } => {
                let record = self.record && has_reverse(self.f, s);
                let carry = format_ident!("__carry_{}", outs[0]);
                let range = format_ident!("__range_{}", outs[0]);
                let lp = outs[0];
                let init = tuple(
                    &carried_in
                        .iter()
                        .enumerate()
                        .map(|(k, &v)| self.copy_of(v, ReadSite::CarryIn { lp, k }))
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
                        .enumerate()
                        .map(|(k, &v)| self.copy_of(v, ReadSite::CarryOut { lp, k }))
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
                let param_witnesses = self.witnesses_of(params);
                let range_expr = match hi {
                    Some(hi) if *inclusive => quote!((#lo)..=(#hi)),
                    Some(hi) => quote!((#lo)..(#hi)),
                    None => quote!((#lo)..),
                };
                // After the iteration is on the tape: a loop with exits checks its flag.
                let check_exit = exit.map(|x| {
                    let x = primal(x);
                    quote!(if #x { break; })
                });
                let body_code = self.block(body);
                let body_recycle =
                    self.recycle_block(body, &defined_in_loop(body, params, *index), record);
                let nested = record && self.nested.contains(&lp);
                let (tape_init, tape_push, tape_end) = if record {
                    let t = tape(lp);
                    let saved = saved(
                        self.f,
                        body,
                        &super::tape::saved_in_loop(body, params, *index),
                        false,
                    );
                    let size = quote!(::core::iter::Iterator::size_hint(&#range).0);
                    let start = format_ident!("__start_{}", lp);
                    let init = match (nested, hi.is_some()) {
                        // One tape for every run, declared before the function's code: this
                        // run's iterations follow the earlier runs'.
                        (true, true) => quote!(let #start = #t.len(); #t.reserve(#size);),
                        (true, false) => quote!(let #start = #t.len();),
                        (false, has_hi) => {
                            let h = super::tape::hint(lp);
                            let reserve = has_hi.then(|| quote!(#t.reserve(#size);));
                            quote! {
                                static #h: ::autodiff::__private::TapeHint = ::autodiff::__private::TapeHint::new();
                                let mut #t = ::autodiff::__private::Tape::with_hint(&#h);
                                #reserve
                            }
                        }
                    };
                    let end = if nested {
                        let n = super::tape::run_length(lp);
                        quote!(let #n = #t.len() - #start;)
                    } else {
                        quote!()
                    };
                    (init, quote!(#t.push(#saved);), end)
                } else {
                    (quote!(), quote!(), quote!())
                };
                quote_spanned! {*span=>
                    let mut #carry = #init;
                    let #range = #range_expr;
                    #tape_init
                    for #idx in #range {
                        let #param_pat = #carry;
                        #param_witnesses
                        #body_code
                        #carry = #next;
                        #tape_push
                        #body_recycle
                        #check_exit
                    }
                    #tape_end
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
            Op::Binary(r)
                if matches!(r.op, OpId::Add | OpId::Sub | OpId::Mul | OpId::Div)
                    && e.args.iter().all(|&a| self.is_scalar(a)) =>
            {
                // The rule's scalar forward is this IEEE operation: the operator itself
                // gives the same bits without a call through the rule's traits.
                let (a, b) = (scalar_value(f, e.args[0]), scalar_value(f, e.args[1]));
                let op = match r.op {
                    OpId::Add => quote_spanned!(span=> +),
                    OpId::Sub => quote_spanned!(span=> -),
                    OpId::Mul => quote_spanned!(span=> *),
                    _ => quote_spanned!(span=> /),
                };
                quote_spanned!(span=> let #out #ty = #a #op #b;)
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
                let body = Forward::nested(inner).block(&inner.body);
                let ret = primal(inner.ret);
                quote_spanned!(span=> let #out #ty = ::autodiff::__private::map(#x, |#param| { #body #ret });)
            }
            Op::StopGradient => {
                let x = operand(f, e.args[0]);
                quote_spanned!(span=> let #out #ty = ::core::clone::Clone::clone(#x);)
            }
            Op::Field(member) if f.vars[e.out].by_ref => {
                let base = primal(e.args[0]);
                quote_spanned!(span=> let #out = &#base.#member;)
            }
            Op::Field(member) => {
                let base = primal(e.args[0]);
                quote_spanned!(span=> let #out = ::core::clone::Clone::clone(&#base.#member);)
            }
            Op::Call {
                path,
                borrowed,
                recompute,
            } => {
                let args: Vec<TokenStream> = e
                    .args
                    .iter()
                    .zip(borrowed)
                    .enumerate()
                    .map(|(k, (&a, &b))| {
                        if !b && self.moved_at(a, ReadSite::Arg { eqn: e.out, k }) {
                            // A value nothing reads again, passed by value: moved
                            // (`out[i] = x` writes `out` in place).
                            primal_tokens(a)
                        } else {
                            super::call_arg(f, a, b)
                        }
                    })
                    .collect();
                if self.record
                    && f.active(e.out)
                    && !recompute
                    && !super::tape::writes_by_index(&e.op)
                {
                    let pb = pullback(e.out);
                    let call = super::callee::pullback_call(path, &args, span);
                    quote_spanned!(span=> let (#out, #pb) = #call;)
                } else if self.record && f.active(e.out) && !recompute {
                    // An index write keeps its result's type for the reverse pass.
                    let w = super::tape::type_witness(e.out);
                    quote_spanned! {span=>
                        let #out #ty = #path(#(#args),*);
                        let #w = ::autodiff::__private::type_witness(&#out);
                    }
                } else {
                    quote_spanned!(span=> let #out #ty = #path(#(#args),*);)
                }
            }
            Op::Construct(ctor) => super::aggregates::forward(f, e, ctor),
            Op::FromFn(ff) => super::aggregates::from_fn_forward(f, e, ff),
        }
    }
}

/// The float `v` as a value: `__ad_3`, or `(*__ad_3)` for a borrowed one.
fn scalar_value(f: &Func, v: VarId) -> TokenStream {
    let id = primal(v);
    if f.vars[v].by_ref {
        quote!((*#id))
    } else {
        quote!(#id)
    }
}

/// What the reverse code of `block` and of every block nested in it reads.
fn all_reverse_reads(f: &Func, block: &Block) -> BTreeSet<VarId> {
    let mut reads = reverse_reads(f, block);
    for s in &block.stmts {
        for b in s.blocks() {
            reads.extend(all_reverse_reads(f, b));
        }
    }
    reads
}

fn primal_tokens(v: VarId) -> TokenStream {
    let id = primal(v);
    quote!(#id)
}

/// The `if` or `match` choosing between `code[k]`, the code of `arms[k]` (shared by the
/// forward and the reverse: the reverse replays the arm from the tape instead).
fn branch_expr(head: &Head, arms: &[Arm], code: &[TokenStream]) -> TokenStream {
    match head {
        Head::If(cond) => {
            let (then_code, else_code) = (&code[0], &code[1]);
            quote!(if #cond #then_code else #else_code)
        }
        Head::Match(scrutinee) => {
            let arms = arms.iter().zip(code).map(|(arm, code)| {
                let pat = &arm.pat;
                let guard = arm.guard.as_ref().map(|g| quote!(if #g));
                quote!(#pat #guard => #code)
            });
            quote!(match #scrutinee { #(#arms,)* })
        }
    }
}

/// The value an arm gives the joined output `o`: a copy of `v`, and of what `v` borrows when
/// `o` is owned (a `return self.b;` arm joined with an owned slot: [`super::owned`]).
fn joined_value(f: &Func, v: VarId, o: VarId) -> TokenStream {
    if f.vars[o].by_ref {
        cloned(f, v)
    } else {
        super::owned(f, v)
    }
}
