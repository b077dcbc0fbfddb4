//! The view model: rollout events in, a screen's worth of state out. It tolerates events that
//! arrive twice or out of order (an account's step before the account itself, a step finished
//! twice): counts are derived from account states, never incremented blindly.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use trailhead_report::plan::{Action, Change};

mod apply;

pub const EVENT_LOG: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveState {
    Waiting,
    Running,
    Gate,
    WaitingApproval,
    Passed,
    Failed,
    Skipped,
}

impl WaveState {
    pub fn label(self) -> &'static str {
        match self {
            WaveState::Waiting => "waiting",
            WaveState::Running => "running",
            WaveState::Gate => "gate check",
            WaveState::WaitingApproval => "waiting for approval",
            WaveState::Passed => "passed",
            WaveState::Failed => "failed",
            WaveState::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone)]
pub struct WaveView {
    pub name: String,
    pub total: usize,
    pub state: WaveState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    // Sort order of the table: failures first, then running accounts.
    Failed,
    Running,
    Pending,
    Succeeded,
    Skipped,
}

impl Status {
    /// A symbol, so the screen reads without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Failed => "✗",
            Status::Running => "▶",
            Status::Pending => "·",
            Status::Succeeded => "✓",
            Status::Skipped => "↷",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    pub step: String,
    pub action: Option<Action>,
    pub changes: Vec<Change>,
    pub duration_ms: u64,
    /// AWS error code, API operation and message of a failure.
    pub error: Option<(String, String, String)>,
    pub running: bool,
    /// Instructions a person must read (a pending step's).
    pub notes: Vec<String>,
    /// When it started, as the run's nth step start: the detail pane lists steps in the order
    /// they ran, even when a finish arrived before its start.
    pub started: Option<u64>,
}

impl StepView {
    /// Records a failure; whether it is the first (a repeated event is not counted twice).
    fn fail(&mut self, code: &str, operation: &str, message: &str, duration_ms: u64) -> bool {
        let first_time = self.error.is_none();
        self.error = Some((code.to_string(), operation.to_string(), message.to_string()));
        self.duration_ms = duration_ms;
        self.running = false;
        first_time
    }

    /// Records a finished step; true the first time (so that calls are counted once).
    fn finish(&mut self, action: Action, changes: &[Change], notes: &[String], ms: u64) -> bool {
        let first_time = self.action.is_none();
        self.action = Some(action);
        self.changes = changes.to_vec();
        self.notes = notes.to_vec();
        self.duration_ms = ms;
        self.running = false;
        self.error = None;
        first_time
    }

    fn new(step: &str) -> Self {
        StepView {
            step: step.to_string(),
            action: None,
            changes: Vec::new(),
            duration_ms: 0,
            error: None,
            running: false,
            notes: Vec::new(),
            started: None,
        }
    }
}

/// A step of the log-archive stage: it runs before the waves, for the whole organization, so it
/// is not a step of any account's row.
#[derive(Debug, Clone, PartialEq)]
pub struct StageStep {
    pub account: String,
    pub view: StepView,
}

/// The run's accounts by outcome: what the header, the waves and the summary all show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub ok: usize,
    pub failed: usize,
    pub skipped: usize,
    pub running: usize,
    pub total: usize,
}

#[derive(Debug, Clone)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub wave: String,
    pub status: Status,
    pub current_step: String,
    pub duration_ms: u64,
    pub retries: u64,
    pub steps: Vec<StepView>,
    /// Arrival order, for a stable sort.
    pub order: usize,
    /// Why the run leaves the account alone (SUSPENDED…), when it does.
    pub skip_reason: Option<String>,
}

impl AccountView {
    /// The steps in the order they started. A step seen finishing but never starting was done
    /// before this view began (a resumed run): it comes first, as seen.
    pub fn steps_in_run_order(&self) -> Vec<&StepView> {
        let mut steps: Vec<&StepView> = self.steps.iter().collect();
        steps.sort_by_key(|s| s.started.map_or(0, |n| n + 1));
        steps
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing a filter after `/`.
    Filter,
    /// `q` while a rollout runs: asks first.
    ConfirmQuit,
}

#[derive(Debug, Clone)]
pub struct ViewState {
    pub org: String,
    pub run_id: String,
    pub elapsed: Duration,
    pub waves: Vec<WaveView>,
    pub accounts: Vec<AccountView>,
    index: BTreeMap<String, usize>,
    pub log: VecDeque<String>,
    pub api_calls: u64,
    pub retries: u64,
    pub throttled: u64,
    pub paused: bool,
    pub aborting: bool,
    pub finished: bool,
    /// The run was stopped by a person: accounts it did not reach are "not started".
    pub interrupted: bool,
    pub resume_command: Option<String>,
    pub confirm_waves: bool,
    pub stage: Vec<StageStep>,
    /// Step events before the first wave are the log-archive stage's.
    waves_started: bool,
    /// Step starts seen so far: the next one's place in run order.
    step_starts: u64,
    /// A one-off answer to a key that did nothing, shown in the footer until the next key.
    pub notice: Option<String>,
    // UI state
    pub selected: usize,
    pub offset: usize,
    pub filter: String,
    pub failures_only: bool,
    pub show_detail: bool,
    pub show_help: bool,
    pub mode: Mode,
    pub color: bool,
}

impl ViewState {
    pub fn new(org: &str, run_id: &str) -> Self {
        ViewState {
            org: org.to_string(),
            run_id: run_id.to_string(),
            elapsed: Duration::ZERO,
            waves: Vec::new(),
            accounts: Vec::new(),
            index: BTreeMap::new(),
            log: VecDeque::new(),
            api_calls: 0,
            retries: 0,
            throttled: 0,
            paused: false,
            aborting: false,
            finished: false,
            interrupted: false,
            resume_command: None,
            confirm_waves: false,
            stage: Vec::new(),
            waves_started: false,
            step_starts: 0,
            notice: None,
            selected: 0,
            offset: 0,
            filter: String::new(),
            failures_only: false,
            show_detail: true,
            show_help: false,
            mode: Mode::Normal,
            color: true,
        }
    }

