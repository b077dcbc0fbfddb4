//! `mfa-delete`: MFA Delete turned on for the archive bucket by the log-archive account's root
//! user (no role can), and read back.

use aws_config::SdkConfig;
use trailhead_model::{LogArchiveAccount, OrgSpec};

use crate::Connection;
use crate::core::error::{CallSite, ProvisionError};
use crate::resources::mfa::enable_mfa_delete;

/// What the root user asked for, and what S3 reads back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDeleteOutcome {
    pub bucket: String,
    pub enabled: bool,
}

/// The root user's request. `root` signs with the root user's own keys, never the caller's
/// usual identity; `whose` names those keys in errors (a profile). `code` is sent once, in the
/// `x-amz-mfa` header, and never stored or printed.
pub struct MfaDeleteRequest<'a> {
    pub spec: &'a OrgSpec,
    pub root: &'a SdkConfig,
    pub whose: &'a str,
    pub serial: &'a str,
    pub code: &'a str,
}

/// Checks that the keys are the log-archive account's, then turns MFA Delete on and reads it
/// back.
pub async fn mfa_delete(
    conn: &Connection,
    req: &MfaDeleteRequest<'_>,
) -> Result<MfaDeleteOutcome, ProvisionError> {
    let spec = req.spec;
    let home = &spec.org.home_region;
    let who = aws_sdk_sts::Client::new(req.root)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| CallSite::new("root", home, "mfa delete").error("GetCallerIdentity", e))?;
    let site = CallSite::new("root", home, "mfa delete");
    let account = site
        .require(who.account(), "GetCallerIdentity", "Account")?
        .to_string();
    if let LogArchiveAccount::Existing(id) = &spec.log_archive.account
        && id.as_str() != account
    {
        return Err(ProvisionError::Config(format!(
            "{} belongs to account {account}, not the log-archive account {id}",
            req.whose
        )));
    }
    let bucket = spec.log_archive.bucket_name(&spec.org, &account);
    let s3 = conn.s3_client(req.root);
    let site = CallSite::new(&account, home, "mfa delete");
    let enabled = enable_mfa_delete(&s3, &site, &bucket, req.serial, req.code).await?;
    Ok(MfaDeleteOutcome { bucket, enabled })
}
