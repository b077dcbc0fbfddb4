//! `trailhead drill` against the emulator: every drillable CIS alarm fires through all six
//! links and nothing tagged is left behind; breaking one link of one alarm flips exactly that
//! alarm to "broken at link K"; the log-archive account is refused; `--cleanup` removes what
//! an interrupted drill left; the scanners users run afterwards pass, each by its own rule; the
//! extended set rolls out, converges and drills.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use tokio::sync::watch;
use trailhead_alarms::scanners::Scanner;
use trailhead_e2e::{
    REGION, assert_converged_without_duplicates, confirm_subscriptions, deliver_now, emulator,
    roll, rolled_out_org, run_ctx, seed,
};
use trailhead_model::Selection;
use trailhead_provisioner::drill::DRILL_TAG;
use trailhead_provisioner::drill::{
    AlarmResult, DrillOptions, DrillProgress, DrillReport, Outcome, Phase, ProgressSink,
    cleanup_leftovers, drill, leftovers,
};
use trailhead_provisioner::error::CallSite;
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::rollout::RolloutOptions;
use trailhead_provisioner::session::AccountSession;
use trailhead_provisioner::verify::Verdict;
use trailhead_provisioner::verify::verify_scanner;

fn options(account: &str, only: &[&str]) -> DrillOptions {
    DrillOptions {
        selection: Selection {
            accounts: vec![account.to_string()],
            waves: Vec::new(),
        },
        only: only.iter().map(|s| s.to_string()).collect(),
        timeout: Duration::from_secs(60),
        include_org_changes: false,
        allow_log_archive: false,
        dry_run: false,
    }
}

/// Drills, and checks that what the progress told a watcher is what the report says: each link
/// every alarm reached, and each account's counts.
async fn run(ctx: &RunCtx, opts: &DrillOptions) -> DrillReport {
    let (_keep, interrupted) = watch::channel(false);
    let (progress, mut events) = ProgressSink::channel();
    let report = drill(ctx, opts, interrupted, &progress)
        .await
        .expect("the drill runs");
    drop(progress);
    let (mut told, mut done) = (BTreeSet::new(), BTreeMap::new());
    let mut phases = Vec::new();
    while let Some(event) = events.recv().await {
        match event {
            DrillProgress::Link {
                account,
                control,
                link,
                ..
            } => {
                told.insert((account, control, link));
            }
            DrillProgress::AccountDone {
                account,
                fired,
                broken,
                ..
            } => {
                done.insert(account, (fired, broken));
            }
            DrillProgress::Phase { phase, .. } => phases.push(phase),
            DrillProgress::Account { .. } => {}
        }
    }
    let reached: BTreeSet<(String, String, usize)> = report
        .accounts
        .iter()
        .flat_map(|a| {
            a.alarms.iter().flat_map(move |r| {
                r.latencies
                    .iter()
                    .map(move |l| (a.account_id.clone(), r.control.clone(), l.link))
            })
        })
        .collect();
    assert_eq!(told, reached, "the links told as they were seen");
    for a in &report.accounts {
        let count = |o: Outcome| a.alarms.iter().filter(|r| r.outcome == o).count();
        assert_eq!(
            done.get(&a.account_id),
            Some(&(count(Outcome::Fired), count(Outcome::Broken)))
        );
    }
    if !opts.dry_run {
        assert_eq!(
            &phases[..3],
            [Phase::Settling, Phase::Probes, Phase::Following]
        );
    }
    report
}

fn result<'a>(report: &'a DrillReport, control: &str) -> &'a AlarmResult {
    report.accounts[0]
        .alarms
        .iter()
        .find(|a| a.control == control)
        .unwrap_or_else(|| panic!("no result for {control}"))
}

