//! The targets of issue 6, evaluated on one run's numbers: met, missed, or not measured
//! (with the reason).

use crate::criterion::Medians;
use crate::peers::Peer;
use crate::workloads::{
    Workload, EXPANSION, FORWARD_SUFFIX, MAX_EXPANSION_NS, MAX_GRADIENT_OVER_FORWARD,
    MAX_STATIC_OVER_HANDWRITTEN, WORKLOADS,
};

/// The outcome of one target.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// The ratio is on the right side of the limit.
    Met,
    /// The ratio is on the wrong side.
    Missed,
    /// A number it needs is absent; the reason says which.
    NotMeasured(String),
}

/// One target with what was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The workload's title (or `macro expansion`).
    pub workload: String,
    /// What is compared, e.g. `static gradient / hand-written gradient`.
    pub what: String,
    /// The measured value (a ratio, or ms for the expansion time).
    pub value: Option<f64>,
    /// The limit as text, e.g. `at most 1.05`.
    pub limit: String,
    /// Met, missed or not measured.
    pub status: Status,
}

/// The median of `group`/`function`, if measured.
pub fn median(medians: &Medians, group: &str, function: &str) -> Option<f64> {
    medians.get(group)?.get(function).copied()
}

fn at_most(workload: &str, what: &str, value: Result<f64, String>, max: f64) -> Outcome {
    outcome(workload, what, value, format!("at most {max}"), |v| {
        v <= max
    })
}

fn at_least(workload: &str, what: &str, value: Result<f64, String>, min: f64) -> Outcome {
    outcome(workload, what, value, format!("at least {min}"), |v| {
        v >= min
    })
}

fn outcome(
    workload: &str,
    what: &str,
    value: Result<f64, String>,
    limit: String,
    ok: impl Fn(f64) -> bool,
) -> Outcome {
    let (value, status) = match value {
        Ok(v) if ok(v) => (Some(v), Status::Met),
        Ok(v) => (Some(v), Status::Missed),
        Err(reason) => (None, Status::NotMeasured(reason)),
    };
    Outcome {
        workload: workload.to_owned(),
        what: what.to_owned(),
        value,
        limit,
        status,
    }
}

fn entry(medians: &Medians, group: &str, function: &str) -> Result<f64, String> {
    median(medians, group, function)
        .ok_or_else(|| format!("no criterion result for `{group}/{function}`"))
}

fn peer_time(peers: &[Peer], key: &str, group: &str) -> Result<f64, String> {
    let peer = peers
        .iter()
        .find(|p| p.key == key)
        .ok_or_else(|| format!("peer `{key}` was not run"))?;
    match &peer.outcome {
        Err(_) => Err(format!("{} did not run (see the list above)", peer.name)),
        Ok(_) => peer
            .result(group)
            .and_then(|r| r.gradient_ns)
            .ok_or_else(|| format!("{} has no result for `{group}`", peer.name)),
    }
}

/// The fastest of several entries of a group (the engine's best entry point, or the best
/// hand-written variant), with its name; entries that did not run are skipped.
fn fastest(medians: &Medians, group: &str, functions: &[&str]) -> Result<(f64, String), String> {
    functions
        .iter()
        .filter_map(|f| median(medians, group, f).map(|m| (m, (*f).to_owned())))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .ok_or_else(|| format!("no criterion result for `{group}/{}`", functions[0]))
}

/// The static engine's entries: `name_grad`, and `name_grad_with` (buffers reused).
const STATIC_ENTRIES: &[&str] = &["static", "static_workspace"];
/// The hand-written limit: scalar-libm and vectorised-kernel variants.
const HANDWRITTEN_ENTRIES: &[&str] = &["handwritten", "handwritten_simd"];

fn workload_targets(
    w: &Workload,
    medians: &Medians,
    peers: &[Peer],
    peer_name: &dyn Fn(&str) -> String,
) -> Vec<Outcome> {
    let g = w.group;
    let best = fastest(medians, g, STATIC_ENTRIES);
    let stat = best.clone().map(|b| b.0);
    let limit = fastest(medians, g, HANDWRITTEN_ENTRIES);
    let what = match (&best, &limit) {
        (Ok((_, s)), Ok((_, h))) if s != "static" || h != "handwritten" => {
            format!("static gradient (`{s}`) / hand-written gradient (`{h}`, the faster)")
        }
        _ => "static gradient / hand-written gradient".to_owned(),
    };
    let mut out = Vec::new();
    if w.has_handwritten {
        out.push(at_most(
            w.title,
            &what,
            stat.clone().and_then(|s| Ok(s / limit?.0)),
            MAX_STATIC_OVER_HANDWRITTEN,
        ));
    }
    if w.has_forward {
        out.push(at_most(
            w.title,
            "static gradient / static forward",
            stat.clone()
                .and_then(|s| Ok(s / entry(medians, g, &format!("static{FORWARD_SUFFIX}"))?)),
            MAX_GRADIENT_OVER_FORWARD,
        ));
    }
    for t in w.peer_targets {
        let what = format!("{} / static (gradient)", peer_name(t.peer));
        let value = stat
            .clone()
            .and_then(|s| Ok(peer_time(peers, t.peer, g)? / s));
        out.push(at_least(w.title, &what, value, t.factor));
    }
    out
}

