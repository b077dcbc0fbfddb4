//! `logs search`: one filter pattern over a window of the archive, run here (list, fetch, scan)
//! or in Athena, by choice or by the size of the window.

use std::cell::RefCell;
use std::ops::ControlFlow;

use trailhead_alarms::pattern::Pattern;

use super::archive_scope::ArchiveScope;
use crate::Connection;
use crate::core::error::ProvisionError;
use crate::core::session::AccountSession;
use crate::reading::archive::{SearchProgress, SearchRequest, search};
use crate::reading::query::QueryProgress;
use crate::reading::search::{AthenaSearchSummary, athena_search};

/// Where a search runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchEngine {
    /// List, fetch and scan the objects here.
    Local,
    /// This query in the spec's Athena workgroup.
    Athena(String),
    /// Athena when the window holds more than `[athena] local_threshold_mb` of objects (from a
    /// listing) and the pattern translates faithfully; here otherwise, or without `[athena]`.
    Auto,
}

/// What a search tells as it goes; the CLI prints it.
pub trait SearchSink {
    /// A matching record, as CloudTrail wrote it; `Break` stops the search (nobody reads).
    fn record(&mut self, raw: &str) -> ControlFlow<()>;
    fn local_progress(&mut self, p: SearchProgress);
    fn query_progress(&mut self, p: &QueryProgress);
    /// Why the search runs where it does.
    fn note(&mut self, line: String);
}

/// How a search ended.
pub enum SearchDone {
    Local(SearchProgress),
    Athena(AthenaSearchSummary),
}

/// A search: where it reads, the pattern (and its text), where it runs.
pub struct SearchJob<'a> {
    pub scope: &'a ArchiveScope,
    pub pattern: &'a Pattern,
    pub source: &'a str,
    pub engine: SearchEngine,
    /// Objects fetched at once, here.
    pub concurrency: usize,
}

pub async fn search_archive(
    conn: &Connection,
    job: &SearchJob<'_>,
    sink: &mut dyn SearchSink,
) -> Result<SearchDone, ProvisionError> {
    let archive = job.scope.archive(conn).await;
    let sql = match &job.engine {
        SearchEngine::Athena(sql) => Some(sql.clone()),
        SearchEngine::Auto => auto_choice(job, &archive, sink).await?,
        SearchEngine::Local => None,
    };
    match sql {
        Some(sql) => in_athena(conn, job.scope, &sql, &archive, sink)
            .await
            .map(SearchDone::Athena),
        None => here(job, &archive, sink).await.map(SearchDone::Local),
    }
}

/// Auto: the query when the window is above the threshold and the pattern translates.
async fn auto_choice(
    job: &SearchJob<'_>,
    archive: &AccountSession,
    sink: &mut dyn SearchSink,
) -> Result<Option<String>, ProvisionError> {
    let scope = job.scope;
    let Some(athena) = &scope.spec.athena else {
        return Ok(None);
    };
    let site = crate::core::error::CallSite::new(
        &scope.archive_id,
        &scope.spec.org.home_region,
        "logs search",
    );
    let objects = scope.window_objects(archive, &site).await?;
    let bytes: i64 = objects.iter().map(|(_, size)| size).sum();
    let threshold_mb = athena.local_threshold_mb;
    let mb = bytes as f64 / 1e6;
    let count = objects.len();
    if bytes <= i64::from(threshold_mb) * 1_000_000 {
        sink.note(format!(
            "auto: {mb:.1} MB in {count} object(s), within {threshold_mb} MB: searching locally"
        ));
        return Ok(None);
    }
    match scope.search_query(job.pattern, job.source) {
        Ok(sql) => {
            sink.note(format!("auto: {mb:.1} MB in {count} object(s), above {threshold_mb} MB: searching with Athena"));
            Ok(Some(sql))
        }
        Err(e) => {
            sink.note(format!("auto: {mb:.1} MB, but searching locally: {e}"));
            Ok(None)
        }
    }
}

/// The objects listed, fetched and scanned here.
async fn here(
    job: &SearchJob<'_>,
    archive: &AccountSession,
    sink: &mut dyn SearchSink,
) -> Result<SearchProgress, ProvisionError> {
    let scope = job.scope;
    let req = SearchRequest {
        bucket: &scope.bucket,
        accounts: &scope.accounts,
        regions: &scope.regions,
        window: &scope.window,
        pattern: job.pattern,
        concurrency: job.concurrency,
    };
    // Both callbacks tell the one sink, never at the same time.
    let sink = RefCell::new(sink);
    let mut on_match = |raw: &str| sink.borrow_mut().record(raw);
    let mut on_progress = |p: SearchProgress| sink.borrow_mut().local_progress(p);
    search(archive, &req, &mut on_match, &mut on_progress).await
}

/// One query in the spec's workgroup; the records its rows name are fetched from the archive.
async fn in_athena(
    conn: &Connection,
    scope: &ArchiveScope,
    sql: &str,
    archive: &AccountSession,
    sink: &mut dyn SearchSink,
) -> Result<AthenaSearchSummary, ProvisionError> {
    let querier = scope.querier(conn, "logs search (athena)").await?;
    let target = querier.target();
    let sink = RefCell::new(sink);
    let mut on_progress = |p: &QueryProgress| sink.borrow_mut().query_progress(p);
    let mut on_match = |raw: &str| sink.borrow_mut().record(raw);
    athena_search(
        &target,
        archive,
        &scope.bucket,
        sql,
        &mut on_progress,
        &mut on_match,
    )
    .await
}
