//! `Trainer::fit_in` with `name_grad_with` and a `Workspace` calls the allocator zero
//! times per batch in the steady state: an MLP trained with Adam, gradient clipping (the
//! trainer's own reusable copy) and a learning-rate schedule, batches reshuffled every
//! epoch.
//!
//! Allocations are counted per thread by a global allocator that wraps the system one
//! (the same as `tests/workspace.rs`), in a file of its own so that no other test shares
//! the allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::optim::StepLr;
use autodiff::prelude::*;
use autodiff::train::{HealthReport, HealthThresholds, Trainer};
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

fn allocations_so_far() -> usize {
    ALLOCATIONS.with(Cell::get)
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

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

#[differentiable(wrt(m))]
fn mlp_loss(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let hidden = (x * &m.w1 + &m.b1).tanh();
    cross_entropy(&(hidden * &m.w2 + &m.b2), labels)
}

const BATCHES: usize = 6;
const EPOCHS: usize = 5;

/// Features and labels of one batch.
type Batch = (DMatrix<f64>, Vec<usize>);

/// Six batches of 16 rows, 4 features, 3 classes; a 4-16-3 MLP.
fn setup() -> (Vec<Batch>, Mlp) {
    let batches = (0..BATCHES)
        .map(|b| {
            let x = DMatrix::from_fn(16, 4, |i, j| ((16 * b + i) as f64 * 0.37 + j as f64).sin());
            let labels = (0..16).map(|i| (b + i) % 3).collect();
            (x, labels)
        })
        .collect();
    let m = Mlp {
        w1: DMatrix::from_fn(4, 16, |i, j| ((i * 16 + j) as f64).sin() / 2.0),
        b1: RowDVector::zeros(16),
        w2: DMatrix::from_fn(16, 3, |i, j| ((i * 3 + j) as f64).cos() / 4.0),
        b2: RowDVector::zeros(3),
    };
    (batches, m)
}

#[test]
fn a_steady_state_training_step_allocates_nothing() {
    let (batches, mut m) = setup();
    let opt = Adam::new(0.01);
    let schedule = StepLr::new(&opt, 2, 0.5);
    let mut trainer = Trainer::new(opt)
        .epochs(EPOCHS)
        .clip_grad_norm(1e-3)
        .scheduler(schedule)
        .progress(false);
    // The allocation count at the start of every batch, in a buffer made beforehand.
    let mut marks: Vec<usize> = Vec::with_capacity(EPOCHS * BATCHES);
    let mut ws = Workspace::new();
    let history = trainer
        .fit_in(&mut ws, &mut m, &batches, |ws, m, (x, labels)| {
            marks.push(allocations_so_far());
            let (loss, g) = mlp_loss_grad_with(ws, m, x, labels);
            (loss, &g.m)
        })
        .unwrap();
    assert_eq!(marks.len(), EPOCHS * BATCHES);
    assert!(history.last().unwrap().train_loss < history.epochs[0].train_loss);
    assert!(
        history.epochs.iter().all(|e| e.clipped_batches > 0),
        "clipping ran (on the trainer's copy)"
    );

    // Epoch 1 fills the workspace, the optimizer's state and the clip buffer. From epoch 2
    // on, from the start of one batch to the start of the next (the gradient, the checks,
    // clipping, Adam's step, the history and the progress bar), nothing is allocated.
    let per_epoch: Vec<&[usize]> = marks.chunks(BATCHES).collect();
    assert!(
        per_epoch[0][1] > per_epoch[0][0],
        "the first batch fills the workspace"
    );
    for (e, epoch) in per_epoch.iter().enumerate().skip(1) {
        let per_batch: Vec<usize> = epoch.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(
            per_batch,
            [0; BATCHES - 1],
            "epoch {}: allocations per batch",
            e + 1
        );
    }

    // What an epoch's end allocates is the record the history keeps: the epoch's health
    // report (a `Vec` and the parameter names).
    let (_, grad_now) = mlp_loss_grad(&m, &batches[0].0, &batches[0].1);
    let before = allocations_so_far();
    let report = HealthReport::new(&m, &grad_now.m, HealthThresholds::default());
    let report_allocations = allocations_so_far() - before;
    drop(report);
    for e in 1..EPOCHS - 1 {
        let across = per_epoch[e + 1][0] - per_epoch[e][BATCHES - 1];
        assert_eq!(
            across,
            report_allocations,
            "from the last batch of epoch {} to the first of epoch {}",
            e + 1,
            e + 2
        );
    }
}
