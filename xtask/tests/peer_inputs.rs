//! The peers' inputs are the benches' inputs, bit for bit: `benches/peers/workloads.py`
//! prints the first values of each generator stream, compared here with the Rust
//! generators of `benches/workloads/`. Needs a Python 3 (standard library only; the one in
//! `AUTODIFF_PEERS_PYTHON`, else `python3`); without one the test says so and passes.

#[path = "../../benches/workloads/elementwise.rs"]
#[allow(dead_code)]
mod elementwise;
#[path = "../../benches/workloads/mlp.rs"]
#[allow(dead_code)]
mod mlp;

use std::path::Path;
use std::process::Command;

fn parse_list(line: &str) -> Vec<f64> {
    line.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|e| panic!("`{v}` in `{line}`: {e}"))
        })
        .collect()
}

#[test]
fn python_generator_matches_the_benches() {
    let python = xtask::peers::python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/peers/workloads.py");
    let out = match Command::new(&python).arg(&script).output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run `{python}` ({e}); the peers' inputs are not checked");
            return;
        }
    };
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");

    // elementwise: inputs(3, 7) gives a, b, x in that order.
    let (a, b, x) = elementwise::inputs(3, 7);
    let rust: Vec<f64> = a.iter().chain(b.iter()).chain(x.iter()).copied().collect();
    let py = parse_list(lines[0]);
    assert_eq!(
        rust.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        py.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        "elementwise inputs: rust {rust:?}, python {py:?}"
    );

    // mlp_small's model: the first three elements of W1 (column-major) and b2.
    let m = mlp::Mlp::random(4, 16, 3, 1);
    let rust: Vec<f64> = m.w1.as_slice()[..3]
        .iter()
        .chain(m.b2.iter())
        .copied()
        .collect();
    assert_eq!(rust, parse_list(lines[1]), "Mlp::random(4, 16, 3, 1)");

    // mlp_small's batch: the first three inputs (column-major) and ten labels.
    let batch = mlp::Batch::random(150, 4, 3, 2);
    assert_eq!(
        batch.x.as_slice()[..3].to_vec(),
        parse_list(lines[2]),
        "Batch::random(150, 4, 3, 2).x"
    );
    let labels: Vec<f64> = batch.labels[..10].iter().map(|&l| l as f64).collect();
    assert_eq!(
        labels,
        parse_list(lines[3]),
        "Batch::random(150, 4, 3, 2).labels"
    );
}
