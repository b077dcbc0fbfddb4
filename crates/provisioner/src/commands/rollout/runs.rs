//! The run journal's entries, and what `runs list` reads of the runs in a state directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::core::RunCtx;
use crate::core::journal::{self, Entry};

pub fn journal_path(state_dir: &Path, run_id: &str) -> PathBuf {
    state_dir.join("runs").join(format!("{run_id}.jsonl"))
}

/// What a journal says of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub run_id: String,
    /// The status the run finished with, or None: killed, or still running.
    pub finished: Option<String>,
    pub accounts: usize,
    pub failed: usize,
    /// When the run first started (journals older than this field have none).
    pub started_at: Option<jiff::Timestamp>,
    /// The time spent running, over every start and resume that finished.
    pub duration: Option<Duration>,
    /// Who started it (the caller's ARN), and who resumed it if that was someone else.
    pub callers: Vec<String>,
}

/// The caller's identity for the journal; a run is not refused for want of it.
pub(super) async fn caller_arn(ctx: &RunCtx) -> Option<String> {
    let management = ctx.management().await;
    let who = management.sts().get_caller_identity().send().await.ok()?;
    who.arn().map(str::to_string)
}

/// Every run of a state directory, newest first.
pub fn list_runs(state_dir: &Path) -> Vec<RunSummary> {
    run_ids(state_dir)
        .into_iter()
        .rev()
        .map(|run_id| {
            let lines: Vec<Entry> =
                journal::read_all(&journal_path(state_dir, &run_id)).unwrap_or_default();
            let mut summary = RunSummary {
                run_id,
                finished: None,
                accounts: 0,
                failed: 0,
                started_at: None,
                duration: None,
                callers: Vec::new(),
            };
            // A resumed run journals an account again: its last status counts.
            let mut accounts = std::collections::BTreeMap::new();
            let mut began: Option<jiff::Timestamp> = None;
            for line in lines {
                match line {
                    Entry::Account { account, status } => {
                        accounts.insert(account, status);
                    }
                    Entry::Run { at, caller, .. } => {
                        began = at.and_then(|t| t.parse().ok());
                        summary.started_at = summary.started_at.or(began);
                        if let Some(c) = caller.filter(|c| !summary.callers.contains(c)) {
                            summary.callers.push(c);
                        }
                    }
                    Entry::Finished { status, at } => {
                        summary.finished = Some(status);
                        let ended: Option<jiff::Timestamp> = at.and_then(|t| t.parse().ok());
                        if let (Some(b), Some(e)) = (began.take(), ended) {
                            let spent = e.duration_since(b).unsigned_abs();
                            summary.duration = Some(summary.duration.unwrap_or_default() + spent);
                        }
                    }
                    _ => {}
                }
            }
            summary.accounts = accounts.len();
            summary.failed = accounts.values().filter(|s| *s != "succeeded").count();
            summary
        })
        .collect()
}

/// The run ids of a state directory, oldest first (ids sort by time).
pub(super) fn run_ids(state_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(state_dir.join("runs")) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".jsonl"))
                .map(str::to_string)
        })
        .collect();
    ids.sort();
    ids
}

/// The newest run id of a state directory.
pub fn last_run_id(state_dir: &Path) -> Option<String> {
    run_ids(state_dir).pop()
}
