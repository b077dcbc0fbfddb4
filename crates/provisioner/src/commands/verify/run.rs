//! `verify` itself: resolve the selection, judge every account side by side, add the plan's
//! drift, summarize, and describe the report's columns.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use trailhead_alarms::catalog::Control;
use trailhead_model::{Selection, TargetAccount};

use super::account::{Shared, verify_account};
use super::{AccountReport, Skipped, Summary, Verdict, VerifyReport};
use crate::commands::plan::{plan_selected, selected_waves};
use crate::commands::verify::controls::{ControlInfo, describe};
use crate::core::RunCtx;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::targets::{read_org, resolve_targets};
use crate::plan::Action;
use crate::resources::bucket::read_bucket;

/// The one target `given` names, by id or name; a name that matches nothing is an error that
/// lists the accounts there are (a typo must not pass a CI gate as "0 accounts").
pub(super) fn only_account(
    targets: &[TargetAccount],
    given: &str,
) -> Result<String, ProvisionError> {
    if let Some(t) = targets
        .iter()
        .find(|t| t.id.to_string() == given || t.name == given)
    {
        return Ok(t.id.to_string());
    }
    let known: Vec<String> = targets
        .iter()
        .take(20)
        .map(|t| format!("{} ({})", t.id, t.name))
        .collect();
    Err(ProvisionError::UnknownAccount(format!(
        "no account `{given}` among the {} account(s) this spec governs; known: {}",
        targets.len(),
        known.join(", ")
    )))
}

pub async fn verify(ctx: &RunCtx, only: Option<&str>) -> Result<VerifyReport, ProvisionError> {
    let selection = Selection {
        accounts: only.map(str::to_string).into_iter().collect(),
        waves: Vec::new(),
    };
    verify_selected(ctx, &selection).await
}

/// Every target of the spec, those `selection` picks (in wave order), and the log-archive
/// account.
/// The governed accounts, the selected ones among them (in wave order), the log-archive account,
/// and the selected accounts that are left alone (not ACTIVE), with why.
pub(crate) struct Selected {
    pub targets: Vec<TargetAccount>,
    pub chosen: Vec<TargetAccount>,
    pub log_archive: String,
    pub skipped: Vec<crate::core::targets::SkippedAccount>,
}

pub(crate) async fn resolve_selected(
    ctx: &RunCtx,
    selection: &Selection,
) -> Result<Selected, ProvisionError> {
    let management = ctx.management().await;
    let org = read_org(&management).await?;
    let Some(la) = crate::core::targets::log_archive_id(&ctx.spec, &org) else {
        return Err(ProvisionError::Config(
            "the log-archive account does not exist yet: run the rollout first".into(),
        ));
    };
    let resolved = resolve_targets(&management, &ctx.spec, &org, Some(&la)).await?;
    let (targets, problems) = (resolved.targets, resolved.problems);
    let skipped = resolved
        .skipped
        .into_iter()
        .filter(|s| selection.is_all() || selection.accounts.iter().any(|a| a == &s.id))
        .collect();
    if !problems.is_empty() {
        return Err(ProvisionError::Config(problems.join("; ")));
    }
    for given in &selection.accounts {
        only_account(&targets, given)?;
    }
    let chosen: Vec<TargetAccount> = selected_waves(ctx, &targets, selection)?
        .into_iter()
        .flat_map(|w| w.accounts)
        .collect();
    Ok(Selected {
        targets,
        chosen,
        log_archive: la,
        skipped,
    })
}

/// Judges the selected accounts (`--account`, `--wave`); drift is planned for them alone.
pub async fn verify_selected(
    ctx: &RunCtx,
    selection: &Selection,
) -> Result<VerifyReport, ProvisionError> {
    let ctx = RunCtx {
        apply: false,
        ..ctx.clone()
    };
    let Selected {
        targets,
        chosen,
        log_archive: la,
        skipped,
    } = resolve_selected(&ctx, selection).await?;
    let selected: BTreeSet<String> = chosen.iter().map(|a| a.id.to_string()).collect();
    let drift = drift_by_account(&ctx, selection).await?;
    let shared = Arc::new(read_archive(&ctx, la).await?);
    let mut accounts = verify_accounts(&ctx, &shared, &targets, &selected, &drift).await?;
    let summary = summarize(&accounts);
    let controls = describe_columns(&mut accounts, &shared.controls);
    Ok(VerifyReport {
        org: ctx.spec.org.name.clone(),
        generated_at: jiff::Timestamp::now().to_string(),
        trailhead_version: env!("CARGO_PKG_VERSION").to_string(),
        benchmark: ctx.spec.alarms.benchmark.id().to_string(),
        controls,
        accounts,
        skipped: skipped.into_iter().map(Skipped::from).collect(),
        summary,
    })
}

