//! Fusion: chains of elementwise matrix operations become one operation.
//!
//! A region is a set of elementwise equations in one block (unary rules such as `exp`,
//! `tanh`, `powi`, `relu`, and `component_mul`, `component_div`, `+`, `-`) whose
//! intermediate values are used only inside the region, with one output (the last
//! equation) and at most six inputs. It must be known to run over matrices: it contains
//! a `component_mul` / `component_div` (which only matrices have), or one of its inputs
//! is known to be a matrix (see [`super::shape`]); a chain of scalars stays as it is.
//! The region becomes [`Op::Fused`]: its scalar code, a function of one element of each
//! input, which the runtime runs in one loop forward and one loop in reverse, four
//! `f64` elements at a time on vectorised math, with no intermediate matrix. A region
//! whose output is used only by `.sum()` takes the sum in: [`Op::FusedSum`] never
//! materialises the elements at all. `map` closures made of such rules were already
//! turned into matrix ops by [`super::inline_map`], so they join chains like any op.
//!
//! Guarantee: every element is computed as without fusion (same formulas, same vector
//! kernels); only sums are added in a different order (four partial sums).
//! Runs after lowering, before activity analysis.

use super::shape::Shape;
use crate::ir::{Block, Eqn, Func, Op, Param, Stmt, VarId};
use autodiff_ops::{Kind, OpId};
use quote::format_ident;
use std::collections::HashMap;

const MAX_INPUTS: usize = 6;

fn is_candidate(e: &Eqn) -> bool {
    match &e.op {
        // The table says which ops a fused loop runs (`fuses`).
        Op::Unary(r) | Op::Binary(r) => r.info().fuses,
        _ => false,
    }
}

fn is_component(e: &Eqn) -> bool {
    matches!(&e.op, Op::Binary(r) if r.info().kind == Kind::Componentwise)
}

fn is_sum(e: &Eqn) -> bool {
    matches!(&e.op, Op::Unary(r) if r.op == OpId::Sum)
}

/// Runs the pass.
pub fn run(f: &mut Func) {
    let mut uses: HashMap<VarId, usize> = HashMap::new();
    count_uses(&f.body, &mut uses);
    *uses.entry(f.ret).or_default() += 1;
    let vars = f.vars.clone();
    let shapes = super::shape::infer(f);
    fuse_block(&mut f.body, &uses, &vars, &shapes);
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
            Stmt::Branch { reads, arms, .. } => {
                add(uses, reads.iter());
                for arm in arms {
                    add(uses, arm.outs.iter());
                    count_uses(&arm.block, uses);
                }
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

fn fuse_block(
    block: &mut Block,
    uses: &HashMap<VarId, usize>,
    vars: &[crate::ir::VarInfo],
    shapes: &[Shape],
) {
    for s in &mut block.stmts {
        match s {
            Stmt::Eqn(_) => {}
            other => {
                for b in other.blocks_mut() {
                    fuse_block(b, uses, vars, shapes);
                }
            }
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
    // Grows a region from `seed` by every candidate whose value only the region uses.
    let grow = |seed: usize, taken: &[bool]| {
        let mut region = vec![seed];
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
        region
    };
    // (the region's equations, the index of the `sum` that ends it)
    let mut regions: Vec<(Vec<usize>, Option<usize>)> = Vec::new();
    for root in (0..block.stmts.len()).rev() {
        if taken[root] {
            continue;
        }
        let Some(e) = eqn(root) else { continue };
        // `chain.sum()` where the chain's value is used by the sum alone.
        let summed = if is_sum(e) {
            let v = e.args[0];
            def.get(&v).copied().filter(|&i| {
                !taken[i] && eqn(i).is_some_and(is_candidate) && uses.get(&v) == Some(&1)
            })
        } else {
            None
        };
        let (region, sum) = match summed {
            Some(i) => (grow(i, &taken), Some(root)),
            None if is_candidate(e) => (grow(root, &taken), None),
            None => continue,
        };
        let inputs = inputs_of(&region, eqn);
        let over_matrices = region.iter().any(|&i| eqn(i).is_some_and(is_component))
            || inputs.iter().any(|&v| shapes[v] == Shape::Matrix);
        let big_enough = sum.is_some() || region.len() >= 2;
        if big_enough && inputs.len() <= MAX_INPUTS && over_matrices {
            for &i in region.iter().chain(&sum) {
                taken[i] = true;
            }
            regions.push((region, sum));
        }
    }
    if regions.is_empty() {
        return;
    }
    let mut replacement: HashMap<usize, Stmt> = HashMap::new();
    for (region, sum) in &regions {
        let eqns: Vec<Eqn> = region.iter().filter_map(|&i| eqn(i).cloned()).collect();
        let at = sum.unwrap_or(region[region.len() - 1]);
        let mut fused = fused_eqn(&eqns, vars);
        if let Some(s) = sum.and_then(eqn) {
            if let Op::Fused(inner) = fused.op {
                fused = Eqn {
                    out: s.out,
                    op: Op::FusedSum(inner),
                    args: fused.args,
                    span: s.span,
                };
            }
        }
        replacement.insert(at, Stmt::Eqn(fused));
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

/// The region's equations with every read of one struct field (`p.w` written twice is
/// two variables) going through the first: the field's adjoint is one place, which the
/// reverse loop can borrow only once.
fn same_fields_once(eqns: &[Eqn], vars: &[crate::ir::VarInfo]) -> Vec<Eqn> {
    use quote::ToTokens;
    let mut first: HashMap<(VarId, String), VarId> = HashMap::new();
    let mut eqns = eqns.to_vec();
    for e in &mut eqns {
        for a in &mut e.args {
            if let Some((base, member)) = &vars[*a].field_of {
                let key = (*base, member.to_token_stream().to_string());
                *a = *first.entry(key).or_insert(*a);
            }
        }
    }
    eqns
}

/// One equation computing the region: its scalar code as a function of one element of
/// each input (matrix-only ops become their scalar forms).
fn fused_eqn(eqns: &[Eqn], vars: &[crate::ir::VarInfo]) -> Eqn {
    let eqns = &same_fields_once(eqns, vars);
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
            seq: false,
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
            // One element at a time, the componentwise products are the scalar ones.
            match r.op {
                OpId::ComponentMul => r.op = OpId::Mul,
                OpId::ComponentDiv => r.op = OpId::Div,
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
