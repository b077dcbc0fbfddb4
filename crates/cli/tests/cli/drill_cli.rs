//! `trailhead drill` as a pipeline runs it: bad input refused before any call, the dry run's
//! JSON, the log-archive refusal and the JUnit report of a real drill with its exit code.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use crate::common;

use serde_json::Value;
use trailhead_e2e::{REGION, confirm_subscriptions, emulator, seed};

use common::trailhead;

fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    [base, extra].concat()
}

fn example() -> String {
    format!(
        "{}/../../config/org.example.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn unknown_alarms_and_bad_timeouts_are_refused_before_any_call() {
    let spec = example();
    let (code, _, stderr) = trailhead(&["drill", "--org", &spec, "--alarms", "4.4,9.9"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`9.9` is not a control"), "{stderr}");
    assert!(
        stderr.contains("P.13"),
        "the companions are drillable: {stderr}"
    );
    let (code, _, stderr) = trailhead(&["drill", "--org", &spec, "--timeout", "5x"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the unit must be s, m or h"), "{stderr}");
}

#[tokio::test]
async fn dry_run_then_a_drill_with_junit_and_exit_codes() {
    let conn = emulator();
    let org = seed(&conn, "cli-drill", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("org.toml");
    std::fs::write(&spec, org.spec_toml("clidrill", REGION)).expect("spec");
    let spec = spec.to_str().expect("utf-8");
    let state = dir.path().join("state");
    let state = state.to_str().expect("utf-8");
    let member = org.members[0].id.as_str();
    let base = ["--emulator", "drill", "--org", spec, "--state-dir", state];

    let (code, stdout, stderr) = trailhead(&with(
        &base,
        &["--account", member, "--dry-run", "--output", "json"],
    ));
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["dry_run"], true);
    assert!(
        report["summary"]["planned"]
            .as_u64()
            .is_some_and(|n| n >= 10),
        "{stdout}"
    );

    let (code, _, stderr) = trailhead(&with(
        &base,
        &["--account", &org.log_archive.id, "--dry-run"],
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--allow-log-archive"), "{stderr}");

    let rollout = [
        "--emulator",
        "rollout",
        "--org",
        spec,
        "--state-dir",
        state,
        "--output",
        "json",
        "--yes",
    ];
    let (code, _, stderr) = trailhead(&with(&rollout, &["--drill", "nope"]));
    assert_eq!(
        code, 2,
        "an unknown wave is refused before any call: {stderr}"
    );
    // The rollout succeeds, then its canary drill finds nobody subscribed: exit 4, the report
    // as the last NDJSON event.
    let (code, stdout, stderr) = trailhead(&with(
        &rollout,
        &["--drill", "canary", "--drill-timeout", "60s"],
    ));
    assert_eq!(code, 4, "{stderr}");
    let last: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("ndjson");
    assert_eq!(last["event"], "drill_finished");
    assert!(
        last["report"]["summary"]["broken"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{last}"
    );
    // Nobody confirmed the subscription yet: every drilled alarm stops at link 6.
    let junit = dir.path().join("drill.xml");
    let junit_arg = junit.to_str().expect("utf-8");
    let drill = with(
        &base,
        &[
            "--account",
            member,
            "--alarms",
            "4.4,4.10",
            "--timeout",
            "60s",
            "--output",
            "junit",
            "--out",
            junit_arg,
        ],
    );
    let (code, _, stderr) = trailhead(&drill);
    assert_eq!(code, 4, "{stderr}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.contains("tests=\"2\" failures=\"2\""), "{xml}");
    assert!(xml.contains("no confirmed subscription"), "{xml}");
    confirm_subscriptions(&org);
    let (code, _, stderr) = trailhead(&drill);
    assert_eq!(code, 0, "{stderr}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    // stderr is a log here: a line per account, phase and link, never a carriage return.
    assert!(!stderr.contains('\r'), "{stderr}");
    assert!(stderr.contains("drill: account 1/1 "), "{stderr}");
    for control in ["4.4", "4.10"] {
        assert!(
            stderr.contains(&format!("{control} reached link 6 (subscriber) after ")),
            "{stderr}"
        );
    }
    assert!(stderr.contains(": 2 fired, 0 broken"), "{stderr}");
}
