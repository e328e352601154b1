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

/// The body of `name_graph()`, returning an `::autodiff::Graph`.
pub fn body(f: &Func, fn_name: &str) -> TokenStream {
    let shapes = crate::pass::shape::infer(f);
    let mut used = BTreeSet::new();
    collect_op_args(&f.body, &mut used);
    let mut code = Vec::new();
    for p in &f.params {
        let n = node(p.var);
        let label = p.ident.to_string();
        if p.wrt {
            code.push(quote!(let #n = __g.input(#label);));
        } else {
            code.push(quote!(let #n = __g.constant(#label);));
        }
    }
    block(f, &f.body, &used, &shapes, &mut code);
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

fn block(
    f: &Func,
    b: &Block,
    used: &BTreeSet<VarId>,
    shapes: &[Shape],
    code: &mut Vec<TokenStream>,
) {
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
                            code.push(quote!(let #n = __g.constant(#label);));
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
                        code.push(quote!(let #n = __g.op(#torch, &[#(#inputs),*]);));
                    }
                    Op::Unary(r) | Op::Binary(r) => {
                        let torch = r.info().torch;
                        code.push(quote!(let #n = __g.op(#torch, &[#(#inputs),*]);));
                    }
                    // A fused chain is drawn as the ops the user wrote: fusion changes the
                    // loops, not the computation. (Its inner variables keep their ids, and
                    // are all elementwise, so none is a matrix product.)
                    Op::Fused(inner) | Op::FusedSum(inner) => {
                        let unknown = vec![Shape::Unknown; inner.vars.len()];
                        block(inner, &inner.body, used, &unknown, code);
                        if let Op::FusedSum(_) = e.op {
                            let x = node(inner.ret);
                            code.push(quote!(let #n = __g.op(
                                <::autodiff::__private::Sum as ::autodiff::__private::OpName>::TORCH_NAME,
                                &[#x],
                            );));
                        }
                    }
                    Op::Map(_) => {
                        code.push(quote!(let #n = __g.op("MapBackward0", &[#(#inputs),*]);));
                    }
                    Op::StopGradient => {
                        code.push(quote!(let #n = __g.constant("detach");));
                    }
                    Op::Construct(ctor) => {
                        let name = super::aggregates::graph_name(ctor);
                        code.push(quote!(let #n = __g.op(#name, &[#(#inputs),*]);));
                    }
                    Op::FromFn(_) => {
                        code.push(quote!(let #n = __g.op("FromFnBackward0", &[#(#inputs),*]);));
                    }
                    Op::Field(_) if super::aggregates::graph_field_name(f, e).is_some() => {
                        let name = super::aggregates::graph_field_name(f, e);
                        code.push(quote!(let #n = __g.op(#name, &[#(#inputs),*]);));
                    }
                    Op::Field(_) => {
                        let label = f.vars[e.out].name.clone().unwrap_or_default();
                        if f.vars[e.args[0]].varied {
                            code.push(quote!(let #n = __g.input(#label);));
                        } else {
                            code.push(quote!(let #n = __g.constant(#label);));
                        }
                    }
                    Op::Call { path, .. } => {
                        let name = path
                            .segments
                            .last()
                            .map(|s| format!("{}Backward0", camel(&s.ident.to_string())))
                            .unwrap_or_default();
                        code.push(quote!(let #n = __g.op(#name, &[#(#inputs),*]);));
                    }
                }
            }
            Stmt::Branch { arms, outs, .. } => {
                for arm in arms {
                    // What a pattern binds is never differentiated.
                    for &b in &arm.binds {
                        let n = node(b);
                        let label = f.vars[b].name.clone().unwrap_or_default();
                        code.push(quote!(let #n = __g.constant(#label);));
                    }
                    block(f, &arm.block, used, shapes, code);
                }
                for (k, &out) in outs.iter().enumerate() {
                    let n = node(out);
                    let ins = arms.iter().map(|a| node(a.outs[k]));
                    code.push(quote!(let #n = __g.op("WhereBackward0", &[#(#ins),*]);));
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
                code.push(quote!(let #idx = __g.constant("loop index");));
                for k in 0..params.len() {
                    let (p, c) = (node(params[k]), node(carried_in[k]));
                    code.push(quote!(let #p = __g.op("LoopCarry", &[#c]);));
                }
                block(f, body, used, shapes, code);
                for k in 0..outs.len() {
                    let (o, b, p) = (node(outs[k]), node(body_outs[k]), node(params[k]));
                    code.push(quote!(let #o = __g.op("LoopCarry", &[#b, #p]);));
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
