//! `trailhead alarms …` as other tooling calls it: list, match and test.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use crate::common;

use std::io::Write;

use serde_json::{Value, json};
use trailhead_alarms::catalog::Topic;
use trailhead_alarms::samples::{record, samples};

fn trailhead(args: &[&str], stdin: &str) -> (i32, String, String) {
    common::trailhead_with_stdin(args, stdin)
}

#[test]
fn list_prints_the_catalog_as_json() {
    let (code, stdout, _) = trailhead(
        &[
            "alarms",
            "list",
            "--benchmark",
            "securityhub",
            "--output",
            "json",
        ],
        "",
    );
    assert_eq!(code, 0);
    let list: Vec<Value> = serde_json::from_str(&stdout).expect("json");
    // CloudWatch.1–14 and the Organizations companion Prowler needs (Security Hub has none).
    assert_eq!(list.len(), 15);
    assert_eq!(list[14]["id"], "P.15");
    assert!(
        list[14]["warning"]
            .as_str()
            .is_some_and(|w| w.contains("Prowler"))
    );
    assert_eq!(list[1]["id"], "CloudWatch.2");
    assert_eq!(list[1]["benchmark"], "securityhub");
    assert_eq!(
        list[1]["pattern"],
        r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#
    );
    let (_, table, _) = trailhead(&["alarms", "list", "--benchmark", "cis-1.4"], "");
    assert!(
        table.contains("warning: this CIS v1.3–v1.5 pattern"),
        "{table}"
    );
    // The extended set lists like a benchmark, without scanner companions of its own.
    let (code, stdout, _) = trailhead(
        &[
            "alarms",
            "list",
            "--benchmark",
            "extended",
            "--output",
            "json",
        ],
        "",
    );
    assert_eq!(code, 0);
    let list: Vec<Value> = serde_json::from_str(&stdout).expect("json");
    let ids: Vec<&str> = list.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, ["E.1", "E.2", "E.3", "E.4", "E.5"]);
    assert!(
        list[0]["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("PutEventSelectors"))
    );
}

#[test]
fn list_says_who_checks_each_control_and_which_benchmark_to_choose() {
    let (code, stdout, _) = trailhead(
        &[
            "alarms",
            "list",
            "--benchmark",
            "cis-5.0",
            "--output",
            "json",
        ],
        "",
    );
    assert_eq!(code, 0);
    let list: Vec<Value> = serde_json::from_str(&stdout).expect("json");
    let sg = list.iter().find(|c| c["id"] == "4.10").expect("4.10");
    let by = &sg["checked_by"];
    assert_eq!(by["cis"]["version"], "v5.0.0");
    assert_eq!(by["cis"]["level"], 2);
    assert_eq!(by["cis"]["assessment"], "Manual");
    assert_eq!(by["security_hub"]["control"], "CloudWatch.10");
    // ModifySecurityGroupRules is a term Security Hub's CIS v1.2.0 string does not have.
    assert_eq!(by["security_hub"]["passes"], false);
    assert_eq!(
        by["prowler"]["check"],
        "cloudwatch_log_metric_filter_security_group_changes"
    );
    assert_eq!(by["prowler"]["passes"], true);
    // A companion exists for one scanner: no CIS item of its own.
    let companion = list.iter().find(|c| c["id"] == "P.13").expect("P.13");
    assert!(companion["checked_by"]["cis"].is_null());
    assert_eq!(companion["checked_by"]["prowler"]["passes"], true);

    let (_, table, _) = trailhead(&["alarms", "list", "--benchmark", "cis-7.0"], "");
    assert!(
        table.contains("cis: v7.0.0 5.1 (Level 2, Manual)"),
        "{table}"
    );
    assert!(table.contains("sso-console-login"), "{table}");
    assert!(table.contains("Which benchmark:"), "{table}");
    assert!(table.contains("cis-5.0      the default"), "{table}");
}

#[test]
fn match_prints_one_verdict_per_line() {
    let input = "{\"errorCode\":\"AccessDeniedException\"}\nplain text AccessDenied\n{\"errorCode\":\"Other\"}\n\n";
    let (code, stdout, _) = trailhead(
        &[
            "alarms",
            "match",
            "--pattern",
            "{ $.errorCode = \"AccessDenied*\" }",
        ],
        input,
    );
    assert_eq!(code, 0);
    assert_eq!(stdout, "true\nfalse\nfalse\nfalse\n");
    let (code, stdout, _) = trailhead(&["alarms", "match", "--pattern", "AccessDenied"], input);
    assert_eq!(code, 0);
    assert_eq!(stdout, "true\ntrue\nfalse\nfalse\n");
}

#[test]
fn an_invalid_pattern_exits_2_with_its_column() {
    let (code, stdout, stderr) =
        trailhead(&["alarms", "match", "--pattern", "{ $.a = 1 && }"], "x\n");
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("column 14"), "{stderr}");
    assert!(stderr.contains("expected a selector"), "{stderr}");
}

#[test]
fn test_replays_gzip_json_and_ndjson_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/01");
    std::fs::create_dir_all(&nested).expect("mkdir");

    let (root, not_root) = samples(Topic::RootAccountUsage);
    let (stop, describe) = samples(Topic::CloudTrailChanges);
    let file = json!({ "Records": [root, not_root, stop, describe] });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(file.to_string().as_bytes()).expect("gzip");
    std::fs::write(nested.join("a.json.gz"), gz.finish().expect("gzip")).expect("write");

    let (login, _) = samples(Topic::ConsoleSignInWithoutMfa);
    let other = record("s3.amazonaws.com", "ListBuckets", json!({}));
    let ndjson = format!("{login}\nnot json at all\n{other}\n");
    std::fs::write(dir.path().join("b.ndjson"), ndjson).expect("write");

    let path = dir.path().to_str().expect("utf-8");
    let (code, stdout, stderr) = trailhead(
        &[
            "alarms",
            "test",
            "--benchmark",
            "cis-3.0",
            "--output",
            "json",
            path,
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["files"], 2);
    assert_eq!(report["records"], 6);
    assert_eq!(report["unreadable"], 1);
    let count = |id: &str| {
        report["alarms"]
            .as_array()
            .expect("alarms")
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["matched"].as_u64().expect("count"))
            .expect("alarm present")
    };
    assert_eq!(count("4.3"), 1, "root usage");
    assert_eq!(count("4.5"), 1, "StopLogging");
    assert_eq!(count("4.2"), 1, "console sign-in without MFA");
    assert_eq!(count("4.8"), 0);
    let root_alarm = report["alarms"]
        .as_array()
        .expect("alarms")
        .iter()
        .find(|a| a["id"] == "4.3")
        .expect("4.3");
    assert_eq!(root_alarm["examples"][0]["event_name"], "CreateAccessKey");
    assert_eq!(root_alarm["examples"][0]["account"], "111122223333");
    assert!(
        stderr.contains("replayed 6 record(s) from 2 file(s)"),
        "{stderr}"
    );
}
