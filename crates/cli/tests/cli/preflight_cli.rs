//! `preflight` as a person or a pipeline reads it: every problem marked blocking or warning.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use crate::common;

use trailhead_e2e::{REGION, emulator, emulator_control, seed};

use common::trailhead;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_governed_region_not_enabled_in_an_account_blocks_until_it_is_enabled() {
    let conn = emulator();
    let org = seed(&conn, "optin", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("org.toml");
    let text = org.spec_toml("optin", REGION).replacen(
        &format!("regions = [\"{REGION}\"]"),
        &format!("regions = [\"{REGION}\", \"af-south-1\"]"),
        1,
    );
    assert!(text.contains("af-south-1"), "the seed's regions line moved");
    std::fs::write(&spec, &text).expect("spec");
    let spec = spec.to_str().expect("utf-8");
    let preflight = ["--emulator", "preflight", "--org", spec, "--output", "json"];

    let (code, stdout, stderr) = trailhead(&preflight);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let problems: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .filter(|p: &serde_json::Value| p["event"] == "preflight_problem")
        .collect();
    let disabled: Vec<&serde_json::Value> = problems
        .iter()
        .filter(|p| {
            p["message"]
                .as_str()
                .is_some_and(|m| m.contains("region af-south-1 is not enabled"))
        })
        .collect();
    for a in org.all_accounts() {
        assert!(
            disabled.iter().any(
                |p| p["message"].as_str().unwrap_or_default().contains(&a.id)
                    && p["blocking"] == true
            ),
            "no blocking problem for {}: {stdout}",
            a.id
        );
    }

    // Enabled in every account (as each owner would), the region no longer blocks.
    for a in org.all_accounts() {
        emulator_control(&[
            "enable-region",
            "--account",
            &a.id,
            "--region",
            "af-south-1",
        ]);
    }
    emulator_control(&[
        "enable-region",
        "--account",
        &org.management_account,
        "--region",
        "af-south-1",
    ]);
    let (_, stdout, _) = trailhead(&preflight);
    assert!(
        !stdout.contains("is not enabled"),
        "enabled everywhere: {stdout}"
    );
}
