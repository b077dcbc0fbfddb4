//! `cost` on a rolled-out organization: the projection's event counts are the records the
//! archive holds, counted here independently, and every component is priced with its source.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::io::Write;

use aws_sdk_s3::primitives::ByteStream;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use trailhead_e2e::{
    REGION, archived_records, create_bucket, deliver_now, emulator, queue_athena_results,
    rolled_out_org, run_ctx, seed,
};
use trailhead_provisioner::archive::Window;
use trailhead_provisioner::athena::{AthenaSite, athena_stage};
use trailhead_provisioner::cost::{CostEngine, archive_cost};
use trailhead_provisioner::search::ArchiveScope;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_projection_counts_exactly_the_records_the_archive_holds() {
    let (org, ctx, _state) = rolled_out_org("cost", 1, "").await;
    // Everything recorded up to `until` is delivered before either count reads the archive.
    let until = Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    deliver_now(false);
    let window = Window {
        since: until - SignedDuration::from_hours(24),
        until,
    };
    let archive_id = org.log_archive.id.clone();
    let bucket = ctx.spec.log_archive.bucket_name(&ctx.spec.org, &archive_id);
    let accounts: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    let scope = ArchiveScope {
        spec: ctx.spec.clone(),
        window: window.clone(),
        archive_id: archive_id.clone(),
        bucket: bucket.clone(),
        accounts: accounts.clone(),
        regions: Vec::new(),
    };
    let report = archive_cost(&ctx.conn, &scope, CostEngine::Auto)
        .await
        .expect("cost");
    assert_eq!(report.engine, "local", "{}", report.engine_note);

    let s3 = ctx.assume(&archive_id, REGION).await.s3();
    let (mut read, mut write, mut data) = (0.0, 0.0, 0.0);
    for account in &accounts {
        let prefix = format!("AWSLogs/{account}/CloudTrail/");
        for r in archived_records(&s3, &bucket, &prefix).await {
            let at = r["eventTime"].as_str().unwrap_or_default().to_string();
            if !window.contains(&at) {
                continue;
            }
            match (r["eventCategory"].as_str(), r["readOnly"].as_bool()) {
                (Some("Data"), _) => data += 1.0,
                (_, Some(true)) => read += 1.0,
                _ => write += 1.0,
            }
        }
    }
    let m = &report.measured;
    assert!(
        read + write > 0.0,
        "the rollout's own calls are in the archive"
    );
    assert_eq!(
        (m.management_read, m.management_write, m.data_events),
        (read, write, data)
    );
    assert!(m.files > 0.0 && m.bytes > 0.0);
    assert!(report.by_account.keys().all(|a| accounts.contains(a)));

    // Every component is priced, with its source, and adds up to the total.
    let p = &report.projection;
    for component in [
        "CloudTrail",
        "S3",
        "KMS",
        "CloudWatch Logs",
        "CloudWatch",
        "SNS",
    ] {
        assert!(
            p.lines.iter().any(|l| l.component == component),
            "{component}"
        );
    }
    assert!(
        p.lines
            .iter()
            .all(|l| l.source.starts_with("https://aws.amazon.com/"))
    );
    let sum: f64 = p.lines.iter().map(|l| l.monthly_usd).sum();
    assert!((p.total_usd - sum).abs() < 1e-9);
    let alarms = p.lines.iter().find(|l| l.item == "metric alarms").unwrap();
    let deployed = trailhead_alarms::deployed::for_spec(&ctx.spec.alarms).len();
    // Priced for the accounts whose trails delivered in the window.
    assert_eq!(report.deployment.accounts, report.by_account.len() as u64);
    assert!(
        report.by_account.len() >= 2,
        "{:?}",
        report.by_account.keys()
    );
    assert_eq!(
        alarms.volume,
        (deployed as u64 * report.deployment.accounts) as f64
    );
    // A spec that keeps per-account trails, with no organization trail: no second copy.
    assert!(report.deployment.second_copy_accounts.is_empty());
}

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).expect("gzip");
    e.finish().expect("gzip")
}

/// With `--engine athena` the records are counted by one query over the window's partitions,
/// the files and bytes come from the listing, and the uncompressed size from a sampled ratio.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn athena_counts_the_records_and_the_listing_the_files() {
    let conn = emulator();
    let org = seed(&conn, "costath", 1).await;
    let spec = format!(
        "{}\n[athena]\nstart_date = \"2026-01-01\"\n",
        org.spec_toml("costath", REGION)
    );
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &spec, true, state.path());
    let la = org.log_archive.id.clone();
    let member = org.members[0].id.clone();
    let bucket = ctx.spec.log_archive.bucket_name(&ctx.spec.org, &la);
    let s3 = ctx.assume(&la, REGION).await.s3();
    create_bucket(&s3, &bucket).await;
    athena_stage(&ctx).await.expect("athena setup");
    let body = json!({"Records": [
        {"eventTime": "2026-11-01T10:00:00Z", "recipientAccountId": member, "awsRegion": REGION, "eventCategory": "Management", "readOnly": true},
    ]})
    .to_string();
    let mut stored = 0;
    for n in 0..2 {
        let key = format!(
            "AWSLogs/{member}/CloudTrail/{REGION}/2026/11/01/{member}_CloudTrail_{REGION}_20261101T1000Z_{n}.json.gz"
        );
        let file = gz(&body);
        stored += file.len();
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from(file))
            .send()
            .await
            .expect("put log object");
    }
    // What Athena answers for the window: the test's own rows, counted by kind.
    let site = AthenaSite::of(&ctx.spec, &la).expect("site");
    queue_athena_results(
        &site.query_account,
        REGION,
        &trailhead_alarms::athena::table::VOLUME_COLUMNS,
        &json!([[member, REGION, "2026-11-01", "1200", "300", "45", "0", "0"]]),
    );
    let scope = ArchiveScope {
        spec: ctx.spec.clone(),
        window: Window {
            since: "2026-11-01T00:00:00Z".parse().expect("since"),
            until: "2026-11-02T00:00:00Z".parse().expect("until"),
        },
        archive_id: la,
        bucket,
        accounts: vec![member.clone()],
        regions: vec![REGION.to_string()],
    };
    let report = archive_cost(&ctx.conn, &scope, CostEngine::Athena)
        .await
        .expect("cost");
    assert_eq!(report.engine, "athena");
    let m = &report.measured;
    assert_eq!(
        (m.management_read, m.management_write, m.data_events),
        (1200.0, 300.0, 45.0)
    );
    assert_eq!((m.files, m.bytes), (2.0, stored as f64));
    // The uncompressed size, from the two files' own compression ratio.
    assert!(
        m.raw_bytes > 0.0 && (m.raw_bytes - (2 * body.len()) as f64).abs() < 1.0,
        "{}",
        m.raw_bytes
    );
    assert_eq!(report.by_account.keys().collect::<Vec<_>>(), [&member]);
}
