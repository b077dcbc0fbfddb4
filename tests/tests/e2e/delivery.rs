//! What the emulator delivers after a rollout, and what trailhead makes of it: log files read
//! back from the archive by the gate, delivery errors with AWS's codes, digests that `logs
//! validate` verifies with CloudTrail's own keys, and alarms that fire and notify.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StateValue;
use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use trailhead_alarms::catalog::{Control, Topic};
use trailhead_e2e::{
    REGION, archived_records, confirm_subscriptions, deliver_now, emulator, inject_records,
    notifications, roll, run_ctx, seed,
};
use trailhead_provisioner::archive::Window;
use trailhead_provisioner::error::CallSite;
use trailhead_provisioner::integrity::{KeySource, Kind, ValidateRequest, validate};
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::rollout::{DeliveryCheck, RolloutOptions, controls, gate};
use trailhead_provisioner::session::AccountSession;
use trailhead_provisioner::verify::{Verdict, verify};

struct Rolled {
    org: trailhead_emulator_support::seed::SeededOrg,
    ctx: RunCtx,
    member: String,
    log_archive: String,
    bucket: String,
    _state: tempfile::TempDir,
}

async fn rolled_out(prefix: &str, opts: RolloutOptions) -> Rolled {
    let conn = emulator();
    let org = seed(&conn, prefix, 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml(prefix, REGION), true, state.path());
    let (outcome, _) = roll(&ctx, &opts).await;
    assert!(outcome.ok(), "{:?}", outcome.failures);
    let log_archive = org.log_archive.id.clone();
    let bucket = ctx
        .spec
        .log_archive
        .bucket_name(&ctx.spec.org, &log_archive);
    Rolled {
        member: org.members[0].id.clone(),
        org,
        log_archive,
        bucket,
        ctx,
        _state: state,
    }
}

