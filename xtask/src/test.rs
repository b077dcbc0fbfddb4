//! `cargo xtask test`: the whole suite against the emulator, its groups side by side.
//!
//! The tests mostly wait on the emulator, so once everything is built the groups run at once:
//! the emulator's own contract tests (pytest), the end-to-end binary, the CLI binary, and every
//! other test executable one after another. The executables are run directly, as `cargo test`
//! runs them (from their package's directory): separate `cargo test -p …` calls would each
//! resolve features their own way and rebuild shared crates. Each group's output goes to
//! `target/test-logs/<group>.log` and is printed whole when the group ends, so that the groups'
//! lines never interleave.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{
    cargo, emulator_status, install_test_tools, must, root, trailhead, tui_check, venv_python,
};

/// How many tests of one binary run at once (libtest's threads): the end-to-end tests wait on
/// the emulator far more than they compute.
const TEST_THREADS: usize = 8;

/// The test executables that get a group of their own: (package, target).
const OWN_GROUP: [(&str, &str); 2] = [("trailhead-e2e", "e2e"), ("trailhead-cli", "cli")];

/// A test executable the build made.
struct Executable {
    package: String,
    target: String,
    path: PathBuf,
    /// Its package's directory: `cargo test` runs a test there.
    dir: PathBuf,
}

/// One group of the suite, running.
struct Group {
    name: String,
    child: Child,
    log: PathBuf,
    started: Instant,
}

pub fn run(extra: &[String]) -> Result<(), String> {
    // The emulator is started before the build so that pip and rustc overlap on a cold machine.
    let (already_running, _) = emulator_status()?;
    must("starting the emulator", trailhead(&["emulator", "start"]))?;
    let (_, endpoint) = emulator_status()?;
    install_test_tools()?;
    let result = build_and_run(&endpoint, extra);
    if !already_running {
        let _ = trailhead(&["emulator", "stop"]);
    }
    result
}

