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

mod test;

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

fn demo(accounts: usize) -> Result<(), String> {
    let spec = root().join("target").join("demo").join("org.toml");
    let spec_arg = spec.display().to_string();
    must("starting the emulator", trailhead(&["emulator", "start"]))?;
    let (code, seeded) = trailhead_output(
        &[
            "emulator",
            "seed",
            "--accounts",
            &accounts.to_string(),
            "--out",
            &spec_arg,
        ],
        None,
    )?;
    print!("{seeded}");
    must("creating the demo organization", Ok(code))?;
    let log_archive = ids_after(&seeded, "log-archive: ")
        .pop()
        .ok_or("the seed named no log-archive account")?;
    let planted = ids_after(&seeded, "planted: ");
    must(
        "validating the demo spec",
        trailhead(&["validate", "--org", &spec_arg]),
    )?;
    let state = root().join("target").join("demo").join("state");
    let state_arg = state.display().to_string();
    let failed = demo_rollout(&spec_arg, &state_arg, &planted)?;
    demo_fix_planted(&spec_arg, &state_arg, &failed)?;
    must(
        "confirming the alarm subscriptions (as their recipients would)",
        trailhead(&["emulator", "confirm-subscriptions"]),
    )?;
    demo_mfa_delete(&spec_arg, &log_archive)?;
    must(
        "verifying every account (every control must pass)",
        trailhead(&[
            "--emulator",
            "verify",
            "--org",
            &spec_arg,
            "--state-dir",
            &state_arg,
        ]),
    )?;
    must(
        "drilling the canary wave (each CIS alarm set off and followed to its subscriber)",
        trailhead(&[
            "--emulator",
            "drill",
            "--org",
            &spec_arg,
            "--state-dir",
            &state_arg,
            "--wave",
            "canary",
            "--timeout",
            "2m",
        ]),
    )?;
    println!();
    println!("The demo organization runs in the emulator, and its spec is {spec_arg}.");
    println!("Look around:");
    println!("  cargo xtask validate --org {spec_arg}");
    println!(
        "  cargo xtask plan --emulator --org {spec_arg} --state-dir {state_arg}   # no changes"
    );
    println!("  cargo xtask verify --emulator --org {spec_arg} --state-dir {state_arg}");
    println!("  cargo xtask alarms list --benchmark cis-3.0");
    println!(
        "  cargo xtask drill --emulator --org {spec_arg} --state-dir {state_arg} --wave canary --dry-run"
    );
    println!("  cargo xtask emulator status        # the endpoint URL is the last line");
    println!("Stop the emulator with: cargo xtask emulator stop");
    Ok(())
}

/// The first rollout: every account converges but the planted one without an access role.
/// Returns the accounts that failed (only planted ones may).
fn demo_rollout(
    spec_arg: &str,
    state_arg: &str,
    planted: &[String],
) -> Result<Vec<String>, String> {
    let junit = root().join("target").join("demo").join("rollout-junit.xml");
    let code = trailhead(&[
        "--emulator",
        "rollout",
        "--org",
        spec_arg,
        "--state-dir",
        state_arg,
        "--yes",
        "--junit",
        &junit.display().to_string(),
    ])?;
    let failed = failed_in_junit(&junit);
    if code != 0 && (failed.is_empty() || failed.iter().any(|f| !planted.contains(f))) {
        return Err(format!("rolling out failed (exit {code})"));
    }
    if code != 0 {
        println!(
            "As planted: {} has no access role, so the rollout reports it as failed (exit {code}); every other account converged.",
            failed.join(", ")
        );
    }
    Ok(failed)
}

/// Fixes what the first rollout reported, as an operator would: the access role is created in
/// each failed account, and the rollout runs again (the converged accounts make no writes).
fn demo_fix_planted(spec_arg: &str, state_arg: &str, failed: &[String]) -> Result<(), String> {
    if failed.is_empty() {
        return Ok(());
    }
    for account in failed {
        must(
            "creating the missing access role (as the account's owner would)",
            trailhead(&["emulator", "grant-access", "--account", account]),
        )?;
    }
    must(
        "rolling out again now that every account can be reached",
        trailhead(&[
            "--emulator",
            "rollout",
            "--org",
            spec_arg,
            "--state-dir",
            state_arg,
            "--yes",
            "--output",
            "plain",
        ]),
    )
}

fn demo_mfa_delete(spec_arg: &str, log_archive: &str) -> Result<(), String> {
    let (code, device) =
        trailhead_output(&["emulator", "mfa-code", "--account", log_archive], None)?;
    must("reading the emulator's MFA device", Ok(code))?;
    let (serial, mfa_code) = device
        .trim()
        .split_once(' ')
        .ok_or("the emulator's MFA device answer has no code")?;
    let (code, said) = trailhead_output(
        &[
            "--emulator",
            "mfa-delete",
            "--org",
            spec_arg,
            "--mfa-serial",
            serial,
            "--code-stdin",
        ],
        Some(&format!("{mfa_code}\n")),
    )?;
    print!("{said}");
    must(
        "turning MFA Delete on as the log-archive root user",
        Ok(code),
    )
}

