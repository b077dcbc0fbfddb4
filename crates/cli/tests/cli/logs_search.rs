//! `trailhead logs search` against the emulator: realistic CloudTrail objects in the archive
//! bucket, searched by pattern and time window.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::io::Write;
use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use trailhead_alarms::catalog::Topic;
use trailhead_alarms::samples::samples;
use trailhead_e2e::{REGION, emulator, seed};
use trailhead_provisioner::counter::CallLog;
use trailhead_provisioner::session::{AccessRole, AccountSession};

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).expect("gzip");
    e.finish().expect("gzip")
}

#[tokio::test]
async fn search_finds_matching_records_in_the_window_only() {
    let conn = emulator();
    let org = seed(&conn, "logs", 1).await;
    let member = &org.members[0];
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("org.toml");
    std::fs::write(&spec_path, org.spec_toml("logsearch", REGION)).expect("spec");

    // Write CloudTrail objects into the archive bucket as CloudTrail would.
    let (s3, bucket) = empty_archive(&conn, &org, "logsearch").await;

    let (mut stop_in, _) = samples(Topic::CloudTrailChanges);
    stop_in["eventTime"] = json!("2026-11-01T10:00:00Z");
    stop_in["recipientAccountId"] = json!(member.id);
    let (_, mut describe) = samples(Topic::CloudTrailChanges);
    describe["eventTime"] = json!("2026-11-01T11:00:00Z");
    let mut stop_late = stop_in.clone();
    stop_late["eventTime"] = json!("2026-11-02T09:00:00Z");
    let day1 = json!({"Records": [stop_in, describe]}).to_string();
    let day2 = json!({"Records": [stop_late]}).to_string();
    for (day, body) in [("01", &day1), ("02", &day2)] {
        let key = format!(
            "AWSLogs/{id}/CloudTrail/{REGION}/2026/11/{day}/{id}_CloudTrail_{REGION}_202611{day}T1000Z_abc.json.gz",
            id = member.id
        );
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from(gz(body)))
            .send()
            .await
            .expect("put log object");
    }

    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args([
            "--emulator",
            "logs",
            "search",
            "--org",
            spec_path.to_str().expect("utf-8"),
            "--pattern",
            "{ $.eventName = \"StopLogging\" }",
            "--account",
            &member.id,
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-01T23:59:59Z",
        ])
        .output()
        .expect("run trailhead");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0]["eventName"], "StopLogging");
    assert_eq!(lines[0]["eventTime"], "2026-11-01T10:00:00Z");
    assert!(
        stderr.contains("1/1 object(s), 2 record(s), 1 match(es)"),
        "{stderr}"
    );

    // A two-day window sees the later StopLogging too.
    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args([
            "--emulator",
            "logs",
            "search",
            "--org",
            spec_path.to_str().expect("utf-8"),
            "--pattern",
            "{ $.eventName = \"StopLogging\" }",
            "--account",
            &member.id,
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-03",
        ])
        .output()
        .expect("run trailhead");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

/// The archive bucket a spec named `org_name` expects, created empty in the log-archive account
/// (without a rollout): the tests write CloudTrail's objects into it themselves.
pub(crate) async fn empty_archive(
    conn: &trailhead_provisioner::Connection,
    org: &trailhead_emulator_support::seed::SeededOrg,
    org_name: &str,
) -> (aws_sdk_s3::Client, String) {
    let base = conn.base_config(REGION).await;
    let role = AccessRole::of(
        &trailhead_model::Access {
            role_name: "OrganizationAccountAccessRole".into(),
            external_id: None,
            session_duration_seconds: 3600,
        },
        "test".into(),
    );
    let archive = AccountSession::assume(
        conn,
        &base,
        &org.log_archive.id,
        REGION,
        &role,
        &CallLog::new(),
    )
    .await;
    let s3 = archive.s3();
    let bucket = format!("{org_name}-cloudtrail-{}", org.log_archive.id);
    trailhead_e2e::create_bucket(&s3, &bucket).await;
    (s3, bucket)
}

