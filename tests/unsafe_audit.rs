//! Every `unsafe` block, function, impl or trait in the workspace states why it is sound: a
//! `// SAFETY:` comment on the line or in the comment block right above it (for `unsafe fn`
//! and `unsafe trait`, a `# Safety` section in the doc comment also counts).
//!
//! `tests/ui/` is skipped: its files are inputs the macro must reject, never compiled into
//! a program.

use std::path::{Path, PathBuf};

/// The workspace's Rust sources, except `target/` and `tests/ui/`.
fn sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.to_path_buf()];
    let mut out = Vec::new();
    while let Some(path) = stack.pop() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            let rel = path.strip_prefix(root).unwrap();
            if name == "target" || name.starts_with('.') || rel == Path::new("tests/ui") {
                continue;
            }
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    out
}

/// The line without its `//` comment and with the contents of string and char literals
/// blanked, so `"unsafe {"` in a test's input is not code.
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_str = false;
                    out.push('"');
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push('"');
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// Whether `code` uses the `unsafe` keyword to open a block or declare an item.
fn opens_unsafe(code: &str) -> bool {
    code.match_indices("unsafe").any(|(i, _)| {
        let before_ok = code[..i]
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let rest = code[i + "unsafe".len()..].trim_start();
        let after_ok = ["{", "fn ", "impl", "trait ", "extern "]
            .iter()
            .any(|k| rest.starts_with(k))
            || rest.is_empty();
        before_ok && after_ok
    })
}

/// Whether line `i` is justified: `SAFETY:` on it or in the comment lines (and
/// attributes) directly above it, or `# Safety` in the doc comment above.
fn justified(lines: &[&str], i: usize) -> bool {
    if lines[i].contains("SAFETY:") {
        return true;
    }
    let mut j = i;
    while j > 0 {
        j -= 1;
        let l = lines[j].trim_start();
        if !(l.starts_with("//") || l.starts_with("#[")) {
            break;
        }
        if l.contains("SAFETY:") || l.contains("# Safety") {
            return true;
        }
    }
    false
}

fn unjustified_unsafe(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    (0..lines.len())
        .filter(|&i| opens_unsafe(&code_of(lines[i])) && !justified(&lines, i))
        .map(|i| i + 1)
        .collect()
}

#[test]
fn the_audit_recognises_justified_and_unjustified_unsafe() {
    assert_eq!(
        unjustified_unsafe("fn f() {\n    unsafe { g() }\n}"),
        vec![2]
    );
    assert_eq!(
        unjustified_unsafe("// SAFETY: g has no preconditions.\nunsafe { g() }"),
        Vec::<usize>::new()
    );
    assert_eq!(
        unjustified_unsafe(
            "/// # Safety\n/// `p` is valid.\n#[inline]\npub unsafe fn f(p: *const u8) {}"
        ),
        Vec::<usize>::new()
    );
    assert_eq!(unjustified_unsafe("unsafe impl Send for X {}"), vec![1]);
    assert_eq!(
        unjustified_unsafe("let s = \"unsafe { x }\"; // unsafe { in a comment"),
        Vec::<usize>::new()
    );
}

#[test]
fn every_unsafe_in_the_workspace_has_a_safety_comment() {
    let files = sources();
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut seen = 0;
    let mut missing = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        seen += text.lines().filter(|l| opens_unsafe(&code_of(l))).count();
        for line in unjustified_unsafe(&text) {
            missing.push(format!("{}:{line}", path.display()));
        }
    }
    assert!(
        missing.is_empty(),
        "`unsafe` without a `// SAFETY:` comment saying why it is sound:\n{}",
        missing.join("\n")
    );
    // The two matrixmultiply calls in autodiff-runtime/src/rules/gemm.rs at least.
    assert!(seen >= 2, "the audit found only {seen} unsafe uses");
}
