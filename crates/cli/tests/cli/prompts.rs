//! The questions a rollout asks a person: the plan before the first write (on a terminal only),
//! each wave with `--confirm-waves`, and a signal while a question waits.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trailhead_e2e::{REGION, emulator, seed};

/// Runs `trailhead ARGS` on a pseudo-terminal (util-linux `script`), typing `typed`.
fn on_a_terminal(args: &[&str], typed: &str) -> (i32, String) {
    let command = std::iter::once(env!("CARGO_BIN_EXE_trailhead"))
        .chain(args.iter().copied())
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) runs");
    let mut stdin = child.stdin.take().expect("stdin");
    // The question comes after a plan (some seconds); typing early is fine: the terminal keeps it.
    stdin.write_all(typed.as_bytes()).expect("type");
    let out = child.wait_with_output().expect("wait");
    drop(stdin);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_is_shown_the_plan_and_asked_before_the_first_write() {
    let conn = emulator();
    let org = seed(&conn, "ask", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("org.toml");
    std::fs::write(&spec, org.spec_toml("asking", REGION)).expect("spec");
    let spec = spec.to_str().expect("utf-8");
    let state = dir.path().join("state");
    let state = state.to_str().expect("utf-8");
    let rollout = [
        "--emulator",
        "rollout",
        "--org",
        spec,
        "--state-dir",
        state,
        "--output",
        "plain",
    ];

    let (code, screen) = on_a_terminal(&rollout, "n\n");
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains("change(s) in"),
        "the plan's summary: {screen}"
    );
    assert!(screen.contains("apply them? [y/N]"), "{screen}");
    assert!(screen.contains("nothing was written"), "{screen}");
    assert!(!screen.contains("run "), "no run started: {screen}");
    let (code, stdout, _) = common_plan(spec, state);
    assert_eq!(code, 3, "still everything to do\n{stdout}");

    // --yes: no question.
    let (code, screen) = on_a_terminal(&[&rollout[..], &["--yes"]].concat(), "");
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("[y/N]"), "{screen}");
}

fn common_plan(spec: &str, state: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(["--emulator", "plan", "--org", spec, "--state-dir", state])
        .output()
        .expect("plan");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_at_the_wave_question_stops_at_once_with_the_resume_command() {
    let conn = emulator();
    let org = seed(&conn, "waveq", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("org.toml");
    std::fs::write(&spec, org.spec_toml("waveq", REGION)).expect("spec");
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args([
            "--emulator",
            "rollout",
            "--output",
            "plain",
            "--confirm-waves",
            "--org",
        ])
        .arg(&spec)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    // Nobody answers: stdin stays open and silent.
    let _stdin = child.stdin.take();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !seen.contains("waiting for approval") {
        assert!(Instant::now() < deadline, "never asked: {seen}");
        let mut line = String::new();
        if stdout.read_line(&mut line).expect("read") == 0 {
            panic!("ended before asking: {seen}");
        }
        seen.push_str(&line);
    }
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // A run that does not stop is killed, so that the test fails on the time instead of hanging.
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(20));
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    });
    let mut rest = String::new();
    for line in stdout.lines() {
        rest.push_str(&line.expect("line"));
        rest.push('\n');
    }
    let code = child.wait().expect("wait").code();
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "took {:?} to stop",
        signalled.elapsed()
    );
    assert_eq!(code, Some(1), "{rest}");
    assert!(
        rest.contains("resume with: trailhead --emulator rollout"),
        "{rest}"
    );
}
