//! `name_grad_with` / `name_vjp_with` and `autodiff::Workspace`: a steady-state gradient
//! call allocates nothing, gives the same bits as `name_grad`, and the pool survives
//! nested workspaces and panics.
//!
//! Allocations are counted per thread by a global allocator that wraps the system one, so
//! the tests of this file can run in parallel.

#[path = "../benches/workloads/elementwise.rs"]
#[allow(dead_code)] // the copy and dynamic helpers are for the benches
mod elementwise;
#[path = "../benches/workloads/mlp.rs"]
#[allow(dead_code)] // the hand-written and dynamic forms are for the benches
mod mlp;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};

use autodiff::nalgebra::{DMatrix, DVector};
use autodiff::prelude::*;
use autodiff::Workspace;

/// The system allocator, counting the calls that obtain memory on the calling thread.
struct Counting;

thread_local! {
    /// Allocations made by this thread (const-initialised, no destructor: reading it
    /// never allocates).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for Counting {
    // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` needs.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same layout as our caller gave, forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    // SAFETY: the caller upholds `alloc_zeroed`'s contract, which `System` needs.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same layout as our caller gave, forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    // SAFETY: the caller upholds `realloc`'s contract (ptr from this allocator, which is `System`).
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: `ptr` came from `System` through this allocator; arguments unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    // SAFETY: the caller upholds `dealloc`'s contract (ptr from this allocator, which is `System`).
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `f`'s result and the number of allocations it made on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (r, ALLOCATIONS.with(Cell::get) - before)
}

/// Bit-for-bit equality of two gradients of the same structure.
fn same_bits<P: Tangent<Scalar = f64>>(a: &P, b: &P) {
    a.check_structure(b).expect("same structure");
    let mut n = 0;
    a.visit_zip(b, &mut |x, y| {
        for (i, (x, y)) in x.iter().zip(y).enumerate() {
            assert_eq!(x.to_bits(), y.to_bits(), "element {i}: {x} vs {y}");
            n += 1;
        }
    });
    assert!(n > 0, "the gradients have elements");
}

/// The MLP workload of the benches (`mlp_small`: X 150x4, hidden 16, 3 classes) through
/// `mlp_loss_grad_with`: the first call fills the workspace, every later one allocates
/// nothing and equals `mlp_loss_grad` bit for bit.
#[test]
fn mlp_small_with_a_workspace_allocates_nothing_after_the_first_call() {
    let m = mlp::Mlp::random(4, 16, 3, 1);
    let batch = mlp::Batch::random(150, 4, 3, 2);
    let (x, labels) = (&batch.x, batch.labels.as_slice());
    let (expected_value, expected) = mlp::mlp_loss_grad(&m, x, labels);

    let mut ws = Workspace::new();
    let (_, first) = allocations(|| mlp::mlp_loss_grad_with(&mut ws, &m, x, labels).0);
    assert!(first > 0, "the first call fills the workspace");
    let buffers = ws.buffers();
    for call in 1..6 {
        let ((value, grad), n) = allocations(|| {
            let (v, g) = mlp::mlp_loss_grad_with(&mut ws, &m, x, labels);
            (v, g.m.clone())
        });
        // The clone of the gradient above is the test's, not the call's: 4 matrices.
        assert_eq!(n, 4, "call {call}: mlp_loss_grad_with allocated {}", n - 4);
        assert_eq!(value.to_bits(), expected_value.to_bits());
        same_bits(&grad, &expected.m);
        assert_eq!(ws.buffers(), buffers, "call {call}: the pool is stable");
    }
    same_bits(&ws.grad().expect("the last gradient").m, &expected.m);
}

