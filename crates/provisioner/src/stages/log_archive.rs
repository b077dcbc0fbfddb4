//! The log-archive stage: the account, the access-log bucket, the KMS key, the archive bucket and
//! MFA Delete, in that order, each read, compared and converged.

use std::time::Instant;

use trailhead_model::{OrgSpec, TargetAccount, access_log_bucket_for, athena_results_bucket_for};
use trailhead_policies::{
    ArchiveInputs, AthenaGrant, DeputyMode, TopicPublishers, TrailRef, access_log_bucket_policy,
    archive_bucket_policy, cloudtrail_topic_policy, key_policy,
};

use crate::core::RunCtx;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::{AccountSession, partition};
use crate::core::targets::{OrgView, Resolved, SkippedAccount, read_org, resolve_targets};
use crate::plan::{Action, Diff, StepReport};
use crate::resources::bucket::{BucketSpec, Encryption, Lifecycle, ensure_bucket};
use crate::resources::desired::{DeliveryTopic, STEP_DELIVERY_TOPIC};
use crate::resources::key::{KeySpec, ensure_key};
use crate::resources::key_administrator::key_administrator;
use crate::resources::org_trail::{STEP_ORG_TRAIL, find_org_trails, skip_covered};
use crate::resources::topic::{TopicSpec, converge_topic};

pub struct LogArchiveOutcome {
    pub org: OrgView,
    pub account_id: Option<String>,
    pub bucket: Option<String>,
    pub key_arn: Option<String>,
    pub mode: DeputyMode,
    pub targets: Vec<TargetAccount>,
    /// Accounts of the organization left alone (not ACTIVE), with the reason.
    pub skipped: Vec<SkippedAccount>,
    pub reports: Vec<StepReport>,
}

pub const STEP_ACCOUNT: &str = "log-archive account";
pub const STEP_ACCESS_LOG_BUCKET: &str = "access-log bucket";
pub const STEP_KEY: &str = "archive key";
pub const STEP_ARCHIVE_BUCKET: &str = "archive bucket";
pub const STEP_MFA_DELETE: &str = "mfa delete";

pub(crate) fn report(
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
        api_calls: 0,
        retries: 0,
    }
}

/// Credits each log-archive step with the calls made since the one before: the stage runs its
/// steps one after another, so the difference of the run's totals is the step's own.
struct Tally<'a> {
    calls: &'a crate::core::counter::CallLog,
    seen: (u64, u64),
}

impl<'a> Tally<'a> {
    fn new(calls: &'a crate::core::counter::CallLog) -> Self {
        let mut t = Tally {
            calls,
            seen: (0, 0),
        };
        t.seen = t.now();
        t
    }

    fn now(&self) -> (u64, u64) {
        let (calls, _, retries, _) = crate::core::counter::totals(&self.calls.snapshot());
        (calls, retries)
    }

    fn credit(&mut self, mut r: StepReport) -> StepReport {
        let now = self.now();
        r.api_calls = now.0.saturating_sub(self.seen.0);
        r.retries = now.1.saturating_sub(self.seen.1);
        self.seen = now;
        r
    }
}

pub fn archive_inputs(
    spec: &OrgSpec,
    org_id: &str,
    la: &str,
    targets: &[TargetAccount],
    key_administrator: String,
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
        key_arn: None,
        key_administrator,
        athena: spec.athena.as_ref().map(|_| AthenaGrant {
            results_bucket: athena_results_bucket_for(&spec.log_archive.bucket_name(&spec.org, la)),
            query_account: query_account(spec, la),
        }),
    }
}

/// The account where Athena queries run: the audit account, else the log-archive account.
pub fn query_account(spec: &OrgSpec, log_archive: &str) -> String {
    spec.log_archive
        .security_account
        .as_ref()
        .map_or_else(|| log_archive.to_string(), |a| a.to_string())
}

