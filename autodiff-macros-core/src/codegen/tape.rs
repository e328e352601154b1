//! What the reverse pass needs from the forward pass.
//!
//! Top-level values stay in scope for the reverse code (the pullback closure captures
//! them). Values computed inside a branch or a loop body do not, so each such block
//! saves on its tape exactly the values its reverse code reads, the tapes of the
//! control-flow statements it contains, and the pullbacks of the calls it makes.

use super::{primal, pullback, tape};
use crate::ir::{Block, Eqn, Func, Op, RuleRef, Stmt, VarId};
use crate::pass::shape::Shape;
use autodiff_ops::{OpId, Reads};
use proc_macro2::TokenStream;
use quote::format_ident;
use std::collections::BTreeSet;

/// What the reverse of one rule (`Op::Unary`, `Op::Binary`) reads of the forward pass, as
/// the op table's `reads` column says (a to-be-recorded analysis, as Tapenade's): `sin`
/// its input, `exp` its output, `+` nothing. Only where every operand is known to be a
/// float does the reverse code stand the cotangent in for an operand it does not read
/// (same type); a matrix rule reads what its signature takes.
pub struct RuleReads {
    /// Per operand: read.
    pub args: Vec<bool>,
    /// The output is read.
    pub out: bool,
    /// `v[i]` on a local vector or matrix: the reverse reads `v`'s shape, saved as
    /// [`shape_witness`], instead of `v`.
    pub witness: bool,
}

/// What the analyses of the reverse reads need to know of every variable.
pub struct Facts {
    /// Its shape.
    pub shapes: Vec<Shape>,
    /// Whether it is defined at the function's top level (or is a parameter): in scope for
    /// the whole reverse pass, never saved on a tape.
    pub top: Vec<bool>,
    /// For `v = x[i]` inside a block, with `x` in scope for the whole reverse pass (a
    /// parameter, a top-level value): the index rule and `x`. A rule that reads `v` reads
    /// it again from `x` (`x[i]`: one load) instead of saving it, and saves the index only,
    /// which the adjoint of `x[i]` saves anyway when `x` is differentiated.
    pub reloads: Vec<Option<(RuleRef, VarId)>>,
    /// Whether the reverse reads the shape of the vector or matrix `v` (an index on it
    /// whose reverse reads a [`shape_witness`]): the forward pass keeps it where `v` is
    /// defined, once, and the block defining `v` saves it.
    pub witnessed: Vec<bool>,
}

impl Facts {
    /// The facts of `f`'s variables.
    pub fn of(f: &Func) -> Facts {
        let mut top = vec![false; f.vars.len()];
        for v in defined_in(&f.body)
            .into_iter()
            .chain(f.params.iter().map(|p| p.var))
        {
            top[v] = true;
        }
        let mut reloads = vec![None; f.vars.len()];
        find_reloads(&f.body, &top, &mut reloads);
        let mut facts = Facts {
            shapes: crate::pass::shape::infer(f),
            top,
            reloads,
            witnessed: vec![false; f.vars.len()],
        };
        let mut witnessed = vec![false; f.vars.len()];
        find_witnessed(f, &facts, &f.body, &mut witnessed);
        facts.witnessed = witnessed;
        facts
    }

    /// The variables the reverse reads for a rule's read of `v`: `v`, or the index and the
    /// sequence it is read again from (see [`Facts::reloads`]).
    fn read_of(&self, v: VarId) -> Vec<VarId> {
        match &self.reloads[v] {
            Some((r, x)) => r.param.into_iter().chain([*x]).collect(),
            None => vec![v],
        }
    }
}

fn find_witnessed(f: &Func, facts: &Facts, b: &Block, out: &mut [bool]) {
    for s in &b.stmts {
        if let Stmt::Eqn(e) = s {
            if let Op::Unary(r) = &e.op {
                if f.active(e.out) && f.active(e.args[0]) && rule_reads(f, facts, e, r).witness {
                    out[e.args[0]] = true;
                }
            }
        }
        for inner in s.blocks() {
            find_witnessed(f, facts, inner, out);
        }
    }
}