/// The same on the large `mlp` (X 64x784, hidden 128): the only allocations left are
/// `matrixmultiply`'s packing buffers, one per product with every dimension at least 8:
/// two forward, three in the reverse pass.
#[test]
fn mlp_with_a_workspace_allocates_only_matrixmultiply_packing() {
    let m = mlp::Mlp::random(784, 128, 10, 1);
    let batch = mlp::Batch::random(64, 784, 10, 2);
    let (x, labels) = (&batch.x, batch.labels.as_slice());
    let (_, expected) = mlp::mlp_loss_grad(&m, x, labels);
    let mut ws = Workspace::new();
    mlp::mlp_loss_grad_with(&mut ws, &m, x, labels);
    for _ in 0..3 {
        let (_, n) = allocations(|| {
            mlp::mlp_loss_grad_with(&mut ws, &m, x, labels);
        });
        assert_eq!(n, 5, "packing buffers only");
    }
    same_bits(&ws.grad().expect("gradient").m, &expected.m);
}

/// `sum(tanh(a .* x + b)^2)` over 1000 elements through `elementwise_grad_with`: one
/// fused loop for the value and the gradient, writing into pooled gradient buffers.
#[test]
fn elementwise_with_a_workspace_allocates_nothing() {
    let (a, b, x) = elementwise::inputs(1000, 7);
    let (expected_value, expected) = elementwise::elementwise_grad(&a, &b, &x);
    let mut ws = Workspace::new();
    elementwise::elementwise_grad_with(&mut ws, &a, &b, &x);
    let buffers = ws.buffers();
    for call in 1..6 {
        let ((value, ga, gb), n) = allocations(|| {
            let (v, g) = elementwise::elementwise_grad_with(&mut ws, &a, &b, &x);
            (v, g.a.as_slice().to_vec(), g.b.as_slice().to_vec())
        });
        assert_eq!(n, 2, "call {call}: only the test's two copies allocate");
        assert_eq!(value.to_bits(), expected_value.to_bits());
        same_bits(
            &(ga, gb),
            &(
                expected.a.as_slice().to_vec(),
                expected.b.as_slice().to_vec(),
            ),
        );
        assert_eq!(ws.buffers(), buffers, "call {call}: the pool is stable");
    }
}

/// A matrix-valued function: `name_vjp_with` reuses the buffers too, and the caller can
/// give the matrix result back with `Workspace::recycle`.
#[differentiable]
fn layer(w: &DMatrix<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    (x * w).tanh()
}

#[test]
fn vjp_with_a_matrix_result_allocates_nothing_once_the_result_is_given_back() {
    let w = DMatrix::from_fn(5, 3, |i, j| (i as f64 - j as f64) / 7.0);
    let x = DMatrix::from_fn(4, 5, |i, j| ((i * 5 + j) as f64).sin());
    let d_out = DMatrix::from_fn(4, 3, |i, j| 1.0 + (i + j) as f64 / 10.0);
    let (expected_y, expected) = layer_vjp(&w, &x, d_out.clone());
    let mut ws = Workspace::new();
    for call in 0..4 {
        let d = d_out.clone();
        let (y, n) = allocations(|| {
            let (y, g) = layer_vjp_with(&mut ws, &w, &x, d);
            same_bits(&g.w, &expected.w);
            same_bits(&g.x, &expected.x);
            y
        });
        same_bits(&y, &expected_y);
        ws.recycle(y);
        if call > 0 {
            assert_eq!(n, 0, "call {call}");
        }
    }
}

/// A function whose custom backward runs another function's `_with` entry point, on a
/// workspace of its own: a `_with` call inside a `_with` call.
#[differentiable]
fn inner(v: &DVector<f64>) -> f64 {
    (v * 2.0).tanh().sum()
}

thread_local! {
    static INNER_WS: RefCell<Workspace<InnerGrad>> = const { RefCell::new(Workspace::new()) };
}

fn through_inner_backward(v: DVector<f64>, d_out: f64) -> DVector<f64> {
    INNER_WS.with_borrow_mut(|ws| {
        let (_, g) = inner_grad_with(ws, &v);
        &g.v * d_out
    })
}

