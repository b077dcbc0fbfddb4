//! The plan: the log-archive stage and every selected account, read and compared, nothing
//! written.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use trailhead_model::{ResolvedWave, Selection, TargetAccount, resolve_waves};

use crate::core::RunCtx;
use crate::core::error::ProvisionError;
use crate::core::step::{Steps, report_event};
use crate::core::targets::SkippedAccount;
use crate::events::{Event, EventSink};
use crate::plan::StepReport;
use crate::resources::desired::Desired;
use crate::stages::log_archive;
use crate::stages::member::{controls, run_account};

/// Reports steps that ran before their events could be sent (the log-archive stage's first
/// part, which a rollout runs before `run_started` can name the waves).
pub(crate) fn replay(reports: &[StepReport], events: &EventSink) {
    for r in reports {
        events.send(Event::StepStarted {
            account: r.account.clone(),
            region: r.region.clone(),
            step: r.step.clone(),
        });
        events.send(report_event(r));
    }
}

/// What a plan found: every step's report, the accounts it could not read (an unassumable role
/// is one failed account, not an aborted plan), and the accounts it leaves alone.
#[derive(Debug, Clone, Default)]
pub struct PlanOutcome {
    pub reports: Vec<StepReport>,
    /// The waves planned (narrowed to the selection), for showing rows in the order a rollout
    /// would reach them.
    pub waves: Vec<ResolvedWave>,
    /// (account, what went wrong)
    pub failures: Vec<(String, String)>,
    pub skipped: Vec<SkippedAccount>,
}

/// `plan`: the same engine as the rollout, reading and comparing only.
pub async fn plan(ctx: &RunCtx, events: &EventSink) -> Result<PlanOutcome, ProvisionError> {
    plan_selected(ctx, events, &Selection::default()).await
}

/// The waves a run covers: every target placed, then narrowed to the selection. A selection
/// that leaves nothing is an error, not a silent no-op.
pub fn selected_waves(
    ctx: &RunCtx,
    targets: &[TargetAccount],
    selection: &Selection,
) -> Result<Vec<ResolvedWave>, ProvisionError> {
    let waves = selection.narrow(resolve_waves(&ctx.spec, targets));
    if waves.is_empty() && !selection.is_all() {
        return Err(ProvisionError::UnknownAccount(format!(
            "{} matches no account this run governs ({} account(s) in the organization's scope)",
            selection.describe(),
            targets.len()
        )));
    }
    Ok(waves)
}

/// Checks, with reads of the organization only, that a selection names some account this run
/// governs: an empty selection must fail before the log archive is touched.
pub async fn check_selection(ctx: &RunCtx, selection: &Selection) -> Result<(), ProvisionError> {
    if selection.is_all() {
        return Ok(());
    }
    let management = ctx.management().await;
    let org = crate::core::targets::read_org(&management).await?;
    let la = crate::core::targets::log_archive_id(&ctx.spec, &org);
    let resolved =
        crate::core::targets::resolve_targets(&management, &ctx.spec, &org, la.as_deref()).await?;
    selected_waves(ctx, &resolved.targets, selection).map(|_| ())
}

/// `plan` of the accounts and waves selected; the log archive is planned whole.
pub async fn plan_selected(
    ctx: &RunCtx,
    events: &EventSink,
    selection: &Selection,
) -> Result<PlanOutcome, ProvisionError> {
    let ctx = RunCtx {
        apply: false,
        ..ctx.clone()
    };
    let controls = controls(&ctx)?;
    let steps = Steps::new(events, None);
    let scope = log_archive::scope(&ctx, steps).await?;
    let archive = log_archive::converge(&ctx, steps, scope).await?;
    let waves = selected_waves(&ctx, &archive.targets, selection)?;
    let mut outcome = PlanOutcome {
        reports: archive.reports.clone(),
        waves: waves.clone(),
        failures: Vec::new(),
        skipped: archive.skipped.clone(),
    };
    let bucket = archive
        .bucket
        .clone()
        .unwrap_or_else(|| "(new bucket)".into());
    let key = archive
        .key_arn
        .clone()
        .unwrap_or_else(|| "(new key)".into());
    let limit = Arc::new(Semaphore::new(ctx.spec.rollout.max_concurrency as usize));
    let mut tasks = JoinSet::new();
    for t in waves.into_iter().flat_map(|w| w.accounts) {
        let ctx = ctx.clone();
        let d = Desired::new(&ctx.spec, t.id.as_str(), &bucket, &key, &controls);
        let events = events.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let session = ctx.assume(t.id.as_str(), &ctx.spec.org.home_region).await;
            (
                t.id.to_string(),
                run_account(&session, &d, false, Steps::new(&events, None)).await,
            )
        });
    }
    let mut members = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done.map_err(|e| ProvisionError::Config(format!("a plan task failed: {e}")))? {
            (_, Ok(r)) => members.extend(r),
            (account, Err(e)) => outcome.failures.push((account, e.to_string())),
        }
    }
    // Accounts in the order the rollout reaches them; each account's steps stay in step order.
    let rank: BTreeMap<String, usize> = outcome
        .waves
        .iter()
        .flat_map(|w| &w.accounts)
        .enumerate()
        .map(|(i, a)| (a.id.to_string(), i))
        .collect();
    members.sort_by_key(|r| rank.get(&r.account).copied().unwrap_or(usize::MAX));
    outcome.reports.extend(members);
    outcome.failures.sort();
    Ok(outcome)
}
