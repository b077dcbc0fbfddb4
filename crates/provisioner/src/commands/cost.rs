//! `cost`: the window's event volumes read from the archive, and the monthly projection of what
//! the spec deploys. Read-only: it lists and fetches the window's log files in the log-archive
//! account (every file counted here: the local engine), and reads the management account's
//! organization trails to know which accounts a trailhead trail records a second copy of.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Semaphore;
use trailhead_cost::projection::{self, MONTH_DAYS};
use trailhead_cost::volume::place_of_key;
use trailhead_cost::{Deployment, PriceTable, Projection, Tally, Volume, project};
use trailhead_model::{InsightType, OrgSpec, OrganizationTrailMode};

use crate::Connection;
use crate::commands::archive_scope::ArchiveScope;
use crate::core::counter::CallLog;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::reading::archive::{fetch_object, list_window};
use crate::resources::org_trail::find_org_trails;

const STEP: &str = "cost";
/// Log files fetched at once.
const FETCHES_AT_ONCE: usize = 16;

/// What `cost` measured and projects.
#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    pub since: String,
    pub until: String,
    pub window_days: f64,
    /// How the volumes were read: "local" (every log file of the window fetched and counted).
    pub engine: &'static str,
    /// What the window holds, in total and per account and region.
    pub measured: Volume,
    pub by_account: BTreeMap<String, Volume>,
    pub by_region: BTreeMap<String, Volume>,
    /// Events per day, over the window.
    pub per_day: Volume,
    pub deployment: Deployment,
    pub projection: Projection,
    /// (account, monthly USD of its own volume), largest first.
    pub top_accounts: Vec<(String, f64)>,
}

/// Reads the window of `scope` from the archive and projects a month of it.
pub async fn archive_cost(
    conn: &Connection,
    scope: &ArchiveScope,
) -> Result<CostReport, ProvisionError> {
    let archive = scope.archive(conn).await;
    let tally = tally_window(&archive, scope).await?;
    let window_days = scope
        .window
        .until
        .duration_since(scope.window.since)
        .as_secs_f64()
        / 86_400.0;
    let by_account = tally.by_account();
    let by_region = tally.by_region();
    let measured = tally.total();
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
        engine: "local",
        per_day: measured.scaled(window_days, 1.0),
        measured,
        by_account,
        by_region,
        deployment,
        projection,
        top_accounts,
    })
}

/// Every log file of the window, fetched `FETCHES_AT_ONCE` at a time and counted.
async fn tally_window(
    archive: &AccountSession,
    scope: &ArchiveScope,
) -> Result<Tally, ProvisionError> {
    let s3 = archive.s3();
    let site = CallSite::new(&archive.account_id, &archive.region, STEP);
    let objects = list_window(
        &s3,
        &site,
        &scope.bucket,
        &scope.accounts,
        &scope.regions,
        &scope.window,
    )
    .await?;
    let limit = Arc::new(Semaphore::new(FETCHES_AT_ONCE));
    let mut tasks = tokio::task::JoinSet::new();
    for (key, _) in objects {
        let Some(place) = place_of_key(&key) else {
            continue;
        };
        let (s3, site, limit, bucket) = (
            s3.clone(),
            site.clone(),
            limit.clone(),
            scope.bucket.clone(),
        );
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let bytes = fetch_object(&s3, &site, &bucket, &key).await?.into_bytes();
            Ok::<_, ProvisionError>((key, place, bytes))
        });
    }
    let mut tally = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        let (key, (account, region, day), bytes) =
            joined.map_err(|e| ProvisionError::Config(format!("a fetch task failed: {e}")))??;
        tally.add_file(&account, &region, &day, bytes.len() as u64);
        count_records(&mut tally, &key, &bytes, &scope.window)?;
    }
    Ok(tally)
}

/// The records of one gzipped `{"Records": [...]}` file that fall in the window.
fn count_records(
    tally: &mut Tally,
    key: &str,
    gz: &[u8],
    window: &crate::reading::archive::Window,
) -> Result<(), ProvisionError> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(gz)
        .read_to_end(&mut text)
        .map_err(|e| ProvisionError::Config(format!("log file {key} is not gzip: {e}")))?;
    let doc: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| ProvisionError::Config(format!("log file {key} is not JSON: {e}")))?;
    let Some(records) = doc.get("Records").and_then(|r| r.as_array()) else {
        return Err(ProvisionError::Config(format!(
            "log file {key} has no Records array"
        )));
    };
    for r in records {
        let in_window = r["eventTime"].as_str().is_some_and(|t| window.contains(t));
        if in_window {
            tally.add_record(r, r.to_string().len());
        }
    }
    Ok(())
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