fn find_reloads(b: &Block, top: &[bool], out: &mut [Option<(RuleRef, VarId)>]) {
    for s in &b.stmts {
        if let Stmt::Eqn(e) = s {
            if let Op::Unary(r) = &e.op {
                let x = e.args[0];
                if r.op == OpId::Index && r.param.is_some() && top[x] && !top[e.out] {
                    out[e.out] = Some((r.clone(), x));
                }
            }
        }
        for inner in s.blocks() {
            find_reloads(inner, top, out);
        }
    }
}

/// What the reverse of the rule equation `e` reads (see [`RuleReads`]).
pub fn rule_reads(f: &Func, facts: &Facts, e: &Eqn, r: &RuleRef) -> RuleReads {
    let shapes = &facts.shapes;
    if matches!(r.op, OpId::Index | OpId::Index2) {
        let x = e.args[0];
        // A value the function captures from an enclosing one (a `from_fn` closure's) is
        // in scope in its reverse code: read it.
        let witness =
            !facts.top[x] && !f.vars[x].by_ref && !f.vars[x].seq && !f.captured.contains(&x);
        return RuleReads {
            args: vec![!witness],
            out: false,
            witness,
        };
    }
    let scalar = e
        .args
        .iter()
        .chain([&e.out])
        .all(|&v| shapes.get(v) == Some(&Shape::Scalar));
    let (input, output) = match r.info().reads {
        _ if !scalar => (true, true),
        Reads::Nothing => (false, false),
        Reads::Input => (true, false),
        Reads::Output => (false, true),
        Reads::Both => (true, true),
    };
    RuleReads {
        args: vec![input; e.args.len()],
        out: output,
        witness: false,
    }
}

/// Whether `op` is an index write (`out[i] = x`, the runtime's `index_set`) that the reverse
/// pass undoes from the index alone (`index_set_vjp`): the tape keeps the index, which it
/// usually saves anyway, not a pullback.
pub fn writes_by_index(op: &Op) -> bool {
    matches!(op, Op::Call { path, recompute: false, .. }
        if super::is_runtime_path(path)
            && path.segments.len() == 3
            && path.segments[2].ident == "index_set")
}

/// The zero-sized value naming the type of an index write's result (see
/// [`writes_by_index`]), saved in place of its pullback.
pub fn type_witness(out: VarId) -> syn::Ident {
    format_ident!("__ty_{}", out)
}

/// The saved shape of the vector or matrix `v` (see [`RuleReads::witness`] and
/// [`Facts::witnessed`]).
pub fn shape_witness(v: VarId) -> syn::Ident {
    format_ident!("__shape_{}", v)
}

/// Whether a statement leaves any work for the reverse pass.
pub fn has_reverse(f: &Func, stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Eqn(e) => f.active(e.out),
        Stmt::Branch { outs, arms, .. } => {
            outs.iter().any(|&o| f.active(o)) || arms.iter().any(|a| block_has_reverse(f, &a.block))
        }
        Stmt::For {
            outs, params, body, ..
        } => outs.iter().chain(params).any(|&o| f.active(o)) || block_has_reverse(f, body),
    }
}

fn block_has_reverse(f: &Func, b: &Block) -> bool {
    b.stmts.iter().any(|s| has_reverse(f, s))
}

