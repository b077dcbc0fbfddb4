//! An organization trail that trailhead did not make (Control Tower's, say), planted in the
//! management account: preflight and plan report where it delivers, what it already records and
//! what a second copy costs; `organization_trail = "skip-covered"` leaves the covered accounts out.
//! Its own test binary: the planted trail is visible to every run of the shared management
//! account while it exists.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_e2e::{REGION, create_bucket, emulator, run_ctx, seed_alone, unique};
use trailhead_model::OrganizationTrailMode;
use trailhead_provisioner::events::EventSink;
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::org_trail::STEP_ORG_TRAIL;
use trailhead_provisioner::preflight::preflight;
use trailhead_provisioner::rollout::plan;

/// Creates a logging, multi-region organization trail in the management account; its name and
/// ARN.
async fn plant_org_trail(ctx: &RunCtx) -> (String, String) {
    let management = ctx.management().await;
    let bucket = unique("org-trail").to_lowercase();
    let s3 = management.s3();
    create_bucket(&s3, &bucket).await;
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:PutObject"],
            "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]
        }]
    });
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .expect("PutBucketPolicy");
    let name = unique("aws-controltower-BaselineCloudTrail");
    let created = management
        .cloudtrail()
        .create_trail()
        .name(&name)
        .s3_bucket_name(&bucket)
        .is_multi_region_trail(true)
        .is_organization_trail(true)
        .send()
        .await
        .expect("CreateTrail");
    management
        .cloudtrail()
        .start_logging()
        .name(&name)
        .send()
        .await
        .expect("StartLogging");
    (name, created.trail_arn().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_trail_is_reported_and_skip_covered_leaves_its_accounts_out() {
    let conn = emulator();
    let org = seed_alone(&conn, "orgtrail", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let spec_text = org.spec_toml("orgtrail", REGION);
    let keep = run_ctx(&conn, &spec_text, false, state.path());
    let skip = run_ctx(
        &conn,
        &org.spec_toml_with(
            "orgtrail",
            REGION,
            "organization_trail = \"skip-covered\"\n",
        ),
        false,
        state.path(),
    );
    assert_eq!(
        skip.spec.trail.organization_trail,
        OrganizationTrailMode::SkipCovered
    );
    let (name, arn) = plant_org_trail(&keep).await;

    let problems = preflight(&keep).await;
    let planned = plan(&keep, &EventSink::none()).await;
    let skipping = plan(&skip, &EventSink::none()).await;
    // Gone before anything is asserted, so that no other run sees it.
    keep.management()
        .await
        .cloudtrail()
        .delete_trail()
        .name(&name)
        .send()
        .await
        .expect("DeleteTrail");

    let warnings: Vec<_> = problems
        .expect("preflight")
        .into_iter()
        .filter(|p| p.message.contains(&arn))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(!warnings[0].blocking);
    let text = &warnings[0].message;
    assert!(text.contains("delivers to s3://org-trail-"), "{text}");
    assert!(
        text.contains("management events are already recorded there"),
        "{text}"
    );
    assert!(
        text.contains("first copy is free") && text.contains("aws.amazon.com/cloudtrail/pricing"),
        "{text}"
    );

    let planned = planned.expect("plan");
    let noted = planned
        .reports
        .iter()
        .find(|r| r.step == STEP_ORG_TRAIL)
        .expect("an organization trail report");
    assert_eq!(noted.account, org.management_account);
    assert!(noted.notes[0].contains(&arn), "{:?}", noted.notes);
    // The monthly difference of the choice: a second copy now, saved with skip-covered.
    assert!(
        noted.notes[0].contains("cost: about $5.00 a month per covered account"),
        "{:?}",
        noted.notes
    );
    let members: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    assert!(planned.skipped.is_empty(), "keep-per-account skips nothing");
    for id in &members {
        assert!(
            planned
                .reports
                .iter()
                .any(|r| &r.account == id && r.step == "trail"),
            "{id} planned"
        );
    }

    let skipping = skipping.expect("plan");
    let saved = skipping
        .reports
        .iter()
        .find(|r| r.step == STEP_ORG_TRAIL)
        .expect("an organization trail report");
    assert!(
        saved.notes[0].contains("no second copy, about $5.00 a month saved per covered account"),
        "{:?}",
        saved.notes
    );
    for id in &members {
        let skipped = skipping
            .skipped
            .iter()
            .find(|s| &s.id == id)
            .expect("skipped");
        assert!(skipped.reason.contains(&arn), "{}", skipped.reason);
        assert!(
            !skipping
                .reports
                .iter()
                .any(|r| &r.account == id && r.step == "trail"),
            "{id} not planned"
        );
    }
}
