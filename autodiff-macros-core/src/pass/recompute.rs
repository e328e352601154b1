//! Calls inside branches and loops that lend a value of their block to the callee.
//!
//! A callee's pullback borrows the arguments it was given by reference; one made inside
//! a branch arm or a loop body is kept on that block's tape, which outlives the block's
//! values. Such a call (`twice(&w)` with `w` computed in the arm, `block(w, &h)` with `h`
//! carried by the loop) is marked `recompute`: its forward keeps no pullback, the tape
//! keeps its arguments, and the reverse pass calls the callee's vector-Jacobian product
//! on them, which computes the callee's forward once more.
//!
//! Guarantee: after this pass, no pullback kept on a tape borrows a value of the block
//! that made it.

use crate::codegen::tape::defined_in;
use crate::ir::{Block, Func, Op, Stmt, VarId};
use std::collections::BTreeSet;

/// Runs the pass.
pub fn run(f: &mut Func) {
    let mut top = defined_in(&f.body);
    top.extend(f.params.iter().map(|p| p.var));
    let by_ref: Vec<bool> = f.vars.iter().map(|v| v.by_ref).collect();
    for s in &mut f.body.stmts {
        for b in s.blocks_mut() {
            mark(b, &top, &by_ref);
        }
    }
}

fn mark(block: &mut Block, top: &BTreeSet<VarId>, by_ref: &[bool]) {
    for s in &mut block.stmts {
        if let Stmt::Eqn(e) = s {
            if let Op::Call {
                borrowed,
                recompute,
                ..
            } = &mut e.op
            {
                *recompute = e
                    .args
                    .iter()
                    .zip(borrowed.iter())
                    .any(|(&a, &b)| b && !by_ref[a] && !top.contains(&a));
            }
        }
        for b in s.blocks_mut() {
            mark(b, top, by_ref);
        }
    }
}