#[differentiable(custom_vjp = through_inner_backward)]
fn through_inner(v: DVector<f64>) -> f64 {
    inner(&v)
}

#[differentiable]
fn outer(v: &DVector<f64>) -> f64 {
    let s = (v * 3.0).sin();
    through_inner(s) * 2.0
}

#[test]
fn nested_workspaces_keep_their_own_buffers_and_agree_with_grad() {
    let v = DVector::from_fn(6, |i, _| i as f64 / 5.0 - 0.4);
    let (expected_value, expected) = outer_grad(&v);
    let mut ws = Workspace::new();
    let mut sizes = Vec::new();
    for _ in 0..4 {
        let (value, g) = outer_grad_with(&mut ws, &v);
        assert_eq!(value.to_bits(), expected_value.to_bits());
        same_bits(&g.v, &expected.v);
        sizes.push((ws.buffers(), INNER_WS.with_borrow(|w| w.buffers())));
    }
    assert!(
        sizes[3].0 > 0 && sizes[3].1 > 0,
        "each workspace holds buffers: {sizes:?}"
    );
    assert_eq!(
        sizes[1], sizes[3],
        "neither pool grows or shrinks: {sizes:?}"
    );

    // An unrelated workspace's scope around the call: the outer pool is restored after.
    let mut around: Workspace<()> = Workspace::new();
    around.scope(|| {
        let (_, g) = outer_grad_with(&mut ws, &v);
        same_bits(&g.v, &expected.v);
    });
    assert_eq!(
        around.buffers(),
        0,
        "the call's buffers went to its own workspace"
    );
    assert_eq!(ws.buffers(), sizes[3].0);
}

#[test]
fn a_panic_inside_a_call_leaves_a_working_workspace() {
    let m = mlp::Mlp::random(4, 16, 3, 1);
    let batch = mlp::Batch::random(150, 4, 3, 2);
    let (x, labels) = (&batch.x, batch.labels.as_slice());
    let (_, expected) = mlp::mlp_loss_grad(&m, x, labels);
    let mut ws = Workspace::new();
    mlp::mlp_loss_grad_with(&mut ws, &m, x, labels);
    mlp::mlp_loss_grad_with(&mut ws, &m, x, labels);

    // Class 7 of 3: `cross_entropy` panics after the forward pass took its buffers.
    let bad: Vec<usize> = labels.iter().map(|_| 7).collect();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        mlp::mlp_loss_grad_with(&mut ws, &m, x, &bad);
    }));
    assert!(caught.is_err(), "the bad labels panic");
    assert!(ws.grad().is_none(), "no gradient from the failed call");
    assert!(ws.buffers() > 0, "the pool came back to the workspace");

    // The buffers in flight were dropped: one call refills, then nothing allocates.
    mlp::mlp_loss_grad_with(&mut ws, &m, x, labels);
    let (_, n) = allocations(|| {
        mlp::mlp_loss_grad_with(&mut ws, &m, x, labels);
    });
    assert_eq!(n, 0);
    same_bits(&ws.grad().expect("gradient").m, &expected.m);

    // And the plain entry point allocates as on a thread that never installed a pool:
    // nothing was left installed.
    let (_, plain) = allocations(|| mlp::mlp_loss_grad(&m, x, labels));
    let fresh = std::thread::scope(|s| {
        s.spawn(|| {
            mlp::mlp_loss_grad(&m, x, labels);
            allocations(|| mlp::mlp_loss_grad(&m, x, labels)).1
        })
        .join()
        .expect("no panic")
    });
    assert_eq!(plain, fresh);
    assert!(plain > 0);
}

/// `f32` matrices have their own buffers in the pool.
#[differentiable]
fn single(w: &DMatrix<f32>, x: &DMatrix<f32>) -> f32 {
    (x * w).map(|e| e * e).sum() + w.transpose().norm_squared()
}

