//! What the reverse pass needs from the forward pass.
//!
//! Top-level values stay in scope for the reverse code (the pullback closure captures
//! them). Values computed inside a branch or a loop body do not, so each such block
//! saves on its tape exactly the values its reverse code reads, the tapes of the
//! control-flow statements it contains, and the pullbacks of the calls it makes.

use super::{primal, pullback, tape};
use crate::ir::{Block, Func, Op, Stmt, VarId};
use proc_macro2::TokenStream;
use std::collections::BTreeSet;

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

/// Variables defined in a loop body's scope: its statements, the carried values and the index.
pub fn defined_in_loop(body: &Block, params: &[VarId], index: VarId) -> BTreeSet<VarId> {
    let mut d = defined_in(body);
    d.extend(params.iter().copied());
    d.insert(index);
    d
}

/// Primal variables the reverse code of `block` reads that it does not get from a nested tape.
pub fn reverse_reads(f: &Func, block: &Block) -> BTreeSet<VarId> {
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
                // A recomputed call runs its callee again on its arguments.
                if let Op::Call {
                    recompute: true, ..
                } = &e.op
                {
                    reads.extend(e.args.iter().copied());
                }
                if let Op::Unary(r) | Op::Binary(r) = &e.op {
                    if e.args.iter().any(|&a| f.active(a)) {
                        reads.extend(e.args.iter().copied());
                        reads.insert(e.out);
                        reads.extend(r.param);
                    }
                }
            }
            Stmt::Eqn(_) => {}
            Stmt::Branch { arms, .. } => {
                for arm in arms {
                    let inner = defined_in_arm(arm);
                    reads.extend(reverse_reads(f, &arm.block).difference(&inner).copied());
                }
            }
            Stmt::For {
                body,
                params,
                index,
                ..
            } => {
                let inner = defined_in_loop(body, params, *index);
                reads.extend(reverse_reads(f, body).difference(&inner).copied());
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
/// reads, then the tapes of its control-flow statements, then its pullbacks; each with
/// whether it is a nested tape.
fn saved_names(f: &Func, block: &Block, defined: &BTreeSet<VarId>) -> Vec<(TokenStream, bool)> {
    let mut names: Vec<(TokenStream, bool)> = reverse_reads(f, block)
        .intersection(defined)
        .map(|&v| {
            let id = primal(v);
            (quote::quote!(#id), false)
        })
        .collect();
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
                    let pb = pullback(e.out);
                    names.push((quote::quote!(#pb), false));
                }
            }
            Stmt::Branch { outs, .. } | Stmt::For { outs, .. } => {
                if has_reverse(f, s) {
                    let t = tape(outs[0]);
                    names.push((quote::quote!(#t), true));
                }
            }
        }
    }
    names
}
