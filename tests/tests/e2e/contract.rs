//! What real AWS does that moto did not, end to end: each test would have caught one of the
//! bugs the emulator's contract layer exposed (docs/emulator.md).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use trailhead_e2e::{
    REGION, assert_converged_without_duplicates, emulator, roll, run_ctx, seed, seed_planted,
    unique,
};
use trailhead_emulator_support::seed::grant_access;
use trailhead_provisioner::events::{Event, EventSink};
use trailhead_provisioner::log_archive::log_archive_stage;
use trailhead_provisioner::plan::Action;
use trailhead_provisioner::preflight::preflight;
use trailhead_provisioner::rollout::{RolloutOptions, plan};

#[tokio::test]
async fn plan_of_a_fresh_org_shows_everything_to_create() {
    let conn = emulator();
    let org = seed(&conn, "fresh", 2).await;
    let state = tempfile::tempdir().expect("tempdir");
    // No log group exists anywhere yet: AWS answers DescribeMetricFilters with
    // ResourceNotFoundException, which plan must read as "no filters".
    let ctx = run_ctx(&conn, &org.spec_toml("fresh", REGION), false, state.path());
    let outcome = plan(&ctx, &EventSink::none()).await.expect("plan");
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    for a in org.all_accounts() {
        let filters = outcome
            .reports
            .iter()
            .find(|r| r.account == a.id && r.step == "metric filters")
            .unwrap_or_else(|| panic!("no filter plan for {}", a.id));
        assert_eq!(filters.action, Action::Create, "{}", a.id);
    }
    assert_eq!(
        trailhead_provisioner::counter::totals(&ctx.calls.snapshot()).1,
        0
    );
}

#[tokio::test]
async fn suspended_accounts_are_skipped_and_an_account_without_the_role_fails_alone() {
    let conn = emulator();
    let org = seed_planted(&conn, "plant", 1).await;
    let closed = org
        .planted
        .iter()
        .find(|(a, _)| a.name.ends_with("-closed"))
        .expect("closed")
        .0
        .id
        .clone();
    let no_role = org
        .planted
        .iter()
        .find(|(a, _)| a.name.ends_with("-no-role"))
        .expect("no role")
        .0
        .id
        .clone();
    // Their own wave, so that a failure there cannot stop the others.
    let spec = org.spec_toml("plant", REGION).replace(
        "failure_tolerance = \"10%\"",
        "failure_tolerance = \"100%\"",
    );
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &spec, true, state.path());

    let problems = preflight(&ctx).await.expect("preflight");
    let unreachable: Vec<_> = problems.iter().filter(|p| !p.blocking).collect();
    assert_eq!(unreachable.len(), 1, "{problems:?}");
    assert!(
        unreachable[0].message.contains(&no_role)
            && unreachable[0].message.contains("AccessDenied")
    );
    assert!(
        !problems.iter().any(|p| p.message.contains(&closed)),
        "{problems:?}"
    );

    // The rollout goes on: preflight only warns about the account it cannot reach.
    let (outcome, events) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(
        outcome.preflight_problems.is_empty(),
        "{:?}",
        outcome.preflight_problems
    );
    assert_eq!(outcome.preflight_warnings.len(), 1);
    let skipped: Vec<(String, String)> = events
        .into_iter()
        .filter_map(|e| match e {
            Event::AccountSkipped {
                account, reason, ..
            } => Some((account, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, closed);
    assert!(skipped[0].1.contains("SUSPENDED"), "{}", skipped[0].1);
    let failed: Vec<&str> = outcome.failures.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(failed, vec![no_role.as_str()]);
    // One line a person can act on, not the SDK's nested dump.
    let why = &outcome.failures[0].1;
    assert!(
        why.contains("AccessDenied: cannot assume the access role"),
        "{why}"
    );
    assert!(
        !why.contains("DispatchFailure(") && !why.contains("{ code:"),
        "{why}"
    );
    assert_eq!(outcome.succeeded, org.all_accounts().count());
}

/// An operator creates the missing access role and runs again at once: the role is still
/// propagating (the emulator's IAM delay, as on AWS), so AssumeRole answers AccessDenied at
/// first. The preflight and the rollout wait it out, and the account converges with no manual
/// step.
#[tokio::test]
async fn an_access_role_created_a_second_before_the_run_is_waited_for() {
    let conn = emulator();
    let org = seed_planted(&conn, "newrole", 1).await;
    let no_role = org
        .planted
        .iter()
        .find(|(a, _)| a.name.ends_with("-no-role"))
        .expect("no role")
        .0
        .id
        .clone();
    let spec = org.spec_toml("newrole", REGION);
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &spec, true, state.path());
    let created = grant_access(&conn, &no_role, &ctx.spec.access.role_name, REGION)
        .await
        .expect("the role is created");
    assert!(created);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;

    let (outcome, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(outcome.ok(), "{:?}", outcome.failures);
    assert!(
        outcome.preflight_warnings.is_empty(),
        "the preflight waited for the role too: {:?}",
        outcome.preflight_warnings
    );
    assert_converged_without_duplicates(&conn, &spec, std::slice::from_ref(&no_role)).await;
}

#[tokio::test]
async fn the_management_account_gets_its_trail_with_the_callers_own_credentials() {
    let conn = emulator();
    let mut org = seed(&conn, "mgmt", 1).await;
    org.include_management = true;
    // One fixed name: every run converges on the same trail of the shared management account.
    let spec = org.spec_toml("mgmtacct", REGION);
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &spec, true, state.path());
    let (outcome, events) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(
        outcome.ok(),
        "{:?} {:?}",
        outcome.failures,
        outcome.preflight_problems
    );
    let mgmt = ctx.spec.org.management_account.to_string();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::AccountFinished { account, .. } if *account == mgmt)),
        "the management account was not in the run"
    );
    let trails = ctx
        .management()
        .await
        .cloudtrail()
        .describe_trails()
        .send()
        .await
        .expect("trails");
    assert!(
        trails
            .trail_list()
            .iter()
            .any(|t| t.name() == Some(ctx.spec.trail.name.as_str())),
        "no trail of ours in the management account"
    );
    organizations_alarm_fires_on_a_refused_change(&ctx, &mgmt).await;
}

