//! The `bench-report` command: options, running the benches and peers, writing the files.

use crate::criterion::read_medians;
use crate::machine::Machine;
use crate::peers::{self, Peer, PEERS};
use crate::render::{self, Inputs};
use crate::{reference, svg};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// The benches the report runs: (package, bench target).
pub const BENCHES: [(&str, &str); 6] = [
    ("autodiff-benches", "scalar"),
    ("autodiff-benches", "elementwise"),
    ("autodiff-benches", "mlp"),
    ("autodiff-benches", "training"),
    ("autodiff-benches", "adbench"),
    ("autodiff-macros-core", "expansion"),
];

/// Criterion's arguments in quick mode.
pub const QUICK_ARGS: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "2"];

/// The options of `bench-report`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// Shorter measurements (criterion `--warm-up-time 1 --measurement-time 2`, peers
    /// about 1 s per entry): a few minutes in all.
    pub quick: bool,
    /// Re-render from existing results without running anything.
    pub no_run: bool,
    /// Do not run (or read) the peers.
    pub no_peers: bool,
    /// Where criterion's results are (default `<target dir>/criterion`).
    pub criterion_dir: Option<PathBuf>,
    /// The peers JSON file written by a run and read by `--no-run`
    /// (default `<target dir>/bench-report/peers.json`).
    pub peers_json: Option<PathBuf>,
    /// Where `benchmarks.md` and `benchmarks.svg` go (default `docs/`).
    pub out_dir: Option<PathBuf>,
    /// The README to update (default `README.md`); `None` with `no_readme`.
    pub readme: Option<PathBuf>,
    /// Leave the README alone.
    pub no_readme: bool,
    /// The core every measured process is pinned to (default 1).
    pub cpu: Option<usize>,
}

/// The usage text.
pub const USAGE: &str = "\
usage: cargo run --release -p xtask -- bench-report [options]

Runs the benches (scalar, elementwise, mlp, training, expansion) and the PyTorch/JAX peers,
each pinned to one core with taskset, and writes docs/benchmarks.md, docs/benchmarks.svg and
the README's block between <!-- bench-report:begin --> and <!-- bench-report:end -->.

options:
  --quick               short measurements (criterion --warm-up-time 1 --measurement-time 2)
  --no-run              only re-render from existing criterion results and peers JSON
  --no-peers            skip PyTorch and JAX
  --criterion-dir DIR   criterion results (default: <target dir>/criterion)
  --peers-json FILE     peers results (default: <target dir>/bench-report/peers.json)
  --out-dir DIR         where benchmarks.md and benchmarks.svg go (default: docs)
  --readme FILE         the README to update (default: README.md)
  --no-readme           do not touch the README
  --cpu N               the core to pin to (default: 1)

environment:
  AUTODIFF_PEERS_PYTHON  the Python that runs the peers (default: python3); a peer whose
                         module (torch, jax) does not import is skipped with a message
";

impl Options {
    /// Parses the arguments after `bench-report`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))
            };
            match a.as_str() {
                "--quick" => o.quick = true,
                "--no-run" => o.no_run = true,
                "--no-peers" => o.no_peers = true,
                "--no-readme" => o.no_readme = true,
                "--criterion-dir" => o.criterion_dir = Some(value(a)?.into()),
                "--peers-json" => o.peers_json = Some(value(a)?.into()),
                "--out-dir" => o.out_dir = Some(value(a)?.into()),
                "--readme" => o.readme = Some(value(a)?.into()),
                "--cpu" => {
                    let v = value(a)?;
                    o.cpu =
                        Some(v.parse().map_err(|_| {
                            format!("--cpu takes a core number, not `{v}`\n\n{USAGE}")
                        })?);
                }
                other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
            }
        }
        Ok(o)
    }
}

/// The workspace root (the directory above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                root.join(d)
            }
        }
        _ => root.join("target"),
    }
}

