//! The reverse pass: topological order of the recorded graph, gradient buffers, hooks,
//! `retain_grad`, accumulation into leaves, and freeing the saved values.

use std::cell::RefCell;
use std::rc::Rc;

use nalgebra::DMatrix;

use super::error::GradError;
use super::hook::HookEntry;
use super::node::{Edge, GradSink, Node};
use super::ptr_map::PtrIndex;
use super::tensor::{Tensor, TensorData};

/// A gradient target of the pass: an op node or a leaf.
enum Target {
    Node(Rc<Node>),
    Leaf(Rc<RefCell<TensorData>>),
}

impl Target {
    fn of(edge: &Edge) -> Target {
        match edge {
            Edge::Node(node) => Target::Node(Rc::clone(node)),
            Edge::Leaf(t) => Target::Leaf(Rc::clone(&t.data)),
        }
    }

    fn key(&self) -> *const () {
        // The same addresses as `edge_key`, so a target is found from the edge to it.
        match self {
            Target::Node(node) => Rc::as_ptr(node).cast(),
            Target::Leaf(data) => Rc::as_ptr(data).cast(),
        }
    }
}

/// The address identifying the node or leaf an edge leads to.
fn edge_key(edge: &Edge) -> *const () {
    match edge {
        Edge::Node(node) => Rc::as_ptr(node).cast(),
        Edge::Leaf(t) => Rc::as_ptr(&t.data).cast(),
    }
}

/// The graph below the root in topological order, checked to be runnable.
struct Plan {
    /// Targets by discovery index (the root is 0).
    targets: Vec<Target>,
    /// For each target, the indices of the targets its inputs send gradients to.
    children: Vec<[Option<usize>; 2]>,
    /// Target indices, every consumer after all of its inputs (reverse to backpropagate).
    post_order: Vec<usize>,
}

/// Orders the graph below `root` with an iterative depth-first search (a long chain of
/// ops cannot overflow the stack), failing before any gradient moves if a node on the
/// way was freed or a value it saved was updated in place since.
fn plan(root: Target) -> Result<Plan, GradError> {
    let mut index = PtrIndex::new();
    let mut plan = Plan {
        targets: Vec::with_capacity(8),
        children: Vec::with_capacity(8),
        post_order: Vec::with_capacity(8),
    };
    let discover = |target: Target, plan: &mut Plan, index: &mut PtrIndex| {
        if let Target::Node(node) = &target {
            if node.func.borrow().is_none() {
                return Err(GradError::GraphFreed { op: node.name });
            }
            node.check_versions()?;
        }
        let id = index.insert(target.key());
        plan.targets.push(target);
        plan.children.push([None, None]);
        Ok(id)
    };
    let root = discover(root, &mut plan, &mut index)?;
    // Frames of (target, next input to visit).
    let mut stack: Vec<(usize, usize)> = Vec::with_capacity(8);
    stack.push((root, 0));
    while let Some(frame) = stack.last_mut() {
        let (id, input) = *frame;
        let target = match &plan.targets[id] {
            Target::Node(node) if input < node.inputs.len() => {
                frame.1 += 1;
                let Some(edge) = &node.inputs[input] else {
                    continue;
                };
                if let Some(child) = index.get(edge_key(edge)) {
                    plan.children[id][input] = Some(child);
                    continue;
                }
                Target::of(edge)
            }
            _ => {
                plan.post_order.push(id);
                stack.pop();
                continue;
            }
        };
        let child = discover(target, &mut plan, &mut index)?;
        plan.children[id][input] = Some(child);
        stack.push((child, 0));
    }
    Ok(plan)
}