/// The drill's Organizations probe in the management account (`--include-org-changes`): an
/// update of an OU that cannot exist, refused, which CloudTrail records under the drill's name
/// (links 1 and 2 look for that name) and the CIS filter counts. The drill's policy grants no
/// Organizations change at all.
async fn organizations_alarm_fires_on_a_refused_change(
    ctx: &trailhead_provisioner::log_archive::RunCtx,
    mgmt: &str,
) {
    use trailhead_model::Selection;
    use trailhead_provisioner::drill::{DrillOptions, Outcome, ProgressSink, drill};
    trailhead_e2e::confirm_subscriptions_of(&[mgmt]);
    let opts = DrillOptions {
        selection: Selection {
            accounts: vec![mgmt.to_string()],
            waves: Vec::new(),
        },
        only: vec!["4.15".to_string()],
        timeout: std::time::Duration::from_secs(300),
        include_org_changes: true,
        allow_log_archive: false,
        dry_run: false,
    };
    let (_keep, interrupted) = tokio::sync::watch::channel(false);
    let report = drill(ctx, &opts, interrupted, &ProgressSink::none())
        .await
        .expect("the drill runs");
    let alarm = report.accounts[0]
        .alarms
        .iter()
        .find(|a| a.control == "4.15")
        .expect("4.15 drilled");
    // The refused update is recorded under the drill's name and reaches the archive and the log
    // group (links 1 and 2 look for that name). The management account is shared by every test,
    // whose seeds create OUs: the alarm may already be in ALARM from one of them, which the drill
    // reports as such; when it is not, the drill's own change sets it off.
    let links: Vec<usize> = alarm.latencies.iter().map(|l| l.link).collect();
    assert!(links.starts_with(&[1, 2]), "{links:?}: {}", alarm.evidence);
    let already = alarm.evidence.contains("already in ALARM");
    assert!(
        alarm.outcome == Outcome::Fired || already,
        "{:?}: {}",
        alarm.outcome,
        alarm.evidence
    );
    assert!(report.accounts[0].leftovers.is_empty());
    let drill_policy = trailhead_policies::drill_policy(
        &trailhead_provisioner::permissions::permission_inputs(&ctx.spec),
    );
    for change in ["Create", "Update", "Delete"] {
        let action = format!("organizations:{change}OrganizationalUnit");
        assert!(!trailhead_policies::grants_action(&drill_policy, &action));
    }
    assert!(!trailhead_policies::grants_action(
        &drill_policy,
        "organizations:TagResource"
    ));
}