/// Every target of issue 6, in the report's order: per workload, then the macro's
/// expansion time (value in ms per function).
pub fn evaluate(medians: &Medians, peers: &[Peer]) -> Vec<Outcome> {
    let peer_name = |key: &str| {
        peers
            .iter()
            .find(|p| p.key == key)
            .map_or_else(|| key.to_owned(), |p| p.name.clone())
    };
    let mut out: Vec<Outcome> = WORKLOADS
        .iter()
        .flat_map(|w| workload_targets(w, medians, peers, &peer_name))
        .collect();
    let (group, function, count) = EXPANSION;
    out.push(outcome(
        "macro expansion (50 functions)",
        "expansion time per function, ms",
        entry(medians, group, function).map(|ns| ns / count / 1e6),
        format!("under {} ms", MAX_EXPANSION_NS / 1e6),
        |ms| ms < MAX_EXPANSION_NS / 1e6,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::{PeerResult, PEERS};
    use std::collections::BTreeMap;

    fn medians(entries: &[(&str, &str, f64)]) -> Medians {
        let mut m = Medians::new();
        for &(g, f, ns) in entries {
            m.entry(g.to_owned()).or_default().insert(f.to_owned(), ns);
        }
        m
    }

    fn torch(results: &[(&str, f64)]) -> Peer {
        let results: BTreeMap<String, PeerResult> = results
            .iter()
            .map(|&(g, ns)| {
                (
                    g.to_owned(),
                    PeerResult {
                        gradient_ns: Some(ns),
                        ..PeerResult::default()
                    },
                )
            })
            .collect();
        Peer {
            key: "torch".into(),
            name: "PyTorch eager".into(),
            version: Some("2.15".into()),
            outcome: Ok(results),
        }
    }

    #[test]
    fn ratios_decide_met_and_missed() {
        let m = medians(&[
            ("mlp", "handwritten", 100.0),
            ("mlp", "static", 104.0),
            ("mlp", "static_forward", 30.0),
            ("mlp_small", "handwritten", 10.0),
            ("mlp_small", "static", 11.0),
            ("mlp_small", "static_forward", 5.0),
            ("expansion", "50_functions", 30e6),
        ]);
        let peers = vec![
            torch(&[("mlp", 90.0), ("mlp_small", 60.0)]),
            Peer::skipped(&PEERS[1], "skipped: no jax here".into()),
        ];
        let out = evaluate(&m, &peers);
        let find = |workload: &str, what: &str| {
            out.iter()
                .find(|o| o.workload.starts_with(workload) && o.what.starts_with(what))
                .unwrap_or_else(|| panic!("no target {workload} {what}"))
        };
        let o = find("MLP 64", "static gradient / hand-written");
        assert_eq!((o.status.clone(), o.value), (Status::Met, Some(1.04)));
        // 104 / 30 > 3.
        assert_eq!(
            find("MLP 64", "static gradient / static forward").status,
            Status::Missed
        );
        // 90 / 104 < 1: slower than PyTorch.
        assert_eq!(find("MLP 64", "PyTorch").status, Status::Missed);
        let jax = &find("MLP 64", "JAX").status;
        assert!(
            matches!(jax, Status::NotMeasured(r) if r.contains("JAX jit did not run")),
            "{jax:?}"
        );
        assert_eq!(
            find("MLP 150", "static gradient / hand-written").status,
            Status::Missed
        );
        assert_eq!(
            find("MLP 150", "static gradient / static forward").status,
            Status::Met
        );
        // 60 / 11 >= 5.
        assert_eq!(find("MLP 150", "PyTorch").status, Status::Met);
        let e = find("macro expansion", "expansion");
        assert_eq!((e.status.clone(), e.value), (Status::Met, Some(0.6)));
        let t = find("tutorial", "static gradient / hand-written");
        assert!(
            matches!(&t.status, Status::NotMeasured(r) if r.contains("scalar/tutorial_loss/static"))
        );
    }

    #[test]
    fn training_has_no_forward_target() {
        let out = evaluate(&Medians::new(), &[]);
        let training: Vec<&Outcome> = out
            .iter()
            .filter(|o| o.workload.starts_with("1000 Adam"))
            .collect();
        assert!(training.iter().all(|o| !o.what.contains("forward")));
        assert_eq!(training.len(), 3);
    }
}
