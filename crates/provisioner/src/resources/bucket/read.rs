//! Reads one bucket's live settings, as far as trailhead manages them: eight independent reads
//! sent together, each answer folded into `BucketState` by its own function.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput;
use aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationOutput;
use aws_sdk_s3::operation::get_bucket_ownership_controls::GetBucketOwnershipControlsOutput;
use aws_sdk_s3::operation::get_object_lock_configuration::GetObjectLockConfigurationOutput;
use aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockOutput;
use aws_sdk_s3::types::ExpirationStatus;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::spec::{BucketState, LIFECYCLE_RULE_ID};
use crate::core::error::{CallSite, ProvisionError, code_of};

fn absent(code: Option<&str>, expected: &[&str]) -> bool {
    code.is_some_and(|c| expected.contains(&c))
}

/// The answer, or None when S3 says the setting was never made (`missing` codes).
fn optional<T, E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    site: &CallSite,
    operation: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
    missing: &[&str],
) -> Result<Option<T>, ProvisionError> {
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if absent(e.code(), missing) => Ok(None),
        Err(e) => Err(site.error(operation, e).into()),
    }
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
    if !bucket_exists(s3, site, name).await? {
        return Ok(state);
    }
    state.exists = true;
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
    let pab = optional(
        site,
        "GetPublicAccessBlock",
        pab,
        &["NoSuchPublicAccessBlockConfiguration"],
    )?;
    state.public_access_block = pab.map(public_access_block).unwrap_or_default();
    let own = optional(
        site,
        "GetBucketOwnershipControls",
        own,
        &["OwnershipControlsNotFoundError"],
    )?;
    state.ownership = own.and_then(ownership);
    let enc = optional(
        site,
        "GetBucketEncryption",
        enc,
        &["ServerSideEncryptionConfigurationNotFoundError"],
    )?;
    state.encryption = enc.and_then(encryption);
    let lc = optional(
        site,
        "GetBucketLifecycleConfiguration",
        lc,
        &["NoSuchLifecycleConfiguration"],
    )?;
    if let Some(lc) = lc {
        read_lifecycle(&mut state, &lc);
    }
    let logging = logging.map_err(|e| site.error("GetBucketLogging", e))?;
    state.logging = logging
        .logging_enabled()
        .map(|l| (l.target_bucket().to_string(), l.target_prefix().to_string()));
    let policy = optional(site, "GetBucketPolicy", policy, &["NoSuchBucketPolicy"])?;
    state.policy = policy.and_then(|p| p.policy().map(str::to_string));
    let lock = optional(
        site,
        "GetObjectLockConfiguration",
        lock,
        &["ObjectLockConfigurationNotFoundError"],
    )?;
    state.object_lock = lock.and_then(object_lock);
    Ok(state)
}

async fn bucket_exists(s3: &Client, site: &CallSite, name: &str) -> Result<bool, ProvisionError> {
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            if status == Some(404) || absent(code_of(&e), &["NotFound", "NoSuchBucket"]) {
                return Ok(false);
            }
            if status == Some(403) {
                return Err(ProvisionError::Config(format!(
                    "bucket {name} exists but belongs to another account (HeadBucket answered 403); pick another bucket_name template"
                )));
            }
            Err(site.error("HeadBucket", e).into())
        }
    }
}

fn public_access_block(out: GetPublicAccessBlockOutput) -> [bool; 4] {
    out.public_access_block_configuration()
        .map(|c| {
            [
                c.block_public_acls().unwrap_or(false),
                c.ignore_public_acls().unwrap_or(false),
                c.block_public_policy().unwrap_or(false),
                c.restrict_public_buckets().unwrap_or(false),
            ]
        })
        .unwrap_or_default()
}

fn ownership(out: GetBucketOwnershipControlsOutput) -> Option<String> {
    out.ownership_controls()
        .and_then(|c| c.rules().first())
        .map(|r| r.object_ownership().as_str().to_string())
}

fn encryption(out: GetBucketEncryptionOutput) -> Option<(String, Option<String>, bool)> {
    let rule = out
        .server_side_encryption_configuration()?
        .rules()
        .first()?;
    let by_default = rule.apply_server_side_encryption_by_default()?;
    Some((
        by_default.sse_algorithm().as_str().to_string(),
        by_default.kms_master_key_id().map(str::to_string),
        rule.bucket_key_enabled().unwrap_or(false),
    ))
}

fn read_lifecycle(state: &mut BucketState, out: &GetBucketLifecycleConfigurationOutput) {
    state.lifecycle_rules = out
        .rules()
        .iter()
        .map(|r| r.id().unwrap_or("(no id)").to_string())
        .collect();
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

fn object_lock(out: GetObjectLockConfigurationOutput) -> Option<(String, Option<i32>)> {
    let retention = out
        .object_lock_configuration()?
        .rule()?
        .default_retention()?;
    Some((retention.mode()?.as_str().to_string(), retention.days()))
}
