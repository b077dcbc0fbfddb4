//! `trailhead logs search` against the emulator: realistic CloudTrail objects in the archive
//! bucket, searched by pattern and time window.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
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
    let base = conn.base_config(REGION).await;
    let role = AccessRole {
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_duration: Duration::from_secs(3600),
        run_id: "test".into(),
        propagation_wait: Duration::from_secs(10),
        first_attempts: Default::default(),
    };
    let archive = AccountSession::assume(
        &conn,
        &base,
        &org.log_archive.id,
        REGION,
        &role,
        &CallLog::new(),
    )
    .await;
    let s3 = archive.s3();
    let bucket = format!("logsearch-cloudtrail-{}", org.log_archive.id);
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .expect("create bucket");

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
