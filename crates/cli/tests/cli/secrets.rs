//! Secrets never reach the screen: the ExternalId of the spec and the MFA code stay out of every
//! line trailhead prints, in plain and JSON output alike.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use crate::common;

use trailhead_e2e::{REGION, emulator, seed};

const EXTERNAL_ID: &str = "xid-7f3a9c-do-not-print";
const MFA_CODE: &str = "482913";

fn run(args: &[&str], stdin: &str) -> String {
    let (_, stdout, stderr) = common::trailhead_with_stdin(args, stdin);
    format!("{stdout}{stderr}")
}

#[tokio::test]
async fn external_id_and_mfa_code_are_never_printed() {
    let conn = emulator();
    let org = seed(&conn, "secret", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("org.toml");
    let text = org.spec_toml("secret", REGION).replace(
        "[log_archive]",
        &format!("[access]\nexternal_id = \"{EXTERNAL_ID}\"\n\n[log_archive]"),
    );
    std::fs::write(&spec, &text).expect("spec");
    let spec = spec.to_str().expect("utf-8");
    let state = dir.path().join("state");
    let state = state.to_str().expect("utf-8");

    let mut printed = String::new();
    printed.push_str(&run(&["validate", "--org", spec], ""));
    printed.push_str(&run(
        &[
            "--emulator",
            "rollout",
            "--org",
            spec,
            "--state-dir",
            state,
            "--output",
            "json",
        ],
        "",
    ));
    printed.push_str(&run(
        &[
            "--emulator",
            "plan",
            "--org",
            spec,
            "--state-dir",
            state,
            "--output",
            "json",
        ],
        "",
    ));
    printed.push_str(&run(
        &[
            "--emulator",
            "mfa-delete",
            "--org",
            spec,
            "--root-profile",
            "root",
            "--mfa-serial",
            "arn:aws:iam::1:mfa/root",
            "--code-stdin",
        ],
        &format!("{MFA_CODE}\n"),
    ));
    // The commands really ran: a rollout finished and the MFA call was made.
    assert!(printed.contains("run_finished"), "{printed}");
    // The emulator checks the code as S3 does: a made-up one is refused, and not echoed.
    assert!(
        printed.contains("Invalid MFA one time pass code"),
        "{printed}"
    );
    assert!(!printed.contains(EXTERNAL_ID), "the ExternalId was printed");
    assert!(!printed.contains(MFA_CODE), "the MFA code was printed");
    // A bad ExternalId is refused without echoing it.
    let bad = text.replace(EXTERNAL_ID, "secret value with spaces!");
    let bad_path = dir.path().join("bad.toml");
    std::fs::write(&bad_path, bad).expect("spec");
    let out = run(
        &["validate", "--org", bad_path.to_str().expect("utf-8")],
        "",
    );
    assert!(out.contains("external_id may only hold"), "{out}");
    assert!(out.contains("bad.toml:"), "{out}");
    assert!(
        !out.contains("secret value with spaces"),
        "the rejected ExternalId was echoed:\n{out}"
    );
}
