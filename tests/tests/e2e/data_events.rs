//! Data events and Insights: rolled out, read back selector by selector, converged, drift
//! reported by plan and flipped in verify; an object write in a member account reaches the
//! archive as a data event, and CloudTrail's own deliveries into the archive never do.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use aws_sdk_cloudtrail::types::EventSelector;
use aws_sdk_s3::primitives::ByteStream;
use trailhead_alarms::scanners::Scanner;
use trailhead_e2e::{
    REGION, archived_records, create_bucket, deliver_now, planned_changes, roll, rolled_out_org,
    unique,
};
use trailhead_model::Selection;
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::events::EventSink;
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::member::selectors::{
    self, LAMBDA_FUNCTION, NOT_STARTS_WITH, S3_OBJECT, Selector,
};
use trailhead_provisioner::rollout::{RolloutOptions, plan};
use trailhead_provisioner::session::AccountSession;
use trailhead_provisioner::verify::{Verdict, verify, verify_scanner};

const TRAIL_OPTIONS: &str = "insights = [\"ApiCallRateInsight\"]\n\n[trail.data_events]\ns3 = \"WriteOnly\"\nlambda = true\n";

async fn live_selectors(s: &AccountSession, trail: &str) -> (Vec<Selector>, usize) {
    let out = s
        .cloudtrail()
        .get_event_selectors()
        .trail_name(trail)
        .send()
        .await
        .expect("GetEventSelectors");
    let advanced = out
        .advanced_event_selectors()
        .iter()
        .map(selectors::from_sdk)
        .collect();
    (advanced, out.event_selectors().len())
}

/// The records of every log file of `account` in the archive.
async fn delivered_records(
    ctx: &RunCtx,
    la: &str,
    bucket: &str,
    account: &str,
) -> Vec<serde_json::Value> {
    let archive = ctx.assume(la, REGION).await.s3();
    archived_records(&archive, bucket, &format!("AWSLogs/{account}/CloudTrail/")).await
}

fn data_event_on(records: &[serde_json::Value], bucket: &str) -> Vec<String> {
    records
        .iter()
        .filter(|r| r["eventCategory"] == "Data" && r["requestParameters"]["bucketName"] == bucket)
        .map(|r| format!("{} {}", r["eventName"], r["requestParameters"]["key"]))
        .collect()
}

