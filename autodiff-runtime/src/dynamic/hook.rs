//! Gradient hooks and the [`HookHandle`] that removes one (PyTorch's
//! `RemovableHandle`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};

use super::node::Node;
use super::tensor::{Tensor, TensorData};

/// A gradient hook: reads the gradient flowing into a tensor, and may return a replacement.
pub(crate) type Hook = Box<dyn FnMut(&Tensor) -> Option<Tensor>>;

/// A registered hook and the flag its handle sets to remove it.
pub(crate) struct HookEntry {
    pub(crate) hook: Hook,
    pub(crate) removed: Rc<Cell<bool>>,
}

impl HookEntry {
    /// Keeps only the hooks whose handle did not remove them.
    pub(crate) fn prune(hooks: &mut Vec<HookEntry>) {
        hooks.retain(|entry| !entry.removed.get());
    }
}

/// Where a hook is kept: on the node of a non-leaf, or on a leaf.
enum Owner {
    Node(Weak<Node>),
    Leaf(Weak<RefCell<TensorData>>),
}

/// The handle [`Tensor::register_hook`] returns; [`HookHandle::remove`] unregisters the
/// hook, as PyTorch's `handle.remove()`. Dropping the handle keeps the hook.
///
/// ```
/// use autodiff_runtime::dynamic::Tensor;
/// let x = Tensor::scalar(3.0).requires_grad();
/// let handle = x.register_hook(|g| Some(g * 2.0))?;
/// (&x * 1.0).backward()?;
/// assert_eq!(x.grad().unwrap().item(), 2.0);
/// handle.remove();
/// x.zero_grad();
/// (&x * 1.0).backward()?;
/// assert_eq!(x.grad().unwrap().item(), 1.0);
/// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
/// ```
pub struct HookHandle {
    removed: Rc<Cell<bool>>,
    owner: Owner,
}

impl HookHandle {
    /// The handle of a hook kept on `node`.
    pub(crate) fn on_node(node: &Rc<Node>, removed: Rc<Cell<bool>>) -> HookHandle {
        HookHandle {
            removed,
            owner: Owner::Node(Rc::downgrade(node)),
        }
    }

    /// The handle of a hook kept on the leaf `data`.
    pub(crate) fn on_leaf(data: &Rc<RefCell<TensorData>>, removed: Rc<Cell<bool>>) -> HookHandle {
        HookHandle {
            removed,
            owner: Owner::Leaf(Rc::downgrade(data)),
        }
    }

    /// Removes the hook: later backward passes no longer call it (nor does the rest of a
    /// pass that is running it). Removing twice does nothing.
    pub fn remove(&self) {
        self.removed.set(true);
        // Free the closure now unless a backward pass is running the hooks, which
        // prunes them when it puts them back.
        match &self.owner {
            Owner::Node(node) => {
                if let Some(node) = node.upgrade() {
                    if let Ok(mut hooks) = node.hooks.try_borrow_mut() {
                        HookEntry::prune(&mut hooks);
                    }
                }
            }
            Owner::Leaf(data) => {
                if let Some(data) = data.upgrade() {
                    if let Ok(mut data) = data.try_borrow_mut() {
                        HookEntry::prune(&mut data.hooks);
                    }
                }
            }
        }
    }

    /// Whether [`HookHandle::remove`] was called.
    pub fn is_removed(&self) -> bool {
        self.removed.get()
    }
}

/// Two handles are equal when they remove the same hook.
impl PartialEq for HookHandle {
    fn eq(&self, other: &HookHandle) -> bool {
        Rc::ptr_eq(&self.removed, &other.removed)
    }
}

impl Eq for HookHandle {}

impl fmt::Debug for HookHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookHandle")
            .field("removed", &self.removed.get())
            .finish_non_exhaustive()
    }
}
