//! `verify` on a fresh rollout, then after breaking things in one account: exactly the right
//! cells flip, and what the emulator cannot hold is never reported as passed.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use trailhead_e2e::{
    REGION, confirm_subscriptions, deliver_now, emulator, mfa_device, root_config, run_ctx, seed,
};
use trailhead_provisioner::events::EventSink;
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::rollout::{RolloutOptions, rollout};
use trailhead_provisioner::verify::{Verdict, VerifyReport, verify};

fn cells(r: &VerifyReport) -> BTreeMap<(String, String), Verdict> {
    r.accounts
        .iter()
        .flat_map(|a| {
            a.controls
                .iter()
                .map(move |c| ((a.account_id.clone(), c.id.clone()), c.status))
        })
        .collect()
}

async fn check(ctx: &RunCtx) -> VerifyReport {
    verify(ctx, None)
        .await
        .unwrap_or_else(|e| panic!("verify failed: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_rollout_passes_and_breakage_flips_exactly_the_right_cells() {
    let conn = emulator();
    let org = seed(&conn, "verify", 2).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("ver", REGION), true, state.path());
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = rollout(&ctx, &RolloutOptions::default(), &EventSink::none(), rx)
        .await
        .expect("rollout");
    assert!(outcome.ok());

    // Nobody has confirmed the email subscriptions yet: no alarm reaches anyone.
    let unconfirmed = check(&ctx).await;
    let pending = unconfirmed.accounts[0]
        .controls
        .iter()
        .find(|c| c.id.starts_with("4."))
        .expect("a CIS monitoring control");
    assert_eq!(pending.status, Verdict::Fail);
    assert!(
        pending.evidence.contains("pending confirmation"),
        "{}",
        pending.evidence
    );
    confirm_subscriptions(&org);

    let la = org.log_archive.id.clone();
    let before_mfa = check(&ctx).await;
    let s320 = before_mfa
        .accounts
        .iter()
        .find(|a| a.account_id == la)
        .and_then(|a| a.controls.iter().find(|c| c.id == "S3.20"))
        .expect("S3.20");
    assert_eq!(s320.status, Verdict::Fail);
    assert!(s320.evidence.contains("mfa-delete"), "{}", s320.evidence);
    // The log-archive root user turns MFA Delete on, as `trailhead mfa-delete` does.
    let root_s3 = conn.s3_client(&root_config(&conn, &la).await);
    let (serial, code) = mfa_device(&la);
    let bucket = ctx.spec.log_archive.bucket_name(&ctx.spec.org, &la);
    let site = trailhead_provisioner::error::CallSite::new(&la, REGION, "mfa delete");
    let on = trailhead_provisioner::log_archive::enable_mfa_delete(
        &root_s3, &site, &bucket, &serial, &code,
    )
    .await
    .expect("MFA Delete");
    assert!(on);

    // Every trail delivers what it recorded; CloudTrail.Delivery reads the files back.
    deliver_now(false);
    let baseline = check(&ctx).await;
    assert_eq!(baseline.accounts.len(), 4);
    for ((account, id), verdict) in cells(&baseline) {
        assert_eq!(verdict, Verdict::Pass, "{account} {id}");
    }
    let la_report = baseline
        .accounts
        .iter()
        .find(|a| a.account_id == la)
        .expect("log-archive row");
    // With MFA Delete there is no lifecycle, so S3.13 is not judged.
    assert!(!la_report.controls.iter().any(|c| c.id == "S3.13"));
    for id in ["S3.14", "S3.20", "S3.8", "S3.5", "S3.17", "KMS.4"] {
        assert!(
            la_report.controls.iter().any(|c| c.id == id),
            "{id} missing for the log-archive account"
        );
    }
    let member_report = baseline
        .accounts
        .iter()
        .find(|a| a.account_id == org.members[0].id)
        .expect("member row");
    assert!(
        !member_report.controls.iter().any(|c| c.id == "KMS.4"),
        "archive controls belong to the log-archive account only"
    );
    assert_eq!(
        member_report
            .controls
            .iter()
            .filter(|c| c.id.starts_with("4."))
            .count(),
        15
    );

    // Break things: one member account, and the archive.
    let victim = org.members[1].id.clone();
    let s = ctx.assume(&victim, REGION).await;
    s.cloudtrail()
        .stop_logging()
        .name(&ctx.spec.trail.name)
        .send()
        .await
        .expect("stop logging");
    let filter =
        trailhead_alarms::deployed::selected(ctx.spec.alarms.benchmark, &[])[6].resource_name();
    s.logs()
        .delete_metric_filter()
        .log_group_name(&ctx.spec.trail.log_group_name)
        .filter_name(&filter)
        .send()
        .await
        .expect("delete filter");
    s.logs()
        .put_retention_policy()
        .log_group_name(&ctx.spec.trail.log_group_name)
        .retention_in_days(30)
        .send()
        .await
        .expect("retention");
    // By hand in another member: one alarm's actions turned off (Security Hub CloudWatch.17).
    let quiet = org.members[0].id.clone();
    let alarm =
        trailhead_alarms::deployed::selected(ctx.spec.alarms.benchmark, &[])[0].resource_name();
    ctx.assume(&quiet, REGION)
        .await
        .cloudwatch()
        .disable_alarm_actions()
        .alarm_names(&alarm)
        .send()
        .await
        .expect("disable alarm actions");
    let archive = ctx.assume(&la, REGION).await;
    let key = archive
        .kms()
        .describe_key()
        .key_id(&ctx.spec.log_archive.kms_alias)
        .send()
        .await
        .expect("key");
    let key_id = key.key_metadata().expect("meta").key_id().to_string();
    archive
        .kms()
        .disable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .expect("rotation off");
    archive
        .s3()
        .put_public_access_block()
        .bucket(format!("ver-cloudtrail-{la}"))
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .build(),
        )
        .send()
        .await
        .expect("weaken BPA");

    let after = check(&ctx).await;
    let before = cells(&baseline);
    let now = cells(&after);
    let flipped: BTreeSet<(String, String)> = now
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    for id in ["CloudTrail.1", "4.7", "Drift"] {
        expected.insert((victim.clone(), id.to_string()));
    }
    // StopLogging: CloudTrail.Delivery goes from pass to fail.
    expected.insert((victim.clone(), "CloudTrail.Delivery".to_string()));
    // Retention 30 days: Security Hub CloudWatch.16, in that account only.
    expected.insert((victim.clone(), "CloudWatch.16".to_string()));
    // Disabled actions: CloudWatch.17, and drift the rollout puts back.
    for id in ["CloudWatch.17", "Drift"] {
        expected.insert((quiet.clone(), id.to_string()));
    }
    for id in ["KMS.4", "S3.8", "Drift"] {
        expected.insert((la.clone(), id.to_string()));
    }
    // Every trail delivers to the weakened bucket: CloudTrail.6 fails everywhere.
    for a in org.all_accounts() {
        expected.insert((a.id.clone(), "CloudTrail.6".to_string()));
    }
    assert_eq!(flipped, expected);
    let drift = after
        .accounts
        .iter()
        .find(|a| a.account_id == victim)
        .and_then(|a| a.controls.iter().find(|c| c.id == "Drift"))
        .expect("drift");
    assert!(
        drift.evidence.contains("retention_in_days: 30 → 365"),
        "{}",
        drift.evidence
    );
    assert!(
        drift.evidence.contains("is_logging: false → true"),
        "{}",
        drift.evidence
    );
    let quiet_drift = after
        .accounts
        .iter()
        .find(|a| a.account_id == quiet)
        .and_then(|a| a.controls.iter().find(|c| c.id == "Drift"))
        .expect("drift");
    assert!(
        quiet_drift.evidence.contains("actions_enabled"),
        "{}",
        quiet_drift.evidence
    );
    assert!(after.summary.fail > baseline.summary.fail);
}

