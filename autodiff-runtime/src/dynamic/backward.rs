//! The reverse pass: topological order of the recorded graph, gradient buffers, hooks,
//! `retain_grad`, accumulation into leaves, and freeing the saved values.

use std::cell::RefCell;
use std::rc::Rc;

use nalgebra::DMatrix;

use super::error::GradError;
use super::hook::HookEntry;
use super::no_grad::GradModeGuard;
use super::node::{Edge, GradSink, Node, Recorder};
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
    /// The index of each target by its address.
    index: PtrIndex,
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
        // Filled in at the end, from `index` (an empty index does not allocate).
        index: PtrIndex::empty(),
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
    plan.index = index;
    Ok(plan)
}

/// Runs `hooks` on `g` in order, each seeing the previous one's result, skipping those
/// a handle removed. Hooks registered while they run are kept (after the existing ones)
/// for the next pass.
fn run_hooks(hooks: &mut [HookEntry], g: DMatrix<f64>) -> Result<DMatrix<f64>, GradError> {
    let current = run_tensor_hooks(hooks, Tensor::from(g))?;
    // Take the matrix back without a copy unless the hook kept a handle to it.
    let Tensor { data, storage } = current;
    drop(data);
    Ok(match Rc::try_unwrap(storage) {
        Ok(storage) => storage.into_value(),
        Err(shared) => shared.borrow().clone(),
    })
}

/// [`run_hooks`] on a gradient that is a tensor (a recorded pass).
fn run_tensor_hooks(hooks: &mut [HookEntry], g: Tensor) -> Result<Tensor, GradError> {
    let expected = g.shape();
    let mut current = g;
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
    Ok(current)
}

/// A gradient that hooks can see: a matrix (plain pass) or a tensor (recorded pass).
trait HookValue: Sized {
    fn run(hooks: &mut [HookEntry], g: Self) -> Result<Self, GradError>;
}

impl HookValue for DMatrix<f64> {
    fn run(hooks: &mut [HookEntry], g: Self) -> Result<Self, GradError> {
        run_hooks(hooks, g)
    }
}

impl HookValue for Tensor {
    fn run(hooks: &mut [HookEntry], g: Self) -> Result<Self, GradError> {
        run_tensor_hooks(hooks, g)
    }
}

fn node_hooks<G: HookValue>(node: &Node, g: G) -> Result<G, GradError> {
    if node.hooks.borrow().is_empty() {
        return Ok(g);
    }
    let mut hooks = std::mem::take(&mut *node.hooks.borrow_mut());
    let result = G::run(&mut hooks, g);
    let mut slot = node.hooks.borrow_mut();
    hooks.append(&mut slot);
    HookEntry::prune(&mut hooks);
    *slot = hooks;
    result
}

