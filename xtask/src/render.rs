//! `docs/benchmarks.md` and the README's block: medians, ratios, targets, cross-check.

use crate::criterion::Medians;
use crate::machine::Machine;
use crate::peers::{Peer, PeerResult};
use crate::reference::{agrees, Reference, RELATIVE_TOLERANCE};
use crate::targets::{self, median, Outcome, Status};
use crate::workloads::{rows, workload, Row, WORKLOADS};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Everything a report is made from.
pub struct Inputs<'a> {
    /// Criterion medians by group and function.
    pub medians: &'a Medians,
    /// The peers' outcomes.
    pub peers: &'a [Peer],
    /// Where and when.
    pub machine: &'a Machine,
    /// The static engine's values for the cross-check (empty: no cross-check).
    pub reference: &'a BTreeMap<String, Reference>,
    /// How the numbers were made: the command line, quick mode, pinning.
    pub how: &'a str,
    /// Hand-written notes appended to the report (`docs/benchmarks_notes.md`), if any.
    pub notes: Option<&'a str>,
    /// Benches that failed in this run.
    pub problems: &'a [String],
}

/// A time in ns with three significant digits and a unit: `3.12 ns`, `45.6 µs`, `1.20 s`.
pub fn time(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let digits = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    format!("{v:.digits$} {unit}")
}

/// A ratio with three significant digits (whole numbers from 1000 up).
pub fn ratio(r: f64) -> String {
    if r < 1.0 {
        format!("{r:.3}")
    } else if r < 10.0 {
        format!("{r:.2}")
    } else if r < 100.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.0}")
    }
}

fn opt_time(ns: Option<f64>) -> String {
    ns.map_or_else(|| "–".to_owned(), time)
}

fn div(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?)
}

fn opt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_owned(), ratio)
}

fn peer_label(p: &Peer) -> String {
    match &p.version {
        Some(v) => format!("{} {v}", p.name),
        None => p.name.clone(),
    }
}

/// The summary table: one row per workload, gradient medians and the headline ratios.
pub fn summary_table(medians: &Medians, peers: &[Peer]) -> String {
    let mut s = String::from(
        "| workload | hand-written | static | static / hand-written | static gradient / forward | dynamic / static | forward: static / plain |",
    );
    for p in peers {
        write!(s, " {} / static |", p.name).unwrap();
    }
    s.push_str("\n| --- | --- | --- | --- | --- | --- | --- |");
    for _ in peers {
        s.push_str(" --- |");
    }
    s.push('\n');
    for w in &WORKLOADS {
        let get = |f: &str| median(medians, w.group, f);
        let stat = get("static");
        write!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            w.title,
            opt_time(get("handwritten")),
            opt_time(stat),
            opt_ratio(div(stat, get("handwritten"))),
            opt_ratio(div(stat, get("static_forward"))),
            opt_ratio(div(get("dynamic"), stat)),
            opt_ratio(div(get("static_forward"), get("plain_forward"))),
        )
        .unwrap();
        for p in peers {
            let t = p.result(w.group).and_then(|r| r.gradient_ns);
            write!(s, " {} |", opt_ratio(div(t, stat))).unwrap();
        }
        s.push('\n');
    }
    s
}

/// The per-group table: every entry's gradient and forward medians and ratios, then the
/// peers' rows when the group is a workload they measure.
pub fn group_table(group: &str, functions: &BTreeMap<String, f64>, peers: &[Peer]) -> String {
    let rows = rows(functions);
    let find = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .and_then(|r| r.gradient)
    };
    let (hand, dynamic) = (find("handwritten"), find("dynamic"));
    let mut s = String::from(
        "| entry | gradient | forward | gradient / forward | gradient / hand-written | gradient / dynamic |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    let mut line = |name: &str, r: &Row| {
        writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {} |",
            opt_time(r.gradient),
            opt_time(r.forward),
            opt_ratio(div(r.gradient, r.forward)),
            opt_ratio(div(r.gradient, hand)),
            opt_ratio(div(r.gradient, dynamic)),
        )
        .unwrap();
    };
    for r in &rows {
        line(&format!("`{}`", r.name), r);
    }
    if workload(group).is_some() {
        for p in peers {
            if let Some(res) = p.result(group) {
                let r = Row {
                    name: p.key.clone(),
                    gradient: res.gradient_ns,
                    forward: res.forward_ns,
                };
                line(&peer_label(p), &r);
            }
        }
    }
    s
}