/// Runs `hooks` on `g` in order, each seeing the previous one's result, skipping those
/// a handle removed. Hooks registered while they run are kept (after the existing ones)
/// for the next pass.
fn run_hooks(hooks: &mut [HookEntry], g: DMatrix<f64>) -> Result<DMatrix<f64>, GradError> {
    let expected = g.shape();
    let mut current = Tensor::from(g);
    for entry in hooks.iter_mut() {
        if entry.removed.get() {
            continue;
        }
        if let Some(replacement) = (entry.hook)(&current) {
            let returned = replacement.shape();
            if returned != expected {
                return Err(GradError::HookShape { expected, returned });
            }
            current = replacement;
        }
    }
    // Take the matrix back without a copy unless the hook kept a handle to it.
    let Tensor { data, storage } = current;
    drop(data);
    Ok(match Rc::try_unwrap(storage) {
        Ok(storage) => storage.into_value(),
        Err(shared) => shared.borrow().clone(),
    })
}

fn node_hooks(node: &Node, g: DMatrix<f64>) -> Result<DMatrix<f64>, GradError> {
    if node.hooks.borrow().is_empty() {
        return Ok(g);
    }
    let mut hooks = std::mem::take(&mut *node.hooks.borrow_mut());
    let result = run_hooks(&mut hooks, g);
    let mut slot = node.hooks.borrow_mut();
    hooks.append(&mut slot);
    HookEntry::prune(&mut hooks);
    *slot = hooks;
    result
}

fn leaf_hooks(data: &RefCell<TensorData>, g: DMatrix<f64>) -> Result<DMatrix<f64>, GradError> {
    if data.borrow().hooks.is_empty() {
        return Ok(g);
    }
    let mut hooks = std::mem::take(&mut data.borrow_mut().hooks);
    let result = run_hooks(&mut hooks, g);
    let mut data = data.borrow_mut();
    hooks.append(&mut data.hooks);
    HookEntry::prune(&mut hooks);
    data.hooks = hooks;
    result
}

/// Backpropagates from `root` with `seed` (1 for a one-element root when `None`).
pub(crate) fn run_backward(
    root: &Tensor,
    seed: Option<&Tensor>,
    retain_graph: bool,
) -> Result<(), GradError> {
    let (root_target, shape) = {
        let data = root.data.borrow();
        let target = match &data.grad_fn {
            Some(node) => Target::Node(Rc::clone(node)),
            None if data.requires_grad => Target::Leaf(Rc::clone(&root.data)),
            None => return Err(GradError::NoGrad),
        };
        (target, root.shape())
    };
    let seed = match seed {
        Some(seed) if seed.shape() == shape => seed.value(),
        Some(seed) => {
            return Err(GradError::ShapeMismatch {
                op: "backward_with_grad",
                left: shape,
                right: seed.shape(),
                hint: "the seed must have the shape of the tensor backward_with_grad is called on",
            })
        }
        None if shape == (1, 1) => DMatrix::from_element(1, 1, 1.0),
        None => return Err(GradError::NonScalarBackward { shape }),
    };
    let plan = plan(root_target)?;
    let mut buffers: Vec<Option<DMatrix<f64>>> = vec![None; plan.targets.len()];
    buffers[0] = Some(seed);
    for &id in plan.post_order.iter().rev() {
        let Some(g) = buffers[id].take() else {
            continue;
        };
        match &plan.targets[id] {
            Target::Node(node) => {
                let g = node_hooks(node, g)?;
                let retained = node
                    .retained
                    .borrow()
                    .as_ref()
                    .and_then(|weak| weak.upgrade());
                if let Some(data) = retained {
                    Tensor::accumulate_grad(&data, g.clone());
                }
                let mut sink = GradSink {
                    buffers: &mut buffers,
                    targets: plan.children[id],
                };
                let release = {
                    let func = node.func.borrow();
                    let func = func.as_ref().expect("plan() checked that no node is freed");
                    func.backward(g, &mut sink);
                    !retain_graph && func.saves_values()
                };
                if release {
                    *node.func.borrow_mut() = None;
                }
            }
            Target::Leaf(data) => {
                let g = leaf_hooks(data, g)?;
                Tensor::accumulate_grad(data, g);
            }
        }
    }
    Ok(())
}
