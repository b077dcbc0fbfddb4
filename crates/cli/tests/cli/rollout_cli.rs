//! `trailhead plan` and `rollout` as pipelines use them: exit codes, NDJSON events, JUnit.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use crate::common;

use trailhead_e2e::{REGION, emulator, seed};

use common::trailhead;

#[tokio::test]
async fn plan_exit_codes_ndjson_events_and_junit() {
    let conn = emulator();
    let org = seed(&conn, "cli", 2).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("org.toml");
    std::fs::write(&spec, org.spec_toml("clirun", REGION)).expect("spec");
    let spec = spec.to_str().expect("utf-8");
    let state = dir.path().join("state");
    let state = state.to_str().expect("utf-8");
    let junit = dir.path().join("junit.xml");

    let (code, stdout, stderr) =
        trailhead(&["--emulator", "plan", "--org", spec, "--state-dir", state]);
    assert_eq!(
        code, 3,
        "changes pending before the first rollout\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("trail") && stdout.contains("create"),
        "{stdout}"
    );

    let (code, stdout, stderr) = trailhead(&[
        "--emulator",
        "rollout",
        "--org",
        spec,
        "--state-dir",
        state,
        "--output",
        "json",
        "--junit",
        junit.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not NDJSON: {l}: {e}")))
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        kinds.first(),
        Some(&"run_started"),
        "run_started comes first"
    );
    assert_matches_the_documented_schema(&events);
    for k in [
        "run_started",
        "wave_started",
        "account_started",
        "step_started",
        "step_finished",
        "account_finished",
        "gate_finished",
        "wave_finished",
        "run_finished",
    ] {
        assert!(kinds.contains(&k), "no {k} event");
    }
    let step = events
        .iter()
        .find(|e| e["event"] == "step_finished" && e["step"] == "trail")
        .expect("a trail step");
    for field in [
        "account",
        "region",
        "step",
        "action",
        "duration_ms",
        "api_calls",
        "retries",
        "changes",
    ] {
        assert!(
            !step[field].is_null(),
            "step_finished lacks {field}: {step}"
        );
    }
    assert_eq!(step["action"], "create");
    assert_eq!(step["region"], REGION);

    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.starts_with("<?xml"));
    for a in org.all_accounts() {
        assert!(
            xml.contains(&format!("classname=\"{}\" name=\"trail\"", a.id)),
            "no trail test case for {}",
            a.id
        );
    }
    assert!(xml.contains("failures=\"0\""));

    let (code, stdout, _) = trailhead(&[
        "--emulator",
        "plan",
        "--org",
        spec,
        "--state-dir",
        state,
        "--output",
        "json",
    ]);
    assert_eq!(code, 0, "converged: nothing to change\n{stdout}");
    let planned: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    assert!(
        planned
            .iter()
            .filter(|p| p["event"] == "step_planned")
            .all(|p| p["action"] == "no_op" || p["action"] == "pending"),
        "{stdout}"
    );
    assert_eq!(
        planned.last().map(|p| &p["event"]),
        Some(&"plan_finished".into())
    );
    assert_matches_the_documented_schema(&planned);

    // A person sees one line for a converged org (MFA Delete stays pending: it is listed), and
    // -v every step, accounts named beside their ids.
    let (code, stdout, _) = trailhead(&["--emulator", "plan", "--org", spec, "--state-dir", state]);
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains(" no-op"), "{stdout}");
    assert!(
        stdout.contains("unchanged not shown (-v shows them)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("No changes. ") && stdout.contains("account(s) match the spec."),
        "{stdout}"
    );
    let (_, verbose, _) = trailhead(&[
        "--emulator",
        "plan",
        "--org",
        spec,
        "--state-dir",
        state,
        "-v",
    ]);
    assert!(
        verbose.lines().count() > stdout.lines().count() + 10,
        "{verbose}"
    );
    assert!(verbose.contains("-log-archive) "), "{verbose}");
}

/// Every documented event of docs/events.md: its name → its top-level fields. A fields cell
/// lists them in backticks; what follows a colon, and anything in parentheses, describes them.
fn documented_events() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/events.md"))
        .expect("docs/events.md");
    let mut events = std::collections::BTreeMap::new();
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        let [name, fields] = cells[..] else { continue };
        let name = name.trim().trim_matches('`').to_string();
        let head = fields.split(": ").next().unwrap_or_default();
        let mut depth = 0;
        let top: String = head
            .chars()
            .filter(|c| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => return depth == 0,
                }
                false
            })
            .collect();
        let names = top
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        events.insert(name, names);
    }
    events
}

/// Each event's fields are exactly the documented ones: nothing missing, nothing undocumented.
fn assert_matches_the_documented_schema(events: &[serde_json::Value]) {
    let documented = documented_events();
    for e in events {
        let kind = e["event"].as_str().expect("an event field");
        let Some(fields) = documented.get(kind) else {
            panic!("event `{kind}` is not in docs/events.md: {e}");
        };
        let actual: std::collections::BTreeSet<String> = e
            .as_object()
            .expect("an object")
            .keys()
            .filter(|k| *k != "event")
            .cloned()
            .collect();
        assert_eq!(&actual, fields, "`{kind}` differs from docs/events.md: {e}");
    }
}
