//! Shared helpers of the end-to-end tests: finding the emulator, and giving each test its own
//! accounts so that tests can share one emulator while running in parallel.
//!
//! A test that cannot reach the emulator fails with instructions; it never skips.

pub mod aws_profile;
pub mod duckdb;
pub mod faults;
pub mod replay;

pub mod share;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use trailhead_emulator_support::seed::{SeedRequest, SeededOrg, seed_org};
use trailhead_provisioner::Connection;

pub const REGION: &str = "eu-west-1";

fn workspace_target() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
}

/// The emulator's endpoint and CA: from `cargo xtask test`, or from a running `emulator start`.
pub fn emulator() -> Connection {
    let emulator_dir = workspace_target().join("emulator");
    let endpoint = std::env::var("TRAILHEAD_TEST_ENDPOINT").ok().or_else(|| {
        std::fs::read_to_string(emulator_dir.join("port"))
            .ok()
            .map(|p| format!("https://127.0.0.1:{}", p.trim()))
    });
    let ca = std::env::var_os("TRAILHEAD_TEST_CA")
        .map(PathBuf::from)
        .unwrap_or_else(|| emulator_dir.join("ca.pem"));
    let (Some(endpoint), true) = (endpoint, ca.exists()) else {
        panic!(
            "the end-to-end tests need the emulator: run them with `cargo xtask test`, \
             or start it with `cargo xtask emulator start` first"
        );
    };
    let port: u16 = endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        panic!(
            "nothing answers at {endpoint}: start the emulator with `cargo xtask emulator start`, \
             or run the suite with `cargo xtask test`"
        );
    }
    match Connection::emulator(endpoint, ca).prepare() {
        Ok(conn) => conn,
        Err(e) => panic!("cannot build a connection to the emulator: {e}"),
    }
}

/// A prefix no other test (or earlier run) uses: emails in Organizations must be unique.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// An organization of this test's own: a log-archive account, an audit account and `members`.
/// The test shares the emulated organization with the tests running beside it until it ends
/// (see [`share`]).
pub async fn seed(conn: &Connection, prefix: &str, members: usize) -> SeededOrg {
    share::hold_shared();
    seed_unguarded(conn, prefix, members).await
}

/// As [`seed`], for a test that changes what every account of the organization sees (an
/// organization trail): it waits until no other test holds accounts, and holds off every other
/// test's seeding until it ends.
pub async fn seed_alone(conn: &Connection, prefix: &str, members: usize) -> SeededOrg {
    share::hold_alone();
    seed_unguarded(conn, prefix, members).await
}

/// As [`seed`], with what real organizations hold besides: a SUSPENDED account and an account
/// without the access role (`SeededOrg::planted`).
pub async fn seed_planted(conn: &Connection, prefix: &str, members: usize) -> SeededOrg {
    share::hold_shared();
    seed_request(conn, prefix, members, true).await
}

async fn seed_unguarded(conn: &Connection, prefix: &str, members: usize) -> SeededOrg {
    seed_request(conn, prefix, members, false).await
}

async fn seed_request(
    conn: &Connection,
    prefix: &str,
    members: usize,
    plant_unreachable: bool,
) -> SeededOrg {
    let req = SeedRequest {
        prefix: unique(prefix),
        members,
        region: REGION.to_string(),
        plant_unreachable,
        include_management: false,
    };
    match seed_org(conn, &req).await {
        Ok(org) => org,
        Err(e) => panic!("seeding the organization failed: {e}"),
    }
}