pub async fn log_archive_stage(ctx: &RunCtx) -> Result<LogArchiveOutcome, ProvisionError> {
    let spec = &ctx.spec;
    let home = spec.org.home_region.clone();
    let mut tally = Tally::new(&ctx.calls);
    let management = ctx.management().await;
    let org = read_org(&management).await?;
    let mut reports = Vec::new();

    let started = Instant::now();
    let (action, diff, la) = crate::resources::account::ensure_account(
        &management,
        &org,
        &spec.log_archive.account,
        &ctx.role.role_name,
        &ctx.state_dir,
        ctx.apply,
    )
    .await?;
    let la_label = la.clone().unwrap_or_else(|| "(new)".into());
    reports.push(tally.credit(report(
        &la_label,
        &home,
        STEP_ACCOUNT,
        action,
        diff,
        Vec::new(),
        started,
    )));

    let Resolved {
        targets,
        problems,
        mut skipped,
    } = resolve_targets(&management, spec, &org, la.as_deref()).await?;
    if !problems.is_empty() {
        return Err(ProvisionError::Config(problems.join("; ")));
    }
    let started = Instant::now();
    let org_trails = find_org_trails(&management).await?;
    let mode = spec.trail.organization_trail;
    let (targets, covered) = skip_covered(targets, &org_trails, mode);
    skipped.extend(covered);
    for t in &org_trails {
        reports.push(tally.credit(report(
            &management.account_id,
            &home,
            STEP_ORG_TRAIL,
            Action::NoOp,
            Diff::new(),
            vec![t.describe(mode)],
            started,
        )));
    }
    let Some(la) = la else {
        reports.extend(account_to_be_created(&la_label, &home));
        return Ok(LogArchiveOutcome {
            org,
            account_id: None,
            bucket: None,
            key_arn: None,
            mode: DeputyMode::SourceArn,
            targets,
            skipped,
            reports,
        });
    };
    if ctx.apply && action == Action::Create {
        crate::resources::account::wait_assumable(
            &management,
            &la,
            &home,
            &ctx.role,
            ctx.assume_timeout,
        )
        .await?;
    }
    let session = ctx.assume(&la, &home).await;
    let administrator = key_administrator(&session, &CallSite::new(&la, &home, STEP_KEY)).await?;
    let archive = Archive {
        session,
        inputs: archive_inputs(spec, &org.org_id, &la, &targets, administrator),
        home,
        account: la.clone(),
    };
    let mode = archive.inputs.choose_mode();
    reports.push(tally.credit(archive.converge_access_log_bucket(ctx).await?));
    let (key_report, key_arn) = archive.converge_key(ctx, mode).await?;
    reports.push(tally.credit(key_report));
    let (bucket_report, bucket_action) =
        archive.converge_archive_bucket(ctx, mode, &key_arn).await?;
    reports.push(tally.credit(bucket_report));
    reports.push(tally.credit(archive.mfa_delete_status(ctx, bucket_action).await?));
    if let Some(topic) = DeliveryTopic::of(spec, &la).filter(|t| t.central) {
        let accounts: Vec<String> = targets.iter().map(|t| t.id.to_string()).collect();
        reports.push(tally.credit(central_delivery_topic(ctx, &accounts, &topic).await?));
    }
    Ok(LogArchiveOutcome {
        org,
        account_id: Some(la),
        bucket: Some(archive.inputs.bucket.clone()),
        key_arn,
        mode,
        targets,
        skipped,
        reports,
    })
}

