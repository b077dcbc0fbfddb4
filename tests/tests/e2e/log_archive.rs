//! The log-archive stage against the emulator: built from nothing, read back setting by setting,
//! idempotent (a second run writes nothing), and drift is detected and corrected.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLoggingStatus, BucketVersioningStatus, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
};
use trailhead_e2e::{REGION, emulator, root_config, run_ctx, seed};
use trailhead_policies::{PolicyDocument, same_policy};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::log_archive::LIFECYCLE_RULE_ID;
use trailhead_provisioner::log_archive::{
    LogArchiveOutcome, RunCtx, archive_inputs, log_archive_stage,
};
use trailhead_provisioner::plan::Action;

fn action_of(outcome: &LogArchiveOutcome, step: &str) -> Action {
    outcome
        .reports
        .iter()
        .find(|r| r.step == step)
        .map(|r| r.action)
        .unwrap_or_else(|| panic!("no report for {step}"))
}

fn changed_fields(outcome: &LogArchiveOutcome, step: &str) -> Vec<String> {
    outcome
        .reports
        .iter()
        .find(|r| r.step == step)
        .map(|r| r.changes.iter().map(|c| c.field.clone()).collect())
        .unwrap_or_default()
}

async fn run(ctx: &RunCtx) -> LogArchiveOutcome {
    ctx.calls.reset();
    log_archive_stage(ctx)
        .await
        .unwrap_or_else(|e| panic!("stage failed: {e}"))
}

fn writes(ctx: &RunCtx) -> u64 {
    totals(&ctx.calls.snapshot()).1
}