fn cell(
    report: &trailhead_provisioner::verify::VerifyReport,
    account: &str,
    id: &str,
) -> Option<Verdict> {
    report
        .accounts
        .iter()
        .find(|a| a.account_id == account)
        .and_then(|a| a.controls.iter().find(|c| c.id == id))
        .map(|c| c.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_events_and_insights_roll_out_converge_and_leave_the_archive_out() {
    let (org, ctx, _state) = rolled_out_org("dataev", 1, TRAIL_OPTIONS).await;

    let la = org.log_archive.id.clone();
    let member = org.members[0].id.clone();
    let bucket = ctx.spec.log_archive.bucket_name(&ctx.spec.org, &la);
    let trail = ctx.spec.trail.name.clone();
    for account in [&member, &la] {
        let s = ctx.assume(account, REGION).await;
        let (live, basic) = live_selectors(&s, &trail).await;
        assert_eq!(basic, 0, "{account}: basic selectors beside advanced ones");
        assert_eq!(live.len(), 3, "{account}: {}", selectors::text(&live));
        let management = live
            .iter()
            .find(|s| s.is("eventCategory", "Management"))
            .expect("management");
        assert!(
            management.values("readOnly", "Equals").is_empty(),
            "read and write management events"
        );
        let s3 = live
            .iter()
            .find(|s| s.is("resources.type", S3_OBJECT))
            .expect("S3 selector");
        assert_eq!(s3.values("readOnly", "Equals"), ["false"]);
        // The feedback-loop exclusion, on the live selector.
        assert_eq!(
            s3.values("resources.ARN", NOT_STARTS_WITH),
            [
                format!("arn:aws:s3:::{bucket}-access-logs/"),
                format!("arn:aws:s3:::{bucket}/")
            ]
        );
        assert!(
            live.iter()
                .any(|s| s.is("resources.type", LAMBDA_FUNCTION) && s.is("eventCategory", "Data"))
        );
        let insights = s
            .cloudtrail()
            .get_insight_selectors()
            .trail_name(&trail)
            .send()
            .await
            .expect("GetInsightSelectors");
        let kinds: Vec<&str> = insights
            .insight_selectors()
            .iter()
            .filter_map(|i| i.insight_type().map(|t| t.as_str()))
            .collect();
        assert_eq!(kinds, ["ApiCallRateInsight"], "{account}");
    }

    let (again, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(again.ok(), "{:?}", again.failures);
    assert_eq!(
        totals(&ctx.calls.snapshot()).1,
        0,
        "the second run writes nothing"
    );

    // An object write in the member account is a data event; the deliveries into the archive
    // that carry it are not recorded by the log-archive account's trail.
    let member_s3 = ctx.assume(&member, REGION).await.s3();
    let watched = unique("watched").to_lowercase();
    create_bucket(&member_s3, &watched).await;
    member_s3
        .put_object()
        .bucket(&watched)
        .key("invoice.txt")
        .body(ByteStream::from_static(b"42"))
        .send()
        .await
        .expect("PutObject");
    deliver_now(false);
    deliver_now(false);
    let member_records = delivered_records(&ctx, &la, &bucket, &member).await;
    assert_eq!(
        data_event_on(&member_records, &watched),
        ["\"PutObject\" \"invoice.txt\""]
    );
    let archive_records = delivered_records(&ctx, &la, &bucket, &la).await;
    assert!(
        !archive_records.is_empty(),
        "the log-archive account's own trail delivered"
    );
    assert_eq!(
        data_event_on(&archive_records, &bucket),
        Vec::<String>::new()
    );
    assert!(data_event_on(&archive_records, &format!("{bucket}-access-logs")).is_empty());

    let report = verify(&ctx, None).await.expect("verify");
    for account in [&member, &la] {
        assert_eq!(
            cell(&report, account, "S3.22"),
            Some(Verdict::Pass),
            "{account}"
        );
        assert_eq!(
            cell(&report, account, "S3.23"),
            None,
            "reads were not asked for"
        );
        assert_eq!(
            cell(&report, account, "CloudTrail.1"),
            Some(Verdict::Pass),
            "{account}"
        );
    }

    prowler_reads_the_management_selector(&ctx, &member, &trail).await;

    // By hand: back to basic selectors and Insights off in the member account.
    let s = ctx.assume(&member, REGION).await;
    s.cloudtrail()
        .put_event_selectors()
        .trail_name(&trail)
        .event_selectors(
            EventSelector::builder()
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .expect("PutEventSelectors");
    s.cloudtrail()
        .put_insight_selectors()
        .trail_name(&trail)
        .set_insight_selectors(Some(Vec::new()))
        .send()
        .await
        .expect("PutInsightSelectors");
    assert_eq!(
        planned_changes(&ctx).await,
        [(
            member.clone(),
            "trail".to_string(),
            vec![
                "event_selectors".to_string(),
                "insight_selectors".to_string()
            ]
        )]
    );
    let plan_ctx = RunCtx {
        apply: false,
        ..ctx.clone()
    };
    let reports = plan(&plan_ctx, &EventSink::none())
        .await
        .expect("plan")
        .reports;
    let selectors_change = reports
        .iter()
        .flat_map(|r| &r.changes)
        .find(|c| c.field == "event_selectors")
        .expect("selector change");
    // The plan says what turning them back on adds to the month's bill.
    let trail_notes = &reports
        .iter()
        .find(|r| r.account == member && r.step == "trail")
        .expect("the member's trail step")
        .notes;
    assert!(
        trail_notes
            .iter()
            .any(|n| n.starts_with("cost: turning data events on adds about $1.00 a month")),
        "{trail_notes:?}"
    );
    assert!(
        trail_notes
            .iter()
            .any(|n| n.starts_with("cost: turning Insights on adds about $0.1")),
        "{trail_notes:?}"
    );
    assert!(
        selectors_change.from.contains("ReadWriteType All"),
        "{}",
        selectors_change.from
    );
    assert!(
        selectors_change.to.contains("resources.ARN NotStartsWith"),
        "{}",
        selectors_change.to
    );

    let report = verify(&ctx, None).await.expect("verify");
    assert_eq!(cell(&report, &member, "S3.22"), Some(Verdict::Fail));
    assert_eq!(cell(&report, &la, "S3.22"), Some(Verdict::Pass));
    assert_eq!(
        cell(&report, &member, "CloudTrail.1"),
        Some(Verdict::Pass),
        "management events still recorded"
    );

    let (fixed, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(fixed.ok(), "{:?}", fixed.failures);
    let (live, basic) = live_selectors(&s, &trail).await;
    assert_eq!((live.len(), basic), (3, 0));
}

fn prowler_management(report: &trailhead_provisioner::verify::VerifyReport) -> (Verdict, String) {
    let c = report.accounts[0]
        .controls
        .iter()
        .find(|c| c.id == "cloudtrail_multi_region_enabled_logging_management_events")
        .expect("Prowler's management-events check");
    (c.status, c.evidence.clone())
}

/// Prowler accepts an advanced management selector under the console's name alone: the trail
/// bears it, `verify --scanner prowler` passes it, and a selector renamed by hand fails there,
/// shows as drift, and is renamed back by the next rollout.
async fn prowler_reads_the_management_selector(ctx: &RunCtx, member: &str, trail: &str) {
    let only = Selection {
        accounts: vec![member.to_string()],
        waves: Vec::new(),
    };
    let s = ctx.assume(member, REGION).await;
    let (live, _) = live_selectors(&s, trail).await;
    let management = live
        .iter()
        .find(|s| s.is("eventCategory", "Management"))
        .expect("management selector");
    assert_eq!(management.name, selectors::MANAGEMENT_SELECTOR);
    let report = verify_scanner(ctx, &only, Scanner::Prowler)
        .await
        .expect("verify");
    let (status, evidence) = prowler_management(&report);
    assert_eq!(status, Verdict::Pass, "{evidence}");

    let renamed: Vec<_> = live
        .iter()
        .map(|sel| {
            let mut sel = sel.clone();
            if sel.is("eventCategory", "Management") {
                sel.name = "Management events".into();
            }
            selectors::to_sdk(&sel).expect("sdk")
        })
        .collect();
    s.cloudtrail()
        .put_event_selectors()
        .trail_name(trail)
        .set_advanced_event_selectors(Some(renamed))
        .send()
        .await
        .expect("PutEventSelectors");
    let report = verify_scanner(ctx, &only, Scanner::Prowler)
        .await
        .expect("verify");
    let (status, evidence) = prowler_management(&report);
    assert_eq!(status, Verdict::Fail, "{evidence}");
    assert!(
        evidence.contains(selectors::MANAGEMENT_SELECTOR),
        "{evidence}"
    );
    assert_eq!(
        planned_changes(ctx).await,
        [(
            member.to_string(),
            "trail".to_string(),
            vec!["event_selectors".to_string()]
        )]
    );
    let (fixed, _) = roll(ctx, &RolloutOptions::default()).await;
    assert!(fixed.ok(), "{:?}", fixed.failures);
    let report = verify_scanner(ctx, &only, Scanner::Prowler)
        .await
        .expect("verify");
    assert_eq!(prowler_management(&report).0, Verdict::Pass);
}
