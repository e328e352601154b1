//! The workloads of issue 6 with their targets, and how a criterion group's function names
//! are read: `<engine>` is a gradient entry, `<engine>_forward` that engine's forward.

use std::collections::BTreeMap;

/// A target "static is at least `factor` times faster than this peer" (1.0: no slower).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerTarget {
    /// The peer's key (`torch`, `jax`).
    pub peer: &'static str,
    /// The peer's time over static's must be at least this.
    pub factor: f64,
}

/// A workload of the report: a criterion group and its targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    /// The criterion group name, also the key of the peers' results.
    pub group: &'static str,
    /// What it computes, for the tables.
    pub title: &'static str,
    /// Short name for the chart.
    pub short: &'static str,
    /// Whether the forward-only entries exist (not for the training loop).
    pub has_forward: bool,
    /// Whether a hand-written gradient (`handwritten`) exists, and with it the target
    /// static / hand-written (not for ADBench's BA, which has no hand-written Jacobian).
    pub has_handwritten: bool,
    /// Speed targets against the peers.
    pub peer_targets: &'static [PeerTarget],
}

/// Static gradient / hand-written gradient must be at most this.
pub const MAX_STATIC_OVER_HANDWRITTEN: f64 = 1.05;
/// Static gradient / static forward must be at most this.
pub const MAX_GRADIENT_OVER_FORWARD: f64 = 3.0;
/// Expanding one `#[differentiable]` function must take less than this, ns.
pub const MAX_EXPANSION_NS: f64 = 5e6;
/// The expansion bench: group, function, and how many functions one iteration expands.
pub const EXPANSION: (&str, &str, f64) = ("expansion", "50_functions", 50.0);

const TORCH_5X: PeerTarget = PeerTarget {
    peer: "torch",
    factor: 5.0,
};
const TORCH_1X: PeerTarget = PeerTarget {
    peer: "torch",
    factor: 1.0,
};
const JAX_1X: PeerTarget = PeerTarget {
    peer: "jax",
    factor: 1.0,
};

/// The workloads, in the order the report shows them.
pub const WORKLOADS: [Workload; 9] = [
    Workload {
        group: "scalar/tutorial_loss",
        title: "tutorial loss `(w x - 5)^2`",
        short: "tutorial loss",
        has_forward: true,
        has_handwritten: true,
        peer_targets: &[TORCH_5X],
    },
    Workload {
        group: "elementwise/1000000",
        title: "`sum(tanh(a .* x + b)^2)`, 10^6 f64",
        short: "elementwise 10^6",
        has_forward: true,
        has_handwritten: true,
        peer_targets: &[TORCH_1X, JAX_1X],
    },
    Workload {
        group: "mlp",
        title: "MLP 64x784-128-10, softmax cross-entropy",
        short: "MLP 64x784-128-10",
        has_forward: true,
        has_handwritten: true,
        peer_targets: &[TORCH_1X, JAX_1X],
    },
    Workload {
        group: "mlp_small",
        title: "MLP 150x4-16-3, softmax cross-entropy",
        short: "MLP 150x4-16-3",
        has_forward: true,
        has_handwritten: true,
        peer_targets: &[TORCH_5X],
    },
    Workload {
        group: "training/mlp_small_adam_1000",
        title: "1000 Adam steps with `clip_grad_norm`, MLP 150x4-16-3",
        short: "training, 1000 steps",
        has_forward: false,
        has_handwritten: true,
        peer_targets: &[TORCH_5X, JAX_1X],
    },
    // ADBench's objectives (benches/adbench.rs; issue 15), on ADBench's data files.
    Workload {
        group: "adbench/gmm_d2_K5",
        title: "ADBench GMM d=2 K=5, 1000 points, loops",
        short: "GMM d2 K5",
        has_forward: true,
        has_handwritten: true,
        peer_targets: &[JAX_1X],
    },
    Workload {
        group: "adbench/gmm_d10_K25",
        title: "ADBench GMM d=10 K=25, 1000 points, loops",
        short: "GMM d10 K25",
        has_forward: true,
        has_handwritten: true,
        peer_targets: &[JAX_1X],
    },
    Workload {
        group: "adbench/ba1_n49_m7776_p31843",
        title: "ADBench BA ba1 (31,843 observations), Jacobian by two VJPs each",
        short: "BA ba1",
        has_forward: true,
        has_handwritten: false,
        peer_targets: &[JAX_1X],
    },
    Workload {
        group: "adbench/lstm_l2_c1024",
        title: "ADBench LSTM 2 layers, 1,024 characters of 14 bits, loops",
        short: "LSTM l2 c1024",
        has_forward: true,
        has_handwritten: false,
        peer_targets: &[JAX_1X],
    },
];

/// The workload of a group, if it is one of [`WORKLOADS`].
pub fn workload(group: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.group == group)
}

/// Suffix of a forward-only entry.
pub const FORWARD_SUFFIX: &str = "_forward";

/// One engine's row in a group: its gradient and forward medians (ns).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The gradient entry's function name (or the forward's without the suffix).
    pub name: String,
    /// Median of the gradient entry.
    pub gradient: Option<f64>,
    /// Median of `<name>_forward`.
    pub forward: Option<f64>,
}

/// The rows of a group's functions: `handwritten`, `static`, `dynamic` first, then every
/// other name in alphabetical order; `<name>_forward` joins `<name>`'s row.
pub fn rows(functions: &BTreeMap<String, f64>) -> Vec<Row> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (name, &ns) in functions {
        let (base, forward) = match name.strip_suffix(FORWARD_SUFFIX) {
            Some(base) if !base.is_empty() => (base, true),
            _ => (name.as_str(), false),
        };
        let row = rows.entry(base.to_owned()).or_insert_with(|| Row {
            name: base.to_owned(),
            gradient: None,
            forward: None,
        });
        if forward {
            row.forward = Some(ns);
        } else {
            row.gradient = Some(ns);
        }
    }
    let rank = |name: &str| match name {
        "handwritten" => 0,
        "static" => 1,
        "dynamic" => 2,
        _ => 3,
    };
    let mut out: Vec<Row> = rows.into_values().collect();
    out.sort_by(|a, b| (rank(&a.name), &a.name).cmp(&(rank(&b.name), &b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_pair_forward_entries_and_keep_unknown_names() {
        let f: BTreeMap<String, f64> = [
            ("static", 2.0),
            ("static_forward", 1.0),
            ("copy", 0.5),
            ("dynamic", 9.0),
            ("handwritten", 1.9),
            ("handwritten_simd", 1.5),
            ("handwritten_forward", 0.9),
            ("dynamic_forward", 3.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let r = rows(&f);
        let names: Vec<&str> = r.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "handwritten",
                "static",
                "dynamic",
                "copy",
                "handwritten_simd"
            ]
        );
        assert_eq!((r[1].gradient, r[1].forward), (Some(2.0), Some(1.0)));
        assert_eq!((r[3].gradient, r[3].forward), (Some(0.5), None));
    }

    #[test]
    fn every_workload_has_a_peer_target() {
        for w in WORKLOADS {
            assert!(!w.peer_targets.is_empty(), "{}", w.group);
            assert_eq!(workload(w.group), Some(&w));
        }
    }
}