/// Another alarm topic in the spec changes one field of every alarm: the plan and verify's
/// drift say so once per account ("alarm_actions of 18 alarms: … → …"), not with every alarm's
/// whole definition.
#[tokio::test]
async fn one_field_changed_on_every_alarm_reads_as_one_grouped_change() {
    let (org, ctx, state) = trailhead_e2e::rolled_out_org("drifttopic", 1, "").await;
    let conn = emulator();
    let spec = org
        .spec_toml("drifttopic", REGION)
        .replace("\"drifttopic-cis-alarms\"", "\"drifttopic-paging\"");
    let changed = run_ctx(&conn, &spec, false, state.path());
    let member = &org.members[0].id;
    let plan = trailhead_provisioner::rollout::plan(&changed, &EventSink::none())
        .await
        .expect("plan");
    let alarms = plan
        .reports
        .iter()
        .find(|r| &r.account == member && r.step == "alarms")
        .expect("the member's alarm step");
    let shown: Vec<String> = alarms.changes.iter().map(ToString::to_string).collect();
    let wanted = ctx.spec.alarms.sns_topic_name.clone();
    let old = format!("arn:aws:sns:{REGION}:{member}:{wanted}");
    let new = format!("arn:aws:sns:{REGION}:{member}:drifttopic-paging");
    let count = trailhead_alarms::deployed::for_spec(&ctx.spec.alarms).len();
    assert_eq!(
        shown,
        [format!("alarm_actions of {count} alarms: {old} → {new}")]
    );

    let report = check(&changed).await;
    let drift = report
        .accounts
        .iter()
        .find(|a| &a.account_id == member)
        .and_then(|a| a.controls.iter().find(|c| c.id == "Drift"))
        .expect("drift");
    assert_eq!(drift.status, Verdict::Fail);
    assert!(
        drift.evidence.contains(&format!(
            "alarms: alarm_actions of {count} alarms: {old} → {new}"
        )),
        "{}",
        drift.evidence
    );
    assert!(drift.evidence.len() < 600, "{}", drift.evidence);
}
