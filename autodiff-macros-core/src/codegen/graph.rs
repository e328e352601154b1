//! `name_graph()`: the graph the macro built, as static data: one string literal that
//! `Graph::from_spec` reads (a node per line: its kind, its op or label, its inputs).

use crate::ir::{Block, Func, Op, Stmt, VarId};
use crate::pass::shape::Shape;
use autodiff_ops::OpId;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use std::collections::{BTreeSet, HashMap};

/// One node of the graph being built: the variable it binds (none for the last node of
/// a custom VJP), its kind (`I`, `C`, `O`), its label or op, the variables it reads.
struct Entry {
    out: Option<VarId>,
    kind: char,
    text: String,
    inputs: Vec<VarId>,
}

/// The graph as it is built: its nodes in evaluation order.
#[derive(Default)]
struct Spec {
    entries: Vec<Entry>,
}

impl Spec {
    fn push(&mut self, out: Option<VarId>, kind: char, text: &str, inputs: &[VarId]) {
        self.entries.push(Entry {
            out,
            kind,
            text: text.to_string(),
            inputs: inputs.to_vec(),
        });
    }
    fn input(&mut self, v: VarId, label: &str) {
        self.push(Some(v), 'I', label, &[]);
    }
    fn constant(&mut self, v: VarId, label: &str) {
        self.push(Some(v), 'C', label, &[]);
    }
    fn op(&mut self, v: VarId, name: &str, inputs: &[VarId]) {
        self.push(Some(v), 'O', name, inputs);
    }

    /// The loop parameters `params` that the node of `from` reads within one iteration,
    /// by their index (`body_start`: where the loop body's nodes begin).
    fn params_read(&self, body_start: usize, from: VarId, params: &[VarId]) -> BTreeSet<usize> {
        let mut wanted = BTreeSet::from([from]);
        for e in self.entries[body_start..].iter().rev() {
            if e.out.is_some_and(|v| wanted.contains(&v)) {
                wanted.extend(e.inputs.iter().copied());
            }
        }
        (0..params.len())
            .filter(|&i| wanted.contains(&params[i]))
            .collect()
    }

    /// Keeps the nodes that have a path to the last node binding `root` (or to the last
    /// node, for `None`): a graph shows only what its result depends on. (A struct
    /// parameter read only by field, a parameter or constant the body ignores, a loop
    /// index or a pattern binding no op reads, a value computed and dropped: none of them
    /// is drawn.)
    fn connected_to(&mut self, root: Option<VarId>) {
        let root_at = match root {
            Some(r) => self.entries.iter().rposition(|e| e.out == Some(r)),
            None => self.entries.len().checked_sub(1),
        };
        let Some(root_at) = root_at else {
            self.entries.clear();
            return;
        };
        let mut keep = vec![false; self.entries.len()];
        keep[root_at] = true;
        let mut wanted: BTreeSet<VarId> = self.entries[root_at].inputs.iter().copied().collect();
        // Each input is defined before the node that reads it: one backward sweep suffices.
        for i in (0..root_at).rev() {
            if let Some(out) = self.entries[i].out {
                if wanted.remove(&out) {
                    keep[i] = true;
                    wanted.extend(self.entries[i].inputs.iter().copied());
                }
            }
        }
        let mut k = keep.into_iter();
        self.entries.retain(|_| k.next().unwrap_or(false));
    }