#[tokio::test]
async fn builds_from_nothing_reads_back_and_converges() {
    let conn = emulator();
    let org = seed(&conn, "archive", 2).await;
    let state = tempfile::tempdir().expect("tempdir");
    // The expiring variant (no MFA Delete), so that the lifecycle path is exercised too.
    let spec_text = org.spec_toml("arch", REGION).replace(
        "mfa_delete = true",
        "mfa_delete = false\nretention_days = 365\nnoncurrent_retention_days = 90",
    );
    let ctx = run_ctx(&conn, &spec_text, true, state.path());

    let first = run(&ctx).await;
    assert_eq!(action_of(&first, "log-archive account"), Action::NoOp);
    assert_eq!(action_of(&first, "access-log bucket"), Action::Create);
    assert_eq!(action_of(&first, "archive key"), Action::Create);
    assert_eq!(action_of(&first, "archive bucket"), Action::Create);
    assert_eq!(action_of(&first, "mfa delete"), Action::NoOp);
    assert!(writes(&ctx) > 10);

    // Read every setting back through the SDK, as the log-archive account.
    let la = org.log_archive.id.clone();
    let session = ctx.assume(&la, REGION).await;
    let s3 = session.s3();
    let kms = session.kms();
    let bucket = first.bucket.clone().expect("bucket");
    assert_eq!(bucket, format!("arch-cloudtrail-{la}"));
    let access = format!("{bucket}-access-logs");
    let key_arn = first.key_arn.clone().expect("key arn");

    let v = s3
        .get_bucket_versioning()
        .bucket(&bucket)
        .send()
        .await
        .expect("versioning");
    assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled));
    assert_ne!(
        v.mfa_delete().map(|m| m.as_str()),
        Some("Enabled"),
        "MFA Delete is off, as the spec says"
    );
    for b in [&bucket, &access] {
        let v = s3
            .get_bucket_versioning()
            .bucket(b)
            .send()
            .await
            .expect("versioning");
        assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled), "{b}");
        let pab = s3
            .get_public_access_block()
            .bucket(b)
            .send()
            .await
            .expect("pab");
        let c = pab.public_access_block_configuration().expect("pab config");
        assert_eq!(
            (
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets()
            ),
            (Some(true), Some(true), Some(true), Some(true)),
            "{b}"
        );
        let own = s3
            .get_bucket_ownership_controls()
            .bucket(b)
            .send()
            .await
            .expect("ownership");
        assert_eq!(
            own.ownership_controls().expect("controls").rules()[0]
                .object_ownership()
                .as_str(),
            "BucketOwnerEnforced"
        );
    }
    let enc = s3
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .expect("encryption");
    let rule = &enc
        .server_side_encryption_configuration()
        .expect("sse")
        .rules()[0];
    let by_default = rule
        .apply_server_side_encryption_by_default()
        .expect("default");
    assert_eq!(by_default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(by_default.kms_master_key_id(), Some(key_arn.as_str()));
    assert_eq!(rule.bucket_key_enabled(), Some(true));
    let enc = s3
        .get_bucket_encryption()
        .bucket(&access)
        .send()
        .await
        .expect("encryption");
    assert_eq!(
        enc.server_side_encryption_configuration()
            .expect("sse")
            .rules()[0]
            .apply_server_side_encryption_by_default()
            .expect("default")
            .sse_algorithm()
            .as_str(),
        "AES256",
        "server access logs cannot go to an SSE-KMS bucket"
    );
    let lc = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .send()
        .await
        .expect("lifecycle");
    let rule = lc
        .rules()
        .iter()
        .find(|r| r.id() == Some(LIFECYCLE_RULE_ID))
        .expect("our rule");
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(365));
    assert_eq!(
        rule.noncurrent_version_expiration()
            .and_then(|e| e.noncurrent_days()),
        Some(90)
    );
    assert_eq!(
        rule.abort_incomplete_multipart_upload()
            .and_then(|a| a.days_after_initiation()),
        Some(7)
    );
    let logging = s3
        .get_bucket_logging()
        .bucket(&bucket)
        .send()
        .await
        .expect("logging");
    assert_eq!(
        logging.logging_enabled().map(|l| l.target_bucket()),
        Some(access.as_str())
    );

    let administrator = trailhead_provisioner::session::role_arn(REGION, &la, &ctx.role.role_name);
    let mut inputs = archive_inputs(
        &ctx.spec,
        &first.org.org_id,
        &la,
        &first.targets,
        administrator,
    );
    inputs.key_arn = Some(key_arn.clone());
    let want_policy = trailhead_policies::archive_bucket_policy(&inputs, first.mode);
    let live_policy = s3
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .expect("policy");
    assert!(same_policy(
        live_policy.policy().expect("text"),
        &want_policy
    ));
    let live: serde_json::Value =
        serde_json::from_str(live_policy.policy().expect("text")).expect("json");
    let sids: Vec<&str> = live["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    for sid in [
        "CloudTrailAclCheck",
        "DenyInsecureTransport",
        "DenyOutsideOrganization",
        "LogReaders",
    ] {
        assert!(sids.contains(&sid), "{sid} missing from {sids:?}");
    }
    for t in &first.targets {
        assert!(
            sids.contains(&format!("CloudTrailWrite{}", t.id).as_str()),
            "no write grant for {}",
            t.id
        );
    }
    let access_policy = s3
        .get_bucket_policy()
        .bucket(&access)
        .send()
        .await
        .expect("policy");
    assert!(same_policy(
        access_policy.policy().expect("text"),
        &trailhead_policies::access_log_bucket_policy("aws", &access, &bucket, &la)
    ));

    let key = kms
        .describe_key()
        .key_id(&ctx.spec.log_archive.kms_alias)
        .send()
        .await
        .expect("key by alias");
    assert_eq!(
        key.key_metadata().and_then(|m| m.arn()),
        Some(key_arn.as_str())
    );
    let rotation = kms
        .get_key_rotation_status()
        .key_id(&key_arn)
        .send()
        .await
        .expect("rotation");
    assert!(rotation.key_rotation_enabled());
    let policy = kms
        .get_key_policy()
        .key_id(&key_arn)
        .policy_name("default")
        .send()
        .await
        .expect("key policy");
    let want_key_policy = trailhead_policies::key_policy(&inputs, first.mode);
    assert!(same_policy(
        policy.policy().expect("text"),
        &want_key_policy
    ));

    // The TLS-only and org-only denies are in force, and the archive still works over TLS.
    s3.put_object()
        .bucket(&bucket)
        .key(format!(
            "AWSLogs/{la}/CloudTrail/{REGION}/2026/11/01/x.json.gz"
        ))
        .body(ByteStream::from_static(b"{}"))
        .send()
        .await
        .expect("an org principal over TLS may write");
    // The root user of an account outside the organization: no role there to assume.
    let outsider = conn.s3_client(&root_config(&conn, "999999999999").await);
    let denied = outsider
        .get_object()
        .bucket(&bucket)
        .key(format!(
            "AWSLogs/{la}/CloudTrail/{REGION}/2026/11/01/x.json.gz"
        ))
        .send()
        .await;
    let err = denied.expect_err("a principal outside the organization must be denied");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));

    // A second run writes nothing.
    let second = run(&ctx).await;
    assert_eq!(writes(&ctx), 0, "{:?}", ctx.calls.snapshot());
    for step in ["access-log bucket", "archive key", "archive bucket"] {
        assert_eq!(action_of(&second, step), Action::NoOp, "{step}");
    }

    // Drift: each one is found by plan, then corrected by rollout.
    s3.put_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(
                    LifecycleRule::builder()
                        .id(LIFECYCLE_RULE_ID)
                        .status(ExpirationStatus::Enabled)
                        .filter(LifecycleRuleFilter::builder().prefix("").build())
                        .expiration(LifecycleExpiration::builder().days(30).build())
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("lifecycle"),
        )
        .send()
        .await
        .expect("drift lifecycle");
    kms.disable_key_rotation()
        .key_id(&key_arn)
        .send()
        .await
        .expect("drift rotation");
    let mut weakened = want_policy.clone();
    weakened
        .statements
        .retain(|s| s.sid != "DenyInsecureTransport");
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(weakened.to_json())
        .send()
        .await
        .expect("drift policy");
    s3.delete_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .expect("drift pab");
    s3.put_bucket_logging()
        .bucket(&bucket)
        .bucket_logging_status(BucketLoggingStatus::builder().build())
        .send()
        .await
        .expect("drift logging");

    let plan_ctx = RunCtx {
        apply: false,
        ..ctx.clone()
    };
    let plan = run(&plan_ctx).await;
    assert_eq!(writes(&plan_ctx), 0, "plan must not write");
    let fields = changed_fields(&plan, "archive bucket");
    for f in [
        "expiration_days",
        "noncurrent_expiration_days",
        "abort_incomplete_multipart_days",
        "policy",
        "public_access_block",
        "access_logging",
    ] {
        assert!(
            fields.contains(&f.to_string()),
            "plan missed {f}: {fields:?}"
        );
    }
    assert_eq!(
        changed_fields(&plan, "archive key"),
        vec!["rotation".to_string()]
    );
    let retention = plan
        .reports
        .iter()
        .find(|r| r.step == "archive bucket")
        .expect("report")
        .changes
        .iter()
        .find(|c| c.field == "expiration_days")
        .expect("change")
        .clone();
    assert_eq!(
        (retention.from.as_str(), retention.to.as_str()),
        ("30", "365")
    );

    let fixed = run(&ctx).await;
    assert_eq!(action_of(&fixed, "archive bucket"), Action::Update);
    assert_eq!(action_of(&fixed, "archive key"), Action::Update);
    assert!(
        kms.get_key_rotation_status()
            .key_id(&key_arn)
            .send()
            .await
            .expect("rotation")
            .key_rotation_enabled()
    );
    let live_policy = s3
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .expect("policy");
    assert!(same_policy(
        live_policy.policy().expect("text"),
        &want_policy
    ));

    let settled = run(&ctx).await;
    assert_eq!(
        writes(&ctx),
        0,
        "after correcting drift the next run writes nothing"
    );
    assert_eq!(action_of(&settled, "archive bucket"), Action::NoOp);
}

