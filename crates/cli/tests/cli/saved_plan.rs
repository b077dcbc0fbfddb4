//! A part of the org (`--account`, `--wave`), a saved plan applied exactly or refused, and the
//! NDJSON contract of plan and rollout, as pipelines use them.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use crate::common;

use trailhead_e2e::{REGION, emulator, seed};

use common::trailhead;

fn ndjson(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not NDJSON: {l}: {e}")))
        .collect()
}

/// The accounts that ran a member step (`trail`) in these events.
fn trail_accounts(events: &[serde_json::Value], kind: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == kind && e["step"] == "trail")
        .map(|e| e["account"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_applied_exactly_or_refused_when_spec_or_live_state_moved() {
    let conn = emulator();
    let org = seed(&conn, "saved", 2).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("org.toml");
    let spec_text = org.spec_toml("savedplan", REGION);
    std::fs::write(&spec_path, &spec_text).expect("spec");
    let spec = spec_path.to_str().expect("utf-8");
    let state = dir.path().join("state");
    let state = state.to_str().expect("utf-8");
    let saved = dir.path().join("plan.json");
    let saved = saved.to_str().expect("utf-8");
    let (first, second) = (&org.members[0], &org.members[1]);
    let base = ["--emulator", "plan", "--org", spec, "--state-dir", state];

    // Typos stop before any call.
    let (code, _, stderr) = trailhead(&[&base[..], &["--wave", "nosuch"]].concat());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no wave `nosuch`") && stderr.contains("canary"),
        "{stderr}"
    );
    let (code, _, stderr) = trailhead(&[&base[..], &["--account", "nosuch"]].concat());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no account `nosuch`"), "{stderr}");
    // Known names whose intersection is empty: nothing to run is an error too, not a no-op.
    let (code, _, stderr) = trailhead(&[
        "--emulator",
        "rollout",
        "--org",
        spec,
        "--state-dir",
        state,
        "--output",
        "plain",
        "--account",
        &first.name,
        "--wave",
        "security",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("matches no account"), "{stderr}");
    let runs = std::path::Path::new(state).join("savedplan").join("runs");
    assert!(
        std::fs::read_dir(&runs).map_or(true, |mut d| d.next().is_none()),
        "a selection of nothing left a journal in {}",
        runs.display()
    );
    let (_, _, stderr) = trailhead(&[&base[..], &["--wave", "canary"]].concat());
    assert!(!stderr.contains("error"), "{stderr}");

    // Rows come in the order the rollout reaches accounts: the canaries (sandboxes), then the
    // security wave (log archive, audit), then the rest.
    let (_, stdout, _) = trailhead(&[&base[..], &["--output", "json"]].concat());
    let wave_of = |account: &str| {
        if org
            .members
            .iter()
            .any(|m| m.id == account && m.ou == "Sandbox")
        {
            0
        } else if account == org.log_archive.id || account == org.audit.id {
            1
        } else {
            2
        }
    };
    let order: Vec<usize> = trail_accounts(&ndjson(&stdout), "step_planned")
        .iter()
        .map(|a| wave_of(a))
        .collect();
    assert!(order.len() >= 4, "{stdout}");
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "not in wave order: {order:?}"
    );

    // A plan of one account, by name, saved; JSON rows then one summary record.
    let plan_one = [
        &base[..],
        &["--account", &first.name, "--output", "json", "--out", saved],
    ]
    .concat();
    let (code, stdout, stderr) = trailhead(&plan_one);
    assert_eq!(code, 3, "changes pending\n{stderr}");
    let rows = ndjson(&stdout);
    assert_eq!(
        trail_accounts(&rows, "step_planned"),
        vec![first.id.clone()]
    );
    let last = rows.last().expect("rows");
    assert_eq!(last["event"], "plan_finished", "{last}");
    assert!(
        last["duration_ms"].is_u64() && last["changes"].as_u64() > Some(0),
        "{last}"
    );
    assert!(
        rows.iter()
            .filter(|r| r["event"] == "step_planned")
            .all(|r| r["duration_ms"].is_u64() && r["api_calls"].is_u64()),
        "{stdout}"
    );
    assert_eq!(
        rows[0]["step"], "log-archive account",
        "the archive comes first"
    );

    // An edited spec: refused before any call.
    std::fs::write(&spec_path, format!("{spec_text}\n# edited\n")).expect("edit");
    let apply = [
        "--emulator",
        "rollout",
        "--org",
        spec,
        "--state-dir",
        state,
        "--output",
        "json",
        "--plan",
        saved,
    ];
    let (code, stdout, stderr) = trailhead(&apply);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the spec changed since the plan was made"),
        "{stderr}"
    );
    std::fs::write(&spec_path, &spec_text).expect("restore");

    // Another rollout moves the live state (the shared archive, the other account): refused.
    let (code, stdout, stderr) = trailhead(&[
        "--emulator",
        "rollout",
        "--org",
        spec,
        "--state-dir",
        state,
        "--output",
        "json",
        "--account",
        &second.id,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let events = ndjson(&stdout);
    assert_eq!(events[0]["event"], "run_started", "run_started comes first");
    assert_eq!(events[0]["accounts"], 1, "{}", events[0]);
    assert_eq!(
        trail_accounts(&events, "step_finished"),
        vec![second.id.clone()]
    );
    let archive_calls: u64 = events
        .iter()
        .filter(|e| e["event"] == "step_finished" && e["step"] == "archive bucket")
        .filter_map(|e| e["api_calls"].as_u64())
        .sum();
    assert!(archive_calls > 0, "log-archive steps report their calls");
    let (code, _, stderr) = trailhead(&apply);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the live state moved") && stderr.contains(&org.log_archive.id),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");

    // Planned again, applied as saved: only that account, then nothing left to do.
    let (code, _, stderr) = trailhead(&plan_one);
    assert_eq!(code, 3, "{stderr}");
    let (code, stdout, stderr) = trailhead(&apply);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("the saved plan is current"), "{stderr}");
    assert_eq!(
        trail_accounts(&ndjson(&stdout), "step_finished"),
        vec![first.id.clone()]
    );
    let (code, stdout, _) = trailhead(&[&base[..], &["--account", &first.id]].concat());
    assert_eq!(code, 0, "converged\n{stdout}");
}