async fn wait_for<F, Fut>(what: &str, seconds: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(Instant::now() < deadline, "not within {seconds}s: {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn control(ctx: &RunCtx, topic: Topic) -> Control {
    controls(ctx)
        .expect("controls")
        .into_iter()
        .find(|c| c.topic == topic)
        .expect("the control of the topic")
}

/// One call in the account, then a delivery pass: the trail has something to deliver now.
async fn delivered_call(session: &AccountSession) {
    session
        .cloudtrail()
        .describe_trails()
        .send()
        .await
        .expect("a call to log");
    deliver_now(false);
}

/// The SNS topic of an alarm's first action.
async fn alarm_topic(session: &AccountSession, name: &str) -> String {
    let out = session
        .cloudwatch()
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .expect("DescribeAlarms");
    out.metric_alarms()[0].alarm_actions()[0].clone()
}

async fn alarm_state(session: &AccountSession, name: &str) -> Option<StateValue> {
    let out = session
        .cloudwatch()
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .expect("DescribeAlarms");
    out.metric_alarms()
        .first()
        .and_then(|a| a.state_value().cloned())
}

/// The wave gate with its delivery check, on the member account alone, for files from now on.
async fn gate_problems(r: &Rolled) -> Vec<String> {
    let member = trailhead_model::TargetAccount {
        id: trailhead_model::AccountId::parse(&r.member).expect("account id"),
        name: "member".into(),
        ous: Vec::new(),
    };
    let check = DeliveryCheck {
        limit: Duration::from_secs(5),
        since: jiff::Timestamp::now() - jiff::SignedDuration::from_secs(5),
        bucket: r.bucket.clone(),
        archive_account: r.log_archive.clone(),
    };
    let c = controls(&r.ctx).expect("controls");
    gate(&r.ctx, &[member], &c, Some(check)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_reads_back_each_accounts_log_file_from_the_archive() {
    let opts = RolloutOptions {
        gate_delivery: Some(Duration::from_secs(30)),
        ..RolloutOptions::default()
    };
    let r = rolled_out("deliv", opts).await;
    let archive = r.ctx.assume(&r.log_archive, REGION).await.s3();
    let site = CallSite::new(&r.member, REGION, "test");
    let found = trailhead_provisioner::archive::newest_log_file(
        &archive, &site, &r.bucket, &r.member, REGION, None,
    )
    .await
    .expect("read the archive")
    .expect("a log file of the member");
    assert!(found.own_records > 0);
    let name = found.key.rsplit('/').next().unwrap();
    assert!(
        found
            .key
            .starts_with(&format!("AWSLogs/{}/CloudTrail/{REGION}/", r.member))
            && name.starts_with(&format!("{}_CloudTrail_{REGION}_", r.member))
            && name.ends_with(".json.gz"),
        "{}",
        found.key
    );
    let head = archive
        .head_object()
        .bucket(&r.bucket)
        .key(&found.key)
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(
        head.server_side_encryption().map(|s| s.as_str()),
        Some("aws:kms")
    );
    let key_arn = head.ssekms_key_id().unwrap_or_default().to_string();
    assert!(
        key_arn.contains(&format!(":{}:key/", r.log_archive)),
        "{key_arn}"
    );
    // Every record of the member's files: the trail's own calls name the trail.
    let records = archived_records(
        &archive,
        &r.bucket,
        &format!("AWSLogs/{}/CloudTrail/", r.member),
    )
    .await;
    let mut trail_calls = 0;
    for rec in &records {
        assert_eq!(rec["recipientAccountId"], json!(r.member));
        if rec["eventName"] == "StartLogging" {
            assert_eq!(
                rec["requestParameters"]["Name"],
                json!(r.ctx.spec.trail.name)
            );
            trail_calls += 1;
        }
    }
    assert!(trail_calls >= 1, "no StartLogging record of the trail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_bucket_or_key_policy_fails_the_gate_with_the_aws_error() {
    let r = rolled_out("brk", RolloutOptions::default()).await;
    deliver_now(false);
    assert_eq!(gate_problems(&r).await, Vec::<String>::new());

    let archive = r.ctx.assume(&r.log_archive, REGION).await;
    let original = archive
        .s3()
        .get_bucket_policy()
        .bucket(&r.bucket)
        .send()
        .await
        .expect("the bucket policy")
        .policy()
        .unwrap_or_default()
        .to_string();
    let admin = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", r.log_archive)},
        "Action": "s3:*", "Resource": format!("arn:aws:s3:::{}/*", r.bucket)}]});
    archive
        .s3()
        .put_bucket_policy()
        .bucket(&r.bucket)
        .policy(admin.to_string())
        .send()
        .await
        .expect("replace the bucket policy");
    let member = r.ctx.assume(&r.member, REGION).await;
    delivered_call(&member).await;
    let problems = gate_problems(&r).await;
    // Digests written meanwhile fail too (another test may force one): every problem is the
    // member's, and the log files' refusal is among them.
    assert!(
        !problems.is_empty()
            && problems.iter().all(|p| p.contains(&r.member))
            && problems
                .iter()
                .any(|p| p.contains("log delivery error AccessDenied")),
        "{problems:?}"
    );

    // The policy back: the next delivery succeeds and clears the error.
    archive
        .s3()
        .put_bucket_policy()
        .bucket(&r.bucket)
        .policy(original)
        .send()
        .await
        .expect("restore the bucket policy");
    // A call to deliver, so that the next attempt is made (and succeeds).
    delivered_call(&member).await;
    assert_eq!(gate_problems(&r).await, Vec::<String>::new());

    let key_arn = archive
        .s3()
        .get_bucket_encryption()
        .bucket(&r.bucket)
        .send()
        .await
        .expect("encryption")
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first().cloned())
        .and_then(|rule| rule.apply_server_side_encryption_by_default().cloned())
        .and_then(|d| d.kms_master_key_id().map(str::to_string))
        .expect("the archive key");
    let admin_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", r.log_archive)},
        "Action": "kms:*", "Resource": "*"}]});
    archive
        .kms()
        .put_key_policy()
        .key_id(&key_arn)
        .policy_name("default")
        .policy(admin_only.to_string())
        .send()
        .await
        .expect("replace the key policy");
    delivered_call(&member).await;
    let problems = gate_problems(&r).await;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("InsufficientEncryptionPolicyException")),
        "{problems:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_validate_passes_on_the_emulators_digests_and_catches_tampering() {
    let since = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60);
    let r = rolled_out("dig", RolloutOptions::default()).await;
    let member = r.ctx.assume(&r.member, REGION).await;
    deliver_now(true);
    // Two more log files, then the digest that lists them.
    for _ in 0..2 {
        delivered_call(&member).await;
    }
    deliver_now(true);
    let archive = r.ctx.assume(&r.log_archive, REGION).await.s3();
    let window = Window {
        since,
        until: jiff::Timestamp::now(),
    };
    let regions = vec![REGION.to_string()];
    let req = ValidateRequest {
        bucket: &r.bucket,
        account: &r.member,
        regions: &regions,
        trail_name: &r.ctx.spec.trail.name,
        home_region: REGION,
        window: &window,
    };
    // CloudTrail's own key path: ListPublicKeys in the trail's home region.
    let keys = KeySource::CloudTrail(&member)
        .keys(&window)
        .await
        .expect("ListPublicKeys");
    let site = CallSite::new(&r.member, REGION, "logs validate");
    let report = validate(&archive, &site, &req, &keys)
        .await
        .expect("validate");
    assert!(report.ok(), "{:#?}", report.findings);
    assert!(
        report.count(Kind::DigestValid) >= 2,
        "{:#?}",
        report.findings
    );
    // Findings come newest digest first, each followed by the log files it lists.
    let digests: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.kind == Kind::DigestValid)
        .map(|f| f.key.clone())
        .collect();
    let newest_logs: Vec<String> = report
        .findings
        .iter()
        .skip(1)
        .take_while(|f| f.kind != Kind::DigestValid)
        .filter(|f| f.kind == Kind::LogValid)
        .map(|f| f.key.clone())
        .collect();
    assert!(newest_logs.len() >= 2, "{:#?}", report.findings);

    archive
        .delete_object()
        .bucket(&r.bucket)
        .key(&newest_logs[0])
        .send()
        .await
        .expect("delete a log");
    archive
        .put_object()
        .bucket(&r.bucket)
        .key(&newest_logs[1])
        .body(ByteStream::from(b"{\"Records\":[]}".to_vec()))
        .send()
        .await
        .expect("modify a log");
    let report = validate(&archive, &site, &req, &keys)
        .await
        .expect("validate");
    let found = |kind: Kind, key: &str| {
        report
            .findings
            .iter()
            .any(|f| f.kind == kind && f.key == key)
    };
    assert!(
        found(Kind::LogMissing, &newest_logs[0]),
        "{:#?}",
        report.findings
    );
    assert!(
        found(Kind::LogModified, &newest_logs[1]),
        "{:#?}",
        report.findings
    );
    assert!(!report.ok());

    // The digest the newest one links to goes missing.
    archive
        .delete_object()
        .bucket(&r.bucket)
        .key(&digests[1])
        .send()
        .await
        .expect("delete a digest");
    let report = validate(&archive, &site, &req, &keys)
        .await
        .expect("validate");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind == Kind::DigestMissing && f.key == digests[1]),
        "{:#?}",
        report.findings
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_logging_raises_the_trail_alarm_and_notifies_the_confirmed_subscriber() {
    let r = rolled_out("stop", RolloutOptions::default()).await;
    confirm_subscriptions(&r.org);
    let member = r.ctx.assume(&r.member, REGION).await;
    let alarm = control(&r.ctx, Topic::CloudTrailChanges).resource_name();
    // The rollout's own CreateTrail and StartLogging set it off first; wait until it settles.
    wait_for("the trail alarm back to OK", 60, || async {
        alarm_state(&member, &alarm).await == Some(StateValue::Ok)
    })
    .await;
    let topic = alarm_topic(&member, &alarm).await;
    let before = notifications(&topic).len();
    member
        .cloudtrail()
        .stop_logging()
        .name(&r.ctx.spec.trail.name)
        .send()
        .await
        .expect("StopLogging");
    wait_for("the trail alarm in ALARM", 60, || async {
        alarm_state(&member, &alarm).await == Some(StateValue::Alarm)
    })
    .await;
    let sent = notifications(&topic);
    assert!(sent.len() > before, "no notification after StopLogging");
    let message: serde_json::Value =
        serde_json::from_str(sent.last().unwrap()["message"].as_str().unwrap()).unwrap();
    assert_eq!(message["AlarmName"], json!(alarm));
    assert_eq!(message["NewStateValue"], json!("ALARM"));
    assert!(
        sent.last().unwrap()["endpoint"]
            .as_str()
            .unwrap()
            .contains('@')
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_activity_raises_the_root_alarm_and_a_topic_refusing_cloudwatch_fails_verify() {
    let r = rolled_out("root", RolloutOptions::default()).await;
    confirm_subscriptions(&r.org);
    let member = r.ctx.assume(&r.member, REGION).await;
    let root = control(&r.ctx, Topic::RootAccountUsage);
    let alarm = root.resource_name();
    let topic = alarm_topic(&member, &alarm).await;
    let closed = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", r.member)},
        "Action": "sns:Publish", "Resource": topic}]});
    member
        .sns()
        .set_topic_attributes()
        .topic_arn(&topic)
        .attribute_name("Policy")
        .attribute_value(closed.to_string())
        .send()
        .await
        .expect("close the topic to CloudWatch");
    inject_records(
        &r.member,
        REGION,
        &json!([{"eventName": "ConsoleLogin", "eventSource": "signin.amazonaws.com",
                 "eventType": "AwsConsoleSignIn", "responseElements": {"ConsoleLogin": "Success"},
                 "userIdentity": {"type": "Root", "principalId": r.member,
                                  "arn": format!("arn:aws:iam::{}:root", r.member),
                                  "accountId": r.member}}]),
    );
    wait_for("the root alarm in ALARM", 60, || async {
        alarm_state(&member, &alarm).await == Some(StateValue::Alarm)
    })
    .await;
    assert!(
        notifications(&topic).is_empty(),
        "the closed topic delivered"
    );
    let report = verify(&r.ctx, Some(&r.member)).await.expect("verify");
    let row = report
        .accounts
        .iter()
        .find(|a| a.account_id == r.member)
        .expect("member row");
    let cell = row
        .controls
        .iter()
        .find(|c| c.id == root.id)
        .expect("root control");
    assert_eq!(cell.status, Verdict::Fail, "{}", cell.evidence);
    assert!(
        cell.evidence.contains("last action failed") && cell.evidence.contains("SNS:Publish"),
        "{}",
        cell.evidence
    );
    let delivery = row
        .controls
        .iter()
        .find(|c| c.id == "CloudTrail.Delivery")
        .expect("delivery control");
    assert_eq!(delivery.status, Verdict::Pass, "{}", delivery.evidence);
}
