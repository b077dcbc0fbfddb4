//! The rollout: preflight, the log-archive stage, then every account wave by wave, with a gate
//! after each wave, a failure tolerance, a journal that survives kill -9, and resume.
//!
//! One file per part: the journal and run listing (`runs`), the lock (`lock`), one step
//! (`step`), one account's steps (`account`), the gate after a wave (`gate`), the plan
//! (`planner`), one wave's accounts side by side (`scheduler`), and the waves (`waves`).

use std::collections::BTreeMap;
use std::time::Duration;

use trailhead_model::{ResolvedWave, Selection};

use crate::plan::StepReport;

mod gate;
mod lock;
mod runs;
mod scheduler;
mod waves;

pub use gate::{DeliveryCheck, gate};
pub use runs::{RunSummary, journal_path, last_run_id, list_runs};
pub use waves::rollout;

#[derive(Debug, Clone, Default)]
pub struct RolloutOptions {
    /// Continue this run id (its journal and session name) instead of starting a new one.
    pub resume: bool,
    /// Ask before each wave, the first included.
    pub confirm_waves: bool,
    /// Skip the preflight (tests of failure handling only).
    pub skip_preflight: bool,
    /// Gate: also wait up to this long for a log file of each account, written after its wave
    /// started, in the archive (on AWS, 5 to 15 minutes after StartLogging).
    pub gate_delivery: Option<Duration>,
    /// Check delivery after the first (canary) wave only, so that large rollouts do not wait
    /// for it on every wave.
    pub gate_delivery_canary_only: bool,
    /// `--account` / `--wave`: the member accounts to converge (the log archive is always
    /// converged for every account, so that narrowing never drops one from its policies).
    pub selection: Selection,
}

#[derive(Debug, Clone, Default)]
pub struct RolloutOutcome {
    pub run_id: String,
    pub succeeded: usize,
    pub failed: usize,
    pub skipped: usize,
    /// (account, error) of every failed account.
    pub failures: Vec<(String, String)>,
    pub aborted: bool,
    pub stopped_by_tolerance: Option<String>,
    /// (account, why) of every account the run left alone, in the order it did.
    pub skipped_accounts: Vec<(String, String)>,
    /// Failed account → the step that failed it (when a step did).
    pub failed_steps: BTreeMap<String, String>,
    /// What stops the run before its first write.
    pub preflight_problems: Vec<String>,
    /// What the run goes on despite (an account that cannot be reached fails alone).
    pub preflight_warnings: Vec<String>,
    pub reports: Vec<StepReport>,
}

impl RolloutOutcome {
    fn skip_wave(&mut self, wave: &ResolvedWave, why: &str) {
        self.skipped += wave.accounts.len();
        self.skipped_accounts.extend(
            wave.accounts
                .iter()
                .map(|a| (a.id.to_string(), why.to_string())),
        );
    }

    pub fn ok(&self) -> bool {
        self.failed == 0
            && !self.aborted
            && self.stopped_by_tolerance.is_none()
            && self.preflight_problems.is_empty()
    }
}
