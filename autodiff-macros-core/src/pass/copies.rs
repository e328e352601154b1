//! Copy propagation of index values: `let j = i;` (a `let` or an index expression `v[i]`
//! lowered as its own value) that does not depend on a differentiated parameter is an
//! [`Op::Opaque`] copy of one variable; the rules and calls that read the copy read the
//! original instead. A loop then saves the original once (the loop index, or an enclosing
//! loop's value on that loop's tape) instead of one copy per use in every iteration, and
//! dead-code removal drops the copies nothing else reads.
//!
//! Only reads by variable are rewritten (a rule's operands and run-time parameter, a
//! call's arguments); expressions that name the copy in their tokens keep it.

use crate::ir::{Block, Func, Op, Stmt, VarId};

/// Rewrites reads of inactive copies to their originals (see the module docs).
pub fn run(f: &mut Func) {
    let mut original: Vec<VarId> = (0..f.vars.len()).collect();
    find(f, &f.body, &mut original);
    rewrite(&mut f.body, &original);
}

/// `original[v]` for every copy `v` of `body` (and of blocks nested in it), resolved
/// through chains of copies.
fn find(f: &Func, b: &Block, original: &mut [VarId]) {
    for s in &b.stmts {
        match s {
            Stmt::Eqn(e) => {
                let Op::Opaque(syn::Expr::Path(p)) = &e.op else {
                    continue;
                };
                let [a] = e.args[..] else { continue };
                let (out, src) = (&f.vars[e.out], &f.vars[a]);
                let copies = p.qself.is_none()
                    && p.path.is_ident(&crate::lower::var_ident(a))
                    && !out.varied
                    && !src.varied
                    && !out.by_ref
                    && !src.by_ref
                    && !src.seq
                    && out.ty.is_none();
                if copies {
                    original[e.out] = original[a];
                }
            }
            _ => s
                .blocks()
                .into_iter()
                .for_each(|inner| find(f, inner, original)),
        }
    }
}

fn rewrite(b: &mut Block, original: &[VarId]) {
    for s in &mut b.stmts {
        if let Stmt::Eqn(e) = s {
            match &mut e.op {
                Op::Unary(r) | Op::Binary(r) => {
                    if let Some(p) = &mut r.param {
                        *p = original[*p];
                    }
                    e.args.iter_mut().for_each(|a| *a = original[*a]);
                }
                Op::Call { .. } => e.args.iter_mut().for_each(|a| *a = original[*a]),
                _ => {}
            }
        }
        for inner in s.blocks_mut() {
            rewrite(inner, original);
        }
    }
}