fn status_word(o: &Outcome) -> &'static str {
    match o.status {
        Status::Met => "met",
        Status::Missed => "MISSED",
        Status::NotMeasured(_) => "not measured",
    }
}

/// One line per target, e.g. `- **met** — MLP ...: static gradient / hand-written gradient = 1.02 (target: at most 1.05)`.
pub fn target_lines(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        let (w, what, limit) = (&o.workload, &o.what, &o.limit);
        match (&o.status, o.value) {
            (Status::NotMeasured(_), _) | (_, None) => {
                let reason = match &o.status {
                    Status::NotMeasured(r) => r.as_str(),
                    _ => "no value",
                };
                writeln!(
                    s,
                    "- **not measured**: {w}: {what} (target: {limit}): {reason}"
                )
            }
            (_, Some(v)) => writeln!(
                s,
                "- **{}**: {w}: {what} = {} (target: {limit})",
                status_word(o),
                ratio(v)
            ),
        }
        .unwrap();
    }
    s
}

/// `N of M targets met, K missed, L not measured.`
pub fn target_counts(outcomes: &[Outcome]) -> String {
    let count = |f: fn(&Status) -> bool| outcomes.iter().filter(|o| f(&o.status)).count();
    format!(
        "{} of {} targets met, {} missed, {} not measured.",
        count(|s| *s == Status::Met),
        outcomes.len(),
        count(|s| *s == Status::Missed),
        count(|s| matches!(s, Status::NotMeasured(_))),
    )
}

/// Reads one number of a peer's result.
type PeerField = fn(&PeerResult) -> Option<f64>;

/// The cross-check table: our loss and gradient sum of squares against each peer's.
/// Returns the table and whether every measured peer value agrees.
pub fn cross_check(reference: &BTreeMap<String, Reference>, peers: &[Peer]) -> (String, bool) {
    let mut s = String::from("| workload | quantity | static engine |");
    for p in peers {
        write!(s, " {} |", p.name).unwrap();
    }
    s.push_str("\n| --- | --- | --- |");
    for _ in peers {
        s.push_str(" --- |");
    }
    s.push('\n');
    let mut all_agree = true;
    for w in &WORKLOADS {
        let Some(r) = reference.get(w.group) else {
            continue;
        };
        let quantities: [(&str, Option<f64>, PeerField); 2] = [
            (
                if w.has_forward {
                    "loss"
                } else {
                    "loss after training"
                },
                Some(r.value),
                |p| p.value,
            ),
            ("gradient sum of squares", r.grad_sq, |p| p.grad_sq),
        ];
        for (what, ours, theirs) in quantities {
            let Some(ours) = ours else { continue };
            write!(s, "| {} | {what} | {ours:.12e} |", w.title).unwrap();
            for p in peers {
                match p.result(w.group).and_then(theirs) {
                    Some(v) if agrees(ours, v) => write!(s, " {v:.12e} |").unwrap(),
                    Some(v) => {
                        all_agree = false;
                        write!(s, " **{v:.12e} differs** |").unwrap()
                    }
                    None => s.push_str(" – |"),
                }
            }
            s.push('\n');
        }
    }
    (s, all_agree)
}

fn machine_line(m: &Machine) -> String {
    format!(
        "{}; {}; {} RAM; load average {} at the start",
        m.cpu, m.os, m.memory, m.load
    )
}

