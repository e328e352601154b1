//! The peers (PyTorch eager, JAX jit): finding a Python that has them, running their
//! scripts in `benches/peers/`, and reading and writing their results as JSON.
//!
//! A peer's script prints `{"peer", "name", "version", "threads", "results": {group:
//! {"forward_ns", "gradient_ns", "value", "grad_sq"}}}`. The combined file the report reads
//! (`--peers-json`) is a JSON array of these, where a peer that did not run has
//! `"skipped": "<why>"` instead of `"results"`.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The environment variable naming the Python that runs the peers (default `python3`).
pub const PYTHON_ENV: &str = "AUTODIFF_PEERS_PYTHON";

/// A peer the report knows how to run.
#[derive(Debug, Clone, Copy)]
pub struct PeerSpec {
    /// Short key used in JSON and in the report (`torch`, `jax`).
    pub key: &'static str,
    /// Human name (`PyTorch eager`).
    pub name: &'static str,
    /// The Python module that must import.
    pub module: &'static str,
    /// The script in `benches/peers/`.
    pub script: &'static str,
}

/// The peers, in the order the report shows them.
pub const PEERS: [PeerSpec; 2] = [
    PeerSpec {
        key: "torch",
        name: "PyTorch eager",
        module: "torch",
        script: "torch_peer.py",
    },
    PeerSpec {
        key: "jax",
        name: "JAX jit",
        module: "jax",
        script: "jax_peer.py",
    },
];

/// One peer's numbers on one workload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerResult {
    /// Median of the forward pass, ns.
    pub forward_ns: Option<f64>,
    /// Median of value and gradient (for the training loop: the whole loop), ns.
    pub gradient_ns: Option<f64>,
    /// The loss at the workload's inputs (training: after training), for the cross-check.
    pub value: Option<f64>,
    /// The sum of squares of every gradient element, for the cross-check.
    pub grad_sq: Option<f64>,
}

/// A peer's outcome: its results per criterion group, or why it did not run.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    /// `torch` or `jax`.
    pub key: String,
    /// `PyTorch eager` or `JAX jit`.
    pub name: String,
    /// The library's version, when it ran.
    pub version: Option<String>,
    /// Results by criterion group name, or the reason it was skipped.
    pub outcome: Result<BTreeMap<String, PeerResult>, String>,
}

impl Peer {
    /// This peer's result on `group`, if it ran and measured it.
    pub fn result(&self, group: &str) -> Option<&PeerResult> {
        self.outcome.as_ref().ok()?.get(group)
    }

    /// A peer that was not run, with the reason.
    pub fn skipped(spec: &PeerSpec, reason: String) -> Peer {
        Peer {
            key: spec.key.to_owned(),
            name: spec.name.to_owned(),
            version: None,
            outcome: Err(reason),
        }
    }
}

/// Parses one peer script's output.
pub fn parse_peer_output(json: &str) -> Result<Peer, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    peer_from_value(&v)
}

fn peer_from_value(v: &Value) -> Result<Peer, String> {
    let key = v["peer"]
        .as_str()
        .ok_or("a peer entry has no string `peer`")?;
    let name = v["name"].as_str().unwrap_or(key);
    let outcome = if let Some(reason) = v["skipped"].as_str() {
        Err(reason.to_owned())
    } else {
        let results = v["results"]
            .as_object()
            .ok_or_else(|| format!("peer `{key}` has neither `results` nor `skipped`"))?;
        let mut out = BTreeMap::new();
        for (group, r) in results {
            let num = |field: &str| r[field].as_f64().filter(|x| x.is_finite());
            out.insert(
                group.clone(),
                PeerResult {
                    forward_ns: num("forward_ns"),
                    gradient_ns: num("gradient_ns"),
                    value: num("value"),
                    grad_sq: num("grad_sq"),
                },
            );
        }
        Ok(out)
    };
    Ok(Peer {
        key: key.to_owned(),
        name: name.to_owned(),
        version: v["version"].as_str().map(str::to_owned),
        outcome,
    })
}

/// Parses the combined peers file (a JSON array).
pub fn parse_peers(json: &str) -> Result<Vec<Peer>, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    v.as_array()
        .ok_or("the peers file must hold a JSON array of peer results")?
        .iter()
        .map(peer_from_value)
        .collect()
}

/// The combined peers file's text.
pub fn peers_to_json(peers: &[Peer]) -> String {
    let list: Vec<Value> = peers
        .iter()
        .map(|p| {
            let mut obj = Map::new();
            obj.insert("peer".into(), json!(p.key));
            obj.insert("name".into(), json!(p.name));
            if let Some(v) = &p.version {
                obj.insert("version".into(), json!(v));
            }
            match &p.outcome {
                Ok(results) => {
                    let results: Map<String, Value> = results
                        .iter()
                        .map(|(g, r)| {
                            let mut o = Map::new();
                            for (k, x) in [
                                ("forward_ns", r.forward_ns),
                                ("gradient_ns", r.gradient_ns),
                                ("value", r.value),
                                ("grad_sq", r.grad_sq),
                            ] {
                                if let Some(x) = x {
                                    o.insert(k.into(), json!(x));
                                }
                            }
                            (g.clone(), Value::Object(o))
                        })
                        .collect();
                    obj.insert("results".into(), Value::Object(results));
                }
                Err(reason) => {
                    obj.insert("skipped".into(), json!(reason));
                }
            }
            Value::Object(obj)
        })
        .collect();
    serde_json::to_string_pretty(&list).expect("a JSON value always serializes")
}

