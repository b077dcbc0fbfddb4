//! The log-archive stage: the account, the access-log bucket, the KMS key, the archive bucket and
//! MFA Delete, in that order, each read, compared and converged.

pub mod account;
pub mod buckets;
pub mod key;
pub mod mfa;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use trailhead_model::{OrgSpec, TargetAccount, access_log_bucket_for};
use trailhead_policies::{
    ArchiveInputs, DeputyMode, TrailRef, access_log_bucket_policy, archive_bucket_policy,
    key_policy,
};

use crate::Connection;
use crate::counter::CallLog;
use crate::error::{CallSite, ProvisionError};
use crate::plan::{Action, Diff, StepReport};
use crate::session::{AccessRole, AccountSession, partition};
use crate::targets::{OrgView, read_org, resolve_targets};
use buckets::{BucketSpec, Encryption, ensure_bucket};
use key::{KeySpec, ensure_key};

/// Everything a run needs to know, whatever stage it runs.
#[derive(Clone)]
pub struct RunCtx {
    pub conn: Connection,
    pub spec: OrgSpec,
    /// How the spec was named on the command line, for instructions.
    pub spec_path: String,
    pub calls: CallLog,
    /// False: read and compare only (plan).
    pub apply: bool,
    pub role: AccessRole,
    pub state_dir: PathBuf,
    pub assume_timeout: Duration,
}

impl RunCtx {
    pub async fn management(&self) -> AccountSession {
        let base = self.conn.base_config(&self.spec.org.home_region).await;
        AccountSession::direct(
            &self.conn,
            &base,
            self.spec.org.management_account.as_str(),
            &self.calls,
        )
    }

    pub async fn assume(&self, account: &str, region: &str) -> AccountSession {
        let base = self.conn.base_config(region).await;
        AccountSession::assume(&self.conn, &base, account, region, &self.role, &self.calls).await
    }
}

pub struct LogArchiveOutcome {
    pub org: OrgView,
    pub account_id: Option<String>,
    pub bucket: Option<String>,
    pub key_arn: Option<String>,
    pub mode: DeputyMode,
    pub targets: Vec<TargetAccount>,
    pub reports: Vec<StepReport>,
}

pub const STEP_ACCOUNT: &str = "log-archive account";
pub const STEP_ACCESS_LOG_BUCKET: &str = "access-log bucket";
pub const STEP_KEY: &str = "archive key";
pub const STEP_ARCHIVE_BUCKET: &str = "archive bucket";
pub const STEP_MFA_DELETE: &str = "mfa delete";

fn report(
    account: &str,
    region: &str,
    step: &str,
    action: Action,
    diff: Diff,
    notes: Vec<String>,
    started: Instant,
) -> StepReport {
    StepReport {
        account: account.to_string(),
        region: region.to_string(),
        step: step.to_string(),
        action,
        changes: diff.changes,
        notes,
        duration: started.elapsed(),
    }
}

pub fn archive_inputs(
    spec: &OrgSpec,
    org_id: &str,
    la: &str,
    targets: &[TargetAccount],
) -> ArchiveInputs {
    let home = &spec.org.home_region;
    ArchiveInputs {
        partition: partition(home).to_string(),
        bucket: spec.log_archive.bucket_name(&spec.org, la),
        org_id: org_id.to_string(),
        log_archive_account: la.to_string(),
        security_account: spec
            .log_archive
            .security_account
            .as_ref()
            .map(|a| a.to_string()),
        trail_name: spec.trail.name.clone(),
        trails: targets
            .iter()
            .map(|t| TrailRef {
                account: t.id.to_string(),
                region: home.clone(),
                name: spec.trail.name.clone(),
            })
            .collect(),
    }
}

