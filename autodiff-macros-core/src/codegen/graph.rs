//! `name_graph()`: the graph the macro built, as runtime code that rebuilds it.

use super::primal;
use crate::ir::{Block, Func, Op, Stmt, VarId};
use crate::pass::shape::Shape;
use autodiff_ops::OpId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use std::collections::BTreeSet;

fn node(v: VarId) -> syn::Ident {
    format_ident!("__n_{}", v)
}

/// One node of the graph being built: the `let` that adds it, the variable it binds and
/// the variables of the nodes it reads.
struct Emit {
    out: syn::Ident,
    inputs: Vec<syn::Ident>,
    code: TokenStream,
}

fn emit(code: &mut Vec<Emit>, out: &syn::Ident, inputs: &[syn::Ident], tokens: TokenStream) {
    code.push(Emit {
        out: out.clone(),
        inputs: inputs.to_vec(),
        code: tokens,
    });
}

/// The nodes that have a path to the output node `root`, in their order: a graph shows
/// only what its result depends on. (A struct parameter read only by field, a parameter
/// or constant the body ignores, a loop index or a pattern binding no op reads, a value
/// computed and dropped: none of them is drawn.)
fn connected_to(code: Vec<Emit>, root: &syn::Ident) -> Vec<TokenStream> {
    let Some(root_at) = code.iter().rposition(|e| &e.out == root) else {
        return Vec::new();
    };
    let mut keep = vec![false; code.len()];
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    wanted.insert(root.to_string());
    // Each input is defined before the node that reads it: one backward sweep suffices.
    for i in (0..=root_at).rev() {
        let out = code[i].out.to_string();
        if wanted.remove(&out) {
            keep[i] = true;
            wanted.extend(code[i].inputs.iter().map(|v| v.to_string()));
        }
    }
    code.into_iter()
        .zip(keep)
        .filter_map(|(e, k)| k.then_some(e.code))
        .collect()
}

/// The indices of the loop parameters `params` that the body's node `from` reads within one
/// iteration (`body` is the loop body's part of the graph).
fn params_read(body: &[Emit], from: &syn::Ident, params: &[syn::Ident]) -> BTreeSet<usize> {
    let mut wanted: BTreeSet<String> = BTreeSet::from([from.to_string()]);
    for e in body.iter().rev() {
        if wanted.contains(&e.out.to_string()) {
            wanted.extend(e.inputs.iter().map(|v| v.to_string()));
        }
    }
    (0..params.len())
        .filter(|&i| wanted.contains(&params[i].to_string()))
        .collect()
}

