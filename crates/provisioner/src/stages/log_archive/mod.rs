//! The log-archive stage, in two parts through the one step runner.
//!
//! - [`scope`]: the organization read, the log-archive account found or created (its step), the
//!   accounts the run governs, and the organization trails already in charge. A rollout can
//!   name its waves only once this is known.
//! - [`converge`]: the access-log bucket, the KMS key, the archive bucket, MFA Delete and (with
//!   a central topic) the delivery topic, in that order, each read, compared and converged.

mod archive;
mod inputs;

use trailhead_model::{LogArchiveAccount, TargetAccount};
use trailhead_policies::DeputyMode;

use crate::core::RunCtx;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::step::{Done, Steps};
use crate::core::targets::{OrgView, Resolved, SkippedAccount, read_org, resolve_targets};
use crate::events::EventSink;
use crate::plan::{Action, Diff, StepReport};
use crate::resources::account::{ensure_account, wait_assumable};
use crate::resources::desired::DeliveryTopic;
use crate::resources::key_administrator::key_administrator;
use crate::resources::org_trail::{STEP_ORG_TRAIL, find_org_trails, skip_covered};
use archive::Archive;
pub use inputs::{archive_inputs, query_account};

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

/// What [`scope`] found: everything a rollout needs to name its waves.
pub struct Scope {
    pub org: OrgView,
    /// The log-archive account, or None in a plan of an account yet to be created.
    pub account_id: Option<String>,
    /// What the account step did (a created account is waited for before its first use).
    account_action: Action,
    pub targets: Vec<TargetAccount>,
    pub skipped: Vec<SkippedAccount>,
    pub reports: Vec<StepReport>,
}

pub const STEP_ACCOUNT: &str = "log-archive account";
pub const STEP_ACCESS_LOG_BUCKET: &str = "access-log bucket";
pub const STEP_KEY: &str = "archive key";
pub const STEP_ARCHIVE_BUCKET: &str = "archive bucket";
pub const STEP_MFA_DELETE: &str = "mfa delete";

/// The whole stage, its events unsent: for the stage run alone and for tests.
pub async fn log_archive_stage(ctx: &RunCtx) -> Result<LogArchiveOutcome, ProvisionError> {
    let quiet = EventSink::none();
    let steps = Steps::new(&quiet, None);
    converge(ctx, steps, scope(ctx, steps).await?).await
}

/// The organization, the log-archive account (found or created), the governed accounts and the
/// organization trails in charge.
pub async fn scope(ctx: &RunCtx, steps: Steps<'_>) -> Result<Scope, ProvisionError> {
    let spec = &ctx.spec;
    let management = ctx.management().await;
    let org = read_org(&management).await?;
    let wanted = &spec.log_archive.account;
    let (account, (account_action, la)) = steps
        .run_as(
            &account_label(&org, wanted),
            STEP_ACCOUNT,
            &management,
            |s| {
                let org = &org;
                async move {
                    let (action, diff, la) = ensure_account(
                        &s,
                        org,
                        wanted,
                        &ctx.role.role_name,
                        &ctx.state_dir,
                        ctx.apply,
                    )
                    .await?;
                    let mut done = Done::with(action, diff, (action, la.clone()));
                    done.account = la;
                    Ok(done)
                }
            },
        )
        .await?;
    let Resolved {
        targets,
        problems,
        mut skipped,
    } = resolve_targets(&management, spec, &org, la.as_deref()).await?;
    if !problems.is_empty() {
        return Err(ProvisionError::Config(problems.join("; ")));
    }
    let org_trails = find_org_trails(&management).await?;
    let mode = spec.trail.organization_trail;
    let (targets, covered) = skip_covered(targets, &org_trails, mode);
    skipped.extend(covered);
    let mut reports = vec![account];
    for t in &org_trails {
        let found = |_| async move {
            Ok(Done::of(Action::NoOp, Diff::new()).noted(vec![t.describe(mode)]))
        };
        reports.push(steps.run(STEP_ORG_TRAIL, &management, found).await?.0);
    }
    Ok(Scope {
        org,
        account_id: la,
        account_action,
        targets,
        skipped,
        reports,
    })
}

/// The account a step is reported under before it runs: the spec's id, the account found by
/// its email, or `(new)`.
fn account_label(org: &OrgView, wanted: &LogArchiveAccount) -> String {
    match wanted {
        LogArchiveAccount::Existing(id) => id.to_string(),
        LogArchiveAccount::Create { email, .. } => org
            .find_by_email(email)
            .and_then(|a| a.id())
            .map_or_else(|| "(new)".to_string(), str::to_string),
    }
}

/// The archive's buckets, key, MFA Delete and central delivery topic, in that order.
pub async fn converge(
    ctx: &RunCtx,
    steps: Steps<'_>,
    scope: Scope,
) -> Result<LogArchiveOutcome, ProvisionError> {
    let spec = &ctx.spec;
    let home = spec.org.home_region.clone();
    let Scope {
        org,
        account_id,
        account_action,
        targets,
        skipped,
        mut reports,
    } = scope;
    let mut outcome = LogArchiveOutcome {
        org,
        account_id: account_id.clone(),
        bucket: None,
        key_arn: None,
        mode: DeputyMode::SourceArn,
        targets,
        skipped,
        reports: Vec::new(),
    };
    let Some(la) = account_id else {
        let label = reports.first().map_or("(new)", |r| r.account.as_str());
        let unread = [
            STEP_ACCESS_LOG_BUCKET,
            STEP_KEY,
            STEP_ARCHIVE_BUCKET,
            STEP_MFA_DELETE,
        ];
        let unread: Vec<StepReport> = unread
            .iter()
            .map(|step| steps.unread(label, &home, step))
            .collect();
        reports.extend(unread);
        outcome.reports = reports;
        return Ok(outcome);
    };
    if ctx.apply && account_action == Action::Create {
        let management = ctx.management().await;
        wait_assumable(&management, &la, &home, &ctx.role, ctx.assume_timeout).await?;
    }
    let session = ctx.assume(&la, &home).await;
    let administrator = key_administrator(&session, &CallSite::new(&la, &home, STEP_KEY)).await?;
    let archive = Archive {
        inputs: archive_inputs(
            spec,
            &outcome.org.org_id,
            &la,
            &outcome.targets,
            administrator,
        ),
        session,
        home,
        account: la,
    };
    outcome.mode = archive.inputs.choose_mode();
    outcome.bucket = Some(archive.inputs.bucket.clone());
    outcome.key_arn = archive
        .converge(ctx, steps, outcome.mode, &mut reports)
        .await?;
    if let Some(topic) = DeliveryTopic::of(spec, &archive.account).filter(|t| t.central) {
        let accounts: Vec<String> = outcome.targets.iter().map(|t| t.id.to_string()).collect();
        reports.push(archive::central_delivery_topic(ctx, steps, &accounts, &topic).await?);
    }
    outcome.reports = reports;
    Ok(outcome)
}