#[test]
fn f32_functions_allocate_nothing_after_the_first_call() {
    let w = DMatrix::from_fn(3, 2, |i, j| (i + 2 * j) as f32 / 4.0 - 0.5);
    let x = DMatrix::from_fn(5, 3, |i, j| ((i * 3 + j) as f32).cos());
    let (expected_value, expected) = single_grad(&w, &x);
    let mut ws = Workspace::new();
    single_grad_with(&mut ws, &w, &x);
    let ((value, same), n) = allocations(|| {
        let (v, g) = single_grad_with(&mut ws, &w, &x);
        let bits = |m: &DMatrix<f32>| m.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
        (
            v,
            bits(&g.w) == bits(&expected.w) && bits(&g.x) == bits(&expected.x),
        )
    });
    // The two `bits` vectors of the comparison above are the test's own (2 per matrix).
    assert_eq!(n, 4, "single_grad_with allocated {}", n - 4);
    assert_eq!(value.to_bits(), expected_value.to_bits());
    assert!(same, "the gradients are bit for bit those of single_grad");
}

/// A parameter named `ws`: the workspace parameter of the `_with` entry points is then
/// `__ad_ws`, and the function compiles and runs as usual.
#[differentiable]
fn named_ws(ws: f64, x: f64) -> f64 {
    ws * x + ws.sin()
}

#[test]
fn a_parameter_named_ws_does_not_clash() {
    let mut workspace = Workspace::new();
    let (value, g) = named_ws_grad_with(&mut workspace, 0.5, 3.0);
    let (expected_value, expected) = named_ws_grad(0.5, 3.0);
    assert_eq!(value, expected_value);
    assert_eq!((g.ws, g.x), (expected.ws, expected.x));
    let (_, v) = named_ws_vjp_with(&mut workspace, 0.5, 3.0, 2.0);
    assert_eq!(v.x, 2.0 * expected.x);
}

/// Loops and branches: the clones of carried values still allocate, the
/// values and adjoints of their bodies come from the workspace and go back to it at the
/// end of each iteration; the results equal `name_grad`'s and the workspace does not grow
/// from call to call.
#[differentiable(wrt(w))]
fn unrolled(w: &DMatrix<f64>, x: &DMatrix<f64>, steps: usize) -> f64 {
    let mut h = x * w;
    for _i in 0..steps {
        h = (h.component_mul(&h) * 0.5).tanh();
    }
    let out = if steps > 2 { h.sum() } else { h.norm() };
    out * 2.0
}

#[test]
fn loops_and_branches_agree_with_grad_and_keep_the_workspace_bounded() {
    let w = DMatrix::from_fn(3, 3, |i, j| (i as f64 - j as f64) / 3.0 + 0.2);
    let x = DMatrix::from_fn(4, 3, |i, j| ((i + j) as f64).sin());
    let mut ws = Workspace::new();
    for steps in [1, 4] {
        let (expected_value, expected) = unrolled_grad(&w, &x, steps);
        let (_, plain) = allocations(|| unrolled_grad(&w, &x, steps));
        let mut sizes = Vec::new();
        for _ in 0..4 {
            let ((value, same), n) = allocations(|| {
                let (v, g) = unrolled_grad_with(&mut ws, &w, &x, steps);
                (v, g.w == expected.w)
            });
            assert_eq!(value.to_bits(), expected_value.to_bits());
            assert!(same);
            if !sizes.is_empty() {
                // The clone of `h` carried in and one clone per iteration of the `h` carried
                // out; the loop's tape reuses the storage of the call before (the tape
                // cache) and every other matrix comes from the workspace.
                assert_eq!(n, 1 + steps, "{plain} allocations without a workspace");
            }
            sizes.push(ws.buffers());
        }
        assert_eq!(sizes[1], sizes[3], "steps {steps}: {sizes:?}");
    }
}
