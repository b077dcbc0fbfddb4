//! The scanners' verdicts on what a rollout made, beyond the metric filters: CIS's SSO variant
//! of the console sign-in alarm (opt-in, replaced in place, accepted by the CIS audit and
//! Prowler), and Prowler's and Security Hub's CloudTrail checks of the trail, each failing on the
//! account changed by hand only.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_alarms::scanners::Scanner;
use trailhead_e2e::{REGION, deliver_now, planned_changes, roll, rolled_out_org, run_ctx};
use trailhead_model::Selection;
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::rollout::RolloutOptions;
use trailhead_provisioner::verify::{Verdict, verify_scanner};

/// (account, check id) of every check `scanner` does not pass.
async fn failing(ctx: &RunCtx, scanner: Scanner) -> Vec<(String, String, String)> {
    deliver_now(false);
    let report = verify_scanner(ctx, &Selection::default(), scanner)
        .await
        .expect("verify");
    report
        .accounts
        .iter()
        .flat_map(|a| {
            a.controls
                .iter()
                .filter(|c| c.status != Verdict::Pass)
                .map(|c| (a.account_id.clone(), c.id.clone(), c.evidence.clone()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sso_variant_replaces_the_sign_in_filter_in_place_and_passes_the_scanners() {
    let (org, ctx, state) = rolled_out_org("sso-variant", 1, "").await;
    let spec = org.spec_toml("sso-variant", REGION).replace(
        "benchmark = \"cis-5.0\"",
        "benchmark = \"cis-5.0\"\nvariants = [\"sso-console-login\"]",
    );
    assert!(spec.contains("sso-console-login"));
    let sso = run_ctx(&trailhead_e2e::emulator(), &spec, true, state.path());
    // One change per account: the sign-in filter, under its own name (no filter added or left).
    let changes = planned_changes(&sso).await;
    assert_eq!(changes.len(), org.all_accounts().count(), "{changes:?}");
    assert!(
        changes
            .iter()
            .all(|(_, resource, fields)| resource == "metric filters" && fields.len() == 1),
        "{changes:?}"
    );
    let (outcome, _) = roll(&sso, &RolloutOptions::default()).await;
    assert!(outcome.ok(), "{:?}", outcome.failures);
    let ids: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    trailhead_e2e::assert_converged_without_duplicates(&sso.conn, &spec, &ids).await;
    let member = &org.members[0].id;
    let session = sso.assume(member, REGION).await;
    let filters = session
        .logs()
        .describe_metric_filters()
        .log_group_name(&sso.spec.trail.log_group_name)
        .filter_name_prefix("trailhead-cis-5.0-4.2-")
        .send()
        .await
        .expect("filters");
    let patterns: Vec<&str> = filters
        .metric_filters()
        .iter()
        .filter_map(|f| f.filter_pattern())
        .collect();
    assert_eq!(patterns.len(), 1);
    assert!(patterns[0].contains("\"IAMUser\""), "{patterns:?}");
    assert!(planned_changes(&sso).await.is_empty(), "converged");
    for scanner in [Scanner::Cis, Scanner::Prowler] {
        let failing = failing(&sso, scanner).await;
        assert!(failing.is_empty(), "{}: {failing:#?}", scanner.id());
    }
    // The plain spec puts the benchmark's own string back, in place.
    assert_eq!(planned_changes(&ctx).await.len(), changes.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloudtrail_checks_fail_only_the_account_whose_trail_was_changed_by_hand() {
    let (org, ctx, _state) = rolled_out_org("trail-checks", 1, "").await;
    for scanner in [Scanner::Prowler, Scanner::SecurityHub] {
        let failing = failing(&ctx, scanner).await;
        assert!(failing.is_empty(), "{}: {failing:#?}", scanner.id());
    }
    let member = org.members[0].id.clone();
    let session = ctx.assume(&member, REGION).await;
    session
        .cloudtrail()
        .update_trail()
        .name(&ctx.spec.trail.name)
        .enable_log_file_validation(false)
        .send()
        .await
        .expect("UpdateTrail");
    let prowler = failing(&ctx, Scanner::Prowler).await;
    let ids: Vec<(&str, &str)> = prowler
        .iter()
        .map(|(a, id, _)| (a.as_str(), id.as_str()))
        .collect();
    assert_eq!(
        ids,
        [(member.as_str(), "cloudtrail_log_file_validation_enabled")]
    );
    assert!(prowler[0].2.contains("log file validation disabled"));
    let security_hub = failing(&ctx, Scanner::SecurityHub).await;
    let ids: Vec<(&str, &str)> = security_hub
        .iter()
        .map(|(a, id, _)| (a.as_str(), id.as_str()))
        .collect();
    assert_eq!(ids, [(member.as_str(), "CloudTrail.4")]);

    let (fixed, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(fixed.ok(), "{:?}", fixed.failures);
    assert!(failing(&ctx, Scanner::Prowler).await.is_empty());
}
