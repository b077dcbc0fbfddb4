//! Athena over the archive, against the emulator: `logs athena setup` converges the results
//! bucket, the Glue table with partition projection and the workgroup, and a second run writes
//! nothing; queries page through their results, and the emulator fails a query that does not
//! name the injected account partition, as Athena does.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use serde_json::json;
use trailhead_alarms::athena::table::Scope;
use trailhead_e2e::{REGION, emulator, queue_athena_results, run_ctx, seed};
use trailhead_provisioner::athena::QueryTarget;
use trailhead_provisioner::athena::{AthenaSite, athena_stage};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::error::{CallSite, ProvisionError};
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::plan::{Action, StepReport};

const ATHENA: &str = "\n[athena]\nstart_date = \"2026-01-01\"\nbytes_scanned_cutoff_gb = 50\n";

fn actions(reports: &[StepReport]) -> Vec<(String, Action)> {
    reports.iter().map(|r| (r.step.clone(), r.action)).collect()
}

async fn athena_org(prefix: &str) -> (RunCtx, String, tempfile::TempDir) {
    let conn = emulator();
    let org = seed(&conn, prefix, 1).await;
    let spec = format!("{}{ATHENA}", org.spec_toml(prefix, REGION));
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &spec, true, state.path());
    (ctx, org.log_archive.id.clone(), state)
}

#[tokio::test]
async fn setup_converges_and_a_second_run_writes_nothing() {
    let (ctx, la, _state) = athena_org("athsetup").await;
    let planning = RunCtx {
        apply: false,
        ..ctx.clone()
    };
    let (_, planned) = athena_stage(&planning).await.expect("plan");
    assert!(
        planned.iter().all(|r| r.action == Action::Create),
        "{:?}",
        actions(&planned)
    );
    assert_eq!(planned.len(), 4);

    let (_, first) = athena_stage(&ctx).await.expect("first setup");
    assert!(
        first.iter().all(|r| r.action == Action::Create),
        "{:?}",
        actions(&first)
    );
    ctx.calls.reset();
    let (archive, second) = athena_stage(&ctx).await.expect("second setup");
    let all: Vec<&StepReport> = archive.reports.iter().chain(&second).collect();
    // MFA Delete stays pending: it needs the root user, never a write of ours.
    assert!(
        all.iter()
            .all(|r| r.action == Action::NoOp || r.step == "mfa delete"),
        "{:?}",
        all.iter().map(|r| (&r.step, r.action)).collect::<Vec<_>>()
    );
    let (_, writes, _, _) = totals(&ctx.calls.snapshot());
    assert_eq!(writes, 0, "a converged setup wrote");

    // Read back what Athena will use.
    let site = AthenaSite::of(&ctx.spec, &la).expect("site");
    let querier = ctx.assume(&site.query_account, REGION).await;
    let table = querier
        .glue()
        .get_table()
        .database_name(&site.table.database)
        .name("cloudtrail")
        .send()
        .await
        .expect("GetTable")
        .table
        .expect("table");
    let params = table.parameters().expect("parameters");
    assert_eq!(params["projection.account.type"], "injected");
    // Every region of the partition: global events land in us-east-1, and a multi-region trail
    // records regions the spec does not govern.
    assert_eq!(
        params["projection.region.values"],
        trailhead_model::rules::regions_of_partition(REGION).join(",")
    );
    assert_eq!(params["projection.day.range"], "2026/01/01,NOW");
    assert_eq!(
        params["storage.location.template"],
        format!(
            "s3://{}/AWSLogs/${{account}}/CloudTrail/${{region}}/${{day}}",
            site.table.bucket
        )
    );
    let keys: Vec<&str> = table.partition_keys().iter().map(|c| c.name()).collect();
    assert_eq!(keys, ["account", "region", "day"]);
    let group = querier
        .athena()
        .get_work_group()
        .work_group("trailhead")
        .send()
        .await
        .expect("GetWorkGroup")
        .work_group
        .expect("workgroup");
    let config = group.configuration().expect("configuration");
    assert_eq!(
        config.bytes_scanned_cutoff_per_query(),
        Some(50_000_000_000)
    );
    assert_eq!(config.enforce_work_group_configuration(), Some(true));
    let results = config.result_configuration().expect("results");
    assert_eq!(
        results.output_location(),
        Some(site.output_location().as_str())
    );
    let encryption = results.encryption_configuration().expect("encryption");
    assert_eq!(encryption.encryption_option().as_str(), "SSE_KMS");
    assert_eq!(encryption.kms_key(), archive.key_arn.as_deref());

    // Drift: someone lifts the cutoff; the next setup puts it back.
    querier
        .athena()
        .update_work_group()
        .work_group("trailhead")
        .configuration_updates(
            aws_sdk_athena::types::WorkGroupConfigurationUpdates::builder()
                .remove_bytes_scanned_cutoff_per_query(true)
                .build(),
        )
        .send()
        .await
        .expect("UpdateWorkGroup");
    let (_, drifted) = athena_stage(&planning).await.expect("plan");
    let workgroup = drifted
        .iter()
        .find(|r| r.step == "athena workgroup")
        .unwrap();
    assert_eq!(workgroup.action, Action::Update);
    assert!(
        workgroup
            .changes
            .iter()
            .any(|c| c.field == "bytes_scanned_cutoff"),
        "{:?}",
        workgroup.changes
    );
    athena_stage(&ctx).await.expect("repair");
    let (_, repaired) = athena_stage(&planning).await.expect("plan");
    assert!(
        repaired.iter().all(|r| r.action == Action::NoOp),
        "{:?}",
        actions(&repaired)
    );
}

