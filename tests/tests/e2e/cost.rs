//! `cost` on a rolled-out organization: the projection's event counts are the records the
//! archive holds, counted here independently, and every component is priced with its source.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use jiff::{SignedDuration, Timestamp};
use trailhead_e2e::{REGION, archived_records, deliver_now, rolled_out_org};
use trailhead_provisioner::archive::Window;
use trailhead_provisioner::cost::archive_cost;
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
    let report = archive_cost(&ctx.conn, &scope).await.expect("cost");

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
