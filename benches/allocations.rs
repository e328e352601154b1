//! Heap allocations per gradient call, counted by a global allocator that wraps the
//! system one: hand-written (buffers reused), `#[differentiable]` and the dynamic engine,
//! on `mlp_small`, `mlp` and a small `elementwise`. Prints a table; not a timing bench.
//!
//! `cargo bench -p autodiff-benches --bench allocations`. Fails if the hand-written gradient, or the generated
//! one with a workspace (`mlp_loss_grad_with`, row `static_workspace`), allocates in the
//! steady state where it should not: both reuse their buffers, so on `mlp_small` an
//! allocation is a bug. On `mlp` the products are large enough for `matrixmultiply`,
//! which allocates its packing buffer once per product (4 per call hand-written; 5
//! generated, whose kernels send every product with all dimensions at least 8 there: two
//! forward, three in the reverse pass); those are the only allocations expected there. On `elementwise` the generated code allocates nothing with
//! a workspace either.

#[path = "workloads/elementwise.rs"]
#[allow(dead_code)] // the copy and forward helpers are for the timing benches
mod elementwise;
#[path = "workloads/mlp.rs"]
#[allow(dead_code)]
mod mlp;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use autodiff::dynamic::Tensor;

/// The system allocator, counting calls that obtain memory (`alloc`, `alloc_zeroed`,
/// `realloc`) and the bytes they request.
struct Counting;

static CALLS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for Counting {
    // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` needs.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size(), Relaxed);
        // SAFETY: same layout as our caller gave, forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    // SAFETY: the caller upholds `alloc_zeroed`'s contract, which `System` needs.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size(), Relaxed);
        // SAFETY: same layout as our caller gave, forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    // SAFETY: the caller upholds `realloc`'s contract (ptr from this allocator, which is `System`).
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        CALLS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size, Relaxed);
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

/// Allocations and bytes per call of `f`, averaged over `calls` calls after one warm-up
/// call (which may create lazily allocated state).
fn per_call<R>(calls: usize, mut f: impl FnMut() -> R) -> (f64, f64) {
    black_box(f());
    let (c0, b0) = (CALLS.load(Relaxed), BYTES.load(Relaxed));
    for _ in 0..calls {
        black_box(f());
    }
    let (c1, b1) = (CALLS.load(Relaxed), BYTES.load(Relaxed));
    let n = calls as f64;
    ((c1 - c0) as f64 / n, (b1 - b0) as f64 / n)
}

fn row(workload: &str, engine: &str, (calls, bytes): (f64, f64)) {
    println!(
        "{workload:<22} {engine:<16} {calls:>10.1} {:>14.1}",
        bytes / 1024.0
    );
}

/// The table rows of one MLP size; `packing` is the number of `matrixmultiply` packing
/// buffers the hand-written and the generated (with a workspace) gradients are expected
/// to allocate per call.
fn mlp_rows(
    name: &str,
    (rows, inputs, hidden, classes): (usize, usize, usize, usize),
    (packing, static_packing): (f64, f64),
) {
    let m = mlp::Mlp::random(inputs, hidden, classes, 1);
    let batch = mlp::Batch::random(rows, inputs, classes, 2);
    let (x, labels) = (&batch.x, batch.labels.as_slice());
    let mut ws = mlp::Workspace::new(&m, rows);
    let mut grads = m.clone();
    let hand = per_call(100, || ws.loss_grad(&m, x, labels, &mut grads));
    assert_eq!(
        hand.0, packing,
        "{name}: the hand-written gradient allocated other than matrixmultiply's packing buffers"
    );
    row(name, "handwritten", hand);
    row(
        name,
        "static",
        per_call(100, || mlp::mlp_loss_grad(&m, x, labels)),
    );
    let mut static_ws = autodiff::Workspace::new();
    let with = per_call(100, || {
        mlp::mlp_loss_grad_with(&mut static_ws, &m, x, labels).0
    });
    assert_eq!(
        with.0, static_packing,
        "{name}: mlp_loss_grad_with allocated other than matrixmultiply's packing buffers"
    );
    row(name, "static_workspace", with);
    row(
        name,
        "static_fwd",
        per_call(100, || mlp::mlp_loss(&m, x, labels)),
    );
    let dynamic = mlp::DynamicMlp::new(&m);
    let x_tensor = Tensor::from(x.clone());
    row(
        name,
        "dynamic",
        per_call(100, || {
            dynamic.loss_grad(&x_tensor, labels).expect("backward")
        }),
    );
}

fn main() {
    // The counts are those of the single-threaded path: a product or loop split across
    // threads also allocates the list of its parts and each thread's packing buffer.
    autodiff::set_num_threads(1);
    println!(
        "{:<22} {:<16} {:>10} {:>14}",
        "workload", "engine", "allocs/call", "KiB/call"
    );
    mlp_rows("mlp_small", (150, 4, 16, 3), (0.0, 0.0));
    mlp_rows("mlp", (64, 784, 128, 10), (4.0, 5.0));

    let n = 1000;
    let (a, b, x) = elementwise::inputs(n, 7);
    let (mut ga, mut gb) = (vec![0.0; n], vec![0.0; n]);
    let name = "elementwise_1000";
    let hand = per_call(100, || {
        elementwise::elementwise_handwritten(
            a.as_slice(),
            b.as_slice(),
            x.as_slice(),
            &mut ga,
            &mut gb,
        )
    });
    assert_eq!(hand.0, 0.0, "{name}: the hand-written gradient allocated");
    row(name, "handwritten", hand);
    row(
        name,
        "static",
        per_call(100, || elementwise::elementwise_grad(&a, &b, &x)),
    );
    let mut static_ws = autodiff::Workspace::new();
    row(
        name,
        "static_workspace",
        per_call(100, || {
            elementwise::elementwise_grad_with(&mut static_ws, &a, &b, &x).0
        }),
    );
    let dynamic = elementwise::DynamicElementwise::new(&a, &b, &x);
    row(
        name,
        "dynamic",
        per_call(100, || dynamic.loss_grad().expect("backward")),
    );
}
