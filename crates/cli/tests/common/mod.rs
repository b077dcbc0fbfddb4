//! Running the `trailhead` binary the way a user or a pipeline does.

#![allow(dead_code, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

/// (exit code, stdout, stderr) of `trailhead ARGS` fed `stdin`, without colour.
pub fn trailhead_with_stdin(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run trailhead");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn trailhead(args: &[&str]) -> (i32, String, String) {
    trailhead_with_stdin(args, "")
}
