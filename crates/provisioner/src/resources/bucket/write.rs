//! One write per bucket setting, each converging exactly that setting.

use aws_sdk_s3::Client;
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
use trailhead_model::{ObjectLock, ObjectLockMode};

use super::spec::{
    ABORT_MULTIPART_DAYS, BucketSpec, Encryption, LIFECYCLE_RULE_ID, Lifecycle, bucket_key, days,
};
use crate::core::error::{CallSite, ProvisionError, code_of};

fn build_err(what: &str) -> impl Fn(aws_sdk_s3::error::BuildError) -> ProvisionError + '_ {
    move |e| ProvisionError::Config(format!("cannot build {what}: {e}"))
}

pub async fn create_bucket(
    s3: &Client,
    site: &CallSite,
    spec: &BucketSpec,
) -> Result<(), ProvisionError> {
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
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) if code_of(&e) == Some("BucketAlreadyOwnedByYou") => Ok(()),
        Err(e) => Err(site.error("CreateBucket", e).into()),
    }
}

pub async fn versioning(s3: &Client, site: &CallSite, bucket: &str) -> Result<(), ProvisionError> {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| site.error("PutBucketVersioning", e))?;
    Ok(())
}

pub async fn public_access_block(
    s3: &Client,
    site: &CallSite,
    bucket: &str,
) -> Result<(), ProvisionError> {
    s3.put_public_access_block()
        .bucket(bucket)
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
    Ok(())
}

pub async fn ownership(s3: &Client, site: &CallSite, bucket: &str) -> Result<(), ProvisionError> {
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()
        .map_err(build_err("the ownership rule"))?;
    s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(rule)
                .build()
                .map_err(build_err("the ownership controls"))?,
        )
        .send()
        .await
        .map_err(|e| site.error("PutBucketOwnershipControls", e))?;
    Ok(())
}

pub async fn encryption(
    s3: &Client,
    site: &CallSite,
    spec: &BucketSpec,
) -> Result<(), ProvisionError> {
    let by_default = match &spec.encryption {
        Encryption::S3Managed => {
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
        }
        Encryption::Kms { key_arn } => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(key_arn),
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            by_default
                .build()
                .map_err(build_err("the default encryption"))?,
        )
        .bucket_key_enabled(bucket_key(spec))
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
    Ok(())
}

/// Our rule, or (no lifecycle in the spec) no lifecycle configuration at all.
pub async fn lifecycle(
    s3: &Client,
    site: &CallSite,
    spec: &BucketSpec,
) -> Result<(), ProvisionError> {
    let Some(want) = spec.lifecycle else {
        s3.delete_bucket_lifecycle()
            .bucket(&spec.name)
            .send()
            .await
            .map_err(|e| site.error("DeleteBucketLifecycle", e))?;
        return Ok(());
    };
    s3.put_bucket_lifecycle_configuration()
        .bucket(&spec.name)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(lifecycle_rule(want)?)
                .build()
                .map_err(build_err("the lifecycle configuration"))?,
        )
        .send()
        .await
        .map_err(|e| site.error("PutBucketLifecycleConfiguration", e))?;
    Ok(())
}

fn lifecycle_rule(want: Lifecycle) -> Result<LifecycleRule, ProvisionError> {
    let mut rule = LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(
            LifecycleExpiration::builder()
                .days(days(want.expire_days))
                .build(),
        )
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(ABORT_MULTIPART_DAYS)
                .build(),
        );
    if let Some(nc) = want.noncurrent_days {
        rule = rule.noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(days(nc))
                .build(),
        );
    }
    rule.build().map_err(build_err("the lifecycle rule"))
}

pub async fn policy(s3: &Client, site: &CallSite, spec: &BucketSpec) -> Result<(), ProvisionError> {
    s3.put_bucket_policy()
        .bucket(&spec.name)
        .policy(spec.policy.to_json())
        .send()
        .await
        .map_err(|e| site.error("PutBucketPolicy", e))?;
    Ok(())
}

pub async fn logging(
    s3: &Client,
    site: &CallSite,
    spec: &BucketSpec,
) -> Result<(), ProvisionError> {
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
    Ok(())
}

pub async fn object_lock(
    s3: &Client,
    site: &CallSite,
    bucket: &str,
    lock: ObjectLock,
) -> Result<(), ProvisionError> {
    let mode = match lock.mode {
        ObjectLockMode::Governance => ObjectLockRetentionMode::Governance,
        ObjectLockMode::Compliance => ObjectLockRetentionMode::Compliance,
    };
    let retention = DefaultRetention::builder()
        .mode(mode)
        .days(days(lock.days))
        .build();
    s3.put_object_lock_configuration()
        .bucket(bucket)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(retention)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| site.error("PutObjectLockConfiguration", e))?;
    Ok(())
}
