//! The two buckets of the log archive. Each setting is read, compared with the spec, and written
//! only when it differs, so a converged bucket costs reads only.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketLoggingStatus, BucketVersioningStatus, CreateBucketConfiguration, DefaultRetention,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, LoggingEnabled,
    NoncurrentVersionExpiration, ObjectLockConfiguration, ObjectLockEnabled,
    ObjectLockRetentionMode, ObjectLockRule, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    VersioningConfiguration,
};
use trailhead_model::ObjectLock;
use trailhead_policies::{PolicyDocument, PolicyKind, check_budget, same_policy};

use crate::error::{CallSite, ProvisionError, code_of};
use crate::plan::{Action, Diff, shown};

pub const LIFECYCLE_RULE_ID: &str = "trailhead-retention";
const ABORT_MULTIPART_DAYS: i32 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3: server access logs cannot be delivered to an SSE-KMS bucket.
    S3Managed,
    Kms {
        key_arn: String,
    },
}

/// Everything trailhead sets on one bucket.
#[derive(Debug, Clone)]
pub struct BucketSpec {
    pub name: String,
    pub region: String,
    pub encryption: Encryption,
    pub expire_days: u32,
    pub noncurrent_days: Option<u32>,
    pub versioning: bool,
    pub object_lock: Option<ObjectLock>,
    /// Server access logs go to (bucket, prefix).
    pub logging: Option<(String, String)>,
    pub policy: PolicyDocument,
}

/// Live settings, as far as trailhead manages them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketState {
    pub exists: bool,
    pub versioning: String,
    pub mfa_delete: String,
    pub public_access_block: [bool; 4],
    pub ownership: Option<String>,
    pub encryption: Option<(String, Option<String>, bool)>,
    /// (expiration days, noncurrent days, abort multipart days) of our rule.
    pub lifecycle: Option<(Option<i32>, Option<i32>, Option<i32>)>,
    pub logging: Option<(String, String)>,
    pub policy: Option<String>,
    pub object_lock: Option<(String, Option<i32>)>,
}

fn absent(code: Option<&str>, expected: &[&str]) -> bool {
    code.is_some_and(|c| expected.contains(&c))
}

