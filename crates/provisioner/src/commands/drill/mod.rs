//! `trailhead drill`: for each alarm of the spec's benchmark, a harmless change in the target
//! account that the alarm must catch, undone at once; then the event followed through every
//! link of the chain (archive, log group, metric, alarm, action, subscriber) with the latency of
//! each. What no API call can produce is replayed offline through the filter engine and reported
//! as such, never as fired.

pub mod chain;
pub mod cleanup;
pub mod plan;
pub mod probes;
pub mod progress;
mod run;

use serde::Serialize;

pub use progress::{DrillProgress, Phase, ProgressSink};
pub use run::{DrillOptions, cleanup_leftovers, drill};

/// How one alarm came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every link was seen.
    Fired,
    /// The chain stopped at `link`.
    Broken,
    NotDrillable,
    /// The deployed filter was checked on sample records; nothing was sent.
    Offline,
    /// `--dry-run`: what the drill would do.
    Planned,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkLatency {
    pub link: usize,
    pub name: &'static str,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlarmResult {
    pub control: String,
    pub title: String,
    pub alarm: String,
    pub outcome: Outcome,
    /// What the drill did for it (or would do, or why not).
    pub action: String,
    /// The link the chain stopped at (1–6; 0 when the probe itself failed).
    pub broken_link: Option<usize>,
    pub broken_link_name: Option<&'static str>,
    pub evidence: String,
    pub latencies: Vec<LinkLatency>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountDrill {
    pub account_id: String,
    pub name: String,
    pub alarms: Vec<AlarmResult>,
    /// What the drill created and could not remove, with why (`drill --cleanup` retries).
    pub leftovers: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DrillSummary {
    pub fired: usize,
    pub broken: usize,
    pub not_drillable: usize,
    pub offline: usize,
    pub planned: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub org: String,
    pub run_id: String,
    pub benchmark: String,
    pub generated_at: String,
    pub dry_run: bool,
    pub accounts: Vec<AccountDrill>,
    pub summary: DrillSummary,
}

impl DrillReport {
    pub fn summarize(&mut self) {
        let mut s = DrillSummary::default();
        for a in self.accounts.iter().flat_map(|a| &a.alarms) {
            match a.outcome {
                Outcome::Fired => s.fired += 1,
                Outcome::Broken => s.broken += 1,
                Outcome::NotDrillable => s.not_drillable += 1,
                Outcome::Offline => s.offline += 1,
                Outcome::Planned => s.planned += 1,
            }
        }
        self.summary = s;
    }

    /// Whether any drillable alarm is broken, or something was left behind.
    pub fn failed(&self) -> bool {
        self.summary.broken > 0 || self.accounts.iter().any(|a| !a.leftovers.is_empty())
    }
}