/// The Python to run the peers with: `$AUTODIFF_PEERS_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var(PYTHON_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "python3".to_owned())
}

/// Runs one peer's script (pinned with `pin`, e.g. `["taskset", "-c", "1"]`), or says why
/// it was skipped: the Python is missing, cannot import the module, or the script failed.
pub fn run_peer(
    spec: &PeerSpec,
    python: &str,
    peers_dir: &Path,
    quick: bool,
    pin: &[String],
) -> Peer {
    let probe = Command::new(python)
        .args(["-c", &format!("import {}", spec.module)])
        .output();
    match probe {
        Err(e) => {
            return Peer::skipped(
                spec,
                format!(
                    "skipped: cannot run `{python}` ({e}); set {PYTHON_ENV} to a Python that \
                     has {} installed",
                    spec.module
                ),
            )
        }
        Ok(out) if !out.status.success() => {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or("").trim();
            return Peer::skipped(
                spec,
                format!(
                    "skipped: `{python}` cannot import {} ({last}); set {PYTHON_ENV} to a \
                     Python that has it installed",
                    spec.module
                ),
            );
        }
        Ok(_) => {}
    }
    let script = peers_dir.join(spec.script);
    let mut argv: Vec<String> = pin.to_vec();
    argv.push(python.to_owned());
    argv.push(script.display().to_string());
    if quick {
        argv.push("--quick".to_owned());
    }
    eprintln!("xtask: running {}", argv.join(" "));
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(peers_dir)
        .stderr(std::process::Stdio::inherit())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => return Peer::skipped(spec, format!("failed: cannot start {}: {e}", argv[0])),
    };
    if !out.status.success() {
        return Peer::skipped(
            spec,
            format!("failed: `{}` exited with {}", argv.join(" "), out.status),
        );
    }
    match parse_peer_output(&String::from_utf8_lossy(&out.stdout)) {
        Ok(peer) => peer,
        Err(e) => Peer::skipped(
            spec,
            format!("failed: unreadable output of {}: {e}", spec.script),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = r#"{"peer": "torch", "name": "PyTorch eager", "version": "2.15.0", "threads": 1,
        "results": {"mlp": {"forward_ns": 1000.0, "gradient_ns": 2500.5, "value": 2.3, "grad_sq": 0.5, "samples": 10},
                    "training/mlp_small_adam_1000": {"gradient_ns": 3e8, "value": 0.004}}}"#;

    #[test]
    fn reads_a_peer_script_output() {
        let p = parse_peer_output(OUTPUT).unwrap();
        assert_eq!(
            (p.key.as_str(), p.version.as_deref()),
            ("torch", Some("2.15.0"))
        );
        let mlp = p.result("mlp").unwrap();
        assert_eq!(mlp.gradient_ns, Some(2500.5));
        assert_eq!(mlp.forward_ns, Some(1000.0));
        let train = p.result("training/mlp_small_adam_1000").unwrap();
        assert_eq!((train.forward_ns, train.grad_sq), (None, None));
        assert!(p.result("elementwise/1000000").is_none());
    }

    #[test]
    fn combined_file_round_trips() {
        let peers = vec![
            parse_peer_output(OUTPUT).unwrap(),
            Peer::skipped(&PEERS[1], "skipped: no jax".into()),
        ];
        let back = parse_peers(&peers_to_json(&peers)).unwrap();
        assert_eq!(back, peers);
        assert!(back[1].result("mlp").is_none());
    }

    #[test]
    fn rejects_malformed_entries() {
        assert!(parse_peers("{}").unwrap_err().contains("array"));
        assert!(parse_peers(r#"[{"peer": "x"}]"#)
            .unwrap_err()
            .contains("neither"));
    }

    #[test]
    fn missing_module_is_a_skip_that_names_it() {
        let spec = PeerSpec {
            key: "none",
            name: "Nothing",
            module: "autodiff_xtask_no_such_module",
            script: "none.py",
        };
        let reason = run_peer(&spec, &python(), Path::new("."), true, &[])
            .outcome
            .unwrap_err();
        // Without any Python the reason is that it cannot run; with one, the import.
        assert!(reason.starts_with("skipped"), "{reason}");
        assert!(
            reason.contains("autodiff_xtask_no_such_module") && reason.contains(PYTHON_ENV),
            "{reason}"
        );
    }

    #[test]
    fn missing_python_is_a_skip_with_the_variable_named() {
        let p = run_peer(
            &PEERS[0],
            "/nonexistent/python-for-autodiff-test",
            Path::new("."),
            true,
            &[],
        );
        let reason = p.outcome.unwrap_err();
        assert!(
            reason.starts_with("skipped") && reason.contains(PYTHON_ENV),
            "{reason}"
        );
    }
}
