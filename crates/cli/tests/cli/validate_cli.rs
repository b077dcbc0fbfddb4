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

#[test]
fn settings_short_of_the_benchmark_warn_and_strict_makes_them_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("org.toml");
    let text = std::fs::read_to_string(example())
        .unwrap()
        .replace("benchmark = \"cis-5.0\"", "benchmark = \"cis-1.4\"")
        .replace("multi_region = true", "multi_region = false")
        .replace("log_file_validation = true", "log_file_validation = false")
        .replace(
            "management_events = \"All\"",
            "management_events = \"WriteOnly\"",
        );
    std::fs::write(&path, &text).unwrap();
    let org = path.to_str().unwrap();
    let (code, stdout, stderr) = trailhead(&["validate", "--org", org]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("valid"), "{stdout}");
    // The four settings, and cis-1.4 is also older than the default.
    assert_eq!(stderr.matches("warning:").count(), 5, "{stderr}");
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, what) in [
        ("multi_region = false", "single-region"),
        ("log_file_validation = false", "log file validation"),
        (
            "management_events = \"WriteOnly\"",
            "only read or only write",
        ),
        ("benchmark = \"cis-1.4\"", "fires constantly"),
        ("benchmark = \"cis-1.4\"", "cis-1.4 is older than cis-5.0"),
    ] {
        assert!(stderr.contains(what), "{stderr}");
        assert!(
            stderr.contains(&format!("org.toml:{}:", line_of(needle))),
            "{needle}: {stderr}"
        );
    }
    let (code, stdout, stderr) = trailhead(&["validate", "--strict", "--org", org]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!stdout.contains("valid"), "{stdout}");
    assert!(stderr.contains("--strict: 5 warning(s)"), "{stderr}");
}

#[test]
fn an_older_or_unnamed_benchmark_warns_and_variants_are_checked_against_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("org.toml");
    let example = std::fs::read_to_string(example()).unwrap();
    let org = path.to_str().unwrap();
    let validate = |text: &str| {
        std::fs::write(&path, text).unwrap();
        trailhead(&["validate", "--org", org])
    };
    // The example pins the default: no warning about the benchmark.
    let (code, _, stderr) = validate(&example);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("benchmark"), "{stderr}");

    let older = example.replace("benchmark = \"cis-5.0\"", "benchmark = \"cis-3.0\"");
    let (code, _, stderr) = validate(&older);
    assert_eq!(code, 0, "{stderr}");
    let row = older.lines().position(|l| l.contains("cis-3.0")).unwrap() + 1;
    assert!(stderr.contains(&format!("org.toml:{row}:13")), "{stderr}");
    assert!(stderr.contains("ModifySecurityGroupRules"), "{stderr}");

    let unnamed = example.replace("benchmark = \"cis-5.0\"\n", "");
    let (code, _, stderr) = validate(&unnamed);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("no `benchmark`: cis-5.0 is deployed"),
        "{stderr}"
    );

    let sso = example.replace(
        "benchmark = \"cis-5.0\"",
        "benchmark = \"cis-5.0\"\nvariants = [\"sso-console-login\"]",
    );
    let (code, _, stderr) = validate(&sso);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("variant"), "{stderr}");
    let (code, _, stderr) = validate(&sso.replace("cis-5.0", "cis-1.2"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("CIS published it with v1.3.0"), "{stderr}");
    let (code, _, stderr) = validate(&sso.replace("sso-console-login", "sso-login"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unknown alarm variant `sso-login`"),
        "{stderr}"
    );
}

#[test]
fn an_opt_in_region_warns_where_it_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("org.toml");
    let text = std::fs::read_to_string(example()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("regions = ["))
        .expect("a regions line")
        .to_string();
    let text = text.replacen(&line, "regions = [\"eu-west-1\", \"af-south-1\"]", 1);
    std::fs::write(&path, &text).unwrap();
    let (code, _, stderr) = trailhead(&["validate", "--org", path.to_str().unwrap()]);
    assert_eq!(code, 0, "a warning, not an error: {stderr}");
    let row = text.lines().position(|l| l.contains("af-south-1")).unwrap() + 1;
    let column = text
        .lines()
        .nth(row - 1)
        .unwrap()
        .find("\"af-south-1\"")
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("org.toml:{row}:{column}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("`af-south-1` is an opt-in region") && stderr.contains("preflight"),
        "{stderr}"
    );
}
