//! `Tensor::graph()`: the recorded graph as a [`Graph`], like torchviz's `make_dot`.

use std::rc::Rc;

use super::node::{Edge, Node};
use super::ptr_map::PtrMap;
use super::tensor::Tensor;
use crate::graph::Graph;

fn shape_label(t: &Tensor) -> String {
    let (rows, cols) = t.shape();
    format!("({rows}, {cols})")
}

/// Where a graph node comes from, to give each node or leaf one index.
enum Visit {
    Node(Rc<Node>),
    Leaf(Tensor),
}

impl Tensor {
    /// The graph of every op that led to this tensor, in evaluation order: one node per
    /// op named as PyTorch names it (`MulBackward0`), and one `AccumulateGrad` input per
    /// leaf that requires grad, labelled with its shape (`(1, 1)`). Inputs that take no
    /// gradient are left out, as in torchviz. A leaf gives a one-node graph.
    ///
    /// ```
    /// use autodiff_runtime::dynamic::Tensor;
    /// let w = Tensor::scalar(1.0).requires_grad();
    /// let loss = (&w * 2.0 - 5.0).powi(2);
    /// let dot = loss.graph().to_dot();
    /// assert!(dot.contains("MulBackward0") && dot.contains("PowBackward0"));
    /// ```
    pub fn graph(&self) -> Graph {
        let mut graph = Graph::new();
        let data = self.data.borrow();
        let Some(root) = &data.grad_fn else {
            let label = shape_label(self);
            if data.requires_grad {
                graph.input(&label);
            } else {
                graph.constant(&label);
            }
            return graph;
        };
        // Iterative post-order, so inputs come before the ops that read them.
        let mut index: PtrMap<usize> = PtrMap::default();
        let mut stack: Vec<(Rc<Node>, usize)> = vec![(Rc::clone(root), 0)];
        while let Some((node, next)) = stack.pop() {
            if next < node.inputs.len() {
                let input = node.inputs[next].as_ref().map(|edge| match edge {
                    Edge::Node(n) => Visit::Node(Rc::clone(n)),
                    Edge::Leaf(l) => Visit::Leaf(l.clone()),
                });
                stack.push((node, next + 1));
                match input {
                    Some(Visit::Node(n)) if !index.contains_key(&Rc::as_ptr(&n).cast()) => {
                        stack.push((n, 0));
                    }
                    Some(Visit::Leaf(l)) => {
                        let key: *const () = Rc::as_ptr(&l.data).cast();
                        index
                            .entry(key)
                            .or_insert_with(|| graph.input(&shape_label(&l)));
                    }
                    _ => {}
                }
                continue;
            }
            let key: *const () = Rc::as_ptr(&node).cast();
            if index.contains_key(&key) {
                continue;
            }
            let inputs: Vec<usize> = node
                .inputs
                .iter()
                .flatten()
                .filter_map(|edge| {
                    let key: *const () = match edge {
                        Edge::Node(n) => Rc::as_ptr(n).cast(),
                        Edge::Leaf(l) => Rc::as_ptr(&l.data).cast(),
                    };
                    index.get(&key).copied()
                })
                .collect();
            let id = graph.op(node.name, &inputs);
            index.insert(key, id);
        }
        graph
    }
}