fn tmux(args: &[&str]) -> Result<String, String> {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run tmux ({e}); install it with `apt-get install tmux`"))?;
    if !out.status.success() {
        return Err(format!(
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits until the pane shows `text`; returns the screen.
fn wait_for(session: &str, text: &str, secs: u64) -> Result<String, String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", session])?;
        if screen.contains(text) {
            return Ok(screen);
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "the screen never showed {text:?}; last screen:\n{screen}"
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Member accounts of the demo the terminal check drives: the view's keys and summary need a
/// few; the full demo runs in CI as the README's first command already.
const TUI_CHECK_ACCOUNTS: usize = 2;

/// `cargo xtask demo` (a small org) in a real 100×30 terminal: the view appears, keys work, it
/// exits cleanly.
fn tui_check() -> Result<(), String> {
    let session = "trailhead-tui-check";
    let _ = tmux(&["kill-session", "-t", session]);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // stderr goes to a file: lines written under the view would smear the screen being checked.
    let log = root().join("target").join("tui-check.log");
    let emulator = tui_emulator()?;
    let command = format!(
        "cd {} && {emulator} {cargo} xtask demo --accounts {TUI_CHECK_ACCOUNTS} 2>{}; echo DEMO-EXITED; sleep 30",
        root().display(),
        log.display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "100",
        "-y",
        "30",
        &command,
    ])?;
    let result = (|| -> Result<(), String> {
        wait_for(session, "trailhead ·", 900)?;
        println!("view is up");
        for (keys, expect) in [
            ("?", "keys"),
            ("?", "accounts"),
            ("End", "accounts"),
            ("Home", "accounts"),
            ("f", "failures only"),
            ("f", "accounts"),
            ("/", "filter:"),
            ("Escape", "accounts"),
        ] {
            tmux(&["send-keys", "-t", session, keys])?;
            wait_for(session, expect, 10)?;
            println!("key {keys}: ok");
        }
        let screen = wait_for(session, "FINISHED", 300)?;
        println!("{screen}");
        tmux(&["send-keys", "-t", session, "q"])?;
        wait_for(session, "DEMO-EXITED", 120)?;
        // The demo goes on after the view (a second rollout, verify): read the scrollback too.
        let after = tmux(&["capture-pane", "-p", "-S", "-", "-t", session])?;
        // The view's own summary: "run …: N succeeded, F failed, S skipped of T account(s); …".
        if !after.contains(" skipped of ") || !after.contains(" account(s); ") {
            return Err(format!("no summary on the normal screen:\n{after}"));
        }
        println!("summary printed and the terminal restored");
        Ok(())
    })();
    let _ = tmux(&["kill-session", "-t", session]);
    let _ = trailhead_command(&["emulator", "stop"])
        .env("TRAILHEAD_EMULATOR_DIR", tui_emulator_dir())
        .env("TRAILHEAD_EMULATOR_PORT", TUI_CHECK_PORT.to_string())
        .output();
    result
}

/// The terminal check's demo runs in an emulator of its own, so that it can run beside the
/// test groups (the demo confirms every subscription of its emulator, and writes to its
/// management account). It shares the test emulator's venv: moto is installed once.
const TUI_CHECK_PORT: u16 = 4611;

fn tui_emulator_dir() -> PathBuf {
    root().join("target").join("emulator-tui-check")
}

/// The environment that points the demo at that emulator, as `NAME=value` words for a shell.
fn tui_emulator() -> Result<String, String> {
    let dir = tui_emulator_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let venv = dir.join("venv");
    if std::fs::symlink_metadata(&venv).is_err() {
        std::os::unix::fs::symlink(root().join("target").join("emulator").join("venv"), &venv)
            .map_err(|e| format!("cannot link {}: {e}", venv.display()))?;
    }
    Ok(format!(
        "TRAILHEAD_EMULATOR_DIR={} TRAILHEAD_EMULATOR_PORT={TUI_CHECK_PORT}",
        dir.display()
    ))
}

/// The demo's verify report: written, checked for the sections an auditor reads, then (where
/// Debian's Chromium is installed) rendered as a laptop screen sees it and as it prints.
fn report_check() -> Result<(), String> {
    let target = root().join("target");
    let spec = target.join("demo").join("org.toml");
    if !spec.exists() {
        demo(6)?;
    }
    let html = target.join("verify-report.html");
    let spec_arg = spec.display().to_string();
    let state_arg = target.join("demo").join("state").display().to_string();
    let html_arg = html.display().to_string();
    // Exit 4 (a control failed: MFA Delete on the emulator) still writes the report.
    let code = trailhead(&[
        "--emulator",
        "verify",
        "--org",
        &spec_arg,
        "--state-dir",
        &state_arg,
        "--output",
        "html",
        "--out",
        &html_arg,
    ])?;
    if code != 0 && code != 4 {
        return Err(format!("verify failed (exit {code})"));
    }
    let page = std::fs::read_to_string(&html).map_err(|e| format!("{}: {e}", html.display()))?;
    report_structure(&page)?;
    println!(
        "{}: every section present, every ✗ and ? links to its evidence",
        html.display()
    );
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        println!("Chromium is not installed (`apt-get install chromium`): no screenshot taken");
        return Ok(());
    };
    for (flag, file, least) in [
        ("--screenshot", "verify-report.png", 10_000),
        ("--print-to-pdf", "verify-report.pdf", 5_000),
    ] {
        let out = target.join(file);
        let _ = std::fs::remove_file(&out);
        headless(chromium, &format!("{flag}={}", out.display()), &html)?;
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        if size < least {
            return Err(format!("no usable {file} ({size} bytes)"));
        }
        println!("rendered {} ({size} bytes)", out.display());
    }
    Ok(())
}

/// What an auditor needs on the page: the sections, and a target for every link from the matrix.
fn report_structure(page: &str) -> Result<(), String> {
    for section in ["controls", "failed", "unknown", "matrix", "skipped"] {
        if !page.contains(&format!("<section id=\"{section}\">")) {
            return Err(format!("the report has no {section} section"));
        }
    }
    for link in page.split("<a href=\"#f-").skip(1) {
        let id = link.split('"').next().unwrap_or_default();
        if !page.contains(&format!("<tr id=\"f-{id}\">")) {
            return Err(format!("the matrix links to f-{id}, which the page lacks"));
        }
    }
    if page.contains("writing-mode") {
        return Err("the report rotates its headers again".into());
    }
    Ok(())
}

fn headless(chromium: &str, output: &str, html: &Path) -> Result<(), String> {
    let profile = root().join("target").join("chromium-profile");
    let status = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--no-pdf-header-footer",
            "--window-size=1440,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(output)
        .arg(format!("file://{}", html.display()))
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {chromium}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{chromium} {output} failed ({status})"))
    }
}

fn bench(which: &str, args: &[String]) -> Result<(), String> {
    let status = match which {
        "filter" => cargo()
            .args([
                "bench",
                "--quiet",
                "--package",
                "trailhead-alarms",
                "--bench",
                "filter",
                "--",
            ])
            .args(args)
            .status(),
        "rollout" => {
            must("starting the emulator", trailhead(&["emulator", "start"]))?;
            cargo()
                // Optimized: the benchmark measures trailhead's own CPU per call.
                .args([
                    "run",
                    "--quiet",
                    "--release",
                    "--package",
                    "trailhead-e2e",
                    "--bin",
                    "bench-rollout",
                    "--",
                ])
                .args(args)
                .status()
        }
        "search" => {
            // DuckDB, the reference engine, lives in the emulator's venv.
            must(
                "preparing the emulator's venv",
                trailhead(&["emulator", "start"]),
            )?;
            install_test_tools()?;
            cargo()
                .args([
                    "bench",
                    "--quiet",
                    "--package",
                    "trailhead-alarms",
                    "--bench",
                    "search",
                    "--",
                ])
                .args(args)
                .env("TRAILHEAD_TEST_PYTHON", venv_python())
                .status()
        }
        "render" => cargo()
            .args([
                "bench",
                "--quiet",
                "--package",
                "trailhead-tui",
                "--bench",
                "render",
                "--",
            ])
            .args(args)
            .status(),
        other => return Err(format!("unknown benchmark `{other}`")),
    };
    match status
        .map_err(|e| format!("cannot run cargo bench: {e}"))?
        .code()
    {
        Some(0) => Ok(()),
        c => Err(format!("benchmark failed (exit {})", c.unwrap_or(1))),
    }
}

/// The pinned Python tools of the tests, installed into the emulator's venv: pytest runs the
/// emulator's contract tests; DuckDB is the SQL engine that the Athena translation is checked
/// against (Athena itself cannot run here), and the search benchmark's reference.
const TEST_TOOLS: [(&str, &str); 2] = [("pytest", "pytest==9.2.0"), ("duckdb", "duckdb==2.0.1")];

fn venv_python() -> PathBuf {
    root().join("target/emulator/venv/bin/python")
}

/// Installs the missing test tools into the venv `emulator start` made.
fn install_test_tools() -> Result<(), String> {
    let python = venv_python();
    for (module, pin) in TEST_TOOLS {
        let present = Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if present {
            continue;
        }
        let status = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                pin,
            ])
            .status()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if !status.success() {
            return Err(format!("installing {pin} into the emulator's venv failed"));
        }
    }
    Ok(())
}

/// Whether the emulator runs, and its endpoint URL (the last line `emulator status` prints).
fn emulator_status() -> Result<(bool, String), String> {
    let out = trailhead_command(&["emulator", "status"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let endpoint = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .map(str::to_string)
        .ok_or_else(|| "`trailhead emulator status` printed nothing".to_string())?;
    Ok((out.status.success(), endpoint))
}