/// A StopLogging record of `account` in `region` at `time`, as a gzipped CloudTrail object of its
/// own under CloudTrail's key layout.
fn stop_logging_object(account: &str, region: &str, time: &str) -> (String, Vec<u8>) {
    let (mut record, _) = samples(Topic::CloudTrailChanges);
    record["eventTime"] = json!(time);
    record["awsRegion"] = json!(region);
    record["recipientAccountId"] = json!(account);
    let key = format!(
        "AWSLogs/{account}/CloudTrail/{region}/2026/11/01/{account}_CloudTrail_{region}_20261101T1000Z_x.json.gz"
    );
    (key, gz(&json!({ "Records": [record] }).to_string()))
}

fn run_json_lines(args: &[&str]) -> (Vec<serde_json::Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(args)
        .output()
        .expect("run trailhead");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    (lines, stderr)
}

/// Global services' events land under us-east-1, a multi-region trail records regions nobody
/// governs, and root use happens in the management account: search and backtest read all of
/// them unless told to narrow.
#[tokio::test]
async fn search_and_backtest_read_every_region_and_the_management_account_by_default() {
    let conn = emulator();
    let org = seed(&conn, "everywhere", 1).await;
    let member = org.members[0].id.clone();
    let management = org.management_account.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("org.toml");
    std::fs::write(&spec_path, org.spec_toml("everywhere", REGION)).expect("spec");
    let spec = spec_path.to_str().expect("utf-8");

    let (s3, bucket) = empty_archive(&conn, &org, "everywhere").await;
    let objects = [
        stop_logging_object(&member, REGION, "2026-11-01T10:00:00Z"),
        stop_logging_object(&member, "us-east-1", "2026-11-01T10:01:00Z"),
        stop_logging_object(&member, "ap-southeast-2", "2026-11-01T10:02:00Z"),
        stop_logging_object(&management, "us-east-1", "2026-11-01T10:03:00Z"),
    ];
    for (key, body) in objects {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("put log object");
    }
    let window = ["--since", "2026-11-01", "--until", "2026-11-01T23:59:59Z"];
    let search = |more: &[&str]| {
        let mut args = vec!["--emulator", "logs", "search", "--org", spec];
        args.extend(["--pattern", "{ $.eventName = \"StopLogging\" }"]);
        args.extend(window);
        args.extend(more);
        run_json_lines(&args).0
    };
    let regions_of = |lines: &[serde_json::Value]| {
        let mut found: Vec<String> = lines
            .iter()
            .map(|l| format!("{} {}", l["recipientAccountId"], l["awsRegion"]).replace('"', ""))
            .collect();
        found.sort();
        found
    };

    let everything = search(&[]);
    let mut expected = vec![
        format!("{management} us-east-1"),
        format!("{member} ap-southeast-2"),
        format!("{member} eu-west-1"),
        format!("{member} us-east-1"),
    ];
    expected.sort();
    assert_eq!(regions_of(&everything), expected);
    assert_eq!(
        regions_of(&search(&["--event-region", REGION])),
        [format!("{member} eu-west-1")]
    );
    assert_eq!(
        regions_of(&search(&["--account", &management])),
        [format!("{management} us-east-1")]
    );

    // The backtest counts the same four: CloudTrail configuration changes (StopLogging). As the
    // README runs it, with no engine named: the spec has no [athena] table, so it counts here.
    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(["--emulator", "alarms", "backtest", "--org", spec])
        .args(window)
        .output()
        .expect("run trailhead");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("auto: the spec has no [athena] table: counting with the local engine"),
        "{stderr}"
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trail_changes = stdout
        .lines()
        .find(|l| l.contains("CloudTrailConfigChanges"))
        .unwrap_or_else(|| panic!("no CloudTrail changes row:\n{stdout}"));
    assert_eq!(
        trail_changes.split_whitespace().last(),
        Some("4"),
        "{stdout}"
    );
}