#[tokio::test]
async fn a_log_archive_account_is_created_with_the_specs_access_role() {
    let conn = emulator();
    let org = seed(&conn, "role", 0).await;
    let name = unique("la");
    let spec = org.spec_toml("role", REGION).replacen(
        &format!("account_id = \"{}\"", org.log_archive.id),
        &format!(
            "name = \"{}\"\nemail = \"{name}@trailhead.example\"",
            &name[..name.len().min(50)]
        ),
        1,
    );
    // A custom role name: Organizations must be asked to create it.
    let spec = format!("[access]\nrole_name = \"PlatformAccess\"\n\n{spec}");
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &spec, true, state.path());
    let outcome = log_archive_stage(&ctx).await.expect("stage");
    assert_eq!(outcome.reports[0].action, Action::Create);
    assert!(
        outcome.bucket.is_some(),
        "the new account was reached through PlatformAccess"
    );
}

#[tokio::test]
async fn lifecycle_rules_someone_else_made_block_mfa_delete_everywhere_and_stay() {
    let conn = emulator();
    let org = seed(&conn, "lcyc", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("lcyc", REGION), true, state.path());
    let first = log_archive_stage(&ctx).await.expect("stage");
    let bucket = first.bucket.expect("bucket");
    let s3 = ctx.assume(&org.log_archive.id, REGION).await.s3();
    let rule = |id: &str| {
        LifecycleRule::builder()
            .id(id)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .expiration(LifecycleExpiration::builder().days(30).build())
            .build()
            .expect("rule")
    };
    // A rule trailhead made (under an earlier spec with expiry) is removed under MFA Delete.
    let ours = trailhead_provisioner::log_archive::LIFECYCLE_RULE_ID;
    s3.put_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(rule(ours))
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("our old rule");
    let fixed = log_archive_stage(&ctx).await.expect("stage");
    let archive = fixed
        .reports
        .iter()
        .find(|r| r.step == "archive bucket")
        .expect("archive");
    assert_eq!(archive.action, Action::Update);
    assert!(
        s3.get_bucket_lifecycle_configuration()
            .bucket(&bucket)
            .send()
            .await
            .is_err()
    );

    let rule = LifecycleRule::builder()
        .id("team-cleanup")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(30).build())
        .build()
        .expect("rule");
    s3.put_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(rule)
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("a lifecycle rule of someone else");

    let problems = preflight(&ctx).await.expect("preflight");
    assert!(
        problems.iter().any(|p| p.blocking
            && p.message.contains("team-cleanup")
            && p.message.contains("block MFA Delete")),
        "{problems:?}"
    );
    let plan_ctx = run_ctx(&conn, &org.spec_toml("lcyc", REGION), false, state.path());
    let planned = log_archive_stage(&plan_ctx).await.expect("plan");
    let archive = planned
        .reports
        .iter()
        .find(|r| r.step == "archive bucket")
        .expect("archive");
    assert!(
        archive
            .changes
            .iter()
            .any(|c| c.field == "lifecycle" && c.from.contains("team-cleanup"))
    );
    let refused = log_archive_stage(&ctx)
        .await
        .err()
        .expect("the stage refuses")
        .to_string();
    assert!(refused.contains("block MFA Delete"), "{refused}");
    let still = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .send()
        .await
        .expect("kept");
    assert_eq!(
        still.rules().len(),
        1,
        "trailhead never deletes a rule it did not make"
    );
}