/// Each account's drift, from the plan engine read-only: `step: change` lines.
async fn drift_by_account(
    ctx: &RunCtx,
    selection: &Selection,
) -> Result<BTreeMap<String, Vec<String>>, ProvisionError> {
    let reports = plan_selected(ctx, &crate::events::EventSink::none(), selection)
        .await?
        .reports;
    let mut drift: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &reports {
        let entry = drift.entry(r.account.clone()).or_default();
        if matches!(r.action, Action::Create | Action::Update) {
            for c in &r.changes {
                entry.push(format!("{}: {c}", r.step));
            }
        }
    }
    Ok(drift)
}

/// The archive bucket and key, read once from the log-archive account for every account.
async fn read_archive(ctx: &RunCtx, la: String) -> Result<Shared, ProvisionError> {
    let home = &ctx.spec.org.home_region;
    let bucket = ctx.spec.log_archive.bucket_name(&ctx.spec.org, &la);
    let la_session = ctx.assume(&la, home).await;
    let site = CallSite::new(&la, home, "verify");
    let archive = read_bucket(&la_session.s3(), &site, &bucket).await?;
    let alias = &ctx.spec.log_archive.kms_alias;
    let key = crate::resources::key::read_key(&la_session.kms(), &site, alias).await?;
    Ok(Shared {
        controls: trailhead_alarms::deployed::for_spec(&ctx.spec.alarms),
        bucket,
        archive,
        key_arn: key.arn.clone(),
        rotation: key.key_id.as_ref().map(|_| key.rotation),
        archive_s3: la_session.s3(),
        log_archive: la,
    })
}

/// Every selected account's controls, side by side, in the order of the targets.
async fn verify_accounts(
    ctx: &RunCtx,
    shared: &Arc<Shared>,
    targets: &[TargetAccount],
    selected: &BTreeSet<String>,
    drift: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<AccountReport>, ProvisionError> {
    let limit = Arc::new(Semaphore::new(
        ctx.spec.rollout.max_concurrency.max(1) as usize
    ));
    let mut tasks = JoinSet::new();
    for (order, t) in targets.iter().enumerate() {
        let id = t.id.to_string();
        if !selected.contains(&id) {
            continue;
        }
        let (ctx, shared, limit) = (ctx.clone(), shared.clone(), limit.clone());
        let name = t.name.clone();
        let drift = drift.get(&id).cloned().unwrap_or_default();
        tasks.spawn(Box::pin(async move {
            let _permit = limit.acquire_owned().await;
            let controls = verify_account(&ctx, &shared, &id, drift).await;
            (
                order,
                AccountReport {
                    account_id: id,
                    name,
                    controls,
                },
            )
        }));
    }
    let mut accounts = Vec::new();
    while let Some(done) = tasks.join_next().await {
        accounts
            .push(done.map_err(|e| ProvisionError::Config(format!("a verify task failed: {e}")))?);
    }
    accounts.sort_by_key(|(order, _)| *order);
    Ok(accounts.into_iter().map(|(_, a)| a).collect())
}

pub(crate) fn summarize(accounts: &[AccountReport]) -> Summary {
    let mut summary = Summary {
        accounts: accounts.len(),
        ..Summary::default()
    };
    for c in accounts.iter().flat_map(|a| &a.controls) {
        match c.status {
            Verdict::Pass => summary.pass += 1,
            Verdict::Fail => summary.fail += 1,
            Verdict::Unknown => summary.unknown += 1,
        }
    }
    summary
}

/// The report's columns with titles and requirements; each result without a requirement of its
/// own gets its control's.
pub(super) fn describe_columns(
    accounts: &mut [AccountReport],
    alarms: &[Control],
) -> Vec<ControlInfo> {
    let mut columns: Vec<ControlInfo> = Vec::new();
    for c in accounts.iter_mut().flat_map(|a| a.controls.iter_mut()) {
        let info = match columns.iter().find(|i| i.id == c.id) {
            Some(info) => info.clone(),
            None => {
                let info = describe(&c.id, alarms);
                columns.push(info.clone());
                info
            }
        };
        if c.required.is_empty() {
            c.required = info.required;
        }
    }
    columns
}
