//! `cargo xtask`: the project's developer tasks, and a thin front door to the `trailhead` binary.
//!
//! Product commands (validate, rollout, plan, ...) are forwarded unchanged to `trailhead`, so the
//! two spellings can never drift apart. Developer tasks (demo, test, bench) live here. This crate
//! must stay free of the AWS SDK so that it builds in seconds.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::OnceLock;

use clap::{Parser, Subcommand};

mod bench;
mod demo;
mod report_check;
mod test;
mod tools;
mod tui_check;

use bench::bench;
use demo::demo;
use report_check::report_check;
use tools::{emulator_status, install_test_tools, venv_python};
use tui_check::tui_check;

/// Commands that belong to the product and are forwarded to `trailhead`.
const FORWARDED: &[&str] = &[
    "validate",
    "plan",
    "rollout",
    "preflight",
    "verify",
    "alarms",
    "logs",
    "mfa-delete",
    "permissions",
    "emulator",
];

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Developer tasks for trailhead",
    after_help = "Product commands are forwarded to the trailhead binary: validate, plan, rollout, \
preflight, verify, alarms, logs, mfa-delete, permissions, emulator (start|stop|status|seed|mfa-code|confirm-subscriptions). \
Example: cargo xtask validate --org config/org.example.toml"
)]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Start the emulator, create a demo organization in it and run trailhead on it
    Demo {
        /// Member accounts besides the log-archive and audit accounts
        #[arg(long, default_value_t = 12)]
        accounts: usize,
    },
    /// Drive `cargo xtask demo` in a real terminal (tmux): send keys, capture and check the screen
    TuiCheck,
    /// Render the demo org's verify report as HTML, check its structure, and where Chromium is
    /// installed screenshot it at 1440x900 and print it to PDF (target/verify-report.*)
    #[command(alias = "html-check")]
    ReportCheck,
    /// Benchmarks: `bench filter [--records N]`, `bench render`, `bench rollout --accounts N
    /// --latency-ms L [--concurrency C]`, `bench search [--gb G]` (the local engine against
    /// DuckDB on G GB of gzipped CloudTrail logs)
    Bench {
        #[arg(value_parser = ["filter", "render", "rollout", "search"])]
        which: String,
        /// Arguments of the benchmark (e.g. --records 200000)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run every test of the workspace against the emulator, as CI does
    Test {
        /// Extra arguments for `cargo test` (e.g. a test name filter)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Some(first) = args.first().and_then(|a| a.to_str())
        && FORWARDED.contains(&first)
    {
        return code(trailhead(&args));
    }
    let task = Xtask::parse();
    let result = match task.task {
        Task::Demo { accounts } => demo(accounts),
        Task::Test { cargo_args } => test::run(&cargo_args),
        Task::Bench { which, args } => bench(&which, &args),
        Task::TuiCheck => tui_check(),
        Task::ReportCheck => report_check(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn code(status: Result<i32, String>) -> ExitCode {
    match status {
        Ok(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

/// The `trailhead` binary, built once per xtask run. The demo calls it a dozen times; each
/// `cargo run` would check the workspace again, and wait for cargo's lock while another cargo
/// builds. None when the build failed (then `cargo run` shows why).
fn trailhead_binary() -> Option<&'static PathBuf> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let built = cargo()
                .args(["build", "--quiet", "--package", "trailhead-cli"])
                .args(["--bin", "trailhead"])
                .status()
                .is_ok_and(|s| s.success());
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("target"));
            let path = target.join("debug").join("trailhead");
            (built && path.exists()).then_some(path)
        })
        .as_ref()
}

/// The `trailhead` binary (built if needed) with `args`, run from the workspace root.
fn trailhead_command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let Some(binary) = trailhead_binary() else {
        let mut c = cargo();
        c.args(["run", "--quiet", "--package", "trailhead-cli"])
            .args(["--bin", "trailhead", "--"])
            .args(args);
        return c;
    };
    let mut c = Command::new(binary);
    c.current_dir(root()).args(args);
    c
}

/// Runs the `trailhead` binary with `args`; returns its exit code.
fn trailhead<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Result<i32, String> {
    let status = trailhead_command(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(status.code().unwrap_or(1))
}

fn must(step: &str, status: Result<i32, String>) -> Result<(), String> {
    match status? {
        0 => Ok(()),
        c => Err(format!("{step} failed (exit {c})")),
    }
}

/// Runs `trailhead` and captures what it prints on stdout (stdin: `input`).
fn trailhead_output(args: &[&str], input: Option<&str>) -> Result<(i32, String), String> {
    use std::io::Write as _;
    let mut child = trailhead_command(args)
        .stdin(if input.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::inherit()
        })
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| format!("cannot write to trailhead: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("cannot run trailhead: {e}"))?;
    Ok((
        out.status.code().unwrap_or(1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

/// The ids of the `<prefix> <id> …` lines of `text`.
fn ids_after(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The accounts a JUnit report names as failed.
fn failed_in_junit(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("<failure"))
        .filter_map(|l| l.split("classname=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}
