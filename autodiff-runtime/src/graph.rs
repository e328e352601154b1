//! Computation graphs shared by both engines: a list of nodes in evaluation order.
//!
//! The static engine builds its graph at compile time (`name_graph()`), the dynamic
//! engine from the tape (`Tensor::graph()`). Op names follow PyTorch's autograd
//! (`MulBackward0`, `PowBackward0`, ...), so a DOT rendering reads like torchviz's.

use std::fmt::Write as _;

/// What a node of a [`Graph`] stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A differentiated input (a parameter, or a leaf that requires grad).
    Input,
    /// A value that takes no gradient (a constant, data, a detached tensor).
    Constant,
    /// An operation whose backward function is named by [`Node::op`].
    Op,
}

/// One node of a [`Graph`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// What the node is.
    pub kind: NodeKind,
    /// The PyTorch name of the op's backward (`"MulBackward0"`), or the leaf's name.
    pub op: String,
    /// A human label: the parameter's name, a shape such as `(64, 784)`, or empty.
    pub label: String,
    /// Indices of the nodes this one reads, in argument order.
    pub inputs: Vec<usize>,
}

/// A computation graph: nodes in evaluation order, each naming its inputs by index.
///
/// ```
/// use autodiff_runtime::graph::Graph;
/// let mut g = Graph::new();
/// let w = g.input("w");
/// let x = g.constant("x");
/// let y = g.op("MulBackward0", &[w, x]);
/// g.op("PowBackward0", &[y]);
/// assert_eq!(g.nodes().len(), 4);
/// assert!(g.to_dot().contains("MulBackward0"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    nodes: Vec<Node>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node and returns its index.
    pub fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Adds a differentiated input named `label`.
    pub fn input(&mut self, label: &str) -> usize {
        self.push(Node {
            kind: NodeKind::Input,
            op: "AccumulateGrad".to_string(),
            label: label.to_string(),
            inputs: Vec::new(),
        })
    }

    /// Adds a value that takes no gradient.
    pub fn constant(&mut self, label: &str) -> usize {
        self.push(Node {
            kind: NodeKind::Constant,
            op: "Constant".to_string(),
            label: label.to_string(),
            inputs: Vec::new(),
        })
    }

    /// Adds an operation with PyTorch backward name `op` reading `inputs`.
    pub fn op(&mut self, op: &str, inputs: &[usize]) -> usize {
        self.push(Node {
            kind: NodeKind::Op,
            op: op.to_string(),
            label: String::new(),
            inputs: inputs.to_vec(),
        })
    }

    /// The graph written as text, a node per line in evaluation order: its kind (`I`
    /// input, `C` constant, `O` op), a tab, its label (for `I` and `C`) or backward
    /// name (for `O`), a tab, and the indices of its inputs separated by spaces. The
    /// form in which `#[differentiable]` emits `name_graph()`: one literal instead of
    /// code that builds the graph.
    ///
    /// ```
    /// use autodiff_runtime::graph::Graph;
    /// let g = Graph::from_spec("I\tw\t\nC\tx\t\nO\tMulBackward0\t0 1");
    /// let mut h = Graph::new();
    /// let (w, x) = (h.input("w"), h.constant("x"));
    /// h.op("MulBackward0", &[w, x]);
    /// assert_eq!(g, h);
    /// ```
    ///
    /// # Panics
    /// On a line that is not of that form, naming it.
    pub fn from_spec(spec: &str) -> Self {
        let mut g = Graph::new();
        for line in spec.lines() {
            let mut parts = line.splitn(3, '\t');
            let (kind, text, inputs) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
            let inputs: Vec<usize> = inputs
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse()
                        .unwrap_or_else(|_| panic!("Graph::from_spec: bad input index in `{line}`"))
                })
                .collect();
            match (kind, text) {
                (Some("I"), Some(label)) => g.input(label),
                (Some("C"), Some(label)) => g.constant(label),
                (Some("O"), Some(op)) => g.op(op, &inputs),
                _ => panic!("Graph::from_spec: `{line}` is not `I|C|O<tab>text<tab>inputs`"),
            };
        }
        g
    }

    /// The nodes in evaluation order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Graphviz DOT text, edges pointing from inputs to the ops that read them.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph {\n    graph [rankdir=TB]\n    node [fontname=\"monospace\" fontsize=12 shape=box style=filled]\n");
        for (i, node) in self.nodes.iter().enumerate() {
            let (text, color) = match node.kind {
                NodeKind::Input => (format!("{}\\n{}", node.label, node.op), "lightblue"),
                NodeKind::Constant => (node.label.clone(), "lightgrey"),
                NodeKind::Op if node.label.is_empty() => (node.op.clone(), "white"),
                NodeKind::Op => (format!("{}\\n{}", node.op, node.label), "white"),
            };
            let _ = writeln!(
                out,
                "    n{i} [label=\"{}\" fillcolor={color}]",
                text.replace('"', "\\\"")
            );
        }
        for (i, node) in self.nodes.iter().enumerate() {
            for input in &node.inputs {
                let _ = writeln!(out, "    n{input} -> n{i}");
            }
        }
        out.push_str("}\n");
        out
    }
}
