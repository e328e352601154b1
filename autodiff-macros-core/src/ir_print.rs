//! A printer for the IR, in the spirit of JAX's jaxpr: one line per equation, `if`/`match`
//! and `for` as indented regions with the variables they join or carry.
//!
//! ```text
//! { lambda x:3 ; let
//!     4 = mul 3 3
//!     for 5 in 0.. carry [6 <- 4 | 9] exit 10 {
//!       ...
//!     } -> [11]
//!   in 11 }
//! ```

use crate::ir::{Block, Func, Head, Op, Stmt, VarId};
use quote::ToTokens;
use std::fmt::Write;

/// The IR of `f` as text.
pub fn print(f: &Func) -> String {
    let mut out = String::new();
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| {
            let mark = if p.wrt { "" } else { " (const)" };
            format!("{}:{}{mark}", p.ident, p.var)
        })
        .collect();
    let _ = writeln!(out, "{{ lambda {} ; let", params.join(", "));
    block(f, &f.body, 1, &mut out);
    let _ = writeln!(out, "  in {} }}", var(f, f.ret));
    out
}

fn var(f: &Func, v: VarId) -> String {
    let info = &f.vars[v];
    let mut s = v.to_string();
    if info.active() {
        s.push('*');
    }
    s
}

fn vars(f: &Func, vs: &[VarId]) -> String {
    vs.iter().map(|&v| var(f, v)).collect::<Vec<_>>().join(" ")
}

fn indent(depth: usize) -> String {
    "  ".repeat(depth)
}

/// How an [`Op::Construct`] prints: `construct tuple`, `construct struct Model {w, b}`, ...
fn ctor(c: &crate::ir::Ctor) -> String {
    use crate::ir::Ctor;
    match c {
        Ctor::Tuple => "construct tuple".to_string(),
        Ctor::Struct(path, members) => {
            let names: Vec<String> = members.iter().map(tokens).collect();
            format!("construct {} {{{}}}", tokens(path), names.join(", "))
        }
        Ctor::New(path) => format!("construct {}::new", tokens(path)),
        Ctor::FromVec(path) => format!("construct {}::from_vec", tokens(path)),
        Ctor::Vec => "construct vec".to_string(),
        Ctor::Array => "construct array".to_string(),
    }
}

fn tokens(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string()
}

fn block(f: &Func, b: &Block, depth: usize, out: &mut String) {
    let pad = indent(depth);
    for s in &b.stmts {
        match s {
            Stmt::Eqn(e) => {
                let op = match &e.op {
                    Op::Param(i) => format!("param {i}"),
                    Op::Opaque(expr) => format!("opaque `{}`", tokens(expr)),
                    Op::Unary(r) | Op::Binary(r) => {
                        let mut name = r.info().name.to_string();
                        if let Some(p) = r.param {
                            let _ = write!(name, "[{p}]");
                        }
                        if r.saved {
                            name.push_str(" saved");
                        }
                        name
                    }
                    Op::StopGradient => "stop_gradient".to_string(),
                    Op::Map(_) => "map".to_string(),
                    Op::Fused(_) => "fused".to_string(),
                    Op::FusedSum(_) => "fused_sum".to_string(),
                    Op::Field(m) => format!("field .{}", tokens(m)),
                    Op::Construct(c) => ctor(c),
                    Op::FromFn(ff) => format!("from_fn {}", tokens(&ff.ty)),
                    Op::Call {
                        path, recompute, ..
                    } => {
                        let again = if *recompute { " recompute" } else { "" };
                        format!("call {}{again}", tokens(path))
                    }
                };
                let _ = writeln!(out, "{pad}{} = {op} {}", var(f, e.out), vars(f, &e.args));
                let nested = match &e.op {
                    Op::Map(inner) | Op::Fused(inner) | Op::FusedSum(inner) => Some(&**inner),
                    Op::FromFn(ff) => Some(&ff.body),
                    _ => None,
                };
                if let Some(inner) = nested {
                    for line in print(inner).lines() {
                        let _ = writeln!(out, "{pad}  | {line}");
                    }
                }
            }
            Stmt::Branch {
                head, arms, outs, ..
            } => {
                let h = match head {
                    Head::If(c) => format!("if `{}`", tokens(c)),
                    Head::Match(m) => format!("match `{}`", tokens(m)),
                };
                let _ = writeln!(out, "{pad}{h} {{");
                for arm in arms {
                    let pat = arm.pat.as_ref().map(tokens).unwrap_or_else(|| "_".into());
                    let guard = arm
                        .guard
                        .as_ref()
                        .map(|g| format!(" if `{}`", tokens(g)))
                        .unwrap_or_default();
                    let binds = if arm.binds.is_empty() {
                        String::new()
                    } else {
                        format!(" binds [{}]", vars(f, &arm.binds))
                    };
                    let _ = writeln!(out, "{pad}  `{pat}`{guard}{binds} =>");
                    block(f, &arm.block, depth + 2, out);
                    let _ = writeln!(out, "{pad}    yield [{}]", vars(f, &arm.outs));
                }
                let _ = writeln!(out, "{pad}}} -> [{}]", vars(f, outs));
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
                ..
            } => {
                let dots = if *inclusive { "..=" } else { ".." };
                let hi = hi.as_ref().map(tokens).unwrap_or_default();
                let carry: Vec<String> = (0..params.len())
                    .map(|k| {
                        format!(
                            "{} <- {} | {}",
                            var(f, params[k]),
                            var(f, carried_in[k]),
                            var(f, body_outs[k])
                        )
                    })
                    .collect();
                let exit = exit.map(|x| format!(" exit {x}")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{pad}for {index} in {}{dots}{hi} carry [{}]{exit} {{",
                    tokens(lo),
                    carry.join(", ")
                );
                block(f, body, depth + 1, out);
                let _ = writeln!(out, "{pad}}} -> [{}]", vars(f, outs));
            }
        }
    }
}
