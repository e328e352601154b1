//! Dead-code removal: drops every operation whose value the result does not need.
//!
//! Guarantee: after this pass every remaining equation, branch join and loop-carried
//! slot is `live` (the returned value depends on it, possibly through control flow).
//! Parameters are always kept. Operations are pure, so removal changes no result.

use crate::ir::{Block, Func, Op, Stmt, VarId, VarInfo};

/// Runs the pass.
pub fn run(f: &mut Func) {
    let ret = f.ret;
    f.vars[ret].live = true;
    loop {
        let mut changed = false;
        mark_block(&f.body, &mut f.vars, &mut changed);
        if !changed {
            break;
        }
    }
    sweep(&mut f.body, &f.vars);
}

fn mark(vars: &mut [VarInfo], v: VarId, changed: &mut bool) {
    if !vars[v].live {
        vars[v].live = true;
        *changed = true;
    }
}

fn mark_block(block: &Block, vars: &mut [VarInfo], changed: &mut bool) {
    for stmt in block.stmts.iter().rev() {
        match stmt {
            Stmt::Eqn(e) => {
                if vars[e.out].live {
                    for &a in &e.args {
                        mark(vars, a, changed);
                    }
                    if let Op::Unary(r) | Op::Binary(r) = &e.op {
                        if let Some(p) = r.param {
                            mark(vars, p, changed);
                        }
                    }
                    if let Op::Map(inner) | Op::Fused(inner) | Op::FusedSum(inner) = &e.op {
                        for &c in &inner.captured {
                            mark(vars, c, changed);
                        }
                    }
                }
            }
            Stmt::Branch {
                reads, arms, outs, ..
            } => {
                if outs.iter().any(|&o| vars[o].live) {
                    for &c in reads {
                        mark(vars, c, changed);
                    }
                    for k in 0..outs.len() {
                        if vars[outs[k]].live {
                            for arm in arms {
                                mark(vars, arm.outs[k], changed);
                            }
                        }
                    }
                    for arm in arms {
                        mark_block(&arm.block, vars, changed);
                    }
                }
            }
            Stmt::For {
                bound_vars,
                carried_in,
                params,
                body,
                body_outs,
                outs,
                exit,
                ..
            } => {
                if outs.iter().any(|&o| vars[o].live) {
                    for &b in bound_vars {
                        mark(vars, b, changed);
                    }
                    for k in 0..outs.len() {
                        // The slot of the exit flag decides how often the body runs.
                        if vars[outs[k]].live || vars[params[k]].live || *exit == Some(body_outs[k])
                        {
                            mark(vars, params[k], changed);
                            mark(vars, outs[k], changed);
                            mark(vars, body_outs[k], changed);
                            mark(vars, carried_in[k], changed);
                        }
                    }
                    mark_block(body, vars, changed);
                }
            }
        }
    }
}

fn sweep(block: &mut Block, vars: &[VarInfo]) {
    block.stmts.retain_mut(|stmt| match stmt {
        Stmt::Eqn(e) => matches!(e.op, Op::Param(_)) || vars[e.out].live,
        Stmt::Branch { arms, outs, .. } => {
            let keep: Vec<bool> = outs.iter().map(|&o| vars[o].live).collect();
            retain_by(outs, &keep);
            for arm in arms.iter_mut() {
                retain_by(&mut arm.outs, &keep);
                sweep(&mut arm.block, vars);
            }
            !outs.is_empty()
        }
        Stmt::For {
            carried_in,
            params,
            body,
            body_outs,
            outs,
            ..
        } => {
            let keep: Vec<bool> = outs.iter().map(|&o| vars[o].live).collect();
            retain_by(carried_in, &keep);
            retain_by(params, &keep);
            retain_by(body_outs, &keep);
            retain_by(outs, &keep);
            sweep(body, vars);
            !outs.is_empty()
        }
    });
}

fn retain_by(v: &mut Vec<VarId>, keep: &[bool]) {
    let mut i = 0;
    v.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}