pub async fn log_archive_stage(ctx: &RunCtx) -> Result<LogArchiveOutcome, ProvisionError> {
    let spec = &ctx.spec;
    let home = spec.org.home_region.clone();
    let management = ctx.management().await;
    let org = read_org(&management).await?;
    let mut reports = Vec::new();

    let started = Instant::now();
    let (action, diff, la) = account::ensure_account(
        &management,
        &org,
        &spec.log_archive.account,
        &ctx.state_dir,
        ctx.apply,
    )
    .await?;
    let la_label = la.clone().unwrap_or_else(|| "(new)".into());
    reports.push(report(
        &la_label,
        &home,
        STEP_ACCOUNT,
        action,
        diff,
        Vec::new(),
        started,
    ));

    let (targets, problems) = resolve_targets(&management, spec, &org, la.as_deref()).await?;
    if !problems.is_empty() {
        return Err(ProvisionError::Config(problems.join("; ")));
    }
    let Some(la) = la else {
        // A plan of an account yet to be created: everything in it is to be created.
        for step in [STEP_ACCESS_LOG_BUCKET, STEP_KEY, STEP_ARCHIVE_BUCKET] {
            let mut diff = Diff::new();
            diff.field(step, "(none)", "(new)");
            reports.push(report(
                &la_label,
                &home,
                step,
                Action::Create,
                diff,
                Vec::new(),
                Instant::now(),
            ));
        }
        return Ok(LogArchiveOutcome {
            org,
            account_id: None,
            bucket: None,
            key_arn: None,
            mode: DeputyMode::SourceArn,
            targets,
            reports,
        });
    };
    if ctx.apply && action == Action::Create {
        account::wait_assumable(&management, &la, &home, &ctx.role, ctx.assume_timeout).await?;
    }
    let session = ctx.assume(&la, &home).await;
    let s3 = session.s3();
    let site = |step: &str| CallSite::new(&la, &home, step);

    let inputs = archive_inputs(spec, &org.org_id, &la, &targets);
    let mode = inputs.choose_mode();
    let bucket = inputs.bucket.clone();
    let access_bucket = access_log_bucket_for(&bucket);
    let p = partition(&home);

    let started = Instant::now();
    let access_spec = BucketSpec {
        name: access_bucket.clone(),
        region: home.clone(),
        encryption: Encryption::S3Managed,
        expire_days: spec.log_archive.access_log_retention_days,
        noncurrent_days: None,
        versioning: false,
        object_lock: None,
        logging: None,
        policy: access_log_bucket_policy(p, &access_bucket, &bucket, &la),
    };
    let (action, diff) =
        ensure_bucket(&s3, &site(STEP_ACCESS_LOG_BUCKET), &access_spec, ctx.apply).await?;
    reports.push(report(
        &la,
        &home,
        STEP_ACCESS_LOG_BUCKET,
        action,
        diff,
        Vec::new(),
        started,
    ));

    let started = Instant::now();
    let key_spec = KeySpec {
        alias: spec.log_archive.kms_alias.clone(),
        description: format!(
            "trailhead: CloudTrail logs of organization {}",
            spec.org.name
        ),
        policy: key_policy(&inputs, mode),
    };
    let (action, diff, key_arn) =
        ensure_key(&session.kms(), &site(STEP_KEY), &key_spec, ctx.apply).await?;
    let mut notes = Vec::new();
    if mode == DeputyMode::SourceOrgId {
        notes.push(mode.explain().to_string());
    }
    reports.push(report(
        &la,
        &home,
        STEP_KEY,
        action,
        diff,
        notes.clone(),
        started,
    ));

    let started = Instant::now();
    let archive_spec = BucketSpec {
        name: bucket.clone(),
        region: home.clone(),
        encryption: Encryption::Kms {
            key_arn: key_arn
                .clone()
                .unwrap_or_else(|| format!("(new key {})", spec.log_archive.kms_alias)),
        },
        expire_days: spec.log_archive.retention_days,
        noncurrent_days: Some(spec.log_archive.noncurrent_retention_days),
        versioning: true,
        object_lock: spec.log_archive.object_lock,
        logging: Some((access_bucket.clone(), format!("s3-access/{bucket}/"))),
        policy: archive_bucket_policy(&inputs, mode),
    };
    let (action, diff) =
        ensure_bucket(&s3, &site(STEP_ARCHIVE_BUCKET), &archive_spec, ctx.apply).await?;
    if spec.log_archive.object_lock.is_some() && action != Action::NoOp {
        notes.push(format!(
            "Object Lock on {bucket} cannot be turned off once on; the access-log bucket {access_bucket} deliberately has none (S3 refuses log targets with a default retention)"
        ));
    }
    reports.push(report(
        &la,
        &home,
        STEP_ARCHIVE_BUCKET,
        action,
        diff,
        notes,
        started,
    ));

    let started = Instant::now();
    let mfa_state = if ctx.apply || action != Action::Create {
        s3.get_bucket_versioning()
            .bucket(&bucket)
            .send()
            .await
            .map_err(|e| site(STEP_MFA_DELETE).error("GetBucketVersioning", e))?
            .mfa_delete()
            .map(|m| m.as_str().to_string())
    } else {
        None
    };
    let enabled = mfa_state.as_deref() == Some("Enabled");
    let mut diff = Diff::new();
    let (action, notes) = if spec.log_archive.mfa_delete && !enabled {
        diff.field("mfa_delete", "Disabled", "Enabled");
        (
            Action::Pending,
            vec![format!(
                "pending (needs root + MFA): {}",
                mfa::instructions(&ctx.spec_path, &bucket, &la)
            )],
        )
    } else {
        (Action::NoOp, Vec::new())
    };
    reports.push(report(
        &la,
        &home,
        STEP_MFA_DELETE,
        action,
        diff,
        notes,
        started,
    ));

    Ok(LogArchiveOutcome {
        org,
        account_id: Some(la),
        bucket: Some(bucket),
        key_arn,
        mode,
        targets,
        reports,
    })
}
