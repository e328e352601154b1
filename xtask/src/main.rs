//! `cargo run --release -p xtask -- bench-report [options]` or `-- compile-report [options]`;
//! `--help` after either lists its options.

use std::process::ExitCode;
use xtask::report::{bench_report, Options, USAGE};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench-report") if args[1..].iter().any(|a| a == "--help" || a == "-h") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("bench-report") => match Options::parse(&args[1..]).and_then(|o| bench_report(&o)) {
            Ok(out) => {
                for p in &out.written {
                    println!("wrote {}", p.display());
                }
                if out.problems.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    eprintln!(
                        "xtask bench-report: the report is written, but these failed (their \
                         entries are missing):\n  {}",
                        out.problems.join("\n  ")
                    );
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("xtask bench-report: {e}");
                ExitCode::FAILURE
            }
        },
        Some("compile-report") if args[1..].iter().any(|a| a == "--help" || a == "-h") => {
            print!("{}", xtask::compile_report::USAGE);
            ExitCode::SUCCESS
        }
        Some("compile-report") => {
            match xtask::compile_report::Options::parse(&args[1..])
                .and_then(|o| xtask::compile_report::compile_report(&o))
            {
                Ok(path) => {
                    println!("wrote {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask compile-report: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("--help" | "-h" | "help") | None => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("xtask: unknown command `{other}`; the commands are `bench-report` and `compile-report`\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}