/// `["taskset", "-c", "<cpu>"]` when taskset works here, else empty.
pub fn pin_command(cpu: usize) -> Vec<String> {
    let cpu = cpu.to_string();
    let ok = Command::new("taskset")
        .args(["-c", &cpu, "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        vec!["taskset".into(), "-c".into(), cpu]
    } else {
        Vec::new()
    }
}

fn run(cmd: &[String], root: &Path, envs: &[(&str, &Path)]) -> Result<(), String> {
    eprintln!("xtask: running {}", cmd.join(" "));
    let mut c = Command::new(&cmd[0]);
    c.args(&cmd[1..]).current_dir(root);
    for (k, v) in envs {
        c.env(k, v);
    }
    let status = c
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", cmd[0]))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed with {status}", cmd.join(" ")))
    }
}

/// Runs the report as `opts` say; returns the paths written and the benches that failed.
pub fn bench_report(opts: &Options) -> Result<Written, String> {
    let root = workspace_root();
    let target = target_dir(&root);
    let criterion_dir = opts
        .criterion_dir
        .clone()
        .unwrap_or_else(|| target.join("criterion"));
    let report_dir = target.join("bench-report");
    let peers_json = opts
        .peers_json
        .clone()
        .unwrap_or_else(|| report_dir.join("peers.json"));
    // How, when and at which commit the last run measured (for --no-run's header).
    let run_file = report_dir.join("run.json");
    let cpu = opts.cpu.unwrap_or(1);
    let mut machine = Machine::describe(&root);

    let mut problems: Vec<String> = Vec::new();
    let (since, peers, how) = if opts.no_run {
        let peers = if opts.no_peers {
            Vec::new()
        } else if peers_json.is_file() {
            let text = std::fs::read_to_string(&peers_json)
                .map_err(|e| format!("cannot read {}: {e}", peers_json.display()))?;
            peers::parse_peers(&text).map_err(|e| format!("{}: {e}", peers_json.display()))?
        } else {
            PEERS
                .iter()
                .map(|s| {
                    Peer::skipped(
                        s,
                        format!(
                            "not run: no peers results at {} (run without --no-run, or pass \
                             --peers-json)",
                            peers_json.display()
                        ),
                    )
                })
                .collect()
        };
        let own_results = opts.criterion_dir.is_none() && opts.peers_json.is_none();
        let last_run = std::fs::read_to_string(&run_file)
            .ok()
            .filter(|_| own_results)
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
        let how = match last_run {
            Some(run) => {
                let field = |k: &str| run[k].as_str().unwrap_or("unknown").to_owned();
                machine.date = field("date");
                machine.commit = field("commit");
                machine.load = field("load");
                format!("{}; re-rendered with --no-run", field("how"))
            }
            None => "re-rendered from existing results (--no-run)".to_owned(),
        };
        (None, peers, how)
    } else {
        std::fs::create_dir_all(&report_dir)
            .map_err(|e| format!("cannot create {}: {e}", report_dir.display()))?;
        let pin = pin_command(cpu);
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        // Results written before this are left over from earlier runs.
        let since = SystemTime::now() - Duration::from_secs(1);
        // Build unpinned (all cores), then measure pinned.
        for (pkg, bench) in BENCHES {
            let cmd: Vec<String> = [&cargo, "bench", "-p", pkg, "--bench", bench, "--no-run"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            run(&cmd, &root, &[])?;
        }
        for (pkg, bench) in BENCHES {
            let mut cmd = pin.clone();
            cmd.extend(
                [
                    &cargo, "bench", "-p", pkg, "--bench", bench, "--", "--noplot",
                ]
                .iter()
                .map(|s| s.to_string()),
            );
            if opts.quick {
                cmd.extend(QUICK_ARGS.iter().map(|s| s.to_string()));
            }
            // A failing bench (a panic, a disagreement check) loses its own entries only;
            // the report says so and the command fails at the end.
            if let Err(e) = run(&cmd, &root, &[("CRITERION_HOME", &criterion_dir)]) {
                eprintln!("xtask: {e}");
                problems.push(e);
            }
        }
        let python = peers::python();
        let peers: Vec<Peer> = if opts.no_peers {
            Vec::new()
        } else {
            PEERS
                .iter()
                .map(|s| peers::run_peer(s, &python, &root.join("benches/peers"), opts.quick, &pin))
                .collect()
        };
        std::fs::write(&peers_json, peers::peers_to_json(&peers))
            .map_err(|e| format!("cannot write {}: {e}", peers_json.display()))?;
        let mode = if opts.quick {
            format!("quick mode (criterion {})", QUICK_ARGS.join(" "))
        } else {
            "criterion's default measurement times".to_owned()
        };
        let pinned = if pin.is_empty() {
            "not pinned (taskset is not available)".to_owned()
        } else {
            format!("every measured process pinned with `{}`", pin.join(" "))
        };
        let how = format!("{mode}; {pinned}");
        let run = serde_json::json!({
            "how": how,
            "date": machine.date,
            "commit": machine.commit,
            "load": machine.load,
        });
        std::fs::write(&run_file, run.to_string())
            .map_err(|e| format!("cannot write {}: {e}", run_file.display()))?;
        (Some(since), peers, how)
    };

    let medians = read_medians(&criterion_dir, since)?;
    let reference = match reference::compute() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("xtask: no cross-check of the peers: {e}");
            BTreeMap::new()
        }
    };
    let notes_path = root.join("docs/benchmarks_notes.md");
    let notes = std::fs::read_to_string(&notes_path).ok();
    let inputs = Inputs {
        medians: &medians,
        peers: &peers,
        machine: &machine,
        reference: &reference,
        how: &how,
        notes: notes.as_deref(),
        problems: &problems,
    };
    let written = write_outputs(&inputs, opts, &root)?;
    Ok(Written { written, problems })
}

