//! Fusion: chains of elementwise matrix operations become one operation.
//!
//! A region is a set of elementwise equations in one block (cheap unary rules,
//! `component_mul`, `component_div`, `+`, `-`) whose intermediate values are used only
//! inside the region, with one output (the last equation) and at most four inputs.
//! It must contain a `component_mul` or `component_div`, which only matrices have, so
//! that the region is known to be elementwise over matrices (a `*` could be a matrix
//! product, so it never joins). The region becomes [`Op::Fused`]: its scalar code, a
//! function of one element of each input, which the runtime runs in one loop forward
//! and one loop in reverse, with no intermediate matrix.
//!
//! Guarantee: values computed are the same, element by element, as without fusion.
//! Runs after lowering, before activity analysis.

use crate::ir::{Block, Eqn, Func, Op, Param, Stmt, VarId};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::HashMap;

/// Cheap unary rules. Transcendental ones (`exp`, `tanh`, `sigmoid`, ...) stay separate
/// passes: over a whole matrix they run on the vectorized kernels of `simd`, which is
/// faster than a scalar call per element inside a fused loop (measured on the
/// `elementwise` bench: fusing `tanh` made the gradient 1.2x slower).
const UNARY: &[&str] = &["Neg", "Sqrt", "Recip", "Abs", "PowI", "Relu"];
const BINARY: &[&str] = &["ComponentMul", "ComponentDiv", "Add", "Sub"];
const MAX_INPUTS: usize = 4;

fn marker(ty: &TokenStream) -> String {
    ty.to_string()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn is_candidate(e: &Eqn) -> bool {
    match &e.op {
        Op::Unary(r) => UNARY.contains(&marker(&r.ty).as_str()),
        Op::Binary(r) => BINARY.contains(&marker(&r.ty).as_str()),
        _ => false,
    }
}

fn is_component(e: &Eqn) -> bool {
    matches!(&e.op, Op::Binary(r) if marker(&r.ty).starts_with("Component"))
}

/// Runs the pass.
pub fn run(f: &mut Func) {
    let mut uses: HashMap<VarId, usize> = HashMap::new();
    count_uses(&f.body, &mut uses);
    *uses.entry(f.ret).or_default() += 1;
    let vars = f.vars.clone();
    fuse_block(&mut f.body, &uses, &vars);
}

fn count_uses(b: &Block, uses: &mut HashMap<VarId, usize>) {
    fn add<'a>(uses: &mut HashMap<VarId, usize>, vs: impl IntoIterator<Item = &'a VarId>) {
        for v in vs {
            *uses.entry(*v).or_default() += 1;
        }
    }
    for s in &b.stmts {
        match s {
            Stmt::Eqn(e) => {
                add(uses, &e.args);
                if let Op::Unary(r) | Op::Binary(r) = &e.op {
                    add(uses, &r.param);
                }
            }
            Stmt::If {
                cond_vars,
                then_block,
                else_block,
                then_outs,
                else_outs,
                ..
            } => {
                add(uses, cond_vars.iter().chain(then_outs).chain(else_outs));
                count_uses(then_block, uses);
                count_uses(else_block, uses);
            }
            Stmt::For {
                bound_vars,
                carried_in,
                body,
                body_outs,
                ..
            } => {
                add(uses, bound_vars.iter().chain(carried_in).chain(body_outs));
                count_uses(body, uses);
            }
        }
    }
}

