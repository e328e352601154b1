//! Reading criterion's results: `<criterion dir>/<group>/<function>/new/benchmark.json`
//! names the group and function, `estimates.json` beside it holds the median (a point
//! estimate in nanoseconds).

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

/// Median times in nanoseconds: group name, then function name (as given to
/// `benchmark_group` and `bench_function`).
pub type Medians = BTreeMap<String, BTreeMap<String, f64>>;

/// Reads every result under `dir`. With `since`, results written before that time (left
/// over from earlier runs, e.g. of an entry that no longer exists) are skipped.
pub fn read_medians(dir: &Path, since: Option<SystemTime>) -> Result<Medians, String> {
    if !dir.is_dir() {
        return Err(format!(
            "no criterion results in {}: run the benches first (drop --no-run), or pass the \
             directory that holds them with --criterion-dir",
            dir.display()
        ));
    }
    let mut out = Medians::new();
    collect(dir, since, &mut out)?;
    Ok(out)
}

fn collect(dir: &Path, since: Option<SystemTime>, out: &mut Medians) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        if !path.is_dir() {
            continue;
        }
        let (benchmark, estimates) = (path.join("benchmark.json"), path.join("estimates.json"));
        if path.file_name().is_some_and(|n| n == "new") && benchmark.is_file() {
            if !estimates.is_file() {
                continue;
            }
            if let Some(since) = since {
                let modified = fs::metadata(&estimates)
                    .and_then(|m| m.modified())
                    .map_err(|e| format!("cannot stat {}: {e}", estimates.display()))?;
                if modified < since {
                    continue;
                }
            }
            let (group, function) = parse_benchmark(&read(&benchmark)?)
                .map_err(|e| format!("{}: {e}", benchmark.display()))?;
            let median = parse_median(&read(&estimates)?)
                .map_err(|e| format!("{}: {e}", estimates.display()))?;
            out.entry(group).or_default().insert(function, median);
        } else if path
            .file_name()
            .is_some_and(|n| n != "base" && n != "change")
        {
            collect(&path, since, out)?;
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The group and function of a `benchmark.json`; a parameterised benchmark's function is
/// `function/value`.
pub fn parse_benchmark(json: &str) -> Result<(String, String), String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let group = v["group_id"]
        .as_str()
        .ok_or("no string `group_id` (is this criterion's benchmark.json?)")?;
    let function = match (v["function_id"].as_str(), v["value_str"].as_str()) {
        (Some(f), Some(value)) => format!("{f}/{value}"),
        (Some(f), None) => f.to_owned(),
        (None, Some(value)) => value.to_owned(),
        (None, None) => String::new(),
    };
    Ok((group.to_owned(), function))
}

/// The median's point estimate (ns) of an `estimates.json`.
pub fn parse_median(json: &str) -> Result<f64, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    v["median"]["point_estimate"]
        .as_f64()
        .filter(|m| m.is_finite() && *m > 0.0)
        .ok_or_else(|| {
            "no positive `median.point_estimate` (is this criterion's estimates.json?)".to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_names() {
        let json = r#"{"group_id":"scalar/tutorial_loss","function_id":"static","value_str":null,"throughput":null,"full_id":"scalar/tutorial_loss/static","directory_name":"scalar_tutorial_loss/static","title":"scalar/tutorial_loss/static"}"#;
        assert_eq!(
            parse_benchmark(json).unwrap(),
            ("scalar/tutorial_loss".to_owned(), "static".to_owned())
        );
        let json = r#"{"group_id":"g","function_id":"f","value_str":"64"}"#;
        assert_eq!(parse_benchmark(json).unwrap().1, "f/64");
        assert!(parse_benchmark(r#"{"function_id":"f"}"#)
            .unwrap_err()
            .contains("group_id"));
    }

    #[test]
    fn median_point_estimate() {
        let json =
            r#"{"mean":{"point_estimate":2.0},"median":{"point_estimate":1.6459984337604614}}"#;
        assert_eq!(parse_median(json).unwrap(), 1.6459984337604614);
        assert!(parse_median(r#"{"median":{"point_estimate":-1.0}}"#).is_err());
        assert!(parse_median("not json").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn missing_directory_says_what_to_do() {
        let err = read_medians(Path::new("/nonexistent/criterion"), None).unwrap_err();
        assert!(err.contains("--criterion-dir"), "{err}");
    }
}