    fn account(&mut self, id: &str) -> &mut AccountView {
        let next = self.accounts.len();
        let i = *self.index.entry(id.to_string()).or_insert(next);
        if i == next {
            self.accounts.push(AccountView {
                id: id.to_string(),
                name: String::new(),
                wave: String::new(),
                status: Status::Pending,
                current_step: String::new(),
                duration_ms: 0,
                retries: 0,
                steps: Vec::new(),
                order: next,
                skip_reason: None,
            });
        }
        &mut self.accounts[i]
    }

    fn wave(&mut self, name: &str) -> &mut WaveView {
        if let Some(i) = self.waves.iter().position(|w| w.name == name) {
            return &mut self.waves[i];
        }
        self.waves.push(WaveView {
            name: name.to_string(),
            total: 0,
            state: WaveState::Waiting,
        });
        let last = self.waves.len() - 1;
        &mut self.waves[last]
    }

    fn note(&mut self, line: String) {
        if self.log.len() == EVENT_LOG {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    fn step<'a>(account: &'a mut AccountView, step: &str) -> &'a mut StepView {
        if let Some(i) = account.steps.iter().position(|s| s.step == step) {
            return &mut account.steps[i];
        }
        account.steps.push(StepView::new(step));
        let last = account.steps.len() - 1;
        &mut account.steps[last]
    }

    /// The stage step `step` of `account`, made on first sight.
    fn stage_step(&mut self, account: &str, step: &str) -> &mut StepView {
        let found = self
            .stage
            .iter()
            .position(|s| s.account == account && s.view.step == step);
        let i = found.unwrap_or_else(|| {
            self.stage.push(StageStep {
                account: account.to_string(),
                view: StepView::new(step),
            });
            self.stage.len() - 1
        });
        &mut self.stage[i].view
    }

    /// The clock, and calls/s with it, runs until the run finishes, then stands still.
    pub fn tick(&mut self, since_start: Duration) {
        if !self.finished {
            self.elapsed = since_start;
        }
    }

    pub fn counts(&self) -> Counts {
        Counts {
            ok: self.count(Status::Succeeded),
            failed: self.count(Status::Failed),
            skipped: self.count(Status::Skipped),
            running: self.count(Status::Running),
            total: self.accounts.len(),
        }
    }

    /// The counts of one wave's accounts.
    pub fn wave_counts(&self, wave: &str) -> Counts {
        let of = |st: Status| {
            self.accounts
                .iter()
                .filter(|a| a.wave == wave && a.status == st)
                .count()
        };
        Counts {
            ok: of(Status::Succeeded),
            failed: of(Status::Failed),
            skipped: of(Status::Skipped),
            running: of(Status::Running),
            total: self.accounts.iter().filter(|a| a.wave == wave).count(),
        }
    }

    /// Steps waiting on a person (MFA Delete needs the root user), with their instructions.
    pub fn pending_steps(&self) -> Vec<(&str, &StepView)> {
        let stage = self.stage.iter().map(|s| (s.account.as_str(), &s.view));
        let rows = self
            .accounts
            .iter()
            .flat_map(|a| a.steps.iter().map(move |s| (a.id.as_str(), s)));
        stage
            .chain(rows)
            .filter(|(_, s)| s.action == Some(Action::Pending))
            .collect()
    }

    pub fn count(&self, status: Status) -> usize {
        self.accounts.iter().filter(|a| a.status == status).count()
    }

    /// Accounts done (succeeded or skipped) / failed / total.
    pub fn progress(&self) -> (usize, usize, usize) {
        (
            self.count(Status::Succeeded) + self.count(Status::Skipped),
            self.count(Status::Failed),
            self.accounts.len(),
        )
    }

    /// Indices of the rows to show, in display order: failures, then running, then the rest.
    pub fn rows(&self) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<usize> = (0..self.accounts.len())
            .filter(|&i| {
                let a = &self.accounts[i];
                (!self.failures_only || a.status == Status::Failed)
                    && (needle.is_empty()
                        || a.id.contains(&needle)
                        || a.name.to_lowercase().contains(&needle))
            })
            .collect();
        rows.sort_by_key(|&i| (self.accounts[i].status, self.accounts[i].order));
        rows
    }

    pub fn selected_account(&self) -> Option<&AccountView> {
        self.rows().get(self.selected).map(|&i| &self.accounts[i])
    }

    pub fn clamp_selection(&mut self) {
        let n = self.rows().len();
        if n == 0 {
            self.selected = 0;
        } else if self.selected >= n {
            self.selected = n - 1;
        }
    }

    /// Keeps the selection inside a window of `height` rows; returns the first visible row.
    pub fn scroll_to_selection(&mut self, height: usize) -> usize {
        if height == 0 {
            return self.offset;
        }
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset
    }

    /// Calls per second over the run so far.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.api_calls as f64 / secs
        } else {
            0.0
        }
    }

    /// Remaining time, extrapolated from the accounts finished so far.
    pub fn eta(&self) -> Option<Duration> {
        let (done, failed, total) = self.progress();
        let finished = done + failed;
        if finished == 0 || finished >= total || self.finished {
            return None;
        }
        let per = self.elapsed.as_secs_f64() / finished as f64;
        Some(Duration::from_secs_f64(per * (total - finished) as f64))
    }
}
