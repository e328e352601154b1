//! Compile-fail tests: each file in `tests/ui/fail` is refused with the error in its
//! `.stderr`; each file in `tests/ui/pass` compiles and runs.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

/// No expected error names the macro's generated items (`__ad_pullback_f`, `__ad_wrt_f`,
/// `__ad_3`, ...): what the user sees is about their own code.
#[test]
fn no_diagnostic_names_generated_items() {
    let mut leaks = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("tests/ui")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("tests/ui is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "stderr") {
                let text = std::fs::read_to_string(&path).expect("a readable .stderr");
                for line in text.lines().filter(|l| l.contains("__ad")) {
                    leaks.push(format!("{}: {line}", path.display()));
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "generated names in diagnostics:\n{}",
        leaks.join("\n")
    );
}
