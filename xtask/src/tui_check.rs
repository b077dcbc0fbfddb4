//! `cargo xtask tui-check`: the live view in a real terminal (tmux), against an emulator of its
//! own, checked for what a person must see.

use crate::{root, trailhead_command};
use std::path::PathBuf;
use std::process::Command;

pub(crate) fn tmux(args: &[&str]) -> Result<String, String> {
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
pub(crate) fn wait_for(session: &str, text: &str, secs: u64) -> Result<String, String> {
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
pub(crate) const TUI_CHECK_ACCOUNTS: usize = 2;

/// `cargo xtask demo` (a small org) in a real 100×30 terminal: the view appears, keys work, it
/// exits cleanly.
pub(crate) fn tui_check() -> Result<(), String> {
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
pub(crate) const TUI_CHECK_PORT: u16 = 4611;

pub(crate) fn tui_emulator_dir() -> PathBuf {
    root().join("target").join("emulator-tui-check")
}

/// The environment that points the demo at that emulator, as `NAME=value` words for a shell.
pub(crate) fn tui_emulator() -> Result<String, String> {
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
