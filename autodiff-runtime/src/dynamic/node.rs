//! The recorded graph: one [`Node`] per op (PyTorch's `grad_fn`), edges to the nodes or
//! leaves it read, and the [`GradSink`] a node's backward adds its input gradients into.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use nalgebra::DMatrix;

use super::error::GradError;
use super::hook::HookEntry;
use super::storage::Storage;
use super::tensor::{Tensor, TensorData};

/// Where a node sends the gradient of one of its inputs.
pub(crate) enum Edge {
    /// The input was computed by another op.
    Node(Rc<Node>),
    /// The input is a leaf that requires grad (PyTorch's `AccumulateGrad`).
    Leaf(Tensor),
}

impl Edge {
    /// The edge to `t`'s gradient, or `None` when `t` takes no gradient.
    pub(crate) fn to(t: &Tensor) -> Option<Edge> {
        let data = t.data.borrow();
        match &data.grad_fn {
            Some(node) => Some(Edge::Node(Rc::clone(node))),
            None if data.requires_grad => Some(Edge::Leaf(t.clone())),
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

    /// The same vector-Jacobian products as [`BackwardFn::backward`], computed with
    /// `Tensor` ops so that they are recorded (`create_graph`): `g` is the gradient of
    /// the op's output, and [`Recorder`] turns the values the op saved back into
    /// tensors that lead into the graph. Returns the gradient of each input that
    /// [`Recorder::needs`] (`None` elsewhere), of that input's shape.
    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2];
}

/// What a recorded (`create_graph`) backward reads the op's values through: as tensors
/// whose `grad_fn` is the node that computed them (PyTorch's unpacked `SavedVariable`),
/// so the gradient it computes is differentiable with respect to them.
pub(crate) struct Recorder<'a> {
    /// The node whose backward runs.
    pub(crate) node: &'a Rc<Node>,
    /// Which inputs take a gradient in this pass.
    pub(crate) needs: [bool; 2],
}

impl Recorder<'_> {
    /// Whether input `i` takes a gradient.
    #[inline]
    pub(crate) fn needs(&self, i: usize) -> bool {
        self.needs[i]
    }

    /// Input `i`, whose saved value is `value`: the leaf itself when it is a leaf that
    /// requires grad, a tensor on `value` computed by the input's node when an op
    /// computed it, else a constant.
    pub(crate) fn input(&self, i: usize, value: &Rc<DMatrix<f64>>) -> Tensor {
        match &self.node.inputs[i] {
            Some(Edge::Leaf(t)) => t.clone(),
            Some(Edge::Node(node)) => Tensor::on_node(Rc::clone(node), Rc::clone(value)),
            None => Tensor::leaf(Rc::clone(value)),
        }
    }

    /// The op's output, whose saved value is `value`, computed by this node.
    pub(crate) fn output(&self, value: &Rc<DMatrix<f64>>) -> Tensor {
        Tensor::on_node(Rc::clone(self.node), Rc::clone(value))
    }
}

/// How a backward reads one input of its op.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Read {
    /// Never.
    No,
    /// Always.
    Yes,
    /// Only for the other input's gradient (a product: `d(ab)/da = b`), so only when
    /// the other input takes a gradient, as PyTorch saves it.
    ForOther,
}

/// Which of an op's inputs and output its backward reads: those are the values whose
/// versions the node records, and checks before it runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Saves {
    /// How each input is read.
    pub(crate) inputs: [Read; 2],
    /// Whether the output is read.
    pub(crate) output: bool,
}

impl Saves {
    /// A backward that reads no value (`AddBackward0`, `SumBackward0`).
    pub(crate) const NOTHING: Saves = Saves {
        inputs: [Read::No, Read::No],
        output: false,
    };
    /// A backward that reads its first input.
    pub(crate) const INPUT: Saves = Saves {
        inputs: [Read::Yes, Read::No],
        output: false,
    };
    /// A backward that reads its output (`ExpBackward0`, `SoftmaxBackward0`).
    pub(crate) const OUTPUT: Saves = Saves {
        inputs: [Read::No, Read::No],
        output: true,
    };
    /// A product: each input is read for the other's gradient (`MulBackward0`,
    /// `MmBackward0`).
    pub(crate) const PRODUCT: Saves = Saves {
        inputs: [Read::ForOther, Read::ForOther],
        output: false,
    };
    /// Both inputs are read, always.
    pub(crate) const INPUTS: Saves = Saves {
        inputs: [Read::Yes, Read::Yes],
        output: false,
    };

