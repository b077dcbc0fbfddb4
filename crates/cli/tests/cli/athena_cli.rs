//! `trailhead logs athena setup` and `logs search --engine athena` as a user runs them: setup
//! twice (the second writes nothing), the DDL, the SQL `--explain` prints, a refused pattern, and
//! a search whose query names records that are then streamed from the archive, byte for byte.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use crate::common;

use std::io::Write;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use trailhead_e2e::{REGION, emulator, queue_athena_results, seed};
use trailhead_provisioner::counter::CallLog;
use trailhead_provisioner::session::{AccessRole, AccountSession};

use common::trailhead;

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).expect("gzip");
    e.finish().expect("gzip")
}

fn record(name: &str, id: &str, time: &str, account: &str) -> serde_json::Value {
    json!({"eventVersion": "1.09", "eventTime": time, "eventSource": "cloudtrail.amazonaws.com",
           "eventName": name, "awsRegion": REGION, "eventID": id, "recipientAccountId": account,
           "userIdentity": {"type": "AssumedRole", "accountId": account}})
}

#[tokio::test]
async fn athena_setup_explain_and_search_stream_the_named_records() {
    let conn = emulator();
    let org = seed(&conn, "athcli", 1).await;
    let member = org.members[0].id.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("org.toml");
    let spec = format!("{}\n[athena]\n", org.spec_toml("athcli", REGION));
    std::fs::write(&spec_path, spec).expect("spec");
    let spec_arg = spec_path.to_str().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();

    // The DDL, without any call.
    let (code, ddl, err) = trailhead(&["logs", "athena", "setup", "--org", spec_arg, "--print"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        ddl.contains("'projection.account.type'='injected'"),
        "{ddl}"
    );
    assert!(ddl.contains("com.amazon.emr.hive.serde.CloudTrailSerde"));

    let setup = [
        "--emulator",
        "logs",
        "athena",
        "setup",
        "--org",
        spec_arg,
        "--state-dir",
        state_arg,
    ];
    let (code, out, err) = trailhead(&setup);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("glue table") && out.contains("create"),
        "{out}"
    );
    let (code, out, err) = trailhead(&setup);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(" 0 write(s)"), "a second setup wrote:\n{out}");
    let plan = [
        "--emulator",
        "plan",
        "--org",
        spec_arg,
        "--stage",
        "athena",
        "--state-dir",
        state_arg,
    ];
    let (code, out, err) = trailhead(&plan);
    assert_eq!(
        code, 0,
        "a converged Athena stage plans no change:\n{out}\n{err}"
    );
    assert!(
        out.contains("No changes.") && out.contains("0 with changes"),
        "{out}"
    );

    let pattern = r#"{ $.eventName = "StopLogging" }"#;
    let window = ["--since", "2026-11-01", "--until", "2026-11-03"];
    let mut explain = vec!["logs", "search", "--org", spec_arg, "--pattern", pattern];
    explain.extend(["--account", member.as_str(), "--explain"]);
    explain.extend(window);
    let (code, sql, err) = trailhead(&explain);
    assert_eq!(code, 0, "{err}");
    assert!(
        sql.contains(&format!("\"account\" IN ('{member}')")),
        "{sql}"
    );
    assert!(
        sql.contains("\"day\" BETWEEN '2026/11/01' AND '2026/11/03'"),
        "{sql}"
    );
    assert!(
        sql.contains("COALESCE(eventname = 'StopLogging', FALSE)"),
        "{sql}"
    );
    // No --event-region: every region of the partition, so no region predicate narrows the read.
    let every = trailhead_model::rules::regions_of_partition(REGION).len();
    assert!(!sql.contains("\"region\" IN"), "{sql}");
    assert!(
        sql.contains(&format!(
            "-- partitions: 1 account(s) x {every} region(s) x 3 day(s)"
        )),
        "{sql}"
    );
    explain.extend(["--event-region", REGION]);
    let (code, narrowed, err) = trailhead(&explain);
    assert_eq!(code, 0, "{err}");
    assert!(
        narrowed.contains(&format!("\"region\" IN ('{REGION}')"))
            && narrowed.contains("-- partitions: 1 account(s) x 1 region(s) x 3 day(s)"),
        "{narrowed}"
    );

    let refused = r#"{ $.eventName = "x" || $.resources[0].type = "y" }"#;
    let (code, _, err) = trailhead(&[
        "logs",
        "search",
        "--org",
        spec_arg,
        "--pattern",
        refused,
        "--engine",
        "athena",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("at column 24") && err.contains("ARRAY<STRUCT"),
        "{err}"
    );

    // Two log objects in the archive; the query names a record of each.
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
    let bucket = format!("athcli-cloudtrail-{}", org.log_archive.id);
    let first = record("StopLogging", "e1", "2026-11-01T10:00:00Z", &member);
    let other = record("DescribeTrails", "e2", "2026-11-01T10:01:00Z", &member);
    let later = record("StopLogging", "e3", "2026-11-02T09:00:00Z", &member);
    let mut keys = Vec::new();
    for (day, records) in [("01", json!([first, other])), ("02", json!([later]))] {
        let key = format!(
            "AWSLogs/{member}/CloudTrail/{REGION}/2026/11/{day}/{member}_CloudTrail_{REGION}_202611{day}T1000Z_x.json.gz"
        );
        let body = json!({ "Records": records }).to_string();
        archive
            .s3()
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .body(ByteStream::from(gz(&body)))
            .send()
            .await
            .expect("put log object");
        keys.push(key);
    }
    let path = |k: &str| format!("s3://{bucket}/{k}");
    queue_athena_results(
        &org.audit.id,
        REGION,
        &["object", "eventid"],
        &json!([[path(&keys[0]), "e1"], [path(&keys[1]), "e3"]]),
    );
    let mut search = vec![
        "--emulator",
        "logs",
        "search",
        "--org",
        spec_arg,
        "--pattern",
        pattern,
    ];
    search.extend(["--account", member.as_str(), "--engine", "athena"]);
    search.extend(window);
    let (code, out, err) = trailhead(&search);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, [first, later], "{out}");
    assert!(
        err.contains("SUCCEEDED") && err.contains("2 row(s) named 2 object(s)"),
        "{err}"
    );
}
