//! Running one query in the workgroup: start, poll until it ends (reporting state and bytes
//! scanned), then page through the rows.

use std::time::{Duration, Instant};

use aws_sdk_athena::Client;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState};

use crate::core::error::{CallSite, ProvisionError};

/// Athena's price per TB scanned in most regions, for the estimate shown while a query runs;
/// Athena bills at least 10 MB per query.
pub const USD_PER_TB: f64 = 5.0;
const MIN_BILLED_BYTES: i64 = 10_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct QueryProgress {
    pub id: String,
    pub state: String,
    pub bytes_scanned: i64,
    pub elapsed: Duration,
}

impl QueryProgress {
    pub fn cost_usd(&self) -> f64 {
        self.bytes_scanned.max(MIN_BILLED_BYTES) as f64 / 1e12 * USD_PER_TB
    }
}

/// Where queries run.
pub struct QueryTarget<'a> {
    pub athena: &'a Client,
    pub site: &'a CallSite,
    pub workgroup: &'a str,
    pub database: &'a str,
    pub poll: Duration,
}

impl QueryTarget<'_> {
    /// Runs `sql` to its end; the query's id once it succeeded.
    pub async fn run(
        &self,
        sql: &str,
        on_progress: &mut dyn FnMut(&QueryProgress),
    ) -> Result<QueryProgress, ProvisionError> {
        let started = Instant::now();
        let id = self
            .athena
            .start_query_execution()
            .query_string(sql)
            .work_group(self.workgroup)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(self.database)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.site.error("StartQueryExecution", e))?
            .query_execution_id
            .ok_or_else(|| self.site.missing("StartQueryExecution", "QueryExecutionId"))?;
        loop {
            let out = self
                .athena
                .get_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(|e| self.site.error("GetQueryExecution", e))?;
            let execution = out.query_execution();
            let status = execution.and_then(|e| e.status());
            let state = status.and_then(|s| s.state()).cloned();
            let progress = QueryProgress {
                id: id.clone(),
                state: state.as_ref().map_or("UNKNOWN", |s| s.as_str()).to_string(),
                bytes_scanned: execution
                    .and_then(|e| e.statistics())
                    .and_then(|s| s.data_scanned_in_bytes())
                    .unwrap_or(0),
                elapsed: started.elapsed(),
            };
            on_progress(&progress);
            match state {
                Some(QueryExecutionState::Succeeded) => return Ok(progress),
                Some(QueryExecutionState::Failed | QueryExecutionState::Cancelled) => {
                    let reason = status
                        .and_then(|s| s.state_change_reason())
                        .unwrap_or("no reason given");
                    return Err(ProvisionError::Query {
                        account: self.site.account.clone(),
                        id,
                        state: progress.state,
                        reason: reason.to_string(),
                    });
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }
    }

    /// Every row of a finished query, page by page, without the header row Athena puts first.
    pub async fn rows(
        &self,
        id: &str,
        on_row: &mut dyn FnMut(Vec<Option<String>>),
    ) -> Result<u64, ProvisionError> {
        let mut pages = self
            .athena
            .get_query_results()
            .query_execution_id(id)
            .max_results(1000)
            .into_paginator()
            .send();
        let mut first = true;
        let mut count = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.site.error("GetQueryResults", e))?;
            let Some(set) = page.result_set() else {
                continue;
            };
            let labels: Vec<Option<String>> = set
                .result_set_metadata()
                .map(|m| m.column_info())
                .unwrap_or_default()
                .iter()
                .map(|c| Some(c.name().to_string()))
                .collect();
            for row in set.rows() {
                let values: Vec<Option<String>> = row
                    .data()
                    .iter()
                    .map(|d| d.var_char_value().map(str::to_string))
                    .collect();
                let header = first && !labels.is_empty() && values == labels;
                first = false;
                if !header {
                    count += 1;
                    on_row(values);
                }
            }
        }
        Ok(count)
    }
}