/// What a report run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The files written.
    pub written: Vec<PathBuf>,
    /// Benches that failed (their entries are missing from the report).
    pub problems: Vec<String>,
}

/// Writes `benchmarks.md`, `benchmarks.svg` and the README block; returns their paths.
pub fn write_outputs(inputs: &Inputs, opts: &Options, root: &Path) -> Result<Vec<PathBuf>, String> {
    let out_dir = opts.out_dir.clone().unwrap_or_else(|| root.join("docs"));
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let md = out_dir.join("benchmarks.md");
    let chart = out_dir.join("benchmarks.svg");
    write(&md, &render::markdown(inputs))?;
    write(&chart, &svg::chart(inputs.medians, inputs.peers))?;
    let mut written = vec![md, chart];
    if !opts.no_readme {
        let readme = opts
            .readme
            .clone()
            .unwrap_or_else(|| root.join("README.md"));
        let text = std::fs::read_to_string(&readme)
            .map_err(|e| format!("cannot read {}: {e}", readme.display()))?;
        let new = render::replace_readme_block(&text, &render::readme_block(inputs))
            .map_err(|e| format!("{}: {e}", readme.display()))?;
        write(&readme, &new)?;
        written.push(readme);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options() {
        let o = Options::parse(&args("--quick --no-run --criterion-dir c --cpu 3")).unwrap();
        assert!(o.quick && o.no_run && !o.no_peers);
        assert_eq!(o.criterion_dir.as_deref(), Some(Path::new("c")));
        assert_eq!(o.cpu, Some(3));
        assert!(Options::parse(&args("--cpu x"))
            .unwrap_err()
            .contains("core number"));
        assert!(Options::parse(&args("--peers-json"))
            .unwrap_err()
            .contains("needs a value"));
        assert!(Options::parse(&args("--fast"))
            .unwrap_err()
            .contains("unknown option `--fast`"));
    }
}
