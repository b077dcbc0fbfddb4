//! `cost`: the window's event volumes read from the archive, and the monthly projection of what
//! the spec deploys. Read-only: it lists the window's log files in the log-archive account and
//! counts their records, here (`local`: every file fetched) or in one Athena query (`athena`:
//! the files' sizes from the listing), and reads the management account's organization trails
//! to know which accounts a trailhead trail records a second copy of.

mod athena;
mod local;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use trailhead_cost::projection::{self, MONTH_DAYS};
use trailhead_cost::{Deployment, PriceTable, Projection, Volume, project};
use trailhead_model::{InsightType, OrgSpec, OrganizationTrailMode};

use crate::Connection;
use crate::commands::archive_scope::ArchiveScope;
use crate::core::counter::CallLog;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::resources::org_trail::find_org_trails;

const STEP: &str = "cost";

/// One account's volume in one region on one day.
#[derive(Debug, Clone, Serialize)]
pub struct DailyVolume {
    pub account: String,
    pub region: String,
    pub day: String,
    #[serde(flatten)]
    pub volume: Volume,
}

/// Where the records are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostEngine {
    /// Athena when the spec has an `[athena]` table and the window's files weigh more than its
    /// `local_threshold_mb`, as `logs search --engine auto` decides; else here.
    Auto,
    Local,
    Athena,
}

/// What `cost` measured and projects.
#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    pub since: String,
    pub until: String,
    pub window_days: f64,
    /// How the records were counted: "local" (every log file of the window fetched and
    /// counted) or "athena" (one query), and why.
    pub engine: &'static str,
    pub engine_note: String,
    /// What the window holds, in total and per account and region.
    pub measured: Volume,
    pub by_account: BTreeMap<String, Volume>,
    pub by_region: BTreeMap<String, Volume>,
    /// Events per day, over the window.
    pub per_day: Volume,
    /// What each account delivered in each region on each day of the window.
    pub daily: Vec<DailyVolume>,
    pub deployment: Deployment,
    pub projection: Projection,
    /// (account, monthly USD of its own volume), largest first.
    pub top_accounts: Vec<(String, f64)>,
}

/// Reads the window of `scope` from the archive and projects a month of it.
pub async fn archive_cost(
    conn: &Connection,
    scope: &ArchiveScope,
    engine: CostEngine,
) -> Result<CostReport, ProvisionError> {
    let archive = scope.archive(conn).await;
    let site = CallSite::new(&archive.account_id, &archive.region, STEP);
    let objects = scope.window_objects(&archive, &site).await?;
    let (in_athena, engine_note) = choose(scope, engine, &objects);
    let tally = if in_athena {
        athena::tally(conn, scope, &archive, &site, &objects).await?
    } else {
        local::tally(&archive, &site, scope, objects).await?
    };
    let window_days = scope
        .window
        .until
        .duration_since(scope.window.since)
        .as_secs_f64()
        / 86_400.0;
    let (by_account, by_region, measured) = (tally.by_account(), tally.by_region(), tally.total());
    let daily = tally
        .cells
        .iter()
        .map(|((account, region, day), volume)| DailyVolume {
            account: account.clone(),
            region: region.clone(),
            day: day.clone(),
            volume: *volume,
        })
        .collect();
    // The accounts priced are those whose trails delivered in the window: an account listed in
    // the spec that a run skips (closed, or without its role) has no trail to pay for.
    let delivering: Vec<String> = by_account.keys().cloned().collect();
    let second_copy = second_copy_accounts(conn, &scope.spec, &delivering).await?;
    let deployment = deployment(&scope.spec, &delivering, by_region.len(), second_copy);
    let monthly: BTreeMap<String, Volume> = by_account
        .iter()
        .map(|(a, v)| (a.clone(), v.scaled(window_days, MONTH_DAYS)))
        .collect();
    let prices = PriceTable::pinned(&scope.spec.org.home_region);
    let projection = project(&deployment, &monthly, &prices);
    let top_accounts = projection::by_account(&deployment, &monthly, &prices);
    Ok(CostReport {
        since: scope.window.since.to_string(),
        until: scope.window.until.to_string(),
        window_days,
        engine: if in_athena { "athena" } else { "local" },
        engine_note,
        per_day: measured.scaled(window_days, 1.0),
        daily,
        measured,
        by_account,
        by_region,
        deployment,
        projection,
        top_accounts,
    })
}

/// Whether the records are counted in Athena, and why.
fn choose(scope: &ArchiveScope, engine: CostEngine, objects: &[(String, i64)]) -> (bool, String) {
    let bytes: i64 = objects.iter().map(|(_, size)| size).sum();
    let mb = bytes as f64 / 1e6;
    let count = objects.len();
    match (engine, &scope.spec.athena) {
        (CostEngine::Local, _) => (false, "--engine local".into()),
        (CostEngine::Athena, _) => (true, "--engine athena".into()),
        (CostEngine::Auto, None) => (false, "auto: the spec has no [athena] table".into()),
        (CostEngine::Auto, Some(a)) if bytes > i64::from(a.local_threshold_mb) * 1_000_000 => (
            true,
            format!(
                "auto: {mb:.1} MB in {count} file(s), above {} MB: counted with Athena",
                a.local_threshold_mb
            ),
        ),
        (CostEngine::Auto, Some(a)) => (
            false,
            format!(
                "auto: {mb:.1} MB in {count} file(s), within {} MB: counted here",
                a.local_threshold_mb
            ),
        ),
    }
}

/// The accounts whose trailhead trail is a second copy: every account read, when an organization
/// trail made outside trailhead records them and the spec keeps per-account trails anyway.
async fn second_copy_accounts(
    conn: &Connection,
    spec: &OrgSpec,
    accounts: &[String],
) -> Result<BTreeSet<String>, ProvisionError> {
    if spec.trail.organization_trail == OrganizationTrailMode::SkipCovered {
        return Ok(BTreeSet::new());
    }
    let home = &spec.org.home_region;
    let base = conn.base_config(home).await;
    let management = AccountSession::direct(
        conn,
        &base,
        spec.org.management_account.as_str(),
        &CallLog::new(),
    );
    let covered = find_org_trails(&management)
        .await?
        .iter()
        .any(|t| t.covers_members());
    Ok(match covered {
        true => accounts.iter().cloned().collect(),
        false => BTreeSet::new(),
    })
}

/// What the spec deploys for the bill, over `accounts` and the `regions` the archive holds.
pub fn deployment(
    spec: &OrgSpec,
    accounts: &[String],
    regions: usize,
    second_copy_accounts: BTreeSet<String>,
) -> Deployment {
    let n = accounts.len() as u64;
    let group_keys = if spec.trail.log_group_kms_alias.is_some() {
        n
    } else {
        0
    };
    Deployment {
        accounts: n,
        regions: regions.max(1) as u64,
        second_copy_accounts,
        data_events: spec.trail.data_events.any(),
        insights_call_rate: spec.trail.insights.contains(&InsightType::ApiCallRate),
        insights_error_rate: spec.trail.insights.contains(&InsightType::ApiErrorRate),
        log_file_validation: spec.trail.log_file_validation,
        archive_retention_days: spec.log_archive.retention_days,
        log_group_retention_days: u32::try_from(spec.trail.cloudwatch_logs_retention_days)
            .unwrap_or(0),
        alarms_per_account: trailhead_alarms::deployed::for_spec(&spec.alarms).len() as u64,
        kms_keys: 1 + group_keys,
    }
}