/// One delivery-notification topic in the audit account for every trail of the organization.
async fn central_delivery_topic(
    ctx: &RunCtx,
    accounts: &[String],
    topic: &DeliveryTopic,
) -> Result<StepReport, ProvisionError> {
    let started = Instant::now();
    let home = &ctx.spec.org.home_region;
    let audit = ctx
        .spec
        .log_archive
        .security_account
        .as_ref()
        .map(|a| a.to_string())
        .ok_or_else(|| {
            ProvisionError::Config(
                "a central delivery topic needs [log_archive] security_account_id".into(),
            )
        })?;
    let session = ctx.assume(&audit, home).await;
    let site = CallSite::new(&audit, home, STEP_DELIVERY_TOPIC);
    let publishers = TopicPublishers::OrgTrails {
        trail_name: ctx.spec.trail.name.clone(),
        accounts: accounts.to_vec(),
    };
    let policy = cloudtrail_topic_policy(partition(home), &audit, &topic.arn, &publishers);
    if let Err(e) =
        trailhead_policies::check_budget(trailhead_policies::PolicyKind::TopicPolicy, &policy)
    {
        return Err(ProvisionError::Config(format!(
            "the central delivery topic {} cannot name the trails of {} accounts: {e}; set [trail.notifications] topic = \"member\" (a topic in each account)",
            topic.name,
            accounts.len()
        )));
    }
    let spec = TopicSpec {
        name: &topic.name,
        policy,
        arn: topic.arn.clone(),
        policy_words: "cloudtrail.amazonaws.com publishes for the organization's trails",
        emails: &[],
    };
    let (action, diff) = converge_topic(&session, &site, &spec, ctx.apply).await?;
    Ok(report(
        &audit,
        home,
        STEP_DELIVERY_TOPIC,
        action,
        diff,
        Vec::new(),
        started,
    ))
}

/// A plan of an account yet to be created: everything in it is to be created.
fn account_to_be_created(label: &str, home: &str) -> Vec<StepReport> {
    to_be_created(
        label,
        home,
        &[
            STEP_ACCESS_LOG_BUCKET,
            STEP_KEY,
            STEP_ARCHIVE_BUCKET,
            STEP_MFA_DELETE,
        ],
    )
}

/// Steps a plan cannot read yet (their account or key is still to come): each is a creation.
pub(crate) fn to_be_created(label: &str, home: &str, steps: &[&str]) -> Vec<StepReport> {
    steps
        .iter()
        .map(|step| {
            let mut diff = Diff::new();
            diff.field(step, "(none)", "(new)");
            report(
                label,
                home,
                step,
                Action::Create,
                diff,
                Vec::new(),
                Instant::now(),
            )
        })
        .collect()
}

/// The log-archive account, reached, with what its policies are built from.
struct Archive {
    session: AccountSession,
    inputs: ArchiveInputs,
    home: String,
    account: String,
}

impl Archive {
    fn site(&self, step: &str) -> CallSite {
        CallSite::new(&self.account, &self.home, step)
    }

    fn access_bucket(&self) -> String {
        access_log_bucket_for(&self.inputs.bucket)
    }

    /// The access-log bucket: SSE-S3 (S3 delivers no server access logs to SSE-KMS targets),
    /// versioned, expiring, writable only by S3's logging service for the archive bucket.
    async fn converge_access_log_bucket(&self, ctx: &RunCtx) -> Result<StepReport, ProvisionError> {
        let started = Instant::now();
        let days = ctx.spec.log_archive.access_log_retention_days;
        let access_bucket = self.access_bucket();
        let spec = BucketSpec {
            name: access_bucket.clone(),
            region: self.home.clone(),
            encryption: Encryption::S3Managed,
            lifecycle: Some(Lifecycle {
                expire_days: days,
                noncurrent_days: Some(days),
            }),
            versioning: true,
            object_lock: None,
            logging: None,
            policy: access_log_bucket_policy(
                partition(&self.home),
                &access_bucket,
                &self.inputs.bucket,
                &self.account,
            ),
        };
        let site = self.site(STEP_ACCESS_LOG_BUCKET);
        let (action, diff) = ensure_bucket(&self.session.s3(), &site, &spec, ctx.apply).await?;
        Ok(report(
            &self.account,
            &self.home,
            STEP_ACCESS_LOG_BUCKET,
            action,
            diff,
            Vec::new(),
            started,
        ))
    }