pub async fn read_bucket(
    s3: &Client,
    site: &CallSite,
    name: &str,
) -> Result<BucketState, ProvisionError> {
    let mut state = BucketState {
        versioning: "Disabled".into(),
        mfa_delete: "Disabled".into(),
        ..BucketState::default()
    };
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => state.exists = true,
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            if status == Some(404) || absent(code_of(&e), &["NotFound", "NoSuchBucket"]) {
                return Ok(state);
            }
            if status == Some(403) {
                return Err(ProvisionError::Config(format!(
                    "bucket {name} exists but belongs to another account (HeadBucket answered 403); pick another bucket_name template"
                )));
            }
            return Err(site.error("HeadBucket", e).into());
        }
    }

    // Eight independent reads: send them together.
    // Boxed: eight SDK futures side by side are too large for a small thread stack.
    let (v, pab, own, enc, lc, logging, policy, lock) = Box::pin(async {
        tokio::join!(
            s3.get_bucket_versioning().bucket(name).send(),
            s3.get_public_access_block().bucket(name).send(),
            s3.get_bucket_ownership_controls().bucket(name).send(),
            s3.get_bucket_encryption().bucket(name).send(),
            s3.get_bucket_lifecycle_configuration().bucket(name).send(),
            s3.get_bucket_logging().bucket(name).send(),
            s3.get_bucket_policy().bucket(name).send(),
            s3.get_object_lock_configuration().bucket(name).send(),
        )
    })
    .await;
    let v = v.map_err(|e| site.error("GetBucketVersioning", e))?;
    state.versioning = v.status().map_or("Disabled", |s| s.as_str()).to_string();
    state.mfa_delete = v
        .mfa_delete()
        .map_or("Disabled", |s| s.as_str())
        .to_string();

    match pab {
        Ok(out) => {
            if let Some(c) = out.public_access_block_configuration() {
                state.public_access_block = [
                    c.block_public_acls().unwrap_or(false),
                    c.ignore_public_acls().unwrap_or(false),
                    c.block_public_policy().unwrap_or(false),
                    c.restrict_public_buckets().unwrap_or(false),
                ];
            }
        }
        Err(e) if absent(e.code(), &["NoSuchPublicAccessBlockConfiguration"]) => {}
        Err(e) => return Err(site.error("GetPublicAccessBlock", e).into()),
    }

    match own {
        Ok(out) => {
            state.ownership = out
                .ownership_controls()
                .and_then(|c| c.rules().first())
                .map(|r| r.object_ownership().as_str().to_string());
        }
        Err(e) if absent(e.code(), &["OwnershipControlsNotFoundError"]) => {}
        Err(e) => return Err(site.error("GetBucketOwnershipControls", e).into()),
    }

    match enc {
        Ok(out) => {
            state.encryption = out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| {
                    let by_default = r.apply_server_side_encryption_by_default()?;
                    Some((
                        by_default.sse_algorithm().as_str().to_string(),
                        by_default.kms_master_key_id().map(str::to_string),
                        r.bucket_key_enabled().unwrap_or(false),
                    ))
                });
        }
        Err(e)
            if absent(
                e.code(),
                &["ServerSideEncryptionConfigurationNotFoundError"],
            ) => {}
        Err(e) => return Err(site.error("GetBucketEncryption", e).into()),
    }

    match lc {
        Ok(out) => {
            state.lifecycle = out
                .rules()
                .iter()
                .find(|r| r.id() == Some(LIFECYCLE_RULE_ID))
                .filter(|r| r.status() == &ExpirationStatus::Enabled)
                .map(|r| {
                    (
                        r.expiration().and_then(|e| e.days()),
                        r.noncurrent_version_expiration()
                            .and_then(|e| e.noncurrent_days()),
                        r.abort_incomplete_multipart_upload()
                            .and_then(|a| a.days_after_initiation()),
                    )
                });
        }
        Err(e) if absent(e.code(), &["NoSuchLifecycleConfiguration"]) => {}
        Err(e) => return Err(site.error("GetBucketLifecycleConfiguration", e).into()),
    }

    let logging = logging.map_err(|e| site.error("GetBucketLogging", e))?;
    state.logging = logging
        .logging_enabled()
        .map(|l| (l.target_bucket().to_string(), l.target_prefix().to_string()));

    match policy {
        Ok(out) => state.policy = out.policy().map(str::to_string),
        Err(e) if absent(e.code(), &["NoSuchBucketPolicy"]) => {}
        Err(e) => return Err(site.error("GetBucketPolicy", e).into()),
    }

    match lock {
        Ok(out) => {
            state.object_lock = out.object_lock_configuration().and_then(|c| {
                let retention = c.rule()?.default_retention()?;
                Some((retention.mode()?.as_str().to_string(), retention.days()))
            });
        }
        Err(e) if absent(e.code(), &["ObjectLockConfigurationNotFoundError"]) => {}
        Err(e) => return Err(site.error("GetObjectLockConfiguration", e).into()),
    }
    Ok(state)
}

fn days(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn build_err(what: &str) -> impl Fn(aws_sdk_s3::error::BuildError) -> ProvisionError + '_ {
    move |e| ProvisionError::Config(format!("cannot build {what}: {e}"))
}

