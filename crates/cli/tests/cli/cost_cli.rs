//! `trailhead cost` against the emulator: log files of known content in the archive, counted
//! and priced, as a table, JSON and Markdown.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::io::Write;
use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::{Value, json};
use trailhead_e2e::{REGION, emulator, seed};

use super::logs_search::empty_archive;

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).expect("gzip");
    e.finish().expect("gzip")
}

fn record(account: &str, time: &str, category: &str, read_only: bool) -> Value {
    json!({
        "eventVersion": "1.09",
        "eventTime": time,
        "eventSource": "s3.amazonaws.com",
        "eventName": if read_only { "GetObject" } else { "PutObject" },
        "eventCategory": category,
        "readOnly": read_only,
        "awsRegion": REGION,
        "recipientAccountId": account,
    })
}

fn cost(spec: &str, output: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args([
            "--emulator",
            "cost",
            "--org",
            spec,
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-02T23:59:59Z",
            "--output",
            output,
        ])
        .output()
        .expect("run trailhead");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn cost_counts_the_windows_records_and_prices_every_component() {
    let conn = emulator();
    let org = seed(&conn, "cost", 1).await;
    let member = &org.members[0].id;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("org.toml");
    std::fs::write(&spec_path, org.spec_toml("costcli", REGION)).expect("spec");
    let (s3, bucket) = empty_archive(&conn, &org, "costcli").await;
    let day1 = json!({"Records": [
        record(member, "2026-11-01T10:00:00Z", "Management", true),
        record(member, "2026-11-01T10:01:00Z", "Management", true),
        record(member, "2026-11-01T10:02:00Z", "Management", false),
        record(member, "2026-11-01T10:03:00Z", "Data", false),
    ]});
    // Outside the window: listed under its day, never counted.
    let late = json!({"Records": [record(member, "2026-11-03T10:00:00Z", "Management", false)]});
    for (day, body) in [("01", day1), ("03", late)] {
        let key = format!(
            "AWSLogs/{member}/CloudTrail/{REGION}/2026/11/{day}/{member}_CloudTrail_{REGION}_202611{day}T1000Z_abc.json.gz"
        );
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from(gz(&body.to_string())))
            .send()
            .await
            .expect("put log object");
    }
    let spec = spec_path.to_str().expect("utf-8");

    let (ok, stdout, stderr) = cost(spec, "json");
    assert!(ok, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("json");
    let m = &report["measured"];
    assert_eq!(
        (
            &m["management_read"],
            &m["management_write"],
            &m["data_events"],
            &m["files"]
        ),
        (&json!(2.0), &json!(1.0), &json!(1.0), &json!(1.0))
    );
    // Per account, region and day: only the window's day holds records.
    let daily = report["daily"].as_array().expect("daily");
    assert_eq!(daily.len(), 1, "{daily:?}");
    assert_eq!(daily[0]["day"], "2026-11-01");
    assert_eq!(daily[0]["account"], json!(member));
    assert_eq!(daily[0]["management_read"], json!(2.0));
    let lines = report["projection"]["lines"].as_array().expect("lines");
    for l in lines {
        for field in [
            "component",
            "item",
            "volume",
            "unit",
            "unit_price",
            "per",
            "source",
            "monthly_usd",
        ] {
            assert!(!l[field].is_null(), "{field} of {l}");
        }
    }
    assert_eq!(report["projection"]["prices"]["pinned_on"], "2026-12-08");

    let (ok, table, stderr) = cost(spec, "table");
    assert!(ok, "{stderr}");
    assert!(table.contains("measured: 4 events"), "{table}");
    assert!(table.contains("prices: us-east-1 list prices"), "{table}");
    assert!(table.contains("TOTAL"), "{table}");
    assert!(table.contains("top accounts"), "{table}");
    let (ok, markdown, stderr) = cost(spec, "markdown");
    assert!(ok, "{stderr}");
    assert!(markdown.contains("| **total** |"), "{markdown}");
    assert!(
        markdown.contains("(https://aws.amazon.com/cloudtrail/pricing/)"),
        "{markdown}"
    );
}
