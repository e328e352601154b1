//! Backward activity: marks `useful` every variable from which the returned value can be
//! reached through differentiable operations.
//!
//! Guarantee: after this pass, `VarInfo::active()` (varied and useful) holds exactly for
//! the variables that need an adjoint; the reverse pass emits no code for the others.
//! Loop-carried values are iterated to a fixpoint, so a value used only in a later
//! iteration is still found.

use crate::ir::{Block, Func, Op, Stmt, VarId, VarInfo};

/// Runs the pass.
pub fn run(f: &mut Func) {
    let ret = f.ret;
    f.vars[ret].useful = true;
    loop {
        let mut changed = false;
        walk(&f.body, &mut f.vars, &mut changed);
        if !changed {
            break;
        }
    }
}

fn mark(vars: &mut [VarInfo], v: VarId, changed: &mut bool) {
    if !vars[v].useful {
        vars[v].useful = true;
        *changed = true;
    }
}

fn walk(block: &Block, vars: &mut [VarInfo], changed: &mut bool) {
    for stmt in block.stmts.iter().rev() {
        match stmt {
            Stmt::Eqn(e) => {
                let differentiable = matches!(
                    e.op,
                    Op::Unary(_)
                        | Op::Binary(_)
                        | Op::Field(_)
                        | Op::Call { .. }
                        | Op::Map(_)
                        | Op::Fused(_)
                        | Op::FusedSum(_)
                        | Op::Construct(_)
                        | Op::FromFn(_)
                );
                if differentiable && vars[e.out].useful {
                    for &a in &e.args {
                        mark(vars, a, changed);
                    }
                }
            }
            Stmt::Branch { arms, outs, .. } => {
                for k in 0..outs.len() {
                    if vars[outs[k]].useful {
                        for arm in arms {
                            mark(vars, arm.outs[k], changed);
                        }
                    }
                }
                for arm in arms {
                    walk(&arm.block, vars, changed);
                }
            }
            Stmt::For {
                carried_in,
                params,
                body,
                body_outs,
                outs,
                ..
            } => {
                for k in 0..outs.len() {
                    if vars[outs[k]].useful || vars[params[k]].useful {
                        mark(vars, body_outs[k], changed);
                        mark(vars, carried_in[k], changed);
                    }
                }
                walk(body, vars, changed);
                for k in 0..outs.len() {
                    if vars[params[k]].useful {
                        mark(vars, body_outs[k], changed);
                        mark(vars, carried_in[k], changed);
                    }
                }
            }
        }
    }
}
