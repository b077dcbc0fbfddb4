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
    let written = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    // A command that refuses its input before reading stdin (bad input, exit 2) may be gone
    // already: a closed pipe is its answer, not the test's failure. The exit code says the rest.
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        panic!("write stdin: {e}");
    }
    let out = child.wait_with_output().expect("wait");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    // Every output of every CLI test is scanned: Rust's Debug syntax is never for people.
    for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        if let Some(found) = debug_syntax(text) {
            panic!(
                "`trailhead {}` printed Rust Debug syntax on {stream}: {found}\n{text}",
                args.join(" ")
            );
        }
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// The first line holding Rust Debug syntax: `Some(…)`, `Ok(…)`, `Err(…)`, a bare `None`, or a
/// struct dump such as `Name { field: …`.
pub fn debug_syntax(text: &str) -> Option<&str> {
    text.lines().find(|line| {
        ["Some(", "Ok(", "Err(", "DispatchFailure", "ConnectorError"]
            .iter()
            .any(|m| line.contains(m))
            || line.split_whitespace().any(|w| w == "None" || w == "None,")
            || struct_dump(line)
    })
}

fn struct_dump(line: &str) -> bool {
    line.match_indices(" { ").any(|(i, _)| {
        let before = line[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let after = &line[i + 3..];
        let field: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        before && !field.is_empty() && after[field.len()..].starts_with(": ")
    })
}

pub fn trailhead(args: &[&str]) -> (i32, String, String) {
    trailhead_with_stdin(args, "")
}