#[tokio::test]
async fn object_lock_is_set_and_read_back() {
    let conn = emulator();
    let org = seed(&conn, "lock", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let spec_text = org.spec_toml("lock", REGION).replace(
        "security_account_id",
        "object_lock = { mode = \"GOVERNANCE\", days = 30 }\nsecurity_account_id",
    );
    let ctx = run_ctx(&conn, &spec_text, true, state.path());
    let outcome = run(&ctx).await;
    let report = outcome
        .reports
        .iter()
        .find(|r| r.step == "archive bucket")
        .expect("report");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("cannot be turned off")),
        "{:?}",
        report.notes
    );
    let session = ctx.assume(&org.log_archive.id, REGION).await;
    let lock = session
        .s3()
        .get_object_lock_configuration()
        .bucket(outcome.bucket.as_deref().expect("bucket"))
        .send()
        .await
        .expect("object lock");
    let retention = lock
        .object_lock_configuration()
        .and_then(|c| c.rule())
        .and_then(|r| r.default_retention())
        .expect("default retention");
    assert_eq!(retention.mode().map(|m| m.as_str()), Some("GOVERNANCE"));
    assert_eq!(retention.days(), Some(30));
    run(&ctx).await;
    assert_eq!(writes(&ctx), 0);
}

#[tokio::test]
async fn a_crash_between_create_key_and_create_alias_adopts_the_key() {
    let conn = emulator();
    let org = seed(&conn, "orphan", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("orph", REGION), true, state.path());
    let session = ctx.assume(&org.log_archive.id, REGION).await;
    let kms = session.kms();
    // What a crash right after CreateKey leaves behind: our tagged key, without its alias.
    let orphan = kms
        .create_key()
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("trailhead:alias")
                .tag_value(&ctx.spec.log_archive.kms_alias)
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("create key");
    let orphan_id = orphan.key_metadata().expect("meta").key_id().to_string();
    let outcome = run(&ctx).await;
    let described = kms
        .describe_key()
        .key_id(&ctx.spec.log_archive.kms_alias)
        .send()
        .await
        .expect("alias");
    assert_eq!(
        described.key_metadata().map(|m| m.key_id()),
        Some(orphan_id.as_str())
    );
    assert_eq!(
        outcome.key_arn.as_deref(),
        described.key_metadata().and_then(|m| m.arn())
    );
    let keys = kms.list_keys().send().await.expect("list keys");
    assert_eq!(keys.keys().len(), 1, "no second key may be created");
    let _ = PolicyDocument::new(Vec::new());
}
