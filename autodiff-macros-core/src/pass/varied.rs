//! Forward activity: marks `varied` every variable whose value depends on a
//! differentiated parameter.
//!
//! Guarantee: after this pass, `VarInfo::varied` holds exactly for the variables reached
//! from a differentiated parameter through operations that carry a gradient (the rule of
//! one equation is [`eqn`]); a loop's carried values are iterated to the least fixpoint
//! (a value is varied at the start of an iteration when it is before the loop or at the
//! end of an iteration). Opaque expressions, `stop_gradient`, loop indices and the names
//! a pattern binds are never varied.
//!
//! Lowering applies [`eqn`] to each equation as it builds the IR, because how it lowers an
//! expression depends on whether the expression reads a varied value (an expression that
//! reads none is kept whole, an index or loop bound that reads one is refused). For a
//! loop it lowers the body once, under what is known before the loop, and this pass
//! finds the loop's fixpoint on that IR ([`carried`]); the body is lowered again only
//! when a choice lowering made there would now be made differently (see
//! `lower::Lowerer::varied`). Running the pass after lowering changes no mark (the
//! verifier checks that), and the passes and code generators after it read its marks.

use crate::ir::{Block, Eqn, Func, Op, Stmt, VarId, VarInfo};

/// Runs the pass on `f` (not on the functions nested in its equations, whose variables
/// were fixed when they were lowered).
pub fn run(f: &mut Func) {
    let wrt: Vec<bool> = f.params.iter().map(|p| p.wrt).collect();
    block(&f.body, &mut f.vars, &wrt);
}

/// Whether the output of `e` is varied, given its operands (`wrt[i]`: the function's
/// `i`-th parameter is differentiated).
pub fn eqn(e: &Eqn, vars: &[VarInfo], wrt: &[bool]) -> bool {
    let any = |vs: &[VarId]| vs.iter().any(|&v| vars[v].varied);
    match &e.op {
        Op::Param(i) => wrt.get(*i).copied().unwrap_or(false),
        Op::Opaque(_) | Op::StopGradient => false,
        Op::Unary(_)
        | Op::Binary(_)
        | Op::Field(_)
        | Op::Call { .. }
        | Op::Construct(_)
        | Op::FromFn(_) => any(&e.args),
        Op::Map(inner) | Op::Fused(inner) | Op::FusedSum(inner) => {
            any(&e.args) || any(&inner.captured)
        }
    }
}

/// Propagates through the statements of `b` in order.
pub fn block(b: &Block, vars: &mut [VarInfo], wrt: &[bool]) {
    for stmt in &b.stmts {
        match stmt {
            Stmt::Eqn(e) => vars[e.out].varied = eqn(e, vars, wrt),
            Stmt::Branch { arms, outs, .. } => {
                for arm in arms {
                    for &v in &arm.binds {
                        vars[v].varied = false;
                    }
                    block(&arm.block, vars, wrt);
                }
                for (k, &o) in outs.iter().enumerate() {
                    vars[o].varied = arms.iter().any(|a| vars[a.outs[k]].varied);
                }
            }
            Stmt::For {
                index,
                carried_in,
                params,
                body,
                body_outs,
                outs,
                ..
            } => {
                vars[*index].varied = false;
                for (&p, &c) in params.iter().zip(carried_in) {
                    vars[p].varied = vars[c].varied;
                }
                carried(params, body, body_outs, vars, wrt);
                for (&o, &p) in outs.iter().zip(params) {
                    vars[o].varied = vars[p].varied;
                }
            }
        }
    }
}

/// A loop's fixpoint: propagates through `body` until every carried value varied at the
/// end of an iteration (`body_outs`) is varied at the start (`params`). The parameters'
/// marks on entry are where it starts (at least those of the values before the loop).
/// Returns how many times the body was walked.
pub fn carried(
    params: &[VarId],
    body: &Block,
    body_outs: &[VarId],
    vars: &mut [VarInfo],
    wrt: &[bool],
) -> usize {
    let mut walks = 0;
    loop {
        block(body, vars, wrt);
        walks += 1;
        let mut grew = false;
        for (&p, &o) in params.iter().zip(body_outs) {
            if vars[o].varied && !vars[p].varied {
                vars[p].varied = true;
                grew = true;
            }
        }
        if !grew {
            return walks;
        }
    }
}