/// `plan --output markdown`, as a pull-request comment: the steps a fresh org would create, in
/// a table whose rows name the account, and the exit code that says changes are pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_markdown_plan_is_a_table_fit_for_a_pull_request() {
    let conn = emulator();
    let org = seed(&conn, "mdplan", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("org.toml");
    std::fs::write(&spec_path, org.spec_toml("mdplan", REGION)).expect("spec");
    let spec = spec_path.to_str().expect("utf-8");
    let state = dir.path().join("state");
    let member = &org.members[0].id;
    let (code, stdout, stderr) = trailhead(&[
        "--emulator",
        "plan",
        "--org",
        spec,
        "--state-dir",
        state.to_str().expect("utf-8"),
        "--account",
        member,
        "--output",
        "markdown",
    ]);
    assert_eq!(code, 3, "changes pending: {stderr}");
    assert!(
        stdout.starts_with("### trailhead plan: org `mdplan`"),
        "{stdout}"
    );
    assert!(stdout.contains("step(s) would change"), "{stdout}");
    assert!(
        stdout.contains("| account | region | step | action | changes |"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with(&format!("| {member}")) && l.contains("| trail | create |"))
        .unwrap_or_else(|| panic!("no trail row for {member}: {stdout}"));
    assert!(row.ends_with('|'), "{row}");
    // Every row keeps its five cells: no value breaks the table.
    for line in stdout.lines().filter(|l| l.starts_with("| ")) {
        let unescaped = line.replace("\\|", "");
        assert_eq!(unescaped.matches('|').count(), 6, "{line}");
    }
}