/// The whole of `docs/benchmarks.md`.
pub fn markdown(inp: &Inputs) -> String {
    let outcomes = targets::evaluate(inp.medians, inp.peers);
    let m = inp.machine;
    let mut s = String::new();
    s.push_str("# Benchmarks\n\n");
    s.push_str(
        "Generated by `cargo run --release -p xtask -- bench-report`; do not edit by hand \
         (notes go in `docs/benchmarks_notes.md`, which is appended).\n\n",
    );
    writeln!(s, "- Machine: {}", machine_line(m)).unwrap();
    writeln!(s, "- Date: {}; commit {}; {}", m.date, m.commit, m.rustc).unwrap();
    writeln!(s, "- How: {}", inp.how).unwrap();
    for p in inp.problems {
        writeln!(s, "- **Failed in this run** (its entries are missing): {p}").unwrap();
    }
    for p in inp.peers {
        match &p.outcome {
            Ok(_) => writeln!(s, "- {}: measured", peer_label(p)).unwrap(),
            Err(reason) => writeln!(s, "- {}: {reason}", p.name).unwrap(),
        }
    }
    s.push_str("\n![Gradient time relative to hand-written, per workload](benchmarks.svg)\n\n");

    s.push_str("## Summary (gradient, median)\n\n");
    s.push_str(&summary_table(inp.medians, inp.peers));
    s.push_str(
        "\nRatios are of medians from this one run. `a / b` above 1 means `a` takes longer: \
         `static / hand-written` is the static engine's overhead over careful hand-written \
         code (the limit), `PyTorch eager / static` how many times faster the static engine \
         is than PyTorch.\n\n",
    );

    s.push_str("## Targets (issue 6)\n\n");
    s.push_str(&target_counts(&outcomes));
    s.push_str("\n\n");
    s.push_str(&target_lines(&outcomes));
    s.push('\n');

    s.push_str("## Every entry\n\n");
    s.push_str(
        "Function names are criterion's: `<engine>` is value and gradient, `<engine>_forward` \
         the value alone; for the training loop, the gradient column is the whole loop. \
         `copy` is the memory-bandwidth floor, `*_alloc` the same code returning fresh \
         buffers.\n\n",
    );
    let mut groups: Vec<&String> = inp.medians.keys().collect();
    let order = |g: &str| {
        WORKLOADS
            .iter()
            .position(|w| w.group == g)
            .unwrap_or(WORKLOADS.len())
    };
    groups.sort_by_key(|g| (order(g), g.as_str()));
    for g in groups {
        let title = workload(g).map_or_else(String::new, |w| format!(": {}", w.title));
        writeln!(s, "### `{g}`{title}\n").unwrap();
        s.push_str(&group_table(g, &inp.medians[g], inp.peers));
        s.push('\n');
    }

    if !inp.reference.is_empty() && inp.peers.iter().any(|p| p.outcome.is_ok()) {
        s.push_str("## Same inputs, same function\n\n");
        let (table, ok) = cross_check(inp.reference, inp.peers);
        if ok {
            writeln!(
                s,
                "Every peer's loss and gradient agree with the static engine's to a relative \
                 {RELATIVE_TOLERANCE:e}, so they ran the same function on the same inputs \
                 (`benches/peers/workloads.py` reproduces the benches' generator).\n"
            )
            .unwrap();
        } else {
            s.push_str(
                "**A peer's numbers differ from the static engine's**: it did not run the same \
                 function on the same inputs, so its ratios above are not comparable.\n\n",
            );
        }
        s.push_str(&table);
        s.push('\n');
    }

    s.push_str(
        "## How it is measured\n\n\
         - Rust: criterion, the median of its samples; inputs built outside the timed closure \
         and passed through `black_box`. Hand-written: careful nalgebra code reusing its \
         buffers. Dynamic: the tape engine as a PyTorch user writes it (clear gradients, \
         record, `backward()`).\n\
         - Peers (`benches/peers/`): the same workloads on the same inputs in float64 on the \
         CPU with one thread; a warm-up (JAX compiles there), then the median of repeated \
         samples. PyTorch eager: `loss.backward()` with gradients cleared each call, the \
         training loop with `torch.optim.Adam` and `clip_grad_norm_`. JAX: \
         `jax.jit(jax.value_and_grad(loss))`, the training loop compiled whole with \
         `lax.scan`. Timed functions return arrays, with no conversion to Python floats.\n\
         - Each measured process runs pinned to one core (`taskset`), since XLA's flags alone \
         do not keep JAX on one thread.\n\n",
    );
    if let Some(notes) = inp.notes {
        s.push_str("## Notes\n\n");
        s.push_str(notes.trim());
        s.push('\n');
    }
    s
}

