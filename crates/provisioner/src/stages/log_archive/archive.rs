//! The log-archive account's steps: the access-log bucket, the archive key, the archive bucket
//! and MFA Delete; and the central delivery topic in the audit account.

use trailhead_model::access_log_bucket_for;
use trailhead_policies::{
    ArchiveInputs, DeputyMode, TopicPublishers, access_log_bucket_policy, archive_bucket_policy,
    cloudtrail_topic_policy, key_policy,
};

use super::{STEP_ACCESS_LOG_BUCKET, STEP_ARCHIVE_BUCKET, STEP_KEY, STEP_MFA_DELETE};
use crate::core::RunCtx;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::{AccountSession, partition};
use crate::core::step::{Done, Steps};
use crate::plan::{Action, Diff, StepReport};
use crate::resources::bucket::{BucketSpec, Encryption, Lifecycle, ensure_bucket};
use crate::resources::desired::{DeliveryTopic, STEP_DELIVERY_TOPIC};
use crate::resources::key::{KeySpec, ensure_key};
use crate::resources::mfa;
use crate::resources::topic::{TopicSpec, converge_topic};

/// The log-archive account, reached, with what its policies are built from.
pub(super) struct Archive {
    pub session: AccountSession,
    pub inputs: ArchiveInputs,
    pub home: String,
    pub account: String,
}

impl Archive {
    fn site(&self, step: &str) -> CallSite {
        CallSite::new(&self.account, &self.home, step)
    }

    fn access_bucket(&self) -> String {
        access_log_bucket_for(&self.inputs.bucket)
    }

    /// The four steps in order, each through the runner; returns the key's ARN (None in a plan
    /// of a key yet to be created).
    pub async fn converge(
        &self,
        ctx: &RunCtx,
        steps: Steps<'_>,
        mode: DeputyMode,
        reports: &mut Vec<StepReport>,
    ) -> Result<Option<String>, ProvisionError> {
        let s = &self.session;
        let access = |s| self.access_log_bucket(ctx, s);
        reports.push(steps.run(STEP_ACCESS_LOG_BUCKET, s, access).await?.0);
        let key = |s| self.key(ctx, s, mode);
        let (r, key_arn) = steps.run(STEP_KEY, s, key).await?;
        reports.push(r);
        let bucket = |s| self.archive_bucket(ctx, s, mode, &key_arn);
        let (r, bucket_action) = steps.run(STEP_ARCHIVE_BUCKET, s, bucket).await?;
        reports.push(r);
        let mfa = |s| self.mfa_delete_status(ctx, s, bucket_action);
        reports.push(steps.run(STEP_MFA_DELETE, s, mfa).await?.0);
        Ok(key_arn)
    }

    /// The access-log bucket: SSE-S3 (S3 delivers no server access logs to SSE-KMS targets),
    /// versioned, expiring, writable only by S3's logging service for the archive bucket.
    async fn access_log_bucket(
        &self,
        ctx: &RunCtx,
        session: AccountSession,
    ) -> Result<Done, ProvisionError> {
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
        let (action, diff) = ensure_bucket(&session.s3(), &site, &spec, ctx.apply).await?;
        Ok(Done::of(action, diff))
    }

    async fn key(
        &self,
        ctx: &RunCtx,
        session: AccountSession,
        mode: DeputyMode,
    ) -> Result<Done<Option<String>>, ProvisionError> {
        let key_spec = KeySpec {
            alias: ctx.spec.log_archive.kms_alias.clone(),
            description: format!(
                "trailhead: CloudTrail logs of organization {}",
                ctx.spec.org.name
            ),
            policy: key_policy(&self.inputs, mode),
        };
        let site = self.site(STEP_KEY);
        let (action, diff, key_arn) =
            ensure_key(&session.kms(), &site, &key_spec, ctx.apply).await?;
        Ok(Done::with(action, diff, key_arn).noted(mode_notes(mode)))
    }

    async fn archive_bucket(
        &self,
        ctx: &RunCtx,
        session: AccountSession,
        mode: DeputyMode,
        key_arn: &Option<String>,
    ) -> Result<Done<Action>, ProvisionError> {
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
        let (action, diff) = ensure_bucket(&session.s3(), &site, &spec, ctx.apply).await?;
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
        Ok(Done::with(action, diff, action).noted(notes))
    }

    /// MFA Delete needs the root user: the run reports it pending, with instructions, until then.
    async fn mfa_delete_status(
        &self,
        ctx: &RunCtx,
        session: AccountSession,
        bucket_action: Action,
    ) -> Result<Done, ProvisionError> {
        let bucket = &self.inputs.bucket;
        let enabled = if ctx.apply || bucket_action != Action::Create {
            let versioning = session
                .s3()
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
        if !ctx.spec.log_archive.mfa_delete || enabled {
            return Ok(Done::of(Action::NoOp, diff));
        }
        diff.field("mfa_delete", "Disabled", "Enabled");
        let how = mfa::instructions(&ctx.spec_path, bucket, &self.account, partition(&self.home));
        let note = format!("pending (needs root + MFA): {how}");
        Ok(Done::of(Action::Pending, diff).noted(vec![note]))
    }
}

/// One delivery-notification topic in the audit account for every trail of the organization.
pub(super) async fn central_delivery_topic(
    ctx: &RunCtx,
    steps: Steps<'_>,
    accounts: &[String],
    topic: &DeliveryTopic,
) -> Result<StepReport, ProvisionError> {
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
    let session = ctx.assume(&audit, home).await;
    let site = CallSite::new(&audit, home, STEP_DELIVERY_TOPIC);
    let converge = |s: AccountSession| async move {
        let (action, diff) = converge_topic(&s, &site, &spec, ctx.apply).await?;
        Ok(Done::of(action, diff))
    };
    Ok(steps.run(STEP_DELIVERY_TOPIC, &session, converge).await?.0)
}

fn mode_notes(mode: DeputyMode) -> Vec<String> {
    if mode != DeputyMode::SourceArn {
        vec![mode.explain().to_string()]
    } else {
        Vec::new()
    }
}
