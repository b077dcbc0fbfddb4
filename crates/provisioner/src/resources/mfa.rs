//! MFA Delete: only the bucket owner's root user, with its MFA device, can turn it on. The
//! rollout reports it as pending with instructions; `trailhead mfa-delete` does it.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{BucketVersioningStatus, MfaDelete, VersioningConfiguration};

use crate::core::error::{CallSite, ProvisionError};

/// What a person must do, word for word.
pub fn instructions(org_spec_path: &str, bucket: &str, account: &str, partition: &str) -> String {
    format!(
        "MFA Delete on {bucket} needs the root user of account {account} with its MFA device (no role can set it). \
Sign in as that root user, create root access keys in a profile (e.g. `log-archive-root`), then run: \
trailhead mfa-delete --org {org_spec_path} --root-profile log-archive-root --mfa-serial arn:{partition}:iam::{account}:mfa/root-account-mfa-device \
and delete the root access keys afterwards"
    )
}

/// Turns MFA Delete on and reads it back. `code` is the current MFA code: it is sent once in the
/// `x-amz-mfa` header and never stored or printed.
pub async fn enable_mfa_delete(
    s3: &Client,
    site: &CallSite,
    bucket: &str,
    serial: &str,
    code: &str,
) -> Result<bool, ProvisionError> {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .mfa(format!("{serial} {code}"))
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .mfa_delete(MfaDelete::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            // The error must not echo the header back.
            let mut err = site.error("PutBucketVersioning", e);
            err.message = err.message.replace(code, "******");
            err
        })?;
    let read = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| site.error("GetBucketVersioning", e))?;
    Ok(read.mfa_delete().map(|m| m.as_str()) == Some("Enabled"))
}
