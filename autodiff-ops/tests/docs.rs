//! The op table in the docs is generated from the table itself: `README.md` (between the
//! `<!-- ops-table:start -->` and `<!-- ops-table:end -->` lines) and `docs/ops.md`
//! (which the `autodiff` crate's rustdoc includes) must hold exactly what
//! [`autodiff_ops::markdown_table`] renders. After changing a row, run
//!
//! ```text
//! UPDATE_DOCS=1 cargo test -p autodiff-ops --test docs
//! ```
//!
//! to rewrite both, and commit the result.

use std::path::{Path, PathBuf};

const START: &str = "<!-- ops-table:start -->";
const END: &str = "<!-- ops-table:end -->";

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

fn update_requested() -> bool {
    std::env::var_os("UPDATE_DOCS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The whole of `docs/ops.md`: a heading, a sentence, the table.
fn ops_page() -> String {
    format!(
        "# Operations\n\
         \n\
         Every operation `#[differentiable]` and `dynamic::Tensor` know: how it is written, what\n\
         it computes and its derivative, the PyTorch backward node it is named after in\n\
         graphs and `grad_fn`, and whether the macro fuses it into one elementwise loop over\n\
         matrices. Generated from the op table (`autodiff-ops`, also readable as data in\n\
         `autodiff::op_table::OPS`); the behaviour at poles, NaN and infinity is in\n\
         `docs/singular_points.md`.\n\
         \n\
         {}",
        autodiff_ops::markdown_table()
    )
}

/// `text` with the part between the marker lines replaced by `table`, or why not.
fn with_section(text: &str, table: &str) -> Result<String, String> {
    let start = text
        .find(START)
        .ok_or_else(|| format!("no `{START}` line"))?;
    let body = start
        + START.len()
        + text[start + START.len()..]
            .find('\n')
            .ok_or("nothing after the start marker")?
        + 1;
    let end = body
        + text[body..]
            .find(END)
            .ok_or_else(|| format!("no `{END}` line after `{START}`"))?;
    if text[end + END.len()..].contains(START) || text[..start].contains(END) {
        return Err("the markers must appear once each, start before end".into());
    }
    Ok(format!("{}{}{}", &text[..body], table, &text[end..]))
}

/// Compares `path` with `expected`; rewrites it under `UPDATE_DOCS=1`.
fn check(path: &Path, expected: &str) -> Option<String> {
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    if actual == expected {
        return None;
    }
    if update_requested() {
        std::fs::write(path, expected)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("rewrote {}", path.display());
        return None;
    }
    let line = actual
        .lines()
        .zip(expected.lines())
        .position(|(a, e)| a != e)
        .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
    Some(format!(
        "{} is out of date with the op table (first difference at line {}:\n  file:      {:?}\n  generated: {:?})",
        path.display(),
        line + 1,
        actual.lines().nth(line).unwrap_or("<end of file>"),
        expected.lines().nth(line).unwrap_or("<end of file>"),
    ))
}

#[test]
fn readme_and_docs_show_the_generated_op_table() {
    let table = autodiff_ops::markdown_table();
    let readme = repo_file("README.md");
    let text = std::fs::read_to_string(&readme)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", readme.display()));
    let expected =
        with_section(&text, &table).unwrap_or_else(|e| panic!("{}: {e}", readme.display()));
    let stale: Vec<String> = [
        check(&readme, &expected),
        check(&repo_file("docs/ops.md"), &ops_page()),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(
        stale.is_empty(),
        "{}\n\nRun `UPDATE_DOCS=1 cargo test -p autodiff-ops --test docs` to regenerate, then commit the result.",
        stale.join("\n")
    );
}

#[test]
fn the_section_is_found_between_the_markers() {
    let text = format!("a\n{START}\nold\n{END}\nb\n");
    assert_eq!(
        with_section(&text, "new\n").unwrap(),
        format!("a\n{START}\nnew\n{END}\nb\n")
    );
    assert!(with_section("no markers", "x").is_err());
    assert!(with_section(&format!("{END}\n{START}\n"), "x").is_err());
}