fn leaf_hooks<G: HookValue>(data: &RefCell<TensorData>, g: G) -> Result<G, GradError> {
    if data.borrow().hooks.is_empty() {
        return Ok(g);
    }
    let mut hooks = std::mem::take(&mut data.borrow_mut().hooks);
    let result = G::run(&mut hooks, g);
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

/// The target of a one-element `root` of a pass that `op` runs (`grad`,
/// `backward_create_graph`).
///
/// # Errors
/// [`GradError::NoGrad`] when nothing requires grad, [`GradError::NonScalarOutput`]
/// for more than one element.
fn scalar_root(root: &Tensor, op: &'static str) -> Result<Target, GradError> {
    let data = root.data.borrow();
    let target = match &data.grad_fn {
        Some(node) => Target::Node(Rc::clone(node)),
        None if data.requires_grad => Target::Leaf(Rc::clone(&root.data)),
        None => return Err(GradError::NoGrad),
    };
    let shape = root.shape();
    if shape != (1, 1) {
        return Err(GradError::NonScalarOutput { op, shape });
    }
    Ok(target)
}

/// The plan index of each of `inputs`: `None` for one the root does not depend on.
fn locate(plan: &Plan, inputs: &[&Tensor]) -> Vec<Option<usize>> {
    inputs
        .iter()
        .map(|t| {
            let data = t.data.borrow();
            let key: *const () = match &data.grad_fn {
                Some(node) => Rc::as_ptr(node).cast(),
                None if data.requires_grad => Rc::as_ptr(&t.data).cast(),
                None => return None,
            };
            plan.index.get(key)
        })
        .collect()
}

/// Which targets a pass for the gradients of `wanted` must run: those and every target
/// with a path to one of them (PyTorch's `exec_info`).
fn needed(plan: &Plan, wanted: &[Option<usize>]) -> Vec<bool> {
    let mut needed = vec![false; plan.targets.len()];
    for &id in wanted.iter().flatten() {
        needed[id] = true;
    }
    for &id in &plan.post_order {
        if !needed[id] && plan.children[id].iter().flatten().any(|&c| needed[c]) {
            needed[id] = true;
        }
    }
    needed
}

/// The children of target `id` that a pass runs.
fn needed_children(plan: &Plan, id: usize, needed: Option<&[bool]>) -> [Option<usize>; 2] {
    let children = plan.children[id];
    match needed {
        None => children,
        Some(needed) => children.map(|c| c.filter(|&c| needed[c])),
    }
}

/// The gradients of the one-element `root` with respect to `inputs`, on matrices, as
/// `torch.autograd.grad`: no `.grad()` changes (leaves' or retained tensors'), hooks
/// run, and the saved values of the ops that ran are freed. Zeros for an input the
/// root does not depend on.
pub(crate) fn run_grad(root: &Tensor, inputs: &[&Tensor]) -> Result<Vec<Tensor>, GradError> {
    let plan = plan(scalar_root(root, "grad")?)?;
    let wanted = locate(&plan, inputs);
    let needed = needed(&plan, &wanted);
    let mut is_input = vec![false; plan.targets.len()];
    for &id in wanted.iter().flatten() {
        is_input[id] = true;
    }
    let mut buffers: Vec<Option<DMatrix<f64>>> = vec![None; plan.targets.len()];
    let mut captured: Vec<Option<DMatrix<f64>>> = vec![None; plan.targets.len()];
    buffers[0] = Some(DMatrix::from_element(1, 1, 1.0));
    for &id in plan.post_order.iter().rev() {
        if !needed[id] {
            continue;
        }
        let Some(g) = buffers[id].take() else {
            continue;
        };
        match &plan.targets[id] {
            Target::Node(node) => {
                let g = node_hooks(node, g)?;
                let targets = needed_children(&plan, id, Some(&needed));
                if targets.iter().all(Option::is_none) {
                    captured[id] = Some(g);
                    continue;
                }
                if is_input[id] {
                    captured[id] = Some(g.clone());
                }
                let mut sink = GradSink {
                    buffers: &mut buffers,
                    targets,
                };
                let release = {
                    let func = node.func.borrow();
                    let func = func.as_ref().expect("plan() checked that no node is freed");
                    func.backward(g, &mut sink);
                    func.saves_values()
                };
                if release {
                    *node.func.borrow_mut() = None;
                }
            }
            Target::Leaf(data) => captured[id] = Some(leaf_hooks(data, g)?),
        }
    }
    Ok(wanted
        .iter()
        .zip(inputs)
        .map(|(id, t)| match id.and_then(|id| captured[id].clone()) {
            Some(g) => Tensor::from(g),
            None => Tensor::zeros(t.shape().0, t.shape().1),
        })
        .collect())
}

/// A handle of its own on gradient `g` (the value is shared, copied on write), so two
/// gradients a pass returns never alias: an in-place update of one leaves the other.
fn own_handle(g: &Tensor) -> Tensor {
    let node = g.data.borrow().grad_fn.clone();
    match node {
        Some(node) => Tensor::on_node(node, g.value_rc()),
        None if !g.requires_grad_flag() => Tensor::leaf(g.value_rc()),
        None => g.clone(),
    }
}

/// `grad = grad + g` for a recorded pass, out of place as PyTorch's `AccumulateGrad`
/// with `create_graph`; the first gradient is a recorded copy (`CloneBackward0`).
fn accumulate_recorded(data: &RefCell<TensorData>, g: &Tensor) {
    let existing = data.borrow().grad.clone();
    let grad = match existing {
        None => g.recorded_clone(),
        Some(old) => &old + g,
    };
    data.borrow_mut().grad = Some(grad);
}

/// A recorded backward pass (`create_graph`): every vector-Jacobian product is computed
/// with `Tensor` ops (grad mode on), so the gradients have a `grad_fn`. With `inputs`
/// it returns their gradients and leaves `.grad()` alone (`grad_create_graph`); without,
/// it accumulates into the leaves' and retained tensors' `.grad()`
/// (`backward_create_graph`). The graph is kept (PyTorch's `retain_graph` defaults to
/// `create_graph`).
pub(crate) fn run_recorded(
    root: &Tensor,
    inputs: Option<&[&Tensor]>,
    op: &'static str,
) -> Result<Vec<Tensor>, GradError> {
    let plan = plan(scalar_root(root, op)?)?;
    let wanted = inputs.map(|inputs| locate(&plan, inputs));
    let needed = wanted.as_deref().map(|wanted| needed(&plan, wanted));
    let mut captured: Vec<Option<Tensor>> = vec![None; plan.targets.len()];
    let mut buffers: Vec<Option<Tensor>> = vec![None; plan.targets.len()];
    buffers[0] = Some(Tensor::scalar(1.0));
    let _mode = GradModeGuard::set(true);
    for &id in plan.post_order.iter().rev() {
        if needed.as_ref().is_some_and(|needed| !needed[id]) {
            continue;
        }
        let Some(g) = buffers[id].take() else {
            continue;
        };
        let g = match &plan.targets[id] {
            Target::Node(node) => node_hooks(node, g)?,
            Target::Leaf(data) => leaf_hooks(data, g)?,
        };
        if wanted.is_some() {
            captured[id] = Some(g.clone());
        }
        let node = match &plan.targets[id] {
            Target::Node(node) => node,
            Target::Leaf(data) => {
                if wanted.is_none() {
                    accumulate_recorded(data, &g);
                }
                continue;
            }
        };
        if wanted.is_none() {
            let retained = node
                .retained
                .borrow()
                .as_ref()
                .and_then(|weak| weak.upgrade());
            if let Some(data) = retained {
                accumulate_recorded(&data, &g);
            }
        }
        let targets = needed_children(&plan, id, needed.as_deref());
        if targets.iter().all(Option::is_none) {
            continue;
        }
        let recorder = Recorder {
            node,
            needs: targets.map(|t| t.is_some()),
        };
        let grads = {
            let func = node.func.borrow();
            let func = func.as_ref().expect("plan() checked that no node is freed");
            func.backward_recorded(&g, &recorder)
        };
        for (target, gi) in targets.into_iter().zip(grads) {
            let (Some(target), Some(gi)) = (target, gi) else {
                continue;
            };
            let slot = &mut buffers[target];
            *slot = Some(match slot.take() {
                None => gi,
                Some(acc) => &acc + &gi,
            });
        }
    }
    let Some(wanted) = wanted else {
        return Ok(Vec::new());
    };
    let inputs = inputs.unwrap_or_default();
    Ok(wanted
        .iter()
        .zip(inputs)
        .map(|(id, t)| match id.and_then(|id| captured[id].as_ref()) {
            Some(g) => own_handle(g),
            None => Tensor::zeros(t.shape().0, t.shape().1),
        })
        .collect())
}