/// A run context for `spec_text`, acting (`apply`) or planning, with its own state directory.
pub fn run_ctx(
    conn: &Connection,
    spec_text: &str,
    apply: bool,
    state_dir: &std::path::Path,
) -> trailhead_provisioner::log_archive::RunCtx {
    let (spec, _) = match trailhead_model::parse_spec("test.toml", spec_text) {
        Ok(s) => s,
        Err(d) => panic!("test spec invalid:\n{}", d.render(false)),
    };
    trailhead_provisioner::log_archive::RunCtx {
        conn: conn.clone(),
        role: trailhead_provisioner::session::AccessRole {
            session_duration: std::time::Duration::from_secs(3600),
            // The emulator's IAM delay is seconds: a role missing for good fails sooner.
            propagation_wait: std::time::Duration::from_secs(10),
            ..trailhead_provisioner::session::AccessRole::of(&spec.access, unique("run"))
        },
        spec,
        spec_path: "test.toml".into(),
        resume_prefix: "trailhead rollout --org test.toml --resume ".into(),
        calls: trailhead_provisioner::counter::CallLog::new(),
        apply,
        state_dir: state_dir.to_path_buf(),
        assume_timeout: std::time::Duration::from_secs(30),
    }
}

/// Asserts that every account of `accounts` holds exactly what one converged rollout of
/// `spec_text` leaves: one trail of ours, logging; a metric filter and an alarm per selected
/// control (the benchmark's and its scanner companions); one topic of ours with one
/// subscription. Read without faults.
pub async fn assert_converged_without_duplicates(
    conn: &Connection,
    spec_text: &str,
    accounts: &[String],
) {
    let state = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let ctx = run_ctx(conn, spec_text, false, state.path());
    let spec = &ctx.spec;
    let controls = trailhead_alarms::deployed::for_spec(&spec.alarms).len();
    for id in accounts {
        let s = ctx.assume(id, REGION).await;
        let ok = |what: &str| format!("{id}: {what}");
        let trails = s
            .cloudtrail()
            .describe_trails()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", ok("DescribeTrails")));
        let ours = trails
            .trail_list()
            .iter()
            .filter(|t| t.name() == Some(spec.trail.name.as_str()))
            .count();
        assert_eq!(ours, 1, "{}", ok("trails named like ours"));
        let status = s
            .cloudtrail()
            .get_trail_status()
            .name(&spec.trail.name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", ok("GetTrailStatus")));
        assert_eq!(status.is_logging(), Some(true), "{}", ok("logging"));
        let filters = s
            .logs()
            .describe_metric_filters()
            .log_group_name(&spec.trail.log_group_name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", ok("DescribeMetricFilters")));
        assert_eq!(
            filters.metric_filters().len(),
            controls,
            "{}",
            ok("metric filters")
        );
        let alarms = s
            .cloudwatch()
            .describe_alarms()
            .alarm_name_prefix(trailhead_provisioner::member::METRIC_PREFIX)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", ok("DescribeAlarms")));
        assert_eq!(alarms.metric_alarms().len(), controls, "{}", ok("alarms"));
        let topics = s
            .sns()
            .list_topics()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", ok("ListTopics")));
        let suffix = format!(":{}", spec.alarms.sns_topic_name);
        let named = topics
            .topics()
            .iter()
            .filter(|t| t.topic_arn().is_some_and(|a| a.ends_with(&suffix)))
            .count();
        assert_eq!(named, 1, "{}", ok("topics"));
        let arn = format!("arn:aws:sns:{REGION}:{id}:{}", spec.alarms.sns_topic_name);
        let subs = s
            .sns()
            .list_subscriptions_by_topic()
            .topic_arn(&arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", ok("ListSubscriptionsByTopic")));
        assert_eq!(subs.subscriptions().len(), 1, "{}", ok("subscriptions"));
    }
}

/// Calls the emulator's control API through its own client (the emulator venv's Python and the
/// package of this checkout); returns the JSON answer.
pub fn emulator_control(args: &[&str]) -> serde_json::Value {
    let emulator_dir = workspace_target().join("emulator");
    let endpoint = std::env::var("TRAILHEAD_TEST_ENDPOINT").unwrap_or_else(|_| {
        let port = std::fs::read_to_string(emulator_dir.join("port")).unwrap_or_default();
        format!("https://127.0.0.1:{}", port.trim())
    });
    let ca = std::env::var_os("TRAILHEAD_TEST_CA")
        .map(PathBuf::from)
        .unwrap_or_else(|| emulator_dir.join("ca.pem"));
    let package = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../emulator");
    let out = std::process::Command::new(emulator_dir.join("venv/bin/python"))
        .env("PYTHONPATH", package)
        .args([
            "-m",
            "trailhead_emulator.client",
            "--endpoint",
            &endpoint,
            "--ca",
        ])
        .arg(ca)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the emulator's control client: {e}"));
    assert!(
        out.status.success(),
        "the control client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("control answer: {e}"))
}

/// The serial and current code of an account root user's virtual MFA device in the emulator.
pub fn mfa_device(account: &str) -> (String, String) {
    let answer = emulator_control(&["mfa-code", "--account", account]);
    let field = |k: &str| answer[k].as_str().unwrap_or_default().to_string();
    (field("serial"), field("code"))
}

/// Confirms the pending email subscriptions of `org`'s accounts, as their recipients would.
/// Only this test's own: another test may be checking that an unconfirmed one is reported.
pub fn confirm_subscriptions(org: &SeededOrg) {
    let accounts: Vec<&str> = org.all_accounts().map(|a| a.id.as_str()).collect();
    confirm_subscriptions_of(&accounts);
}

/// Confirms the pending email subscriptions of these accounts' topics.
pub fn confirm_subscriptions_of(accounts: &[&str]) {
    emulator_control(&["sns-confirm", "--account", &accounts.join(",")]);
}

/// Lets every trail of the emulator deliver now (and write its digests with `digest`), then
/// evaluates every alarm, instead of waiting for the emulator's clock.
pub fn deliver_now(digest: bool) {
    if digest {
        emulator_control(&["deliver", "--digest"]);
    } else {
        emulator_control(&["deliver"]);
    }
}

/// Adds CloudTrail records to an account, for events the emulator cannot produce itself.
pub fn inject_records(account: &str, region: &str, records: &serde_json::Value) {
    let answer = emulator_control(&[
        "inject",
        "--account",
        account,
        "--region",
        region,
        "--records",
        &records.to_string(),
    ]);
    assert_eq!(
        answer["recorded"].as_u64(),
        records.as_array().map(|r| r.len() as u64),
        "{answer}"
    );
}

/// Queues the rows the next Athena query of `account` in `region` answers (the emulator runs no
/// query): a header row of `columns`, then `rows`.
pub fn queue_athena_results(
    account: &str,
    region: &str,
    columns: &[&str],
    rows: &serde_json::Value,
) {
    emulator_control(&[
        "athena-results",
        "--account",
        account,
        "--region",
        region,
        "--columns",
        &columns.join(","),
        "--rows",
        &rows.to_string(),
    ]);
}

/// What the confirmed email subscriptions of a topic received, oldest first.
pub fn notifications(topic: &str) -> Vec<serde_json::Value> {
    emulator_control(&["notifications", "--topic", topic])["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// An SDK configuration signed as `account`'s root user in the emulator.
pub async fn root_config(conn: &Connection, account: &str) -> aws_types::SdkConfig {
    trailhead_emulator_support::seed::emulator_root_config(conn, account, REGION).await
}

/// A rollout with no view attached, under a new run id unless it resumes: its outcome and every
/// event it sent, in order. The call counter is reset first, so that a test can count this
/// run's writes.
pub async fn roll(
    ctx: &trailhead_provisioner::log_archive::RunCtx,
    opts: &trailhead_provisioner::rollout::RolloutOptions,
) -> (
    trailhead_provisioner::rollout::RolloutOutcome,
    Vec<trailhead_provisioner::events::Event>,
) {
    // A run of its own, as the CLI starts one: under the same run id the rollout would resume
    // and pass over every account the journal already counts as done.
    let fresh;
    let ctx = if opts.resume {
        ctx
    } else {
        fresh = trailhead_provisioner::log_archive::RunCtx {
            role: trailhead_provisioner::session::AccessRole {
                run_id: unique("run"),
                first_attempts: Default::default(),
                ..ctx.role.clone()
            },
            ..ctx.clone()
        };
        &fresh
    };
    ctx.calls.reset();
    let (sink, mut rx) = trailhead_provisioner::events::EventSink::channel();
    let (_commands_tx, commands_rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = trailhead_provisioner::rollout::rollout(ctx, opts, &sink, commands_rx)
        .await
        .unwrap_or_else(|e| panic!("rollout failed: {e}"));
    drop(sink);
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    (outcome, events)
}

/// Creates `bucket` in the test region (S3 wants its location named outside us-east-1).
pub async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
        .build();
    if let Err(e) = s3
        .create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(location)
        .send()
        .await
    {
        panic!("CreateBucket {bucket}: {e:?}");
    }
}

/// The records of every log file under `prefix` of `bucket`, read back and unzipped.
pub async fn archived_records(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Vec<serde_json::Value> {
    let listed = match s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
    {
        Ok(l) => l,
        Err(e) => panic!("ListObjectsV2 {bucket}/{prefix}: {e:?}"),
    };
    let mut out = Vec::new();
    for key in listed.contents().iter().filter_map(|o| o.key()) {
        let body = match s3.get_object().bucket(bucket).key(key).send().await {
            Ok(o) => o.body.collect().await.map(|b| b.into_bytes()),
            Err(e) => panic!("GetObject {key}: {e:?}"),
        };
        let text = body
            .ok()
            .and_then(|b| trailhead_alarms::replay::decode(&b).ok())
            .unwrap_or_else(|| panic!("{key} is not a gzipped log file"));
        let doc: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{key}: {e}"));
        out.extend(doc["Records"].as_array().cloned().unwrap_or_default());
    }
    out
}

/// What a plan of `ctx` would change: (account, step, changed fields) of every step that would
/// write, in the plan's order.
pub async fn planned_changes(
    ctx: &trailhead_provisioner::log_archive::RunCtx,
) -> Vec<(String, String, Vec<String>)> {
    let planning = trailhead_provisioner::log_archive::RunCtx {
        apply: false,
        ..ctx.clone()
    };
    let events = trailhead_provisioner::events::EventSink::none();
    let planned = match trailhead_provisioner::rollout::plan(&planning, &events).await {
        Ok(p) => p,
        Err(e) => panic!("plan failed: {e}"),
    };
    planned
        .reports
        .iter()
        .filter(|r| {
            matches!(
                r.action,
                trailhead_provisioner::plan::Action::Create
                    | trailhead_provisioner::plan::Action::Update
            )
        })
        .map(|r| {
            let fields = r.changes.iter().map(|c| c.field.clone()).collect();
            (r.account.clone(), r.step.clone(), fields)
        })
        .collect()
}

/// A rollout of a new organization of this test's own (`members` member accounts) whose spec has
/// `trail_tables` in its `[trail]` section; asserts it succeeded. The state directory lives as
/// long as the returned guard.
pub async fn rolled_out_org(
    prefix: &str,
    members: usize,
    trail_tables: &str,
) -> (
    SeededOrg,
    trailhead_provisioner::log_archive::RunCtx,
    tempfile::TempDir,
) {
    let conn = emulator();
    let org = seed(&conn, prefix, members).await;
    let state = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let spec = org.spec_toml_with(prefix, REGION, trail_tables);
    let ctx = run_ctx(&conn, &spec, true, state.path());
    let opts = trailhead_provisioner::rollout::RolloutOptions::default();
    let (outcome, _) = roll(&ctx, &opts).await;
    assert!(outcome.ok(), "{:?}", outcome.failures);
    (org, ctx, state)
}