#[tokio::test]
async fn preflight_counts_multi_region_trails_of_other_regions() {
    let conn = emulator();
    let org = seed(&conn, "quota", 1).await;
    let member = org.members[0].id.clone();
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("quota", REGION), true, state.path());
    // Five multi-region trails homed in us-east-1: five shadows in eu-west-1, the home region.
    let elsewhere = ctx.assume(&member, "us-east-1").await;
    let bucket = unique("quota").to_lowercase();
    let s3 = elsewhere.s3();
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket");
    let anyone_cloudtrail = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":["s3:GetBucketAcl","s3:PutObject"],"Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"]}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(anyone_cloudtrail)
        .send()
        .await
        .expect("policy");
    for i in 0..5 {
        elsewhere
            .cloudtrail()
            .create_trail()
            .name(format!("other-{i}"))
            .s3_bucket_name(&bucket)
            .is_multi_region_trail(true)
            .send()
            .await
            .expect("trail");
    }
    let problems = preflight(&ctx).await.expect("preflight");
    assert!(
        problems.iter().any(|p| p.blocking
            && p.message.contains(&member)
            && p.message.contains("counts 5 trails")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn every_call_of_a_rollout_is_granted_by_the_printed_policies() {
    use trailhead_policies::{
        KEY_ADMINISTRATION_ACTIONS, access_role_policy, caller_policy, grants_action, iam_action,
    };
    let conn = emulator();
    let org = seed(&conn, "perm", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("perm", REGION), true, state.path());
    let (outcome, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(outcome.ok(), "{:?}", outcome.failures);
    let inputs = trailhead_provisioner::permissions::permission_inputs(&ctx.spec);
    let (caller, role) = (caller_policy(&inputs), access_role_policy(&inputs));
    let management = ctx.spec.org.management_account.to_string();
    let mut checked = 0;
    let mut missing = Vec::new();
    for (account, op) in ctx.calls.snapshot().keys() {
        let (service, operation) = op.split_once(':').expect("service:Operation");
        let action = iam_action(service, operation);
        let policy = if *account == management {
            &caller
        } else {
            &role
        };
        checked += 1;
        // What trailhead does to its own keys after CreateKey, each key's policy grants (to this
        // principal by name); the enforced rollout below proves those grants suffice.
        let by_key_policy = KEY_ADMINISTRATION_ACTIONS.contains(&action.as_str());
        if !by_key_policy && !grants_action(policy, &action) {
            missing.push(format!("{account} {op} needs {action}"));
        }
    }
    assert!(checked > 30, "only {checked} operations recorded");
    assert!(missing.is_empty(), "not granted:\n{}", missing.join("\n"));
}

/// The AWS error code of a call that should have been refused; None if it went through.
pub(crate) fn refused<T, E>(
    answer: Result<
        T,
        aws_smithy_runtime_api::client::result::SdkError<
            E,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    >,
) -> Option<String>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    answer
        .err()
        .map(|e| trailhead_provisioner::error::describe(&e).0)
}

/// A one-member organization to be reached through `role`, an access role the tests create
/// with exactly the policies they choose: (the organization, a context that reaches it through
/// the organization's own access role to set things up, a context that reaches it through
/// `role`, their state directory).
pub(crate) async fn least_privilege_org(
    prefix: &str,
    role: &str,
) -> (
    trailhead_emulator_support::seed::SeededOrg,
    trailhead_provisioner::log_archive::RunCtx,
    trailhead_provisioner::log_archive::RunCtx,
    tempfile::TempDir,
) {
    let conn = emulator();
    let org = seed(&conn, prefix, 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let plain = org.spec_toml(prefix, REGION);
    let setup = run_ctx(&conn, &plain, true, state.path());
    let spec = format!("[access]\nrole_name = \"{role}\"\n\n{plain}");
    let ctx = run_ctx(&conn, &spec, true, state.path());
    (org, setup, ctx, state)
}

/// Creates `role` in `account` (through the organization's access role): trusted by the
/// management account, judged by the emulator on its own policies, allowed `policy`.
pub(crate) async fn least_privilege_role(
    ctx: &trailhead_provisioner::log_archive::RunCtx,
    account: &str,
    role: &str,
    policy: &str,
) {
    let iam = ctx.assume(account, REGION).await.iam();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        ctx.spec.org.management_account
    );
    let tag = aws_sdk_iam::types::Tag::builder()
        .key("trailhead:enforce-identity-policy")
        .value("true")
        .build()
        .expect("tag");
    if iam.get_role().role_name(role).send().await.is_err() {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(trust)
            .tags(tag)
            .send()
            .await
            .expect("create role");
    }
    iam.put_role_policy()
        .role_name(role)
        .policy_name("trailhead-access")
        .policy_document(policy)
        .send()
        .await
        .expect("role policy");
}

#[tokio::test]
async fn a_rollout_succeeds_under_exactly_the_printed_access_role_policy() {
    use trailhead_policies::access_role_policy;
    let role = "TrailheadLeastPrivilege";
    // The roles are made through the organization's own access role.
    let (org, setup, ctx, _state) = least_privilege_org("least", role).await;
    let printed = access_role_policy(&trailhead_provisioner::permissions::permission_inputs(
        &ctx.spec,
    ));
    // The member's role lacks one action the rollout needs; the others have exactly the policy.
    let mut short = printed.clone();
    for s in &mut short.statements {
        s.action.retain(|a| a != "logs:PutMetricFilter");
    }
    let member = org.members[0].id.clone();
    for a in org.all_accounts() {
        let policy = if a.id == member { &short } else { &printed };
        least_privilege_role(&setup, &a.id, role, &policy.to_json()).await;
    }
    // The member's CloudWatch Logs role as an earlier trailhead made it: without a boundary.
    let admin_iam = setup.assume(&member, REGION).await.iam();
    let trust = trailhead_policies::cloudtrail_logs_role_trust().to_json();
    let old_role = admin_iam.create_role().role_name(LOGS_ROLE);
    let old_role = old_role.assume_role_policy_document(trust);
    old_role.send().await.expect("an unbounded logs role");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await; // the emulator's IAM delay
    let opts = RolloutOptions::default();
    let (first, _) = roll(&ctx, &opts).await;
    assert_eq!(first.failures.len(), 1, "{:?}", first.failures);
    assert_eq!(first.failures[0].0, member);
    assert!(
        first.failures[0].1.contains("logs:PutMetricFilter"),
        "{}",
        first.failures[0].1
    );

    least_privilege_role(&setup, &member, role, &printed.to_json()).await;
    // The same run again: the member, and the waves its failure stopped, now converge.
    let (second, _) = roll(&ctx, &opts).await;
    assert!(
        second.ok(),
        "{:?} {:?}",
        second.failures,
        second.preflight_problems
    );
    assert_eq!(second.succeeded, org.all_accounts().count());
    logs_role_stays_a_log_writer(&ctx, &member).await;
}

const LOGS_ROLE: &str = trailhead_provisioner::member::ROLE_NAME;

/// The rollout put the boundary on the member's CloudWatch Logs role, and the access role can
/// neither take it off, nor swap it for a broader one, nor make an unbounded role of that name.
async fn logs_role_stays_a_log_writer(
    ctx: &trailhead_provisioner::log_archive::RunCtx,
    member: &str,
) {
    let boundary = trailhead_policies::logs_role_boundary("aws");
    let iam = ctx.assume(member, REGION).await.iam();
    let live = iam
        .get_role()
        .role_name(LOGS_ROLE)
        .send()
        .await
        .expect("role");
    let bound = live.role().and_then(|r| r.permissions_boundary());
    let bound = bound.and_then(|b| b.permissions_boundary_arn());
    assert_eq!(bound, Some(boundary.as_str()));
    let denied = Some("AccessDenied".to_string());
    let off = iam.delete_role_permissions_boundary().role_name(LOGS_ROLE);
    assert_eq!(refused(off.send().await), denied);
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let swap = iam.put_role_permissions_boundary().role_name(LOGS_ROLE);
    assert_eq!(
        refused(swap.permissions_boundary(admin).send().await),
        denied
    );
    let trust = trailhead_policies::cloudtrail_logs_role_trust().to_json();
    let remade = iam
        .create_role()
        .role_name(LOGS_ROLE)
        .assume_role_policy_document(trust);
    // Unbounded: refused before IAM would even see that the name is taken.
    assert_eq!(refused(remade.send().await), denied);
}

/// The drill, under exactly the printed access-role and drill policies (the emulator judges
/// their tag conditions and the tags-on-create they depend on), sets off and cleans up its own
/// network and key changes; the same session can delete neither an untagged VPC, nor the archive
/// key (nor tag it), nor someone else's key it tagged itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drill_deletes_only_its_own_under_the_printed_policies() {
    use trailhead_model::Selection;
    use trailhead_policies::{DRILL_TAG, access_role_policy, drill_policy};
    use trailhead_provisioner::drill::{DrillOptions, Outcome, ProgressSink, drill};
    let role = "TrailheadDrillLeast";
    let (org, setup, ctx, _state) = least_privilege_org("drillpol", role).await;
    let inputs = trailhead_provisioner::permissions::permission_inputs(&ctx.spec);
    let (access, drilling) = (access_role_policy(&inputs), drill_policy(&inputs));
    for a in org.all_accounts() {
        least_privilege_role(&setup, &a.id, role, &access.to_json()).await;
        setup
            .assume(&a.id, REGION)
            .await
            .iam()
            .put_role_policy()
            .role_name(role)
            .policy_name("trailhead-drill")
            .policy_document(drilling.to_json())
            .send()
            .await
            .expect("drill policy");
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await; // the emulator's IAM delay
    let (outcome, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(outcome.ok(), "{:?}", outcome.failures);
    trailhead_e2e::confirm_subscriptions(&org);

    let member = org.members[0].id.clone();
    let opts = DrillOptions {
        selection: Selection {
            accounts: vec![member.clone()],
            waves: Vec::new(),
        },
        only: ["4.7", "4.10", "4.11", "4.12", "4.13", "4.14"]
            .map(String::from)
            .to_vec(),
        // The drill returns once every alarm fired; the bound only matters under a busy suite.
        timeout: std::time::Duration::from_secs(300),
        include_org_changes: false,
        allow_log_archive: false,
        dry_run: false,
    };
    let (_keep, interrupted) = tokio::sync::watch::channel(false);
    let report = drill(&ctx, &opts, interrupted, &ProgressSink::none())
        .await
        .expect("the drill runs");
    for a in &report.accounts[0].alarms {
        assert_eq!(a.outcome, Outcome::Fired, "{} {}", a.control, a.evidence);
    }
    assert!(report.accounts[0].leftovers.is_empty());

    // Someone else's VPC, in the drilled account: the drill's session cannot delete it.
    let theirs = setup
        .assume(&member, REGION)
        .await
        .ec2()
        .create_vpc()
        .cidr_block("10.42.0.0/16")
        .send()
        .await
        .expect("a VPC of someone else");
    let vpc = theirs.vpc().and_then(|v| v.vpc_id()).unwrap().to_string();
    let session = ctx.assume(&member, REGION).await;
    let deleted = session.ec2().delete_vpc().vpc_id(&vpc).send().await;
    assert_eq!(refused(deleted).as_deref(), Some("UnauthorizedOperation"));

    // The archive key: neither tagged into the drill's reach nor scheduled for deletion.
    let archive = ctx.assume(&org.log_archive.id, REGION).await.kms();
    let described = archive
        .describe_key()
        .key_id(&ctx.spec.log_archive.kms_alias)
        .send()
        .await
        .expect("the archive key");
    let key = described.key_metadata().unwrap().key_id().to_string();
    let tag = aws_sdk_kms::types::Tag::builder()
        .tag_key(DRILL_TAG)
        .tag_value("planted")
        .build()
        .unwrap();
    let tagged = archive.tag_resource().key_id(&key).tags(tag).send().await;
    assert!(tagged.is_err(), "the archive key was tagged");
    let deleted = archive
        .schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await;
    assert_eq!(refused(deleted).as_deref(), Some("AccessDeniedException"));

    // Someone else's key without an alias: the session may put the drill's tag on it (KMS
    // cannot tell that from tagging at creation), and still cannot delete it: only the drill's
    // own key's policy grants deletion.
    let theirs = setup
        .assume(&member, REGION)
        .await
        .kms()
        .create_key()
        .send()
        .await
        .expect("a key of someone else");
    let theirs = theirs.key_metadata().unwrap().key_id().to_string();
    let kms = session.kms();
    let tag = aws_sdk_kms::types::Tag::builder()
        .tag_key(DRILL_TAG)
        .tag_value("planted")
        .build()
        .unwrap();
    let tagged = trailhead_provisioner::consistency::settle(
        trailhead_provisioner::consistency::key_not_found,
        std::time::Duration::from_secs(30),
        || kms.tag_resource().key_id(&theirs).tags(tag.clone()).send(),
    )
    .await;
    assert!(
        tagged.is_ok(),
        "the drill's tag on someone's key: {tagged:?}"
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await; // past the tag's lag
    let deleted = kms
        .schedule_key_deletion()
        .key_id(&theirs)
        .pending_window_in_days(7)
        .send()
        .await;
    assert_eq!(refused(deleted).as_deref(), Some("AccessDeniedException"));
}