async fn tagged_leftovers(session: &AccountSession) -> Vec<String> {
    let site = CallSite::new(&session.account_id, REGION, "test");
    leftovers(session, &site)
        .await
        .expect("leftovers listed")
        .iter()
        .map(|r| r.label())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_drillable_cis_alarm_fires_through_six_links_and_nothing_is_left_behind() {
    let (org, ctx, _state) = rolled_out_org("drill-fires", 1, "").await;
    confirm_subscriptions(&org);
    let member = &org.members[0].id;
    let report = run(&ctx, &options(member, &[])).await;

    let alarms = &report.accounts[0].alarms;
    let fired: Vec<&AlarmResult> = alarms
        .iter()
        .filter(|a| a.outcome == Outcome::Fired)
        .collect();
    // CIS 5.0 4.1–4.15 and the companions S.2, S.10 and P.13, less the three console/root ones
    // (offline), Config (4.9, never touched) and Organizations (4.15 and P.15, management only).
    assert_eq!(fired.len(), 13, "{alarms:#?}");
    for a in &fired {
        let links: Vec<usize> = a.latencies.iter().map(|l| l.link).collect();
        assert_eq!(
            links,
            [1, 2, 3, 4, 5, 6],
            "{} lacks a link latency",
            a.control
        );
        assert!(
            a.latencies
                .iter()
                .all(|l| l.seconds >= 0.0 && l.seconds < 60.0)
        );
    }
    for offline in ["4.2", "4.3", "4.6"] {
        assert_eq!(result(&report, offline).outcome, Outcome::Offline);
    }
    for not_drillable in ["4.9", "4.15", "P.15"] {
        assert_eq!(
            result(&report, not_drillable).outcome,
            Outcome::NotDrillable
        );
    }
    assert!(!report.failed(), "{report:#?}");
    assert!(report.accounts[0].leftovers.is_empty());
    let session = ctx.assume(member, REGION).await;
    assert_eq!(tagged_leftovers(&session).await, Vec::<String>::new());
    every_call_is_granted(&ctx);

    // The scanners users run afterwards pass on every account, each by its own rule.
    let all = Selection::default();
    for scanner in [Scanner::Prowler, Scanner::SecurityHub, Scanner::Cis] {
        let (failing, accounts) = failing_under(&ctx, &all, scanner).await;
        assert!(failing.is_empty(), "{}: {failing:#?}", scanner.id());
        assert_eq!(accounts, org.all_accounts().count());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prowler_fails_an_account_without_the_companions_and_says_what_is_missing() {
    let (org, ctx, _state) = rolled_out_org("scanner-gap", 1, "").await;
    let member = &org.members[0].id;
    let session = ctx.assume(member, REGION).await;
    let companion = trailhead_provisioner::rollout::controls(&ctx)
        .expect("controls")
        .into_iter()
        .find(|c| c.id == "P.13")
        .expect("the route-table companion");
    session
        .logs()
        .delete_metric_filter()
        .log_group_name(&ctx.spec.trail.log_group_name)
        .filter_name(companion.resource_name())
        .send()
        .await
        .expect("companion deleted");
    let only = Selection {
        accounts: vec![member.clone()],
        waves: Vec::new(),
    };
    deliver_now(false);
    let report = verify_scanner(&ctx, &only, Scanner::Prowler)
        .await
        .expect("verify");
    let failing: Vec<_> = report.accounts[0]
        .controls
        .iter()
        .filter(|c| c.status != Verdict::Pass)
        .collect();
    assert_eq!(failing.len(), 1, "{failing:#?}");
    assert_eq!(
        failing[0].id,
        "cloudwatch_changes_to_network_route_tables_alarm_configured"
    );
    assert!(
        failing[0]
            .evidence
            .contains("lacks $.eventSource = ec2.amazonaws.com")
    );
}

/// Every call made under `ctx` is granted by what `trailhead permissions --drill` prints: the
/// caller's policy in the management account, the access role's elsewhere, each with the drill's.
/// The controls `scanner`'s rules do not pass in `selection` (`id: evidence`), and how many
/// accounts were judged.
async fn failing_under(
    ctx: &RunCtx,
    selection: &Selection,
    scanner: Scanner,
) -> (Vec<String>, usize) {
    // Prowler's CloudWatch Logs check wants a delivery to the log group in the last day: let
    // every trail deliver what it recorded, rather than wait for the emulator's clock.
    deliver_now(false);
    let report = verify_scanner(ctx, selection, scanner)
        .await
        .expect("verify");
    let failing = report
        .accounts
        .iter()
        .flat_map(|a| &a.controls)
        .filter(|c| c.status != Verdict::Pass)
        .map(|c| format!("{}: {}", c.id, c.evidence))
        .collect();
    (failing, report.summary.accounts)
}

fn every_call_is_granted(ctx: &RunCtx) {
    use trailhead_policies::{
        access_role_policy, caller_policy, drill_key_policy, drill_policy, grants_action,
        iam_action,
    };
    let inputs = trailhead_provisioner::permissions::permission_inputs(&ctx.spec);
    let (caller, role, extra) = (
        caller_policy(&inputs),
        access_role_policy(&inputs),
        drill_policy(&inputs),
    );
    // The drill's own key is rewritten and deleted under the key's own policy.
    let own_key = drill_key_policy("aws", "111111111111", "arn:aws:iam::111111111111:role/x");
    let management = ctx.spec.org.management_account.to_string();
    let mut missing = Vec::new();
    let calls = ctx.calls.snapshot();
    for (account, op) in calls.keys() {
        let (service, operation) = op.split_once(':').expect("service:Operation");
        let action = iam_action(service, operation);
        let own = if *account == management {
            &caller
        } else {
            &role
        };
        let by_key = service.eq_ignore_ascii_case("kms") && grants_action(&own_key, &action);
        if !grants_action(own, &action) && !grants_action(&extra, &action) && !by_key {
            missing.push(format!("{account} {op} needs {action}"));
        }
    }
    assert!(
        calls.keys().any(|(_, op)| op.ends_with(":CreateVpc")),
        "the drill's calls are counted"
    );
    assert!(missing.is_empty(), "not granted:\n{}", missing.join("\n"));
}

/// Puts the alarm again with `metric` and `actions` instead of its own.
async fn repoint_alarm(
    session: &AccountSession,
    alarm: &str,
    metric: Option<&str>,
    actions: Option<&str>,
) {
    let cw = session.cloudwatch();
    let live = cw
        .describe_alarms()
        .alarm_names(alarm)
        .send()
        .await
        .expect("describe alarms");
    let a = &live.metric_alarms()[0];
    cw.put_metric_alarm()
        .alarm_name(alarm)
        .namespace(a.namespace().unwrap())
        .metric_name(metric.unwrap_or(a.metric_name().unwrap()))
        .set_statistic(a.statistic().cloned())
        .set_period(a.period())
        .set_evaluation_periods(a.evaluation_periods())
        .set_threshold(a.threshold())
        .set_comparison_operator(a.comparison_operator().cloned())
        .set_treat_missing_data(a.treat_missing_data().map(str::to_string))
        .alarm_actions(actions.unwrap_or(&a.alarm_actions()[0]))
        .send()
        .await
        .expect("put the alarm again");
}

/// A topic of the member's own, open to CloudWatch or not, with no subscriber.
async fn topic(session: &AccountSession, name: &str, open_to_cloudwatch: bool) -> String {
    let sns = session.sns();
    let arn = sns
        .create_topic()
        .name(name)
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .unwrap()
        .to_string();
    let principal = if open_to_cloudwatch {
        r#"{"Service":"cloudwatch.amazonaws.com"}"#.to_string()
    } else {
        format!(r#"{{"AWS":"arn:aws:iam::{}:root"}}"#, session.account_id)
    };
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sns:Publish","Resource":"{arn}"}}]}}"#
    );
    sns.set_topic_attributes()
        .topic_arn(&arn)
        .attribute_name("Policy")
        .attribute_value(policy)
        .send()
        .await
        .expect("topic policy");
    arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaking_one_link_of_one_alarm_flips_exactly_that_alarm() {
    let (org, ctx, _state) = rolled_out_org("drill-breaks", 1, "").await;
    confirm_subscriptions(&org);
    let member = &org.members[0].id;
    let session = ctx.assume(member, REGION).await;
    let name = |id: &str| {
        trailhead_provisioner::rollout::controls(&ctx)
            .expect("controls")
            .into_iter()
            .find(|c| c.id == id)
            .expect("the control")
            .resource_name()
    };
    // Link 3: the filter of 4.4 is gone.
    session
        .logs()
        .delete_metric_filter()
        .log_group_name(&ctx.spec.trail.log_group_name)
        .filter_name(name("4.4"))
        .send()
        .await
        .expect("filter deleted");
    // Link 4: the alarm of 4.5 watches another metric.
    repoint_alarm(&session, &name("4.5"), Some("SomethingElse"), None).await;
    // Link 5: the alarm of 4.7 notifies a topic that refuses CloudWatch.
    let closed = topic(&session, "drill-closed", false).await;
    repoint_alarm(&session, &name("4.7"), None, Some(&closed)).await;
    // Link 6: the alarm of 4.8 notifies a topic nobody is subscribed to.
    let unheard = topic(&session, "drill-unheard", true).await;
    repoint_alarm(&session, &name("4.8"), None, Some(&unheard)).await;

    let only = ["4.4", "4.5", "4.7", "4.8", "4.10"];
    let report = run(&ctx, &options(member, &only)).await;
    let broken_at = |id: &str| {
        let r = result(&report, id);
        (r.outcome, r.broken_link, r.evidence.clone())
    };
    let (outcome, link, evidence) = broken_at("4.4");
    assert_eq!((outcome, link), (Outcome::Broken, Some(3)), "{evidence}");
    assert!(evidence.contains("no metric filter"), "{evidence}");
    let (outcome, link, evidence) = broken_at("4.5");
    assert_eq!((outcome, link), (Outcome::Broken, Some(4)), "{evidence}");
    assert!(evidence.contains("SomethingElse"), "{evidence}");
    let (outcome, link, evidence) = broken_at("4.7");
    assert_eq!((outcome, link), (Outcome::Broken, Some(5)), "{evidence}");
    let (outcome, link, evidence) = broken_at("4.8");
    assert_eq!((outcome, link), (Outcome::Broken, Some(6)), "{evidence}");
    assert!(evidence.contains("no confirmed subscription"), "{evidence}");
    assert_eq!(result(&report, "4.10").outcome, Outcome::Fired);
    assert_eq!(report.accounts[0].alarms.len(), only.len());
    assert!(report.failed());
    assert_eq!(tagged_leftovers(&session).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_archive_is_refused_and_cleanup_removes_what_a_drill_left() {
    let (org, ctx, _state) = rolled_out_org("drill-cleanup", 1, "").await;
    let refused = {
        let (_keep, interrupted) = watch::channel(false);
        drill(
            &ctx,
            &options(&org.log_archive.id, &[]),
            interrupted,
            &ProgressSink::none(),
        )
        .await
    };
    let message = refused.expect_err("the log archive is refused").to_string();
    assert!(message.contains("--allow-log-archive"), "{message}");

    // What an interrupted drill leaves: a tagged VPC with a tagged security group in it.
    let member = &org.members[0].id;
    let session = ctx.assume(member, REGION).await;
    let tag = |kind: ResourceType| {
        TagSpecification::builder()
            .resource_type(kind)
            .tags(Tag::builder().key(DRILL_TAG).value("interrupted").build())
            .build()
    };
    let ec2 = session.ec2();
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.99.0.0/16")
        .tag_specifications(tag(ResourceType::Vpc))
        .send()
        .await
        .expect("vpc");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_string();
    ec2.create_security_group()
        .group_name("left-behind")
        .description("left by an interrupted drill")
        .vpc_id(&vpc_id)
        .tag_specifications(tag(ResourceType::SecurityGroup))
        .send()
        .await
        .expect("security group");
    // Something of the user's own, untagged, that cleanup must not touch.
    let own = ec2
        .create_vpc()
        .cidr_block("10.98.0.0/16")
        .send()
        .await
        .expect("own vpc");
    let own_id = own.vpc().and_then(|v| v.vpc_id()).unwrap().to_string();
    assert_eq!(tagged_leftovers(&session).await.len(), 2);

    let removed = cleanup_leftovers(&ctx, &options(member, &[]))
        .await
        .expect("cleanup runs");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].1.len(), 2, "{removed:?}");
    assert!(removed[0].2.is_empty(), "{removed:?}");
    assert_eq!(tagged_leftovers(&session).await, Vec::<String>::new());
    let still = ec2.describe_vpcs().vpc_ids(&own_id).send().await;
    assert_eq!(still.expect("own vpc kept").vpcs().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_extended_set_rolls_out_converges_and_drills() {
    let conn = emulator();
    let org = seed(&conn, "drill-extended", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let spec = org.spec_toml("drill-extended", REGION).replace(
        "benchmark = \"cis-5.0\"",
        "benchmark = \"cis-5.0\"\nextended = true",
    );
    let ctx = run_ctx(&conn, &spec, true, state.path());
    let (outcome, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(outcome.ok(), "{:?}", outcome.failures);
    let ids: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    // One filter and alarm per control, the five extended ones included, and no duplicates.
    assert_converged_without_duplicates(&conn, &spec, &ids).await;
    let (again, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(again.ok(), "{:?}", again.failures);
    assert_converged_without_duplicates(&conn, &spec, &ids).await;

    confirm_subscriptions(&org);
    let member = &org.members[0].id;
    let report = run(&ctx, &options(member, &["E.1", "E.2", "E.3", "E.4", "E.5"])).await;
    for fired in ["E.1", "E.2", "E.3"] {
        let r = result(&report, fired);
        assert_eq!(r.outcome, Outcome::Fired, "{fired}: {}", r.evidence);
        assert!(r.alarm.starts_with("trailhead-extended-"), "{}", r.alarm);
    }
    assert_eq!(result(&report, "E.4").outcome, Outcome::NotDrillable);
    assert_eq!(result(&report, "E.5").outcome, Outcome::Offline);
    let session = ctx.assume(member, REGION).await;
    assert_eq!(tagged_leftovers(&session).await, Vec::<String>::new());
}

/// CIS v5.0.0 (Security Hub's current CIS standard), v6.0.0 and v7.0.0, one after another on one
/// organization: each rolls out (the last one's filters and alarms replaced, none left beside
/// them), converges with no write on a second run, fires in the drill, and passes Prowler's and
/// the CIS audit's rules in every account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_cis_benchmarks_roll_out_converge_drill_and_pass_the_scanners() {
    let conn = emulator();
    let org = seed(&conn, "cisnow", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let member = org.members[0].id.clone();
    let ids: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    for (benchmark, section) in [("cis-5.0", "4"), ("cis-6.0", "5"), ("cis-7.0", "5")] {
        let spec = org.spec_toml("cisnow", REGION).replace(
            "benchmark = \"cis-5.0\"",
            &format!("benchmark = \"{benchmark}\""),
        );
        assert!(
            spec.contains(benchmark),
            "the seed's spec names its benchmark"
        );
        let ctx = run_ctx(&conn, &spec, true, state.path());
        let (first, _) = roll(&ctx, &RolloutOptions::default()).await;
        assert!(first.ok(), "{benchmark}: {:?}", first.failures);
        let (again, _) = roll(&ctx, &RolloutOptions::default()).await;
        assert!(again.ok(), "{benchmark}: {:?}", again.failures);
        let writes = trailhead_provisioner::counter::totals(&ctx.calls.snapshot()).1;
        assert_eq!(writes, 0, "{benchmark}: the second run writes nothing");
        assert_converged_without_duplicates(&conn, &spec, &ids).await;

        confirm_subscriptions(&org);
        let report = run(&ctx, &options(&member, &[])).await;
        assert!(!report.failed(), "{benchmark}: {report:#?}");
        let security_groups = result(&report, &format!("{section}.10"));
        assert_eq!(security_groups.outcome, Outcome::Fired, "{benchmark}");

        let all = Selection::default();
        for scanner in [Scanner::Prowler, Scanner::Cis] {
            let (failing, _) = failing_under(&ctx, &all, scanner).await;
            assert!(
                failing.is_empty(),
                "{benchmark} {}: {failing:#?}",
                scanner.id()
            );
        }
    }
}
