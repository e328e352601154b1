//! A verifier for the IR, run after every pass by the tests: each variable is defined
//! once, before any use, in a scope that encloses the use; the joins of a branch and the
//! carried slots of a loop agree in number; a loop's exit flag is one of its carried values;
//! the marks of forward activity are those `pass::varied` computes.

use crate::ir::{Block, Func, Op, Stmt, VarId};
use std::collections::HashSet;

/// Checks `f`; the error names the first problem found.
pub fn verify(f: &Func) -> Result<(), String> {
    let mut v = Verifier {
        f,
        defined: HashSet::new(),
    };
    let mut scope: Vec<VarId> = f.captured.clone();
    v.block(&f.body, &mut scope)?;
    v.used(f.ret, &scope, "the result")?;
    forward_activity(f)
}

/// The marks `varied` are those `pass::varied` computes.
fn forward_activity(f: &Func) -> Result<(), String> {
    let mut g = f.clone();
    crate::pass::varied::run(&mut g);
    match (0..f.vars.len()).find(|&v| f.vars[v].varied != g.vars[v].varied) {
        Some(v) => Err(format!(
            "variable {v} is marked {}varied, but forward activity finds it {}varied",
            if f.vars[v].varied { "" } else { "not " },
            if g.vars[v].varied { "" } else { "not " },
        )),
        None => Ok(()),
    }
}

struct Verifier<'f> {
    f: &'f Func,
    defined: HashSet<VarId>,
}

impl Verifier<'_> {
    fn define(&mut self, v: VarId, scope: &mut Vec<VarId>) -> Result<(), String> {
        if v >= self.f.vars.len() {
            return Err(format!("variable {v} has no VarInfo"));
        }
        if !self.defined.insert(v) {
            return Err(format!("variable {v} is defined twice"));
        }
        scope.push(v);
        Ok(())
    }

    fn used(&self, v: VarId, scope: &[VarId], what: &str) -> Result<(), String> {
        if scope.contains(&v) {
            Ok(())
        } else {
            Err(format!(
                "{what} reads variable {v}, which is not in scope there"
            ))
        }
    }

    fn block(&mut self, b: &Block, scope: &mut Vec<VarId>) -> Result<(), String> {
        let mark = scope.len();
        for s in &b.stmts {
            match s {
                Stmt::Eqn(e) => {
                    for &a in &e.args {
                        self.used(a, scope, &format!("the equation of {}", e.out))?;
                    }
                    if let Op::Unary(r) | Op::Binary(r) = &e.op {
                        if let Some(p) = r.param {
                            self.used(p, scope, &format!("the parameter of {}", e.out))?;
                        }
                    }
                    if let Op::Map(inner) | Op::Fused(inner) | Op::FusedSum(inner) = &e.op {
                        for &c in &inner.captured {
                            self.used(c, scope, &format!("the closure of {}", e.out))?;
                        }
                    }
                    self.define(e.out, scope)?;
                }
                Stmt::Branch {
                    reads, arms, outs, ..
                } => {
                    for &r in reads {
                        self.used(r, scope, "a branch condition")?;
                    }
                    for arm in arms {
                        if arm.outs.len() != outs.len() {
                            return Err(format!(
                                "an arm yields {} values for {} joined variables",
                                arm.outs.len(),
                                outs.len()
                            ));
                        }
                        let arm_mark = scope.len();
                        for &b in &arm.binds {
                            self.define(b, scope)?;
                        }
                        self.block(&arm.block, scope)?;
                        for &o in &arm.outs {
                            self.used(o, scope, "an arm's yield")?;
                        }
                        scope.truncate(arm_mark);
                    }
                    for &o in outs {
                        self.define(o, scope)?;
                    }
                }
                Stmt::For {
                    index,
                    bound_vars,
                    carried_in,
                    params,
                    body,
                    body_outs,
                    outs,
                    exit,
                    ..
                } => {
                    let n = params.len();
                    if carried_in.len() != n || body_outs.len() != n || outs.len() != n {
                        return Err(format!(
                            "a loop carries {} values in, {} params, {} out of the body, {} after",
                            carried_in.len(),
                            n,
                            body_outs.len(),
                            outs.len()
                        ));
                    }
                    if let Some(x) = exit {
                        if !body_outs.contains(x) {
                            return Err(format!("the loop's exit {x} is not a carried value"));
                        }
                    }
                    for &b in bound_vars.iter().chain(carried_in) {
                        self.used(b, scope, "a loop's bounds or initial values")?;
                    }
                    let body_mark = scope.len();
                    for &p in params {
                        self.define(p, scope)?;
                    }
                    self.define(*index, scope)?;
                    self.block(body, scope)?;
                    for &o in body_outs {
                        self.used(o, scope, "a loop's carried values")?;
                    }
                    scope.truncate(body_mark);
                    for &o in outs {
                        self.define(o, scope)?;
                    }
                }
            }
        }
        // What a block defines is not visible after it, but for what its statement joins.
        let _ = mark;
        Ok(())
    }
}