/// The loops with reverse work that are not at the function's top level, by first output.
/// Each has one tape for all its runs, declared before the recorded forward code
/// ([`nested_tape_declarations`]); the block around it saves each run's length
/// ([`run_length`]) and the reverse pass pops that many iterations.
pub fn nested_loops(f: &Func) -> BTreeSet<VarId> {
    fn walk(f: &Func, b: &Block, nested: bool, out: &mut BTreeSet<VarId>) {
        for s in &b.stmts {
            if let Stmt::For { outs, .. } = s {
                if nested && has_reverse(f, s) {
                    out.insert(outs[0]);
                }
            }
            for inner in s.blocks() {
                walk(f, inner, true, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(f, &f.body, false, &mut out);
    out
}

/// `let mut __tape_N = Vec::new();` for each of [`nested_loops`].
pub fn nested_tape_declarations(f: &Func) -> TokenStream {
    let decls = nested_loops(f).into_iter().map(|lp| {
        let t = tape(lp);
        let h = hint(lp);
        quote::quote! {
            static #h: ::autodiff::__private::TapeHint = ::autodiff::__private::TapeHint::new();
            let mut #t = ::autodiff::__private::Tape::with_hint(&#h);
        }
    });
    quote::quote!(#(#decls)*)
}

/// The `static` that remembers how many entries the tape of the loop whose first output is
/// `lp` held, so that the next call sizes it at once.
pub fn hint(lp: VarId) -> syn::Ident {
    format_ident!("__TAPE_HINT_{}", lp)
}

/// How many iterations one run of the nested loop whose first output is `lp` pushed on its
/// tape (see [`nested_loops`]).
pub fn run_length(lp: VarId) -> syn::Ident {
    format_ident!("__iters_{}", lp)
}

/// Variables defined directly in `block` (not in nested blocks).
pub fn defined_in(block: &Block) -> BTreeSet<VarId> {
    let mut out = BTreeSet::new();
    for s in &block.stmts {
        out.extend(s.defs().iter().copied());
    }
    out
}

/// Variables defined in an arm's scope: its statements and the pattern's bindings.
pub fn defined_in_arm(arm: &crate::ir::Arm) -> BTreeSet<VarId> {
    let mut d = defined_in(&arm.block);
    d.extend(arm.binds.iter().copied());
    d
}

/// What a loop's tape saves per iteration out of its body's scope: everything but the
/// index, which the reverse loop recomputes from its position (see [`reverse_index`]).
pub fn saved_in_loop(body: &Block, params: &[VarId], index: VarId) -> BTreeSet<VarId> {
    let mut d = defined_in_loop(body, params, index);
    d.remove(&index);
    d
}

/// `let index = ..;` in the reverse of a loop's iteration `k` (from 0): the `k`-th value of
/// `lo..`, when the body's reverse reads the index.
pub fn reverse_index(
    f: &Func,
    facts: &Facts,
    body: &Block,
    index: VarId,
    lo: &syn::Expr,
) -> Option<TokenStream> {
    if !reads_of(f, facts, body).contains(&index) {
        return None;
    }
    let idx = primal(index);
    Some(quote::quote! {
        let #idx = ::core::option::Option::expect(
            ::core::iter::Iterator::nth(&mut ((#lo)..), __ad_k),
            "the loop index of an iteration the forward pass ran",
        );
    })
}

/// Variables defined in a loop body's scope: its statements, the carried values and the index.
pub fn defined_in_loop(body: &Block, params: &[VarId], index: VarId) -> BTreeSet<VarId> {
    let mut d = defined_in(body);
    d.extend(params.iter().copied());
    d.insert(index);
    d
}

/// Primal variables the reverse code of `block` reads that it does not get from a nested tape.
pub fn reverse_reads(f: &Func, block: &Block) -> BTreeSet<VarId> {
    reads_of(f, &Facts::of(f), block)
}

fn reads_of(f: &Func, facts: &Facts, block: &Block) -> BTreeSet<VarId> {
    let mut reads = BTreeSet::new();
    for s in &block.stmts {
        match s {
            Stmt::Eqn(e) if f.active(e.out) => {
                super::aggregates::reverse_reads(f, e, &mut reads);
                if let Op::Map(inner) | Op::Fused(inner) | Op::FusedSum(inner) = &e.op {
                    reads.extend(e.args.iter().copied());
                    reads.extend(inner.captured.iter().copied());
                }
                // The reverse loop of an elementwise chain reads the chain's saved output.
                if let Op::Fused(_) = &e.op {
                    reads.insert(e.out);
                }
                // An index write is undone from its index.
                if writes_by_index(&e.op) {
                    reads.insert(e.args[2]);
                }
                // A recomputed call runs its callee again on its arguments.
                if let Op::Call {
                    recompute: true, ..
                } = &e.op
                {
                    reads.extend(e.args.iter().copied());
                }
                if let Op::Unary(r) | Op::Binary(r) = &e.op {
                    if e.args.iter().any(|&a| f.active(a)) {
                        let rr = rule_reads(f, facts, e, r);
                        let read = e.args.iter().zip(&rr.args).filter(|(_, &r)| r);
                        reads.extend(read.flat_map(|(&a, _)| facts.read_of(a)));
                        if rr.out {
                            reads.insert(e.out);
                        }
                        reads.extend(r.param);
                    }
                }
            }
            Stmt::Eqn(_) => {}
            Stmt::Branch { arms, .. } => {
                for arm in arms {
                    let inner = defined_in_arm(arm);
                    reads.extend(reads_of(f, facts, &arm.block).difference(&inner).copied());
                }
            }
            Stmt::For {
                body,
                params,
                index,
                bound_vars,
                ..
            } => {
                let inner = defined_in_loop(body, params, *index);
                let body_reads = reads_of(f, facts, body);
                // The reverse loop counts the index down itself, from the lower bound.
                if body_reads.contains(index) {
                    reads.extend(bound_vars.iter().copied());
                }
                reads.extend(body_reads.difference(&inner).copied());
            }
        }
    }
    reads
}

/// The tuple a nested block pushes on its tape (`pattern = false`) or the pattern that
/// takes it apart in the reverse pass (`pattern = true`, where nested tapes are `mut`).
pub fn saved(f: &Func, block: &Block, defined: &BTreeSet<VarId>, pattern: bool) -> TokenStream {
    let items: Vec<TokenStream> = saved_names(f, block, defined)
        .into_iter()
        .map(|(name, is_tape)| {
            if pattern && is_tape {
                quote::quote!(mut #name)
            } else {
                name
            }
        })
        .collect();
    super::tuple(&items)
}

/// The names saved on the tape of a nested block, in a fixed order: the values its reverse
/// reads, the shapes of the local vectors it indexes, then the tapes of its branches and
/// the run lengths of its loops, then its pullbacks; each with whether it is a nested tape.
fn saved_names(f: &Func, block: &Block, defined: &BTreeSet<VarId>) -> Vec<(TokenStream, bool)> {
    let facts = Facts::of(f);
    let mut names: Vec<(TokenStream, bool)> = reads_of(f, &facts, block)
        .intersection(defined)
        .map(|&v| {
            let id = primal(v);
            (quote::quote!(#id), false)
        })
        .collect();
    for &v in defined {
        if facts.witnessed[v] {
            let w = shape_witness(v);
            names.push((quote::quote!(#w), false));
        }
    }
    for s in &block.stmts {
        match s {
            Stmt::Eqn(e) => {
                if matches!(
                    e.op,
                    Op::Call {
                        recompute: false,
                        ..
                    }
                ) && f.active(e.out)
                {
                    let pb = if writes_by_index(&e.op) {
                        type_witness(e.out)
                    } else {
                        pullback(e.out)
                    };
                    names.push((quote::quote!(#pb), false));
                }
            }
            Stmt::Branch { outs, .. } => {
                if has_reverse(f, s) {
                    let t = tape(outs[0]);
                    names.push((quote::quote!(#t), true));
                }
            }
            Stmt::For { outs, .. } => {
                if has_reverse(f, s) {
                    let n = run_length(outs[0]);
                    names.push((quote::quote!(#n), false));
                }
            }
        }
    }
    names
}
