//! Progress events: what the provisioner reports while it works. The CLI prints them as lines
//! or NDJSON, and the TUI draws them. Events never carry secrets.

use serde::Serialize;
use tokio::sync::mpsc;

use crate::plan::{Action, Change};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Succeeded,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaveStatus {
    Passed,
    Failed,
    Skipped,
}

impl std::fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AccountStatus::Succeeded => "Succeeded",
            AccountStatus::Failed => "Failed",
            AccountStatus::Skipped => "Skipped",
        })
    }
}

impl std::fmt::Display for WaveStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WaveStatus::Passed => "Passed",
            WaveStatus::Failed => "Failed",
            WaveStatus::Skipped => "Skipped",
        })
    }
}

/// One thing that happened. The NDJSON schema is this enum, tagged by `event`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        run_id: String,
        org: String,
        mode: String,
        accounts: usize,
        waves: Vec<WaveInfo>,
    },
    /// An account of the organization that the run leaves alone (e.g. SUSPENDED), and why.
    AccountSkipped {
        account: String,
        name: String,
        reason: String,
    },
    WaveStarted {
        wave: String,
        accounts: usize,
    },
    WaitingForApproval {
        wave: String,
    },
    AccountStarted {
        account: String,
        name: String,
        wave: String,
    },
    StepStarted {
        account: String,
        region: String,
        step: String,
    },
    StepFinished {
        account: String,
        region: String,
        step: String,
        action: Action,
        changes: Vec<Change>,
        notes: Vec<String>,
        duration_ms: u64,
        api_calls: u64,
        retries: u64,
    },
    StepFailed {
        account: String,
        region: String,
        step: String,
        operation: String,
        error_code: String,
        message: String,
        duration_ms: u64,
        api_calls: u64,
        retries: u64,
    },
    AccountFinished {
        account: String,
        wave: String,
        status: AccountStatus,
        duration_ms: u64,
        retries: u64,
    },
    GateStarted {
        wave: String,
    },
    GateFinished {
        wave: String,
        passed: bool,
        problems: Vec<String>,
    },
    WaveFinished {
        wave: String,
        status: WaveStatus,
        succeeded: usize,
        failed: usize,
        skipped: usize,
    },
    RunFinished {
        run_id: String,
        succeeded: usize,
        failed: usize,
        skipped: usize,
        api_calls: u64,
        writes: u64,
        retries: u64,
        throttled: u64,
        duration_ms: u64,
        resume_command: Option<String>,
        /// Stopped by a person (Ctrl-C, SIGTERM, the view's abort): what was not reached was
        /// not started, not skipped.
        interrupted: bool,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WaveInfo {
    pub name: String,
    pub accounts: Vec<(String, String)>,
    pub max_concurrency: u32,
}

/// Where events go. Sending never blocks and never fails the run: a closed receiver (the view
/// was quit) just drops them.
#[derive(Debug, Clone)]
pub struct EventSink(Option<mpsc::UnboundedSender<Event>>);

impl EventSink {
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (EventSink(Some(tx)), rx)
    }

    pub fn none() -> Self {
        EventSink(None)
    }

    pub fn send(&self, e: Event) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(e);
        }
    }
}

/// What the view (or a signal handler) asks the scheduler to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Pause,
    Resume,
    /// Finish in-flight steps, write the journal, start nothing new.
    Abort,
    Retry(String),
    Skip(String),
    ApproveNextWave,
}
