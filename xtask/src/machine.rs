//! Where and when the numbers came from: CPU (from `/proc/cpuinfo`), kernel, memory, load,
//! toolchain, date (UTC) and git commit.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// A description of the machine and the source the report was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// CPU model and logical CPU count, e.g. `AMD EPYC 7B13, 2 logical CPUs`.
    pub cpu: String,
    /// Operating system and kernel release, e.g. `Linux 6.8.0`.
    pub os: String,
    /// Total memory, e.g. `7.8 GiB`.
    pub memory: String,
    /// The 1/5/15-minute load averages when the report started.
    pub load: String,
    /// `rustc --version`.
    pub rustc: String,
    /// Date and time, UTC, e.g. `2026-11-25 21:30 UTC`.
    pub date: String,
    /// Short commit hash, with a note when the tree has uncommitted changes.
    pub commit: String,
}

impl Machine {
    /// Describes this machine and the repository at `root`; unknown parts say `unknown`.
    pub fn describe(root: &Path) -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        let cpu = read("/proc/cpuinfo")
            .map(|s| cpu_model(&s))
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let os = match read("/proc/sys/kernel/osrelease") {
            Some(r) => format!("{} {}", os_name(), r.trim()),
            None => os_name(),
        };
        let memory = read("/proc/meminfo")
            .and_then(|s| mem_total(&s))
            .unwrap_or_else(|| "unknown".to_owned());
        let load = read("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "unknown".to_owned());
        let rustc = output("rustc", &["--version"], root).unwrap_or_else(|| "unknown".into());
        let commit = match output("git", &["rev-parse", "--short=10", "HEAD"], root) {
            Some(hash) => {
                let dirty = output(
                    "git",
                    &["status", "--porcelain", "--untracked-files=no"],
                    root,
                )
                .is_some_and(|s| !s.is_empty());
                if dirty {
                    format!("{hash} (with uncommitted changes)")
                } else {
                    hash
                }
            }
            None => "unknown (not a git checkout)".to_owned(),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Machine {
            cpu,
            os,
            memory,
            load,
            rustc,
            date: utc_date(now),
            commit,
        }
    }
}

fn os_name() -> String {
    match std::env::consts::OS {
        "linux" => "Linux".to_owned(),
        "macos" => "macOS".to_owned(),
        other => other.to_owned(),
    }
}

fn output(program: &str, args: &[&str], dir: &Path) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `<model name>, <n> logical CPUs` from the text of `/proc/cpuinfo`.
pub fn cpu_model(cpuinfo: &str) -> String {
    let field = |line: &str, key: &str| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_owned())
    };
    let model = cpuinfo
        .lines()
        .find_map(|l| field(l, "model name").or_else(|| field(l, "Model")))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let count = cpuinfo
        .lines()
        .filter(|l| field(l, "processor").is_some())
        .count();
    let plural = if count == 1 { "" } else { "s" };
    format!("{model}, {count} logical CPU{plural}")
}

/// `MemTotal` of `/proc/meminfo` in GiB.
pub fn mem_total(meminfo: &str) -> Option<String> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.1} GiB", kib / (1024.0 * 1024.0)))
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the Unix epoch (proleptic Gregorian calendar,
/// the days-to-civil algorithm of H. Hinnant).
pub fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (hour, minute) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_against_known_timestamps() {
        // `date -u -d @0`, `@951782400` (a leap day), `@1795636200`.
        assert_eq!(utc_date(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_date(1_795_636_200), "2026-11-25 19:50 UTC");
    }

    #[test]
    fn cpu_model_and_count() {
        let info = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n\n\
                    processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(info), "AMD EPYC 7B13, 2 logical CPUs");
        assert_eq!(cpu_model(""), "unknown CPU, 0 logical CPUs");
    }

    #[test]
    fn memory_in_gib() {
        assert_eq!(
            mem_total("MemTotal:        8388608 kB\nMemFree: 1 kB\n").as_deref(),
            Some("8.0 GiB")
        );
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
    }
}
