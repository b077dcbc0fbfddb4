//! The rollout against the emulator: 30 accounts in 3 waves from nothing, every account read
//! back, a no-op second run, failure tolerance, the update path, and plan after manual changes.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::time::Instant;

use trailhead_alarms::deployed;
use trailhead_e2e::faults::{FaultConfig, FaultInjector};
use trailhead_e2e::{REGION, emulator, roll, run_ctx, seed};
use trailhead_policies::{
    cloudtrail_logs_role_policy, cloudtrail_logs_role_trust, same_policy, sns_topic_policy,
};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::events::{Event, EventSink};
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::member::{Desired, METRIC_PREFIX, ROLE_NAME, ROLE_POLICY_NAME};
use trailhead_provisioner::plan::Action;
use trailhead_provisioner::rollout::{RolloutOptions, plan};

fn writes(ctx: &RunCtx) -> u64 {
    totals(&ctx.calls.snapshot()).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_accounts_in_three_waves_roll_out_read_back_and_converge() {
    let conn = emulator();
    let org = seed(&conn, "wave", 28).await;
    let state = tempfile::tempdir().expect("tempdir");
    let spec_text = org.spec_toml("wave", REGION);
    let ctx = run_ctx(&conn, &spec_text, true, state.path());
    assert_eq!(ctx.spec.waves.len(), 3);

    let started = Instant::now();
    let (outcome, events) = roll(&ctx, &RolloutOptions::default()).await;
    let first_wall = started.elapsed();
    assert!(outcome.ok(), "{:?}", outcome.failures);
    assert_eq!(outcome.succeeded, 30);
    let waves: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::WaveStarted { wave, .. } => Some(wave.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(waves, ["canary", "security", "workloads"]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::GateFinished { passed: true, .. }))
    );

    // Read every account back.
    let archive = outcome
        .reports
        .iter()
        .find(|r| r.step == "archive bucket")
        .expect("archive report");
    let la = archive.account.clone();
    let bucket = format!("wave-cloudtrail-{la}");
    let la_session = ctx.assume(&la, REGION).await;
    let key_arn = la_session
        .kms()
        .describe_key()
        .key_id(&ctx.spec.log_archive.kms_alias)
        .send()
        .await
        .expect("key")
        .key_metadata()
        .and_then(|m| m.arn().map(str::to_string))
        .expect("arn");
    let controls = deployed::selected(ctx.spec.alarms.benchmark, &ctx.spec.alarms.exclude);
    // CIS 5.0 4.1–4.15 and the four scanner companions (S.2, S.10, P.13, P.15).
    assert_eq!(controls.len(), 19);
    for account in org.all_accounts() {
        let d = Desired::new(&ctx.spec, &account.id, &bucket, &key_arn, &controls);
        let s = ctx.assume(&account.id, REGION).await;
        let trails = s
            .cloudtrail()
            .describe_trails()
            .trail_name_list(&d.trail_name)
            .send()
            .await
            .expect("trails");
        assert_eq!(trails.trail_list().len(), 1, "{}", account.id);
        let t = &trails.trail_list()[0];
        assert_eq!(t.s3_bucket_name(), Some(bucket.as_str()));
        assert_eq!(t.is_multi_region_trail(), Some(true));
        assert_eq!(t.include_global_service_events(), Some(true));
        assert_eq!(t.log_file_validation_enabled(), Some(true));
        assert_eq!(t.kms_key_id(), Some(key_arn.as_str()));
        assert_eq!(
            t.cloud_watch_logs_log_group_arn(),
            Some(d.log_group_arn().as_str())
        );
        assert_eq!(t.cloud_watch_logs_role_arn(), Some(d.role_arn().as_str()));
        let status = s
            .cloudtrail()
            .get_trail_status()
            .name(&d.trail_name)
            .send()
            .await
            .expect("status");
        assert_eq!(status.is_logging(), Some(true));
        let selectors = s
            .cloudtrail()
            .get_event_selectors()
            .trail_name(&d.trail_name)
            .send()
            .await
            .expect("selectors");
        let sel = &selectors.event_selectors()[0];
        assert_eq!(sel.read_write_type().map(|r| r.as_str()), Some("All"));
        assert_eq!(sel.include_management_events(), Some(true));
        assert!(sel.exclude_management_event_sources().is_empty());

        let groups = s
            .logs()
            .describe_log_groups()
            .log_group_name_prefix(&d.log_group)
            .send()
            .await
            .expect("groups");
        assert_eq!(groups.log_groups()[0].retention_in_days(), Some(365));

        let role = s
            .iam()
            .get_role()
            .role_name(ROLE_NAME)
            .send()
            .await
            .expect("role");
        let trust = role
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .expect("trust");
        assert!(same_policy(trust, &cloudtrail_logs_role_trust()));
        let inline = s
            .iam()
            .get_role_policy()
            .role_name(ROLE_NAME)
            .policy_name(ROLE_POLICY_NAME)
            .send()
            .await
            .expect("inline");
        assert!(same_policy(
            inline.policy_document(),
            &cloudtrail_logs_role_policy("aws", &account.id, REGION, &d.log_group)
        ));

        let attrs = s
            .sns()
            .get_topic_attributes()
            .topic_arn(d.topic_arn())
            .send()
            .await
            .expect("topic");
        let policy = attrs
            .attributes()
            .and_then(|a| a.get("Policy"))
            .expect("topic policy");
        assert!(same_policy(
            policy,
            &sns_topic_policy("aws", &account.id, REGION, &d.topic_arn())
        ));
        let subs = s
            .sns()
            .list_subscriptions_by_topic()
            .topic_arn(d.topic_arn())
            .send()
            .await
            .expect("subs");
        let endpoints: Vec<&str> = subs
            .subscriptions()
            .iter()
            .filter_map(|x| x.endpoint())
            .collect();
        assert_eq!(endpoints, ["secops@trailhead.example"]);

        let filters = s
            .logs()
            .describe_metric_filters()
            .log_group_name(&d.log_group)
            .send()
            .await
            .expect("filters");
        assert_eq!(filters.metric_filters().len(), controls.len());
        for c in &controls {
            let f = filters
                .metric_filters()
                .iter()
                .find(|f| f.filter_name() == Some(c.resource_name().as_str()))
                .expect("filter");
            assert_eq!(
                f.filter_pattern(),
                Some(c.pattern),
                "{} {}",
                account.id,
                c.id
            );
            let t = &f.metric_transformations()[0];
            assert_eq!(
                (t.metric_namespace(), t.metric_name(), t.metric_value()),
                ("CISBenchmark", c.metric_name, "1")
            );
        }
        let alarms = s
            .cloudwatch()
            .describe_alarms()
            .alarm_name_prefix(METRIC_PREFIX)
            .send()
            .await
            .expect("alarms");
        assert_eq!(alarms.metric_alarms().len(), controls.len());
        for a in alarms.metric_alarms() {
            let c = controls
                .iter()
                .find(|c| Some(c.resource_name().as_str()) == a.alarm_name())
                .expect("known alarm");
            assert_eq!(a.metric_name(), Some(c.metric_name));
            assert_eq!(a.namespace(), Some("CISBenchmark"));
            assert_eq!(a.threshold(), Some(1.0));
            assert_eq!(a.period(), Some(300));
            assert_eq!(a.evaluation_periods(), Some(1));
            assert_eq!(a.statistic().map(|s| s.as_str()), Some("Sum"));
            assert_eq!(
                a.comparison_operator().map(|c| c.as_str()),
                Some("GreaterThanOrEqualToThreshold")
            );
            assert_eq!(a.treat_missing_data(), Some("notBreaching"));
            assert_eq!(a.alarm_actions(), [d.topic_arn()]);
        }
    }

    // A second rollout writes nothing.
    let started = Instant::now();
    let (again, _) = roll(&ctx, &RolloutOptions::default()).await;
    let noop_wall = started.elapsed();
    assert!(again.ok());
    assert_eq!(
        writes(&ctx),
        0,
        "{:?}",
        ctx.calls
            .snapshot()
            .iter()
            .filter(|((_, op), _)| !trailhead_provisioner::counter::is_read(op))
            .collect::<Vec<_>>()
    );
    eprintln!("30-account rollout: first run {first_wall:.2?}, no-op re-run {noop_wall:.2?}");

    // Manual changes in one account: plan reports exactly those.
    let victim = &org.members[5].id;
    let s = ctx.assume(victim, REGION).await;
    let d = Desired::new(&ctx.spec, victim, &bucket, &key_arn, &controls);
    s.cloudtrail()
        .stop_logging()
        .name(&d.trail_name)
        .send()
        .await
        .expect("stop logging");
    s.logs()
        .delete_metric_filter()
        .log_group_name(&d.log_group)
        .filter_name(controls[4].resource_name())
        .send()
        .await
        .expect("delete filter");
    s.logs()
        .put_retention_policy()
        .log_group_name(&d.log_group)
        .retention_in_days(30)
        .send()
        .await
        .expect("retention");
    let plan_ctx = RunCtx {
        apply: false,
        ..ctx.clone()
    };
    plan_ctx.calls.reset();
    let reports = plan(&plan_ctx, &EventSink::none())
        .await
        .expect("plan")
        .reports;
    assert_eq!(writes(&plan_ctx), 0);
    let changed: Vec<(String, String, Vec<String>)> = reports
        .iter()
        .filter(|r| matches!(r.action, Action::Create | Action::Update))
        .map(|r| {
            (
                r.account.clone(),
                r.step.clone(),
                r.changes.iter().map(|c| c.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(changed.len(), 3, "{changed:#?}");
    assert!(changed.iter().all(|(a, _, _)| a == victim));
    let find = |step: &str| {
        changed
            .iter()
            .find(|(_, s, _)| s == step)
            .map(|(_, _, c)| c.clone())
            .unwrap_or_default()
    };
    assert_eq!(find("trail"), ["is_logging: false → true"]);
    assert_eq!(find("log group"), ["retention_in_days: 30 → 365"]);
    assert_eq!(
        find("metric filters"),
        [format!(
            "missing metric filters: (none) → {}",
            controls[4].resource_name()
        )]
    );
}

#[tokio::test]
async fn tolerance_zero_stops_later_waves_and_tolerance_one_continues() {
    let conn = emulator();
    let org = seed(&conn, "tol", 4).await;
    let failing = org.members[0].id.clone();
    // The failing account's trail points at its own log group: deny exactly the trail calls
    // that name it (the group's key policy names the group too, without the field name).
    let injector_for = |conn: &trailhead_provisioner::Connection| {
        let injector_holder = std::sync::Arc::new(std::sync::Mutex::new(None));
        let holder = injector_holder.clone();
        let failing = failing.clone();
        let conn = conn.clone().wrap_http_client(move |inner| {
            let injector = FaultInjector::new(
                inner,
                FaultConfig {
                    deny_matching: vec![format!(
                        "\"CloudWatchLogsLogGroupArn\":\"arn:aws:logs:{REGION}:{failing}:log-group"
                    )],
                    ..FaultConfig::default()
                },
            );
            let shared = injector.shared();
            if let Ok(mut h) = holder.lock() {
                *h = Some(injector);
            }
            shared
        });
        (conn, injector_holder)
    };
    let opts = RolloutOptions {
        skip_preflight: true,
        ..RolloutOptions::default()
    };

    let state = tempfile::tempdir().expect("tempdir");
    let (faulty, _) = injector_for(&conn);
    let ctx = run_ctx(&faulty, &org.spec_toml("tol", REGION), true, state.path());
    let (outcome, events) = roll(&ctx, &opts).await;
    assert!(!outcome.ok());
    assert_eq!(outcome.failed, 1);
    assert_eq!(outcome.failures[0].0, failing);
    assert!(
        outcome
            .stopped_by_tolerance
            .as_deref()
            .is_some_and(|r| r.contains("canary")),
        "{:?}",
        outcome.stopped_by_tolerance
    );
    let skipped: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::WaveFinished {
                wave,
                status: trailhead_provisioner::events::WaveStatus::Skipped,
                ..
            } => Some(wave.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(skipped, ["security", "workloads"]);
    assert!(events.iter().any(|e| matches!(e, Event::StepFailed { error_code, operation, .. } if error_code == "AccessDeniedException" && operation == "CreateTrail")));

    // Same org, the canary wave tolerating one failure: the later waves run.
    let state = tempfile::tempdir().expect("tempdir");
    let (faulty, _) = injector_for(&conn);
    let spec =
        org.spec_toml("tol", REGION)
            .replacen("failure_tolerance = 0", "failure_tolerance = 1", 1);
    let ctx = run_ctx(&faulty, &spec, true, state.path());
    let (outcome, events) = roll(&ctx, &opts).await;
    assert_eq!(outcome.failed, 1);
    assert!(outcome.stopped_by_tolerance.is_none());
    assert_eq!(outcome.succeeded, 5);
    let passed = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::WaveFinished {
                    status: trailhead_provisioner::events::WaveStatus::Passed,
                    ..
                }
            )
        })
        .count();
    assert_eq!(passed, 3);
}

#[tokio::test]
async fn an_existing_trail_is_updated_never_duplicated() {
    let conn = emulator();
    let org = seed(&conn, "upd", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("upd", REGION), true, state.path());
    // Build the archive first so the bucket exists, then plant a trail with our name and
    // other settings in the member account.
    trailhead_provisioner::log_archive::log_archive_stage(&ctx)
        .await
        .expect("archive");
    let member = &org.members[0].id;
    let s = ctx.assume(member, REGION).await;
    let bucket = format!("upd-cloudtrail-{}", org.log_archive.id);
    s.cloudtrail()
        .create_trail()
        .name(&ctx.spec.trail.name)
        .s3_bucket_name(&bucket)
        .is_multi_region_trail(false)
        .enable_log_file_validation(false)
        .send()
        .await
        .expect("plant trail");
    let (outcome, events) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(
        outcome.ok(),
        "{:?} {:?}",
        outcome.failures,
        outcome.preflight_problems
    );
    let trail_step = events
        .iter()
        .find_map(|e| match e {
            Event::StepFinished {
                account,
                step,
                action,
                changes,
                ..
            } if account == member && step == "trail" => Some((*action, changes.clone())),
            _ => None,
        })
        .expect("trail step of the member");
    assert_eq!(
        trail_step.0,
        Action::Update,
        "an existing trail must be updated"
    );
    assert!(
        trail_step
            .1
            .iter()
            .any(|c| c.field == "is_multi_region" && c.from == "false" && c.to == "true")
    );
    let trails = s
        .cloudtrail()
        .describe_trails()
        .send()
        .await
        .expect("trails");
    let ours: Vec<_> = trails
        .trail_list()
        .iter()
        .filter(|t| t.name() == Some(ctx.spec.trail.name.as_str()))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].is_multi_region_trail(), Some(true));
    assert_eq!(ours[0].log_file_validation_enabled(), Some(true));
}

#[tokio::test]
async fn preflight_reports_every_problem_and_writes_nothing() {
    let conn = emulator();
    let org = seed(&conn, "pre", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let spec = format!(
        "{}\n[[account]]\nid = \"000011112222\"\nname = \"ghost\"\n",
        org.spec_toml("pre", REGION)
    );
    let ctx = run_ctx(&conn, &spec, true, state.path());
    let (outcome, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert_eq!(writes(&ctx), 0, "preflight must not write");
    assert!(
        outcome
            .preflight_problems
            .iter()
            .any(|p| p.contains("ghost") && p.contains("not in organization")),
        "{:?}",
        outcome.preflight_problems
    );
    assert!(!outcome.ok());
}