/// The body of `name_graph()`, returning an `::autodiff::Graph`.
pub fn body(f: &Func, fn_name: &str) -> TokenStream {
    let shapes = crate::pass::shape::infer(f);
    let mut used = BTreeSet::new();
    collect_op_args(&f.body, &mut used);
    // A result that is a constant expression is drawn as that constant.
    used.insert(f.ret);
    let mut code = Vec::new();
    for p in &f.params {
        let n = node(p.var);
        let label = p.ident.to_string();
        if p.wrt {
            emit(&mut code, &n, &[], quote!(let #n = __g.input(#label);));
        } else {
            emit(&mut code, &n, &[], quote!(let #n = __g.constant(#label);));
        }
    }
    block(f, &f.body, &used, &shapes, &mut code);
    let code = connected_to(code, &node(f.ret));
    let _ = fn_name;
    quote! {
        let mut __g = ::autodiff::Graph::new();
        #(#code)*
        __g
    }
}

fn collect_op_args(b: &Block, used: &mut BTreeSet<VarId>) {
    for s in &b.stmts {
        match s {
            Stmt::Eqn(e) => {
                if !matches!(e.op, Op::Opaque(_)) {
                    used.extend(e.args.iter().copied());
                }
            }
            Stmt::Branch { arms, .. } => {
                for arm in arms {
                    used.extend(arm.outs.iter().copied());
                    collect_op_args(&arm.block, used);
                }
            }
            Stmt::For {
                carried_in,
                body,
                body_outs,
                ..
            } => {
                used.extend(carried_in.iter().chain(body_outs).copied());
                collect_op_args(body, used);
            }
        }
    }
}

fn camel(name: &str) -> String {
    name.split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn block(f: &Func, b: &Block, used: &BTreeSet<VarId>, shapes: &[Shape], code: &mut Vec<Emit>) {
    for s in &b.stmts {
        match s {
            Stmt::Eqn(e) => {
                let n = node(e.out);
                let inputs: Vec<syn::Ident> = e.args.iter().map(|&a| node(a)).collect();
                match &e.op {
                    Op::Param(_) => {}
                    Op::Opaque(expr) => {
                        if used.contains(&e.out) {
                            let mut label = crate::generics::literal_of(expr)
                                .unwrap_or_else(|| expr.to_token_stream().to_string());
                            if label.len() > 40 {
                                label.truncate(37);
                                label.push_str("...");
                            }
                            emit(code, &n, &[], quote!(let #n = __g.constant(#label);));
                        }
                    }
                    Op::Binary(r)
                        if r.op == OpId::Mul
                            && ((shapes[e.args[0]] == Shape::Matrix
                                && shapes[e.args[1]] != Shape::Scalar)
                                || (shapes[e.args[1]] == Shape::Matrix
                                    && shapes[e.args[0]] != Shape::Scalar)) =>
                    {
                        let torch = OpId::MatMul.info().torch;
                        emit(
                            code,
                            &n,
                            &inputs,
                            quote!(let #n = __g.op(#torch, &[#(#inputs),*]);),
                        );
                    }
                    Op::Unary(r) | Op::Binary(r) => {
                        let torch = r.info().torch;
                        emit(
                            code,
                            &n,
                            &inputs,
                            quote!(let #n = __g.op(#torch, &[#(#inputs),*]);),
                        );
                    }
                    // A fused chain is drawn as the ops the user wrote: fusion changes the
                    // loops, not the computation. (Its inner variables keep their ids, and
                    // are all elementwise, so none is a matrix product.)
                    Op::Fused(inner) | Op::FusedSum(inner) => {
                        let unknown = vec![Shape::Unknown; inner.vars.len()];
                        block(inner, &inner.body, used, &unknown, code);
                        if let Op::FusedSum(_) = e.op {
                            let x = node(inner.ret);
                            emit(
                                code,
                                &n,
                                std::slice::from_ref(&x),
                                quote!(let #n = __g.op(
                                <::autodiff::__private::Sum as ::autodiff::__private::OpName>::TORCH_NAME,
                                &[#x],
                            );),
                            );
                        }
                    }
                    Op::Map(_) => {
                        emit(
                            code,
                            &n,
                            &inputs,
                            quote!(let #n = __g.op("MapBackward0", &[#(#inputs),*]);),
                        );
                    }
                    Op::StopGradient => {
                        emit(code, &n, &[], quote!(let #n = __g.constant("detach");));
                    }
                    Op::Construct(ctor) => {
                        let name = super::aggregates::graph_name(ctor);
                        emit(
                            code,
                            &n,
                            &inputs,
                            quote!(let #n = __g.op(#name, &[#(#inputs),*]);),
                        );
                    }
                    Op::FromFn(_) => {
                        emit(
                            code,
                            &n,
                            &inputs,
                            quote!(let #n = __g.op("FromFnBackward0", &[#(#inputs),*]);),
                        );
                    }
                    Op::Field(_) if super::aggregates::graph_field_name(f, e).is_some() => {
                        let name = super::aggregates::graph_field_name(f, e);
                        emit(
                            code,
                            &n,
                            &inputs,
                            quote!(let #n = __g.op(#name, &[#(#inputs),*]);),
                        );
                    }
                    Op::Field(_) => {
                        let label = f.vars[e.out].name.clone().unwrap_or_default();
                        if f.vars[e.args[0]].varied {
                            emit(code, &n, &[], quote!(let #n = __g.input(#label);));
                        } else {
                            emit(code, &n, &[], quote!(let #n = __g.constant(#label);));
                        }
                    }
                    Op::Call { path, .. } => {
                        let name = path
                            .segments
                            .last()
                            .map(|s| format!("{}Backward0", camel(&s.ident.to_string())))
                            .unwrap_or_default();
                        emit(
                            code,
                            &n,
                            &inputs,
                            quote!(let #n = __g.op(#name, &[#(#inputs),*]);),
                        );
                    }
                }
            }
            Stmt::Branch { arms, outs, .. } => {
                for arm in arms {
                    // What a pattern binds is never differentiated.
                    for &b in &arm.binds {
                        let n = node(b);
                        let label = f.vars[b].name.clone().unwrap_or_default();
                        emit(code, &n, &[], quote!(let #n = __g.constant(#label);));
                    }
                    block(f, &arm.block, used, shapes, code);
                }
                for (k, &out) in outs.iter().enumerate() {
                    let n = node(out);
                    let ins: Vec<syn::Ident> = arms.iter().map(|a| node(a.outs[k])).collect();
                    emit(
                        code,
                        &n,
                        &ins,
                        quote!(let #n = __g.op("WhereBackward0", &[#(#ins),*]);),
                    );
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
                let idx = node(*index);
                let _ = primal(*index);
                emit(
                    code,
                    &idx,
                    &[],
                    quote!(let #idx = __g.constant("loop index");),
                );
                for k in 0..params.len() {
                    let (p, c) = (node(params[k]), node(carried_in[k]));
                    emit(
                        code,
                        &p,
                        std::slice::from_ref(&c),
                        quote!(let #p = __g.op("LoopCarry", &[#c]);),
                    );
                }
                let body_start = code.len();
                block(f, body, used, shapes, code);
                // The graph has no back edges, so a value carried from one iteration to the
                // next is drawn as an input of the exit nodes it flows into: `o_k` reads
                // its own body result, its entry, and the body result of every carried value
                // that reaches `b_k` through some number of iterations.
                let ps: Vec<syn::Ident> = params.iter().map(|&v| node(v)).collect();
                let bs: Vec<syn::Ident> = body_outs.iter().map(|&v| node(v)).collect();
                let reads: Vec<BTreeSet<usize>> = bs
                    .iter()
                    .map(|b| params_read(&code[body_start..], b, &ps))
                    .collect();
                for k in 0..outs.len() {
                    let mut through = BTreeSet::from([k]);
                    let mut todo = vec![k];
                    while let Some(j) = todo.pop() {
                        for &i in &reads[j] {
                            if through.insert(i) {
                                todo.push(i);
                            }
                        }
                    }
                    let mut inputs = vec![bs[k].clone(), ps[k].clone()];
                    inputs.extend(through.iter().filter(|&&j| j != k).map(|&j| bs[j].clone()));
                    let o = node(outs[k]);
                    emit(
                        code,
                        &o,
                        &inputs,
                        quote!(let #o = __g.op("LoopCarry", &[#(#inputs),*]);),
                    );
                }
            }
        }
    }
}

/// The graph of a function with a custom VJP: one node for the whole function.
pub fn custom_body(params: &[(String, bool)], fn_name: &str) -> TokenStream {
    let mut code = Vec::new();
    let mut inputs = Vec::new();
    for (i, (label, wrt)) in params.iter().enumerate() {
        let n = format_ident!("__n_{}", i);
        if *wrt {
            code.push(quote!(let #n = __g.input(#label);));
        } else {
            code.push(quote!(let #n = __g.constant(#label);));
        }
        inputs.push(n);
    }
    let name = format!("{}Backward0", camel(fn_name));
    quote! {
        let mut __g = ::autodiff::Graph::new();
        #(#code)*
        __g.op(#name, &[#(#inputs),*]);
        __g
    }
}

/// `mlp_loss` gives `MlpLoss`.
pub fn upper_camel(name: &str) -> String {
    camel(name)
}
