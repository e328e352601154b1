//! Index checks for the indexing rules, with their panics out of line.
//!
//! A check that formats its message in place (`assert!(i < n, "... {i} ...")`) makes the
//! index and the length live in memory on the hot path (the formatting borrows them), so
//! an element loop spills and reloads them at every element. These checks compare in
//! registers and call a cold function that panics, with the same messages.

/// `i` if it is below `len`; panics naming `kind` (`"a slice"`, `"a vector"`) otherwise.
#[inline(always)]
pub(crate) fn check_seq(i: usize, len: usize, kind: &'static str) -> usize {
    if i >= len {
        seq_out_of_bounds(i, len, kind)
    }
    i
}

/// Linear index `i` of an `r x c` matrix.
#[inline(always)]
pub(crate) fn check_linear(i: usize, (r, c): (usize, usize)) -> usize {
    if i >= r * c {
        linear_out_of_bounds(i, r, c)
    }
    i
}

/// The linear index of `(i, j)` in an `r x c` matrix (column-major); `op` names the
/// operation in the message.
#[inline(always)]
pub(crate) fn check_pair(
    op: &'static str,
    (i, j): (usize, usize),
    (r, c): (usize, usize),
) -> usize {
    if i >= r || j >= c {
        pair_out_of_bounds(op, i, j, r, c)
    }
    i + j * r
}

#[cold]
#[inline(never)]
fn seq_out_of_bounds(i: usize, len: usize, kind: &str) -> ! {
    panic!("index: index {i} is out of bounds for {kind} of {len} elements")
}

#[cold]
#[inline(never)]
fn linear_out_of_bounds(i: usize, r: usize, c: usize) -> ! {
    panic!(
        "index: index {i} is out of bounds for a {r}x{c} matrix ({} elements)",
        r * c
    )
}

#[cold]
#[inline(never)]
fn pair_out_of_bounds(op: &str, i: usize, j: usize, r: usize, c: usize) -> ! {
    panic!("{op}: index ({i}, {j}) is out of bounds for a {r}x{c} matrix")
}