    /// What an elementwise rule's derivative reads (its row's `reads`), for a rule of
    /// one input or of two.
    pub(crate) const fn reads(reads: autodiff_ops::Reads) -> Saves {
        use autodiff_ops::Reads;
        let (input, output) = match reads {
            Reads::Nothing => (Read::No, false),
            Reads::Input => (Read::Yes, false),
            Reads::Output => (Read::No, true),
            Reads::Both => (Read::Yes, true),
        };
        Saves {
            inputs: [input, input],
            output,
        }
    }

    /// The versions to record: input `i` where it is read (and is a tensor), the output
    /// where it is read.
    pub(crate) fn record(
        self,
        inputs: [Option<&Tensor>; 2],
        edges: &[Option<Edge>; 2],
        output: &Rc<Storage>,
    ) -> [Option<SavedVersion>; 3] {
        let input = |i: usize| {
            let read = match self.inputs[i] {
                Read::No => false,
                Read::Yes => true,
                Read::ForOther => edges[1 - i].is_some(),
            };
            inputs[i]
                .filter(|_| read)
                .map(|t| SavedVersion::of(&t.storage))
        };
        [
            input(0),
            input(1),
            self.output.then(|| SavedVersion::of(output)),
        ]
    }
}

/// The version a node saw of a value it saved. The storage is held weakly: once every
/// tensor on it is gone, nothing can update it in place.
pub(crate) struct SavedVersion {
    pub(crate) storage: Weak<Storage>,
    pub(crate) version: u64,
}

impl SavedVersion {
    /// The current version of `storage`.
    pub(crate) fn of(storage: &Rc<Storage>) -> SavedVersion {
        SavedVersion {
            storage: Rc::downgrade(storage),
            version: storage.version(),
        }
    }
}

/// Where in [`Node::saved`] the output's version is (the inputs' are at 0 and 1).
pub(crate) const SAVED_OUTPUT: usize = 2;

/// One recorded op.
pub(crate) struct Node {
    /// PyTorch's name for the op's backward (`"MulBackward0"`).
    pub(crate) name: &'static str,
    /// The edges to the op's inputs, `None` where an input takes no gradient.
    pub(crate) inputs: [Option<Edge>; 2],
    /// The backward function; `None` once a backward pass has freed it.
    pub(crate) func: RefCell<Option<Box<dyn BackwardFn>>>,
    /// Hooks registered on the op's output tensor.
    pub(crate) hooks: RefCell<Vec<HookEntry>>,
    /// The output tensor, when it asked to `retain_grad()`.
    pub(crate) retained: RefCell<Option<Weak<RefCell<TensorData>>>>,
    /// The versions of the values the backward reads, when the op saved them: its
    /// inputs' at 0 and 1, its output's at [`SAVED_OUTPUT`].
    pub(crate) saved: [Option<SavedVersion>; 3],
}

impl Node {
    /// A node for op `name` with backward `func`, which reads the values `saved`
    /// records the versions of.
    pub(crate) fn new(
        name: &'static str,
        inputs: [Option<Edge>; 2],
        func: Box<dyn BackwardFn>,
        saved: [Option<SavedVersion>; 3],
    ) -> Self {
        Node {
            name,
            inputs,
            func: RefCell::new(Some(func)),
            hooks: RefCell::new(Vec::new()),
            retained: RefCell::new(None),
            saved,
        }
    }

    /// Checks that no value the backward reads was updated in place since it was saved.
    ///
    /// # Errors
    /// [`GradError::ModifiedInPlace`] naming this op, the value's shape and both versions.
    pub(crate) fn check_versions(&self) -> Result<(), GradError> {
        for saved in self.saved.iter().flatten() {
            let Some(storage) = saved.storage.upgrade() else {
                continue;
            };
            if storage.version() != saved.version {
                return Err(GradError::ModifiedInPlace {
                    op: self.name,
                    shape: storage.shape(),
                    version: storage.version(),
                    expected: saved.version,
                });
            }
        }
        Ok(())
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
