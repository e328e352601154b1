//! `name_graph()`: the graph the macro built, as runtime code that rebuilds it.

use super::primal;
use crate::ir::{Block, Func, Op, Stmt, VarId};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use std::collections::BTreeSet;

fn node(v: VarId) -> syn::Ident {
    format_ident!("__n_{}", v)
}

/// What a value is, as far as the signature and the ops tell: enough to name a `*`
/// between matrices `MmBackward0`, as PyTorch does, instead of `MulBackward0`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Scalar,
    Matrix,
    Unknown,
}

fn marker(ty: &TokenStream) -> String {
    ty.to_string()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn infer_shapes(f: &Func, b: &Block, shapes: &mut [Shape]) {
    use crate::sig::{classify, Kind};
    let join = |a: Shape, b: Shape| match (a, b) {
        (Shape::Matrix, _) | (_, Shape::Matrix) => Shape::Matrix,
        (Shape::Scalar, Shape::Scalar) => Shape::Scalar,
        _ => Shape::Unknown,
    };
    for s in &b.stmts {
        match s {
            Stmt::Eqn(e) => {
                let arg = |k: usize| e.args.get(k).map_or(Shape::Unknown, |&a| shapes[a]);
                shapes[e.out] = match &e.op {
                    Op::Param(_) => match f.vars[e.out].ty.as_ref().map(classify) {
                        Some(Kind::Scalar) => Shape::Scalar,
                        Some(Kind::Matrix) => Shape::Matrix,
                        _ => Shape::Unknown,
                    },
                    Op::Opaque(syn::Expr::Lit(_)) => Shape::Scalar,
                    Op::Opaque(_) | Op::Field(_) | Op::Call { .. } => Shape::Unknown,
                    Op::StopGradient | Op::Map(_) => arg(0),
                    Op::Fused(_) => e
                        .args
                        .iter()
                        .fold(Shape::Unknown, |acc, &a| join(acc, shapes[a])),
                    Op::Unary(r) => match marker(&r.ty).as_str() {
                        "Sum" | "Mean" | "Norm" | "NormSquared" | "LogSumExp" | "Index"
                        | "Index2" => Shape::Scalar,
                        _ => arg(0),
                    },
                    Op::Binary(r) => match marker(&r.ty).as_str() {
                        "Dot" | "CrossEntropy" | "Mse" => Shape::Scalar,
                        "ComponentMul" | "ComponentDiv" => Shape::Matrix,
                        _ => join(arg(0), arg(1)),
                    },
                };
            }
            Stmt::If {
                then_block,
                else_block,
                outs,
                then_outs,
                else_outs,
                ..
            } => {
                infer_shapes(f, then_block, shapes);
                infer_shapes(f, else_block, shapes);
                for k in 0..outs.len() {
                    let (t, e) = (shapes[then_outs[k]], shapes[else_outs[k]]);
                    shapes[outs[k]] = if t == e { t } else { Shape::Unknown };
                }
            }
            Stmt::For {
                carried_in,
                params,
                body,
                outs,
                ..
            } => {
                for k in 0..params.len() {
                    shapes[params[k]] = shapes[carried_in[k]];
                    shapes[outs[k]] = shapes[carried_in[k]];
                }
                infer_shapes(f, body, shapes);
            }
        }
    }
}

/// The body of `name_graph()`, returning an `::autodiff::Graph`.
pub fn body(f: &Func, fn_name: &str) -> TokenStream {
    let mut shapes = vec![Shape::Unknown; f.vars.len()];
    infer_shapes(f, &f.body, &mut shapes);
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
            Stmt::If {
                then_block,
                else_block,
                then_outs,
                else_outs,
                ..
            } => {
                used.extend(then_outs.iter().chain(else_outs).copied());
                collect_op_args(then_block, used);
                collect_op_args(else_block, used);
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
                            let mut label = expr.to_token_stream().to_string();
                            if label.len() > 40 {
                                label.truncate(37);
                                label.push_str("...");
                            }
                            code.push(quote!(let #n = __g.constant(#label);));
                        }
                    }
                    Op::Binary(r)
                        if marker(&r.ty) == "Mul"
                            && ((shapes[e.args[0]] == Shape::Matrix
                                && shapes[e.args[1]] != Shape::Scalar)
                                || (shapes[e.args[1]] == Shape::Matrix
                                    && shapes[e.args[0]] != Shape::Scalar)) =>
                    {
                        code.push(quote!(let #n = __g.op("MmBackward0", &[#(#inputs),*]);));
                    }
                    Op::Unary(r) | Op::Binary(r) => {
                        let (ty, tr) = (&r.ty, &r.name_trait);
                        code.push(
                            quote!(let #n = __g.op(<#ty as #tr>::TORCH_NAME, &[#(#inputs),*]);),
                        );
                    }
                    Op::Fused(_) => {
                        code.push(
                            quote!(let #n = __g.op("FusedElementwiseBackward", &[#(#inputs),*]);),
                        );
                    }
                    Op::Map(_) => {
                        code.push(quote!(let #n = __g.op("MapBackward0", &[#(#inputs),*]);));
                    }
                    Op::StopGradient => {
                        code.push(quote!(let #n = __g.constant("detach");));
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
            Stmt::If {
                then_block,
                else_block,
                outs,
                then_outs,
                else_outs,
                ..
            } => {
                block(f, then_block, used, shapes, code);
                block(f, else_block, used, shapes, code);
                for k in 0..outs.len() {
                    let (n, t, e) = (node(outs[k]), node(then_outs[k]), node(else_outs[k]));
                    code.push(quote!(let #n = __g.op("WhereBackward0", &[#t, #e]);));
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