/// A typo is refused with every account the archive holds, each once, the management account
/// among them.
#[test]
fn an_unknown_account_lists_each_known_account_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("org.toml");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/org.example.toml");
    std::fs::copy(example, &spec_path).expect("spec");
    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args([
            "logs",
            "search",
            "--org",
            spec_path.to_str().expect("utf-8"),
        ])
        .args([
            "--pattern",
            "{ $.eventName = \"X\" }",
            "--account",
            "nosuch",
        ])
        .output()
        .expect("run trailhead");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let known = stderr
        .split("known: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no list of known accounts: {stderr}"));
    let ids: Vec<&str> = known
        .split(", ")
        .map(|entry| entry.split(' ').next().unwrap_or_default())
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "{stderr}");
    assert!(known.contains("(management)"), "{stderr}");
}

/// A multi-region trail delivers global services' events under us-east-1, with digests signed
/// by us-east-1's key: `logs validate` checks every region that has digests, each against its own
/// region's keys, and an untouched archive validates clean everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_checks_every_region_against_its_own_keys_and_finds_no_false_tampering() {
    let (org, ctx, _state) = trailhead_e2e::rolled_out_org("validall", 1, "").await;
    let member = org.members[0].id.clone();
    let session = ctx.assume(&member, REGION).await;
    trailhead_e2e::deliver_now(true);
    // A global call (IAM: recorded in us-east-1) and a regional one, then their digests.
    session.iam().list_roles().send().await.expect("ListRoles");
    session
        .cloudtrail()
        .describe_trails()
        .send()
        .await
        .expect("DescribeTrails");
    trailhead_e2e::deliver_now(true);
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("org.toml");
    std::fs::write(&spec_path, org.spec_toml_with("validall", REGION, "")).expect("spec");
    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(["--emulator", "logs", "validate", "--org"])
        .arg(&spec_path)
        .args(["--account", &member, "--since", "15m"])
        .output()
        .expect("run trailhead");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains("INVALID"), "{stdout}");
    for region in ["us-east-1", REGION] {
        assert!(
            stdout.contains(&format!("/CloudTrail-Digest/{region}/")),
            "no digest of {region} was validated:\n{stdout}"
        );
    }
}

/// In a pipeline: progress is whole lines (no carriage returns), and a reader that goes away
/// (`| head -1`) stops the scan instead of letting it download every object.
#[tokio::test]
async fn a_closed_stdout_stops_the_scan_and_progress_in_a_log_is_lines() {
    use std::io::BufRead;
    let conn = emulator();
    let org = seed(&conn, "headone", 1).await;
    let member = org.members[0].id.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("org.toml");
    std::fs::write(&spec_path, org.spec_toml("headone", REGION)).expect("spec");
    let (s3, bucket) = empty_archive(&conn, &org, "headone").await;
    // 40 objects of 100 matching records each, about 1.5 MB of output in all: far more than a
    // pipe holds, so the scan cannot finish before the reader has gone.
    let (mut record, _) = samples(Topic::CloudTrailChanges);
    record["eventTime"] = json!("2026-11-01T10:00:00Z");
    record["recipientAccountId"] = json!(member);
    let body = gz(&json!({ "Records": vec![record; 100] }).to_string());
    for n in 0..40 {
        let key = format!(
            "AWSLogs/{member}/CloudTrail/{REGION}/2026/11/01/{member}_CloudTrail_{REGION}_20261101T1000Z_{n:03}.json.gz"
        );
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("put log object");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(["--emulator", "logs", "search", "--org"])
        .arg(&spec_path)
        .args(["--pattern", "{ $.eventName = \"StopLogging\" }"])
        .args(["--since", "2026-11-01", "--until", "2026-11-01T23:59:59Z"])
        .args(["--concurrency", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run trailhead");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a first record");
    assert!(first.contains("StopLogging"), "{first}");
    // `head -1` exits here: the reading end closes.
    let out = child.wait_with_output().expect("trailhead ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains('\r'),
        "carriage returns in a log: {stderr:?}"
    );
    let progress = stderr
        .lines()
        .find(|l| l.starts_with("search: "))
        .unwrap_or_else(|| panic!("no progress line: {stderr}"));
    let fetched: usize = progress
        .trim_start_matches("search: ")
        .split('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unreadable progress: {progress}"));
    assert!(
        fetched < 40,
        "the scan went on after stdout closed: {progress}"
    );
}