    /// `::autodiff::Graph::from_spec("..")`: a node per line, its kind, its label or op,
    /// and the indices of the nodes it reads.
    fn finish(self) -> TokenStream {
        let mut index: HashMap<VarId, usize> = HashMap::new();
        let mut lines = Vec::with_capacity(self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            let ins: Vec<String> = e
                .inputs
                .iter()
                .filter_map(|a| index.get(a))
                .map(usize::to_string)
                .collect();
            // The spec's separators cannot occur in a label.
            let text = e.text.replace(['\t', '\n'], " ");
            lines.push(format!("{}\t{text}\t{}", e.kind, ins.join(" ")));
            if let Some(v) = e.out {
                index.insert(v, i);
            }
        }
        let text = lines.join("\n");
        quote!(::autodiff::Graph::from_spec(#text))
    }
}

/// The body of `name_graph()`, returning an `::autodiff::Graph`.
pub fn body(f: &Func, fn_name: &str) -> TokenStream {
    let shapes = crate::pass::shape::infer(f);
    let mut used = BTreeSet::new();
    collect_op_args(&f.body, &mut used);
    // A result that is a constant expression is drawn as that constant.
    used.insert(f.ret);
    let mut code = Spec::default();
    for p in &f.params {
        let label = p.ident.to_string();
        if p.wrt {
            code.input(p.var, &label);
        } else {
            code.constant(p.var, &label);
        }
    }
    block(f, &f.body, &used, &shapes, &mut code);
    code.connected_to(Some(f.ret));
    let _ = fn_name;
    code.finish()
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

fn block(f: &Func, b: &Block, used: &BTreeSet<VarId>, shapes: &[Shape], code: &mut Spec) {
    for s in &b.stmts {
        match s {
            Stmt::Eqn(e) => {
                let (n, inputs) = (e.out, &e.args[..]);
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
                            code.constant(n, &label);
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
                        code.op(n, torch, inputs);
                    }
                    Op::Unary(r) | Op::Binary(r) => {
                        let torch = r.info().torch;
                        code.op(n, torch, inputs);
                    }
                    // A fused chain is drawn as the ops the user wrote: fusion changes the
                    // loops, not the computation. (Its inner variables keep their ids, and
                    // are all elementwise, so none is a matrix product.)
                    Op::Fused(inner) | Op::FusedSum(inner) => {
                        let unknown = vec![Shape::Unknown; inner.vars.len()];
                        block(inner, &inner.body, used, &unknown, code);
                        if let Op::FusedSum(_) = e.op {
                            code.op(n, OpId::Sum.info().torch, &[inner.ret]);
                        }
                    }
                    Op::Map(_) => {
                        code.op(n, "MapBackward0", inputs);
                    }
                    Op::StopGradient => {
                        code.constant(n, "detach");
                    }
                    Op::Construct(ctor) => {
                        let name = super::aggregates::graph_name(ctor);
                        code.op(n, name, inputs);
                    }
                    Op::FromFn(_) => {
                        code.op(n, "FromFnBackward0", inputs);
                    }
                    Op::Field(_) if super::aggregates::graph_field_name(f, e).is_some() => {
                        let name = super::aggregates::graph_field_name(f, e).unwrap_or_default();
                        code.op(n, name, inputs);
                    }
                    Op::Field(_) => {
                        let label = f.vars[e.out].name.clone().unwrap_or_default();
                        if f.vars[e.args[0]].varied {
                            code.input(n, &label);
                        } else {
                            code.constant(n, &label);
                        }
                    }
                    Op::Call { path, .. } => {
                        let name = path
                            .segments
                            .last()
                            .map(|s| format!("{}Backward0", camel(&s.ident.to_string())))
                            .unwrap_or_default();
                        code.op(n, &name, inputs);
                    }
                }
            }
            Stmt::Branch { arms, outs, .. } => {
                for arm in arms {
                    // What a pattern binds is never differentiated.
                    for &b in &arm.binds {
                        let label = f.vars[b].name.clone().unwrap_or_default();
                        code.constant(b, &label);
                    }
                    block(f, &arm.block, used, shapes, code);
                }
                for (k, &out) in outs.iter().enumerate() {
                    let ins: Vec<VarId> = arms.iter().map(|a| a.outs[k]).collect();
                    code.op(out, "WhereBackward0", &ins);
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
                code.constant(*index, "loop index");
                for k in 0..params.len() {
                    code.op(params[k], "LoopCarry", &[carried_in[k]]);
                }
                let body_start = code.entries.len();
                block(f, body, used, shapes, code);
                // The graph has no back edges, so a value carried from one iteration to the
                // next is drawn as an input of the exit nodes it flows into: `o_k` reads
                // its own body result, its entry, and the body result of every carried value
                // that reaches `b_k` through some number of iterations.
                let reads: Vec<BTreeSet<usize>> = body_outs
                    .iter()
                    .map(|&b| code.params_read(body_start, b, params))
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
                    let mut inputs = vec![body_outs[k], params[k]];
                    inputs.extend(through.iter().filter(|&&j| j != k).map(|&j| body_outs[j]));
                    code.op(outs[k], "LoopCarry", &inputs);
                }
            }
        }
    }
}

/// The graph of a function with a custom VJP: one node for the whole function.
pub fn custom_body(params: &[(String, bool)], fn_name: &str) -> TokenStream {
    let mut code = Spec::default();
    for (i, (label, wrt)) in params.iter().enumerate() {
        if *wrt {
            code.input(i, label);
        } else {
            code.constant(i, label);
        }
    }
    let name = format!("{}Backward0", camel(fn_name));
    let inputs: Vec<VarId> = (0..params.len()).collect();
    code.push(None, 'O', &name, &inputs);
    code.finish()
}

/// `mlp_loss` gives `MlpLoss`.
pub fn upper_camel(name: &str) -> String {
    camel(name)
}
