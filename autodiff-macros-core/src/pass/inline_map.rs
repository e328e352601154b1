//! Inlining of `map` closures into the enclosing code, so that fusion can take them into
//! an elementwise chain.
//!
//! `y = x.map(|e| body)` whose body is made of elementwise rules (those a fused loop can
//! run: `exp`, `tanh`, `powi`, `+`, `-`, `*`, `/`, ...) on `e` and on values that do not
//! depend on `e` becomes the same rules applied to the whole matrix `x`: an operation
//! between two values that depend on `e` becomes its elementwise form (`e * e` is
//! `x.component_mul(x)`, never a matrix product), and one with a constant broadcasts it
//! (`e * 2.0` is `x * 2.0`). The constants themselves (literals, captured values) move
//! out of the closure, before the chain. [`super::fuse`] then runs the chain, with
//! whatever surrounds it, as one loop. A body with anything else (a non-differentiable
//! method of `e`, `max`, a cast) stays a `map`.
//!
//! Guarantee: every element is computed by the same rules in the same order as the
//! closure computes it. Runs after lowering, before fusion.

use crate::ir::{Block, Eqn, Func, Op, RuleRef, Stmt, VarId, VarInfo};
use autodiff_ops::{Arity, OpId, Syntax};
use quote::ToTokens;
use std::collections::{HashMap, HashSet};

/// Runs the pass.
pub fn run(f: &mut Func) {
    inline_block(&mut f.body, &mut f.vars);
}

fn inline_block(b: &mut Block, vars: &mut Vec<VarInfo>) {
    for s in &mut b.stmts {
        match s {
            Stmt::Eqn(_) => {}
            other => {
                for b in other.blocks_mut() {
                    inline_block(b, vars);
                }
            }
        }
    }
    let old = std::mem::take(&mut b.stmts);
    for s in old {
        let inlined = match &s {
            Stmt::Eqn(e) => match &e.op {
                Op::Map(inner) => inline(e, inner, vars),
                _ => None,
            },
            _ => None,
        };
        match inlined {
            Some(eqns) => b.stmts.extend(eqns.into_iter().map(Stmt::Eqn)),
            None => b.stmts.push(s),
        }
    }
}

/// The captured variables an opaque expression of the closure names (`__ad_7`).
fn named_captures(expr: &syn::Expr, captured: &[VarId]) -> Vec<VarId> {
    let mut found = Vec::new();
    fn walk(ts: proc_macro2::TokenStream, captured: &[VarId], found: &mut Vec<VarId>) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(id) => {
                    let name = id.to_string();
                    if let Some(n) = name.strip_prefix("__ad_").and_then(|n| n.parse().ok()) {
                        if captured.contains(&n) && !found.contains(&n) {
                            found.push(n);
                        }
                    }
                }
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), captured, found),
                _ => {}
            }
        }
    }
    walk(expr.to_token_stream(), captured, &mut found);
    found
}

/// Whether `y = x.map(inner)` can be inlined (what lowering asks of a closure that reads a
/// differentiated value from outside, which only the inlined form differentiates).
pub fn can_inline(x: VarId, y: VarId, inner: &Func, vars: &[VarInfo]) -> bool {
    let e = Eqn {
        out: y,
        op: Op::Map(Box::new(inner.clone())),
        args: vec![x],
        span: proc_macro2::Span::call_site(),
    };
    inline(&e, inner, &mut vars.to_vec()).is_some()
}

/// The captured variable an opaque expression is exactly (`t` read in `|e| e * t`).
fn captured_var(expr: &syn::Expr, captured: &[VarId]) -> Option<VarId> {
    let syn::Expr::Path(p) = expr else {
        return None;
    };
    let name = p.path.get_ident()?.to_string();
    let n: VarId = name.strip_prefix("__ad_")?.parse().ok()?;
    captured.contains(&n).then_some(n)
}

/// The equations replacing `e = x.map(inner)`, or `None` when the body cannot be inlined.
fn inline(e: &Eqn, inner: &Func, vars: &mut Vec<VarInfo>) -> Option<Vec<Eqn>> {
    let x = e.args[0];
    let param = inner.params.first()?.var;
    if inner.ret == param {
        return None;
    }
    let mut elem: HashSet<VarId> = HashSet::from([param]);
    let mut to_outer: HashMap<VarId, VarId> = HashMap::from([(param, x)]);
    let defined: HashSet<VarId> = inner
        .body
        .stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Eqn(b) => Some(b.out),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for s in &inner.body.stmts {
        let Stmt::Eqn(b) = s else { return None };
        if let Op::Param(_) = b.op {
            continue;
        }
        // The value keeps the Map's variable when it is the closure's result.
        let fresh = |vars: &mut Vec<VarInfo>, varied: bool| {
            if b.out == inner.ret {
                return e.out;
            }
            vars.push(VarInfo {
                name: None,
                by_ref: false,
                varied,
                useful: false,
                live: false,
                ty: None,
                span: b.span,
                field_of: None,
                seq: false,
            });
            vars.len() - 1
        };
        let arg = |a: &VarId| to_outer.get(a).copied();
        match &b.op {
            // A captured value (possibly differentiated): used as it is.
            Op::Opaque(expr)
                if b.out != inner.ret && captured_var(expr, &inner.captured).is_some() =>
            {
                let c = captured_var(expr, &inner.captured)?;
                to_outer.insert(b.out, c);
            }
            // A constant: a literal, or an expression of captured values only.
            Op::Opaque(expr) if b.args.iter().all(|a| !defined.contains(a) && *a != param) => {
                if b.out == inner.ret {
                    return None;
                }
                let v = fresh(vars, false);
                to_outer.insert(b.out, v);
                let mut args = b.args.clone();
                args.extend(named_captures(expr, &inner.captured));
                out.push(Eqn {
                    out: v,
                    op: b.op.clone(),
                    args,
                    span: b.span,
                });
            }
            Op::Unary(r) if r.info().fuses => {
                let a = arg(&b.args[0])?;
                let param = match r.param {
                    Some(p) => Some(*to_outer.get(&p)?),
                    None => None,
                };
                let is_elem = elem.contains(&b.args[0]);
                let v = fresh(vars, vars[a].varied);
                if is_elem {
                    elem.insert(b.out);
                }
                to_outer.insert(b.out, v);
                out.push(Eqn {
                    out: v,
                    op: Op::Unary(RuleRef { param, ..r.clone() }),
                    args: vec![a],
                    span: b.span,
                });
            }
            Op::Binary(r)
                if r.info().syntax == Syntax::Operator && r.info().arity == Arity::Binary =>
            {
                let (l, rr) = (arg(&b.args[0])?, arg(&b.args[1])?);
                let (el, er) = (elem.contains(&b.args[0]), elem.contains(&b.args[1]));
                // Between two matrices of elements, `*` and `/` are componentwise.
                let op = match r.op {
                    OpId::Mul if el && er => RuleRef::new(OpId::ComponentMul),
                    OpId::Div if el && er => RuleRef::new(OpId::ComponentDiv),
                    _ => r.clone(),
                };
                let v = fresh(vars, vars[l].varied || vars[rr].varied);
                if el || er {
                    elem.insert(b.out);
                }
                to_outer.insert(b.out, v);
                out.push(Eqn {
                    out: v,
                    op: Op::Binary(op),
                    args: vec![l, rr],
                    span: b.span,
                });
            }
            _ => return None,
        }
    }
    // The closure's result must be an element-wise function of `e`.
    elem.contains(&inner.ret).then_some(out)
}