fn build_and_run(endpoint: &str, extra: &[String]) -> Result<(), String> {
    let logs = root().join("target").join("test-logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    // The emulator's contract tests start an emulator of their own: they run during the build.
    let contract = spawn("emulator contract (pytest)", contract_tests(), &logs)?;
    let started = Instant::now();
    let executables = match build() {
        Ok(e) => e,
        Err(e) => {
            let _ = finish(contract);
            return Err(e);
        }
    };
    println!(
        "built {} test executables in {}",
        executables.len(),
        seconds(started.elapsed())
    );
    let mut groups = vec![contract];
    let (own, rest): (Vec<_>, Vec<_>) = executables
        .into_iter()
        .partition(|e| OWN_GROUP.contains(&(e.package.as_str(), e.target.as_str())));
    for e in &own {
        let name = format!("{} ({})", e.target, e.package);
        groups.push(spawn(&name, test_command(e, endpoint, extra), &logs)?);
    }
    groups.push(spawn(
        "crates",
        one_after_another(&rest, endpoint, extra)?,
        &logs,
    )?);
    // The real-terminal check of the view, where tmux exists, beside the groups: its demo has
    // an emulator of its own.
    let has_tmux = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    let terminal = has_tmux.then(|| {
        std::thread::spawn(|| {
            let started = Instant::now();
            let result = tui_check();
            println!("tui-check took {}", seconds(started.elapsed()));
            result
        })
    });
    let failed = wait_all(groups);
    let terminal = match terminal.map(|t| t.join()) {
        None => Ok(()),
        Some(Ok(result)) => result,
        Some(Err(_)) => Err("the terminal check panicked".to_string()),
    };
    if !failed.is_empty() {
        return Err(format!("tests failed: {}", failed.join(", ")));
    }
    terminal.map_err(|e| format!("tui-check: {e}"))
}

/// Waits for every group, printing each whole in the order they end; the names of those that
/// failed.
fn wait_all(mut groups: Vec<Group>) -> Vec<String> {
    let mut failed = Vec::new();
    while !groups.is_empty() {
        let done = groups
            .iter_mut()
            .position(|g| matches!(g.child.try_wait(), Ok(Some(_)) | Err(_)));
        match done {
            Some(i) => {
                let group = groups.remove(i);
                let name = group.name.clone();
                if finish(group).is_err() {
                    failed.push(name);
                }
            }
            None => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    failed
}

/// Builds every test target of the workspace once; the test executables it made.
fn build() -> Result<Vec<Executable>, String> {
    let out = cargo()
        .args([
            "test",
            "--workspace",
            "--all-targets",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    if !out.status.success() {
        return Err("building the tests failed".into());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|m| executable(&m))
        .collect())
}

/// A test executable from one of cargo's JSON messages (a compiled test target), or None.
fn executable(message: &serde_json::Value) -> Option<Executable> {
    if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
        return None;
    }
    let path = PathBuf::from(message["executable"].as_str()?);
    let manifest = PathBuf::from(message["manifest_path"].as_str()?);
    // package_id: "path+file:///…/crates/cli#trailhead-cli@0.1.0"
    let id = message["package_id"].as_str()?;
    let package = id.rsplit('#').next()?.split('@').next()?.to_string();
    Some(Executable {
        package,
        target: message["target"]["name"].as_str()?.to_string(),
        path,
        dir: manifest.parent()?.to_path_buf(),
    })
}

fn test_command(e: &Executable, endpoint: &str, extra: &[String]) -> Command {
    let mut command = Command::new(&e.path);
    command
        .args(extra)
        .current_dir(&e.dir)
        .env("CARGO_MANIFEST_DIR", &e.dir)
        .env("CARGO_PKG_NAME", &e.package);
    test_env(&mut command, endpoint);
    command
}

/// The other executables, one after another, from a shell script of this run's own: each
/// prints a header as `cargo test` does, and the first failure is remembered, not fatal.
fn one_after_another(
    executables: &[Executable],
    endpoint: &str,
    extra: &[String],
) -> Result<Command, String> {
    let script = root().join("target").join("test-logs").join("crates.sh");
    let mut text = String::from("status=0\n");
    for e in executables {
        let run = std::iter::once(e.path.display().to_string())
            .chain(extra.iter().cloned())
            .map(|a| shell_quote(&a))
            .collect::<Vec<_>>()
            .join(" ");
        text.push_str(&format!(
            "echo; echo '     Running {} ({})'\n(cd {} && CARGO_MANIFEST_DIR={} CARGO_PKG_NAME={} {run}) || status=1\n",
            e.target,
            e.package,
            shell_quote(&e.dir.display().to_string()),
            shell_quote(&e.dir.display().to_string()),
            shell_quote(&e.package),
        ));
    }
    text.push_str("exit $status\n");
    std::fs::write(&script, text).map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let mut command = Command::new("bash");
    command.arg(&script);
    test_env(&mut command, endpoint);
    Ok(command)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn test_env(command: &mut Command, endpoint: &str) {
    // An explicit RUST_TEST_THREADS wins.
    if std::env::var_os("RUST_TEST_THREADS").is_none() {
        command.env("RUST_TEST_THREADS", TEST_THREADS.to_string());
    }
    command
        .env("TRAILHEAD_TEST_ENDPOINT", endpoint)
        .env("TRAILHEAD_TEST_CA", root().join("target/emulator/ca.pem"))
        .env("TRAILHEAD_TEST_PYTHON", venv_python());
}

/// The emulator's own contract tests (emulator/tests), with the venv `emulator start` made.
fn contract_tests() -> Command {
    let mut command = Command::new(venv_python());
    command
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "emulator/tests",
        ])
        .current_dir(root())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    command
}

fn spawn(name: &str, mut command: Command, logs: &Path) -> Result<Group, String> {
    let file_name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let log = logs.join(format!("{file_name}.log"));
    let out =
        std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot share {}: {e}", log.display()))?;
    let child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start the {name} tests: {e}"))?;
    println!("started: {name} (log: {})", log.display());
    Ok(Group {
        name: name.to_string(),
        child,
        log,
        started: Instant::now(),
    })
}

/// Waits for a group, prints its whole log, and says how it ended.
fn finish(mut group: Group) -> Result<(), ()> {
    let status = group.child.wait();
    let took = seconds(group.started.elapsed());
    let text = std::fs::read_to_string(&group.log).unwrap_or_default();
    println!("\n======== {} ({took})", group.name);
    print!("{text}");
    match status {
        Ok(s) if s.success() => {
            println!("======== {}: passed in {took}", group.name);
            Ok(())
        }
        Ok(s) => {
            println!(
                "======== {}: FAILED (exit {}) in {took}",
                group.name,
                s.code().unwrap_or(1)
            );
            Err(())
        }
        Err(e) => {
            println!("======== {}: could not be waited for: {e}", group.name);
            Err(())
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.0} s", d.as_secs_f64())
}