/// The block between the README's markers: where the numbers came from, the chart, the
/// summary table and the targets.
pub fn readme_block(inp: &Inputs) -> String {
    let outcomes = targets::evaluate(inp.medians, inp.peers);
    let m = inp.machine;
    let mut s = String::new();
    writeln!(
        s,
        "Measured by `cargo run --release -p xtask -- bench-report` on {}; {}, commit {}; {}.",
        machine_line(m),
        m.date,
        m.commit,
        inp.how,
    )
    .unwrap();
    let peers: Vec<String> = inp
        .peers
        .iter()
        .map(|p| match &p.outcome {
            Ok(_) => peer_label(p),
            Err(reason) => format!("{} ({reason})", p.name),
        })
        .collect();
    if !peers.is_empty() {
        writeln!(s, "Peers: {}.", peers.join(", ")).unwrap();
    }
    for p in inp.problems {
        writeln!(s, "**Failed in this run** (its entries are missing): {p}.").unwrap();
    }
    // Paths, not links: the README is also the crate's rustdoc front page, where a link
    // or image relative to the repository's root would not resolve.
    s.push_str(
        "Every entry, the chart of gradient times relative to hand-written \
         (`docs/benchmarks.svg`), and the check that the peers computed the same values on \
         the same inputs: `docs/benchmarks.md`.\n\n",
    );
    s.push_str(&summary_table(inp.medians, inp.peers));
    s.push('\n');
    writeln!(s, "Targets (issue 6): {}\n", target_counts(&outcomes)).unwrap();
    let open: Vec<Outcome> = outcomes
        .into_iter()
        .filter(|o| o.status != Status::Met)
        .collect();
    s.push_str(&target_lines(&open));
    if !open.is_empty() && inp.notes.is_some() {
        s.push_str("\nCauses (with profiles) and next steps: the Notes of `docs/benchmarks.md`.\n");
    }
    s
}

/// The README's begin marker.
pub const README_BEGIN: &str = "<!-- bench-report:begin -->";
/// The README's end marker.
pub const README_END: &str = "<!-- bench-report:end -->";

/// `readme` with the text between the markers replaced by `block`.
pub fn replace_readme_block(readme: &str, block: &str) -> Result<String, String> {
    let missing = || {
        format!(
            "the README has no `{README_BEGIN}` ... `{README_END}` pair; add both markers \
             (each on its own line) where the benchmark table belongs"
        )
    };
    let start = readme.find(README_BEGIN).ok_or_else(missing)? + README_BEGIN.len();
    let end = start + readme[start..].find(README_END).ok_or_else(missing)?;
    Ok(format!(
        "{}\n{}{}",
        &readme[..start],
        block.trim_end_matches('\n').to_owned() + "\n",
        &readme[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_ratios() {
        assert_eq!(time(3.123), "3.12 ns");
        assert_eq!(time(45_600.0), "45.6 µs");
        assert_eq!(time(123_456_789.0), "123 ms");
        assert_eq!(time(1.2e9), "1.20 s");
        assert_eq!(ratio(0.7123), "0.712");
        assert_eq!(ratio(1.049), "1.05");
        assert_eq!(ratio(25.44), "25.4");
        assert_eq!(ratio(527.4), "527");
    }

    #[test]
    fn failed_benches_are_named_in_both_outputs() {
        let machine = Machine {
            cpu: "cpu".into(),
            os: "os".into(),
            memory: "1 GiB".into(),
            load: "0".into(),
            rustc: "rustc".into(),
            date: "today".into(),
            commit: "abc".into(),
        };
        let problems =
            vec!["`cargo bench --bench training` failed with exit status: 101".to_owned()];
        let inputs = Inputs {
            medians: &Medians::new(),
            peers: &[],
            machine: &machine,
            reference: &BTreeMap::new(),
            how: "quick",
            notes: Some("a note"),
            problems: &problems,
        };
        let line =
            "**Failed in this run** (its entries are missing): `cargo bench --bench training`";
        let md = markdown(&inputs);
        assert!(md.contains(line), "{md}");
        assert!(md.ends_with("## Notes\n\na note\n"), "{md}");
        let block = readme_block(&inputs);
        assert!(block.contains(line));
        assert!(
            block.contains("Causes (with profiles) and next steps"),
            "{block}"
        );
        // Nothing measured: every target says why.
        assert!(
            md.contains("0 of 28 targets met, 0 missed, 28 not measured."),
            "{md}"
        );
    }

    #[test]
    fn readme_block_is_replaced_between_markers() {
        let readme =
            "# x\n\nintro\n<!-- bench-report:begin -->\nold\n<!-- bench-report:end -->\ntail\n";
        let out = replace_readme_block(readme, "new table\n").unwrap();
        assert_eq!(
            out,
            "# x\n\nintro\n<!-- bench-report:begin -->\nnew table\n<!-- bench-report:end -->\ntail\n"
        );
        assert_eq!(replace_readme_block(&out, "new table").unwrap(), out);
        assert!(replace_readme_block("# x\n", "t")
            .unwrap_err()
            .contains("bench-report:begin"));
    }
}
