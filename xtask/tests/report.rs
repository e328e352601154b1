//! End to end from files: a criterion results tree and a peers JSON (fixtures) through
//! `xtask bench-report --no-run` to `benchmarks.md`, `benchmarks.svg` and the README block.
//! The expected ratios are worked out by hand from the fixture's medians.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (group, function, median ns): the fixture's criterion results.
const MEDIANS: &[(&str, &str, f64)] = &[
    ("scalar/tutorial_loss", "handwritten", 2.0),
    ("scalar/tutorial_loss", "static", 2.05),
    ("scalar/tutorial_loss", "static_forward", 1.0),
    ("scalar/tutorial_loss", "dynamic", 1000.0),
    ("elementwise/1000000", "handwritten", 1.0e7),
    ("elementwise/1000000", "static", 2.0e7),
    ("elementwise/1000000", "static_forward", 8.0e6),
    ("elementwise/1000000", "dynamic", 4.0e7),
    ("elementwise/1000000", "copy", 2.0e6),
    ("mlp", "handwritten", 400000.0),
    ("mlp", "static", 410000.0),
    ("mlp", "static_forward", 200000.0),
    ("mlp", "dynamic", 600000.0),
    ("mlp", "handwritten_simd", 300000.0),
    ("mlp_small", "handwritten", 40000.0),
    ("mlp_small", "static", 40000.0),
    ("mlp_small", "static_forward", 10000.0),
    ("mlp_small", "dynamic", 80000.0),
    ("training/mlp_small_adam_1000", "handwritten", 5.0e7),
    ("training/mlp_small_adam_1000", "static", 4.0e7),
    ("training/mlp_small_adam_1000", "dynamic", 1.0e8),
    ("expansion", "50_functions", 2.5e7),
];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-test-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes criterion's layout: `<group>/<function>/new/{benchmark,estimates}.json`, plus a
/// stale `base/` copy with another median that must be ignored.
fn criterion_tree(root: &Path) {
    for &(group, function, ns) in MEDIANS {
        let safe = group.replace('/', "_");
        for (sub, median) in [("new", ns), ("base", ns * 100.0)] {
            let dir = root.join(&safe).join(function).join(sub);
            fs::create_dir_all(&dir).unwrap();
            fs::write(
                dir.join("benchmark.json"),
                format!(
                    r#"{{"group_id":"{group}","function_id":"{function}","value_str":null,"throughput":null,"full_id":"{group}/{function}","directory_name":"{safe}/{function}","title":"{group}/{function}"}}"#
                ),
            )
            .unwrap();
            fs::write(
                dir.join("estimates.json"),
                format!(
                    r#"{{"mean":{{"point_estimate":{}}},"median":{{"point_estimate":{median},"standard_error":0.1}}}}"#,
                    median * 1.1
                ),
            )
            .unwrap();
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn no_run_renders_tables_targets_chart_and_readme() {
    let dir = scratch("render");
    criterion_tree(&dir.join("criterion"));
    let readme = dir.join("README.md");
    fs::write(
        &readme,
        "# autodiff\n\n## Performance\n\n<!-- bench-report:begin -->\nold numbers\n<!-- bench-report:end -->\n\n## Next\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bench-report", "--no-run", "--criterion-dir"])
        .arg(dir.join("criterion"))
        .arg("--peers-json")
        .arg(fixture("peers.json"))
        .arg("--out-dir")
        .arg(dir.join("docs"))
        .arg("--readme")
        .arg(&readme)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xtask failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = fs::read_to_string(dir.join("docs/benchmarks.md")).unwrap();

    // Summary rows: static / hand-written, gradient / forward, dynamic / static, forward
    // static / plain (no `plain_forward` entries here: "–"), torch / static.
    // tutorial: 2.05/2 = 1.025 -> "1.02" (1.025 rounds to even in binary), 2.05/1 = 2.05,
    // 1000/2.05 = 488, 40000/2.05 = 19512.
    assert!(
        md.contains(
            "| tutorial loss `(w x - 5)^2` | 2.00 ns | 2.05 ns | 1.02 | 2.05 | 488 | – | 19512 | – |"
        ),
        "{md}"
    );
    // mlp: 410/400 = 1.025, 410/200 = 2.05, 600/410 = 1.46, 500/410 = 1.22.
    assert!(
        md.contains("| 400 µs | 410 µs | 1.02 | 2.05 | 1.46 | – | 1.22 | – |"),
        "{md}"
    );
    // elementwise: 2.0, 2.5, 2.0, 30/20 = 1.5.
    assert!(
        md.contains("| 10.0 ms | 20.0 ms | 2.00 | 2.50 | 2.00 | – | 1.50 | – |"),
        "{md}"
    );

    // Targets, stated plainly.
    for line in [
        "- **met**: tutorial loss `(w x - 5)^2`: static gradient / hand-written gradient = 1.02 (target: at most 1.05)",
        "- **MISSED**: `sum(tanh(a .* x + b)^2)`, 10^6 f64: static gradient / hand-written gradient = 2.00 (target: at most 1.05)",
        // 40000 / 10000 = 4 > 3.
        "- **MISSED**: MLP 150x4-16-3, softmax cross-entropy: static gradient / static forward = 4.00 (target: at most 3)",
        // 250000 / 40000 = 6.25 >= 5.
        "- **met**: MLP 150x4-16-3, softmax cross-entropy: PyTorch eager / static (gradient) = 6.25 (target: at least 5)",
        // 4e8 / 4e7 = 10.
        "- **met**: 1000 Adam steps with `clip_grad_norm`, MLP 150x4-16-3: PyTorch eager / static (gradient) = 10.0 (target: at least 5)",
        "- **not measured**: MLP 64x784-128-10, softmax cross-entropy: JAX jit / static (gradient) (target: at least 1): JAX jit did not run (see the list above)",
        // 2.5e7 / 50 = 0.5 ms.
        "- **met**: macro expansion (50 functions): expansion time per function, ms = 0.500 (target: under 5 ms)",
    ] {
        assert!(md.contains(line), "missing target line:\n{line}\n\n{md}");
    }
    // The limit is the faster hand-written variant: mlp's `handwritten_simd` (300 µs) beats
    // `handwritten` (400 µs), so static (411 µs) is measured against it.
    assert!(
        md.contains("- **MISSED**: MLP 64x784-128-10, softmax cross-entropy: static gradient (`static`) / hand-written gradient (`handwritten_simd`, the faster) = 1.37 (target: at most 1.05)"),
        "{md}"
    );
    // 28 targets: tutorial 3, elementwise 4, mlp 4, mlp_small 3, training 3, ADBench's
    // GMM 3 + 3, BA 2 and LSTM 2 (no hand-written gradient), expansion 1.
    // Missed: elementwise static / hand-written (2.0), mlp static / handwritten_simd (1.37)
    // and mlp_small gradient / forward (4.0). Not measured: the three JAX targets and the
    // ten ADBench targets (this criterion tree has no ADBench entries).
    assert!(
        md.contains("12 of 28 targets met, 3 missed, 13 not measured."),
        "{md}"
    );
    assert!(
        md.contains("JAX jit: skipped: `python3` cannot import jax"),
        "{md}"
    );

    // Extra entries of a group appear with their ratios: handwritten_simd 300/400 = 0.750.
    assert!(
        md.contains("| `handwritten_simd` | 300 µs | – | – | 0.750 | 0.500 |"),
        "{md}"
    );
    // The peer's row in the group table: 250 µs gradient, 36 µs forward, 6.94 grad/fwd.
    assert!(
        md.contains("| PyTorch eager 2.15.0 | 250 µs | 36.0 µs | 6.94 | 6.25 | 3.12 |"),
        "{md}"
    );

    // The cross-check flags the fixture's made-up elementwise values as different.
    assert!(md.contains("differs**"), "{md}");
    assert!(
        md.contains("9.000000000000e0 |"),
        "tutorial value agrees: {md}"
    );

    let svg = fs::read_to_string(dir.join("docs/benchmarks.svg")).unwrap();
    // mlp_small: PyTorch 250 µs over hand-written 40 µs.
    assert!(svg.contains("PyTorch eager: 6.25x"), "{svg}");
    assert!(!svg.contains("JAX"), "a skipped peer has no series");

    let readme = fs::read_to_string(&readme).unwrap();
    assert!(!readme.contains("old numbers"));
    assert!(readme
        .starts_with("# autodiff\n\n## Performance\n\n<!-- bench-report:begin -->\nMeasured by"));
    // The README is also the crate's rustdoc: paths, no links or images into the repository.
    assert!(readme.contains("(`docs/benchmarks.svg`)"), "{readme}");
    assert!(!readme.contains("](docs/"), "{readme}");
    assert!(readme.contains("12 of 28 targets met"));
    assert!(readme.ends_with("<!-- bench-report:end -->\n\n## Next\n"));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn no_run_without_results_says_what_to_do() {
    let dir = scratch("empty");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bench-report", "--no-run", "--no-readme", "--criterion-dir"])
        .arg(dir.join("nothing"))
        .arg("--out-dir")
        .arg(dir.join("docs"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no criterion results") && err.contains("--criterion-dir"),
        "{err}"
    );
    let _ = fs::remove_dir_all(&dir);
}