/// Compares, then (when `apply`) converges one bucket. Returns the action and its changes.
pub async fn ensure_bucket(
    s3: &Client,
    site: &CallSite,
    spec: &BucketSpec,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    // Budgets first: nothing is created for a policy AWS would refuse.
    check_budget(PolicyKind::BucketPolicy, &spec.policy)
        .map_err(|e| ProvisionError::Config(format!("bucket {}: {e}", spec.name)))?;
    let live = read_bucket(s3, site, &spec.name).await?;
    let mut diff = Diff::new();
    let created = !live.exists;
    if created {
        diff.field("bucket", "(none)", &spec.name);
    }

    let want_versioning = if spec.versioning {
        "Enabled"
    } else {
        "Disabled"
    };
    let versioning_changes =
        spec.versioning && diff.field("versioning", &live.versioning, want_versioning);
    let pab_changes = diff.field(
        "public_access_block",
        format!("{:?}", live.public_access_block),
        format!("{:?}", [true; 4]),
    );
    let ownership_changes = diff.field(
        "object_ownership",
        shown(live.ownership.as_deref()),
        "BucketOwnerEnforced",
    );
    let (want_algo, want_key) = match &spec.encryption {
        Encryption::S3Managed => ("AES256".to_string(), None),
        Encryption::Kms { key_arn } => ("aws:kms".to_string(), Some(key_arn.clone())),
    };
    let want_bucket_key = matches!(spec.encryption, Encryption::Kms { .. });
    let live_enc = live.encryption.clone().unwrap_or_default();
    let mut encryption_changes = diff.field(
        "sse_algorithm",
        shown(live.encryption.as_ref().map(|e| &e.0)),
        &want_algo,
    );
    encryption_changes |= diff.field(
        "sse_kms_key",
        shown(live_enc.1.as_deref()),
        shown(want_key.as_deref()),
    );
    encryption_changes |= want_bucket_key && diff.field("bucket_key_enabled", live_enc.2, true);
    let (exp, nc, abort) = live.lifecycle.unwrap_or((None, None, None));
    let mut lifecycle_changes = diff.field("expiration_days", shown(exp), days(spec.expire_days));
    lifecycle_changes |= diff.field(
        "noncurrent_expiration_days",
        shown(nc),
        shown(spec.noncurrent_days.map(days)),
    );
    lifecycle_changes |= diff.field(
        "abort_incomplete_multipart_days",
        shown(abort),
        ABORT_MULTIPART_DAYS,
    );
    let logging_changes = diff.field(
        "access_logging",
        shown(live.logging.as_ref().map(|(b, p)| format!("{b}/{p}"))),
        shown(spec.logging.as_ref().map(|(b, p)| format!("{b}/{p}"))),
    );
    let policy_same = live
        .policy
        .as_deref()
        .is_some_and(|p| same_policy(p, &spec.policy));
    let policy_changes = !policy_same
        && diff.field(
            "policy",
            if live.policy.is_some() {
                "(differs)"
            } else {
                "(none)"
            },
            format!("{} statements", spec.policy.statements.len()),
        );
    let lock_want = spec
        .object_lock
        .map(|l| format!("{} {}d", l.mode.as_aws_str(), l.days));
    let lock_live = live
        .object_lock
        .as_ref()
        .map(|(m, d)| format!("{m} {}d", d.unwrap_or(0)));
    let lock_changes =
        lock_want.is_some() && diff.field("object_lock", shown(lock_live), shown(lock_want));

    if !apply || diff.is_empty() {
        let action = if created {
            Action::Create
        } else {
            diff.action()
        };
        return Ok((action, diff));
    }

    if created {
        let mut req = s3
            .create_bucket()
            .bucket(&spec.name)
            .object_ownership(ObjectOwnership::BucketOwnerEnforced);
        // us-east-1 is the one region that must not be named as a location constraint.
        if spec.region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(spec.region.as_str()))
                    .build(),
            );
        }
        if spec.object_lock.is_some() {
            req = req.object_lock_enabled_for_bucket(true);
        }
        if let Err(e) = req.send().await
            && !absent(code_of(&e), &["BucketAlreadyOwnedByYou"])
        {
            return Err(site.error("CreateBucket", e).into());
        }
    }
    if versioning_changes || (created && spec.versioning) {
        s3.put_bucket_versioning()
            .bucket(&spec.name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| site.error("PutBucketVersioning", e))?;
    }
    if pab_changes {
        s3.put_public_access_block()
            .bucket(&spec.name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| site.error("PutPublicAccessBlock", e))?;
    }
    if ownership_changes {
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
            .build()
            .map_err(build_err("the ownership rule"))?;
        s3.put_bucket_ownership_controls()
            .bucket(&spec.name)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(rule)
                    .build()
                    .map_err(build_err("the ownership controls"))?,
            )
            .send()
            .await
            .map_err(|e| site.error("PutBucketOwnershipControls", e))?;
    }
    if encryption_changes {
        let mut by_default = ServerSideEncryptionByDefault::builder();
        by_default = match &spec.encryption {
            Encryption::S3Managed => by_default.sse_algorithm(ServerSideEncryption::Aes256),
            Encryption::Kms { key_arn } => by_default
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(key_arn),
        };
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                by_default
                    .build()
                    .map_err(build_err("the default encryption"))?,
            )
            .bucket_key_enabled(want_bucket_key)
            .build();
        s3.put_bucket_encryption()
            .bucket(&spec.name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(build_err("the encryption configuration"))?,
            )
            .send()
            .await
            .map_err(|e| site.error("PutBucketEncryption", e))?;
    }
    if lifecycle_changes {
        let mut rule = LifecycleRule::builder()
            .id(LIFECYCLE_RULE_ID)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .expiration(
                LifecycleExpiration::builder()
                    .days(days(spec.expire_days))
                    .build(),
            )
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(ABORT_MULTIPART_DAYS)
                    .build(),
            );
        if let Some(nc) = spec.noncurrent_days {
            rule = rule.noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(days(nc))
                    .build(),
            );
        }
        s3.put_bucket_lifecycle_configuration()
            .bucket(&spec.name)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(rule.build().map_err(build_err("the lifecycle rule"))?)
                    .build()
                    .map_err(build_err("the lifecycle configuration"))?,
            )
            .send()
            .await
            .map_err(|e| site.error("PutBucketLifecycleConfiguration", e))?;
    }
    // The policy before logging: S3 checks that the log target's policy admits its logging
    // service, and before the object lock, which needs versioning already on.
    if policy_changes {
        s3.put_bucket_policy()
            .bucket(&spec.name)
            .policy(spec.policy.to_json())
            .send()
            .await
            .map_err(|e| site.error("PutBucketPolicy", e))?;
    }
    if logging_changes {
        let status = match &spec.logging {
            Some((target, prefix)) => BucketLoggingStatus::builder()
                .logging_enabled(
                    LoggingEnabled::builder()
                        .target_bucket(target)
                        .target_prefix(prefix)
                        .build()
                        .map_err(build_err("the logging target"))?,
                )
                .build(),
            None => BucketLoggingStatus::builder().build(),
        };
        s3.put_bucket_logging()
            .bucket(&spec.name)
            .bucket_logging_status(status)
            .send()
            .await
            .map_err(|e| site.error("PutBucketLogging", e))?;
    }
    if lock_changes && let Some(lock) = spec.object_lock {
        let mode = match lock.mode {
            trailhead_model::ObjectLockMode::Governance => ObjectLockRetentionMode::Governance,
            trailhead_model::ObjectLockMode::Compliance => ObjectLockRetentionMode::Compliance,
        };
        s3.put_object_lock_configuration()
            .bucket(&spec.name)
            .object_lock_configuration(
                ObjectLockConfiguration::builder()
                    .object_lock_enabled(ObjectLockEnabled::Enabled)
                    .rule(
                        ObjectLockRule::builder()
                            .default_retention(
                                DefaultRetention::builder()
                                    .mode(mode)
                                    .days(days(lock.days))
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| site.error("PutObjectLockConfiguration", e))?;
    }
    let action = if created {
        Action::Create
    } else {
        Action::Update
    };
    Ok((action, diff))
}
