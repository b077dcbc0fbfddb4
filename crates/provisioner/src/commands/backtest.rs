//! `alarms backtest`: what each alarm of the spec's benchmark would have counted over a window
//! of the archive: one Athena query for the whole organization, or the objects fetched and
//! replayed here.

use std::path::Path;

use trailhead_alarms::athena::{Schema, translate};
use trailhead_alarms::catalog::Control;
use trailhead_alarms::pattern::parse;
use trailhead_alarms::replay::{Alarm, replay_where};

use super::archive_scope::ArchiveScope;
use crate::Connection;
use crate::core::error::ProvisionError;
use crate::reading::archive::download_window;
use crate::reading::query::QueryProgress;

/// Objects fetched at once by a local backtest.
const DOWNLOADS_AT_ONCE: usize = 16;

/// The one query that counts every alarm, or which control has no faithful SQL.
pub fn backtest_query(
    scope: &ArchiveScope,
    controls: &[Control],
) -> Result<String, ProvisionError> {
    let site = scope.athena_site()?;
    let mut alarms = Vec::new();
    for c in controls {
        let pattern = parse(c.pattern)
            .map_err(|e| ProvisionError::Config(format!("{}: {}", c.id, e.message)))?;
        let condition = translate(&pattern, Schema::CloudTrail).map_err(|r| {
            ProvisionError::Config(format!(
                "control {} has no faithful Athena translation: {r}",
                c.id
            ))
        })?;
        alarms.push((c.id.to_string(), condition));
    }
    let scope_sql = scope.window.scope(&scope.accounts, &scope.regions);
    Ok(site.table.backtest_query(&scope_sql, &alarms))
}

/// Each control's count, in the controls' order, from one query in the spec's workgroup.
pub async fn athena_counts(
    conn: &Connection,
    scope: &ArchiveScope,
    sql: &str,
    on_progress: &mut dyn FnMut(&QueryProgress),
) -> Result<Vec<u64>, ProvisionError> {
    let querier = scope.querier(conn, "alarms backtest (athena)").await?;
    let query = querier.target();
    let done = query.run(sql, on_progress).await?;
    let mut row = Vec::new();
    query.rows(&done.id, &mut |r| row = r).await?;
    row.iter()
        .map(|v| {
            v.as_deref().unwrap_or("0").parse::<u64>().map_err(|_| {
                ProvisionError::Config(format!(
                    "Athena answered a count that is not a number: {}",
                    v.as_deref().unwrap_or("")
                ))
            })
        })
        .collect()
}

/// What a local backtest counted, and what it read.
pub struct LocalCounts {
    pub counts: Vec<u64>,
    pub records: u64,
    pub files: usize,
}

/// Each control's count, in the controls' order, from the window's objects fetched into
/// `scratch` and replayed here.
pub async fn local_counts(
    conn: &Connection,
    scope: &ArchiveScope,
    controls: &[Control],
    scratch: &Path,
) -> Result<LocalCounts, ProvisionError> {
    let alarms: Vec<Alarm> = controls
        .iter()
        .map(Alarm::from_control)
        .collect::<Result<_, _>>()
        .map_err(|e| ProvisionError::Config(e.to_string()))?;
    let archive = scope.archive(conn).await;
    let files = download_window(
        &archive,
        &scope.bucket,
        &scope.accounts,
        &scope.regions,
        &scope.window,
        scratch,
        DOWNLOADS_AT_ONCE,
    )
    .await?;
    let window = &scope.window;
    let report = replay_where(&files, &alarms, &|record| {
        record["eventTime"]
            .as_str()
            .is_some_and(|t| window.contains(t))
    })
    .map_err(|e| ProvisionError::Config(e.to_string()))?;
    Ok(LocalCounts {
        counts: report.alarms.iter().map(|a| a.matched).collect(),
        records: report.records,
        files: report.files,
    })
}
