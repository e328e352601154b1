//! The recorded graph: one [`Node`] per op (PyTorch's `grad_fn`), edges to the nodes or
//! leaves it read, and the [`GradSink`] a node's backward adds its input gradients into.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use nalgebra::DMatrix;

use super::tensor::{Tensor, TensorData};

/// A gradient hook: reads the gradient flowing into a tensor, and may return a replacement.
pub(crate) type Hook = Box<dyn FnMut(&Tensor) -> Option<Tensor>>;

/// Where a node sends the gradient of one of its inputs.
pub(crate) enum Edge {
    /// The input was computed by another op.
    Node(Rc<Node>),
    /// The input is a leaf that requires grad (PyTorch's `AccumulateGrad`).
    Leaf(Rc<RefCell<TensorData>>),
}

impl Edge {
    /// The edge to `t`'s gradient, or `None` when `t` takes no gradient.
    pub(crate) fn to(t: &Tensor) -> Option<Edge> {
        let data = t.data.borrow();
        match &data.grad_fn {
            Some(node) => Some(Edge::Node(Rc::clone(node))),
            None if data.requires_grad => Some(Edge::Leaf(Rc::clone(&t.data))),
            None => None,
        }
    }
}

/// The backward function of one op: maps the gradient of its output to its inputs'.
pub(crate) trait BackwardFn {
    /// Adds the gradient of each input that [`GradSink::needs`] into the sink, given the
    /// gradient `g` of the op's output (same shape as the output).
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>);

    /// Whether the op keeps values that `backward()` frees (most ops); ops that keep
    /// none (`AddBackward0`, `SumBackward0`, ...) can run again, as in PyTorch.
    fn saves_values(&self) -> bool {
        true
    }
}

/// One recorded op.
pub(crate) struct Node {
    /// PyTorch's name for the op's backward (`"MulBackward0"`).
    pub(crate) name: &'static str,
    /// The edges to the op's inputs, `None` where an input takes no gradient.
    pub(crate) inputs: [Option<Edge>; 2],
    /// The backward function; `None` once a backward pass has freed it.
    pub(crate) func: RefCell<Option<Box<dyn BackwardFn>>>,
    /// Hooks registered on the op's output tensor.
    pub(crate) hooks: RefCell<Vec<Hook>>,
    /// The output tensor, when it asked to `retain_grad()`.
    pub(crate) retained: RefCell<Option<Weak<RefCell<TensorData>>>>,
}

impl Node {
    /// A node for op `name` with backward `func`.
    pub(crate) fn new(
        name: &'static str,
        inputs: [Option<Edge>; 2],
        func: Box<dyn BackwardFn>,
    ) -> Self {
        Node {
            name,
            inputs,
            func: RefCell::new(Some(func)),
            hooks: RefCell::new(Vec::new()),
            retained: RefCell::new(None),
        }
    }
}

impl Drop for Node {
    /// Dismantles the chain of nodes only this one holds without recursion, so dropping
    /// the graph of a long loop cannot overflow the stack.
    fn drop(&mut self) {
        let mut stack: Vec<Rc<Node>> = Vec::new();
        take_node_edges(&mut self.inputs, &mut stack);
        while let Some(node) = stack.pop() {
            if let Ok(mut node) = Rc::try_unwrap(node) {
                take_node_edges(&mut node.inputs, &mut stack);
            }
        }
    }
}

fn take_node_edges(inputs: &mut [Option<Edge>; 2], stack: &mut Vec<Rc<Node>>) {
    for input in inputs.iter_mut() {
        if matches!(input, Some(Edge::Node(_))) {
            if let Some(Edge::Node(node)) = input.take() {
                stack.push(node);
            }
        }
    }
}

/// Receives a node's input gradients and adds them into the backward pass's buffers.
///
/// Every `add_*` method adds (never overwrites), so an input read twice (`x * x`) gets
/// both contributions; the first contribution moves into the buffer when it can.
pub(crate) struct GradSink<'a> {
    pub(crate) buffers: &'a mut [Option<DMatrix<f64>>],
    pub(crate) targets: [Option<usize>; 2],
}

impl GradSink<'_> {
    /// Whether input `i` takes a gradient.
    #[inline]
    pub(crate) fn needs(&self, i: usize) -> bool {
        self.targets[i].is_some()
    }

    #[inline]
    fn slot(&mut self, i: usize) -> Option<&mut Option<DMatrix<f64>>> {
        let target = self.targets[i]?;
        Some(&mut self.buffers[target])
    }

    /// Adds `c * g` to input `i`'s gradient, reusing `g`'s buffer when it can.
    pub(crate) fn add_scaled(&mut self, i: usize, c: f64, mut g: DMatrix<f64>) {
        if let Some(slot) = self.slot(i) {
            match slot {
                Some(acc) => axpy(acc, c, &g),
                None => {
                    if c != 1.0 {
                        g *= c;
                    }
                    *slot = Some(g);
                }
            }
        }
    }

    /// Adds `c * g` to input `i`'s gradient, copying `g` only if the buffer is empty.
    pub(crate) fn add_scaled_ref(&mut self, i: usize, c: f64, g: &DMatrix<f64>) {
        if let Some(slot) = self.slot(i) {
            match slot {
                Some(acc) => axpy(acc, c, g),
                None => *slot = Some(if c == 1.0 { g.clone() } else { g * c }),
            }
        }
    }

    /// Adds `f(k, g[k])` (flat column-major index `k`) to input `i`'s gradient, which has
    /// `g`'s shape; transforms `g` in place when the buffer is empty.
    pub(crate) fn add_map(&mut self, i: usize, mut g: DMatrix<f64>, f: impl Fn(usize, f64) -> f64) {
        if let Some(slot) = self.slot(i) {
            match slot {
                Some(acc) => {
                    for (k, (a, &gk)) in acc.iter_mut().zip(g.iter()).enumerate() {
                        *a += f(k, gk);
                    }
                }
                None => {
                    for (k, gk) in g.iter_mut().enumerate() {
                        *gk = f(k, *gk);
                    }
                    *slot = Some(g);
                }
            }
        }
    }

    /// Lets `f(out, beta)` write `beta * out + contribution` into input `i`'s gradient of
    /// shape `(rows, cols)`: `beta` is 1 when a gradient is already there, else 0 and
    /// `out` holds zeros.
    pub(crate) fn add_with(
        &mut self,
        i: usize,
        (rows, cols): (usize, usize),
        f: impl FnOnce(&mut DMatrix<f64>, f64),
    ) {
        if let Some(slot) = self.slot(i) {
            match slot {
                Some(acc) => f(acc, 1.0),
                None => {
                    let mut out = DMatrix::zeros(rows, cols);
                    f(&mut out, 0.0);
                    *slot = Some(out);
                }
            }
        }
    }
}

/// `acc += c * g`.
fn axpy(acc: &mut DMatrix<f64>, c: f64, g: &DMatrix<f64>) {
    if c == 1.0 {
        *acc += g;
    } else {
        acc.iter_mut().zip(g.iter()).for_each(|(a, &b)| *a += c * b);
    }
}