#[tokio::test]
async fn queries_page_through_results_and_must_name_their_accounts() {
    let (ctx, la, _state) = athena_org("athquery").await;
    athena_stage(&ctx).await.expect("setup");
    let site = AthenaSite::of(&ctx.spec, &la).expect("site");
    let querier = ctx.assume(&site.query_account, REGION).await;
    let athena = querier.athena();
    let call_site = CallSite::new(&site.query_account, REGION, "test");
    let target = QueryTarget {
        athena: &athena,
        site: &call_site,
        workgroup: "trailhead",
        database: &site.table.database,
        poll: std::time::Duration::from_millis(50),
    };

    // 2,500 rows: three pages of at most 1,000, the header row dropped.
    let rows: Vec<serde_json::Value> = (0..2500)
        .map(|i| json!([format!("s3://b/o{i}"), format!("e{i}")]))
        .collect();
    queue_athena_results(
        &site.query_account,
        REGION,
        &["object", "eventid"],
        &json!(rows),
    );
    let scope = Scope {
        accounts: vec![la.clone()],
        regions: vec![REGION.into()],
        first_day: "2026/11/01".into(),
        last_day: "2026/11/02".into(),
        since: "2026-11-01T00:00:00Z".into(),
        until: "2026-11-02T00:00:00Z".into(),
    };
    let sql = site.table.search_query(&scope, "TRUE");
    let mut states = Vec::new();
    let done = target
        .run(&sql, &mut |p| states.push(p.state.clone()))
        .await
        .expect("query");
    assert_eq!(states.last().map(String::as_str), Some("SUCCEEDED"));
    let mut seen = Vec::new();
    let count = target
        .rows(&done.id, &mut |row| seen.push(row))
        .await
        .expect("rows");
    assert_eq!(count, 2500);
    assert_eq!(seen[0][1].as_deref(), Some("e0"));
    assert_eq!(seen[2499][1].as_deref(), Some("e2499"));

    // Without the injected account partition, Athena refuses the query.
    let unbounded = format!(
        "SELECT eventid FROM {} WHERE \"region\" = 'eu-west-1'",
        site.table.qualified()
    );
    match target.run(&unbounded, &mut |_| {}).await {
        Err(ProvisionError::Query { state, reason, .. }) => {
            assert_eq!(state, "FAILED");
            assert!(reason.contains("CONSTRAINT_VIOLATION"), "{reason}");
        }
        other => panic!("expected a failed query, got {other:?}"),
    }
}