    async fn converge_key(
        &self,
        ctx: &RunCtx,
        mode: DeputyMode,
    ) -> Result<(StepReport, Option<String>), ProvisionError> {
        let started = Instant::now();
        let key_spec = KeySpec {
            alias: ctx.spec.log_archive.kms_alias.clone(),
            description: format!(
                "trailhead: CloudTrail logs of organization {}",
                ctx.spec.org.name
            ),
            policy: key_policy(&self.inputs, mode),
        };
        let (action, diff, key_arn) = ensure_key(
            &self.session.kms(),
            &self.site(STEP_KEY),
            &key_spec,
            ctx.apply,
        )
        .await?;
        let notes = mode_notes(mode);
        let step = report(
            &self.account,
            &self.home,
            STEP_KEY,
            action,
            diff,
            notes,
            started,
        );
        Ok((step, key_arn))
    }

    async fn converge_archive_bucket(
        &self,
        ctx: &RunCtx,
        mode: DeputyMode,
        key_arn: &Option<String>,
    ) -> Result<(StepReport, Action), ProvisionError> {
        let started = Instant::now();
        let la = &ctx.spec.log_archive;
        let bucket = &self.inputs.bucket;
        let mut inputs = self.inputs.clone();
        inputs.key_arn = key_arn.clone();
        let spec = BucketSpec {
            name: bucket.clone(),
            region: self.home.clone(),
            encryption: Encryption::Kms {
                key_arn: key_arn
                    .clone()
                    .unwrap_or_else(|| format!("(new key {})", la.kms_alias)),
            },
            lifecycle: la
                .lifecycle()
                .map(|(expire_days, noncurrent_days)| Lifecycle {
                    expire_days,
                    noncurrent_days,
                }),
            versioning: true,
            object_lock: la.object_lock,
            logging: Some((self.access_bucket(), format!("s3-access/{bucket}/"))),
            policy: archive_bucket_policy(&inputs, mode),
        };
        let site = self.site(STEP_ARCHIVE_BUCKET);
        let (action, diff) = ensure_bucket(&self.session.s3(), &site, &spec, ctx.apply).await?;
        let mut notes = mode_notes(mode);
        if la.object_lock.is_some() && action != Action::NoOp {
            notes.push(format!(
                "Object Lock on {bucket} cannot be turned off once on; the access-log bucket {} deliberately has none (S3 refuses log targets with a default retention)",
                self.access_bucket()
            ));
        }
        if la.mfa_delete && action == Action::Create {
            notes.push("no lifecycle rule: with MFA Delete, S3 allows none, so logs are kept without expiry".into());
        }
        let step = report(
            &self.account,
            &self.home,
            STEP_ARCHIVE_BUCKET,
            action,
            diff,
            notes,
            started,
        );
        Ok((step, action))
    }

    /// MFA Delete needs the root user: the run reports it pending, with instructions, until then.
    async fn mfa_delete_status(
        &self,
        ctx: &RunCtx,
        bucket_action: Action,
    ) -> Result<StepReport, ProvisionError> {
        let started = Instant::now();
        let bucket = &self.inputs.bucket;
        let enabled = if ctx.apply || bucket_action != Action::Create {
            let s3 = self.session.s3();
            let versioning = s3
                .get_bucket_versioning()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| self.site(STEP_MFA_DELETE).error("GetBucketVersioning", e))?;
            versioning.mfa_delete().map(|m| m.as_str()) == Some("Enabled")
        } else {
            false
        };
        let mut diff = Diff::new();
        let (action, notes) = if ctx.spec.log_archive.mfa_delete && !enabled {
            diff.field("mfa_delete", "Disabled", "Enabled");
            let how = crate::resources::mfa::instructions(
                &ctx.spec_path,
                bucket,
                &self.account,
                partition(&self.home),
            );
            (
                Action::Pending,
                vec![format!("pending (needs root + MFA): {how}")],
            )
        } else {
            (Action::NoOp, Vec::new())
        };
        Ok(report(
            &self.account,
            &self.home,
            STEP_MFA_DELETE,
            action,
            diff,
            notes,
            started,
        ))
    }
}

fn mode_notes(mode: DeputyMode) -> Vec<String> {
    if mode != DeputyMode::SourceArn {
        vec![mode.explain().to_string()]
    } else {
        Vec::new()
    }
}