fn fuse_block(block: &mut Block, uses: &HashMap<VarId, usize>, vars: &[crate::ir::VarInfo]) {
    for s in &mut block.stmts {
        match s {
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                fuse_block(then_block, uses, vars);
                fuse_block(else_block, uses, vars);
            }
            Stmt::For { body, .. } => fuse_block(body, uses, vars),
            Stmt::Eqn(_) => {}
        }
    }
    let def: HashMap<VarId, usize> = block
        .stmts
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Stmt::Eqn(e) => Some((e.out, i)),
            _ => None,
        })
        .collect();
    let eqn = |i: usize| match &block.stmts[i] {
        Stmt::Eqn(e) => Some(e),
        _ => None,
    };
    let mut taken = vec![false; block.stmts.len()];
    let mut regions: Vec<Vec<usize>> = Vec::new();
    for root in (0..block.stmts.len()).rev() {
        if taken[root] || !eqn(root).is_some_and(is_candidate) {
            continue;
        }
        let mut region = vec![root];
        loop {
            let mut inner: HashMap<VarId, usize> = HashMap::new();
            for &i in &region {
                if let Some(e) = eqn(i) {
                    for a in &e.args {
                        *inner.entry(*a).or_default() += 1;
                    }
                }
            }
            let next = inner.iter().find_map(|(v, n)| {
                let i = *def.get(v)?;
                let e = eqn(i)?;
                let ok =
                    !taken[i] && !region.contains(&i) && is_candidate(e) && uses.get(v) == Some(n);
                ok.then_some(i)
            });
            match next {
                Some(i) => region.push(i),
                None => break,
            }
        }
        region.sort_unstable();
        let inputs = inputs_of(&region, eqn);
        if region.len() >= 2
            && inputs.len() <= MAX_INPUTS
            && region.iter().any(|&i| eqn(i).is_some_and(is_component))
        {
            for &i in &region {
                taken[i] = true;
            }
            regions.push(region);
        }
    }
    if regions.is_empty() {
        return;
    }
    let mut replacement: HashMap<usize, Stmt> = HashMap::new();
    for region in &regions {
        let eqns: Vec<Eqn> = region.iter().filter_map(|&i| eqn(i).cloned()).collect();
        let root = region[region.len() - 1];
        replacement.insert(root, Stmt::Eqn(fused_eqn(&eqns, vars)));
    }
    let old = std::mem::take(&mut block.stmts);
    for (i, s) in old.into_iter().enumerate() {
        if let Some(r) = replacement.remove(&i) {
            block.stmts.push(r);
        } else if !taken[i] {
            block.stmts.push(s);
        }
    }
}

/// The variables a region reads that it does not define, in order of first use.
fn inputs_of<'a>(region: &[usize], eqn: impl Fn(usize) -> Option<&'a Eqn>) -> Vec<VarId> {
    let defined: Vec<VarId> = region
        .iter()
        .filter_map(|&i| eqn(i).map(|e| e.out))
        .collect();
    let mut inputs = Vec::new();
    for &i in region {
        if let Some(e) = eqn(i) {
            for a in &e.args {
                if !defined.contains(a) && !inputs.contains(a) {
                    inputs.push(*a);
                }
            }
        }
    }
    inputs
}

/// One equation computing the region: its scalar code as a function of one element of
/// each input (matrix-only ops become their scalar forms).
fn fused_eqn(eqns: &[Eqn], vars: &[crate::ir::VarInfo]) -> Eqn {
    let root = &eqns[eqns.len() - 1];
    let defined: Vec<VarId> = eqns.iter().map(|e| e.out).collect();
    let mut inputs = Vec::new();
    for e in eqns {
        for a in &e.args {
            if !defined.contains(a) && !inputs.contains(a) {
                inputs.push(*a);
            }
        }
    }
    let mut inner_vars = vars.to_vec();
    for v in &mut inner_vars {
        v.by_ref = false;
        v.ty = None;
        v.field_of = None;
        v.useful = false;
        v.live = false;
    }
    let mut stmts = Vec::new();
    let mut params = Vec::new();
    for (k, &v) in inputs.iter().enumerate() {
        params.push(Param {
            ident: format_ident!("__ad_e{}", v),
            wrt: true,
            var: v,
        });
        stmts.push(Stmt::Eqn(Eqn {
            out: v,
            op: Op::Param(k),
            args: Vec::new(),
            span: vars[v].span,
        }));
    }
    for e in eqns {
        let mut e = e.clone();
        if let Op::Binary(r) = &mut e.op {
            match marker(&r.ty).as_str() {
                "ComponentMul" => r.ty = quote!(::autodiff::__private::Mul),
                "ComponentDiv" => r.ty = quote!(::autodiff::__private::Div),
                _ => {}
            }
        }
        stmts.push(Stmt::Eqn(e));
    }
    let captured: Vec<VarId> = eqns
        .iter()
        .filter_map(|e| match &e.op {
            Op::Unary(r) | Op::Binary(r) => r.param,
            _ => None,
        })
        .collect();
    let mut inner = Func {
        vars: inner_vars,
        params,
        body: Block { stmts },
        ret: root.out,
        captured,
    };
    super::activity::run(&mut inner);
    super::dce::run(&mut inner);
    Eqn {
        out: root.out,
        op: Op::Fused(Box::new(inner)),
        args: inputs,
        span: root.span,
    }
}
