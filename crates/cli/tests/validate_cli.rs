//! `trailhead validate` as a user runs it: exit codes and what it prints.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::process::Command;

fn trailhead(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(args)
        .env("NO_COLOR", "1")
        // A validation must never need credentials or an endpoint.
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ACCESS_KEY_ID", "")
        .output()
        .expect("run trailhead");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example() -> String {
    format!(
        "{}/../../config/org.example.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn the_example_spec_is_valid() {
    let (code, stdout, _) = trailhead(&["validate", "--org", &example()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("valid"), "{stdout}");
}

#[test]
fn a_bad_spec_exits_2_with_every_error_located() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("org.toml");
    let text = std::fs::read_to_string(example())
        .expect("example")
        .replace("home_region = \"eu-west-1\"", "home_region = \"eu-wset-1\"")
        .replace("id = \"444444444444\"", "id = \"4444\"");
    std::fs::write(&path, &text).expect("write");
    let (code, _, stderr) = trailhead(&["validate", "--org", path.to_str().expect("utf-8 path")]);
    assert_eq!(code, 2, "{stderr}");
    let shown = path.display().to_string();
    assert!(stderr.contains(&format!("{shown}:7:15")), "{stderr}");
    assert!(stderr.contains("did you mean `eu-west-1`?"), "{stderr}");
    assert!(stderr.contains("must be exactly 12 digits"), "{stderr}");
    assert!(stderr.contains("2 error(s)"), "{stderr}");
}

#[test]
fn a_missing_file_is_bad_input() {
    let (code, _, stderr) = trailhead(&["validate", "--org", "/nonexistent/org.toml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read the org spec /nonexistent/org.toml"),
        "{stderr}"
    );
}

#[test]
fn an_empty_file_gets_one_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.toml");
    std::fs::write(&path, "").expect("write");
    let (code, _, stderr) = trailhead(&["validate", "--org", path.to_str().expect("utf-8 path")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("the org spec is empty"), "{stderr}");
    assert!(stderr.contains("1 error(s)"), "{stderr}");
}
