//! One wave's accounts, run side by side up to the wave's concurrency, while the view may pause,
//! resume, abort, skip or retry; each account's outcome is journaled as it finishes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use trailhead_alarms::catalog::Control;
use trailhead_model::{ResolvedWave, TargetAccount};

use super::RolloutOutcome;
use crate::core::RunCtx;
use crate::core::counter::{CallLog, totals};
use crate::core::error::ProvisionError;
use crate::core::journal;
use crate::core::journal::Entry;
use crate::core::step::Steps;
use crate::events::{AccountStatus, Command, Event, EventSink};
use crate::plan::StepReport;
use crate::resources::desired::Desired;
use crate::stages::member::run_account;

type AccountRun = (
    TargetAccount,
    Duration,
    Result<Vec<StepReport>, ProvisionError>,
    u64,
);

/// What a wave did.
#[derive(Default)]
pub(super) struct WaveResult {
    pub(super) succeeded: usize,
    pub(super) ok_accounts: BTreeSet<String>,
    pub(super) failed: Vec<(String, String)>,
    pub(super) failed_steps: BTreeMap<String, String>,
    pub(super) skipped: usize,
    pub(super) skipped_accounts: Vec<(String, String)>,
    pub(super) aborted: bool,
    pub(super) reports: Vec<StepReport>,
}

impl RolloutOutcome {
    /// Adds one wave's accounts, failures and reports.
    pub(super) fn absorb(&mut self, result: &WaveResult) {
        self.succeeded += result.succeeded;
        self.failed += result.failed.len();
        self.skipped += result.skipped;
        self.skipped_accounts
            .extend(result.skipped_accounts.iter().cloned());
        self.failed_steps.extend(
            result
                .failed_steps
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        self.failures.extend(result.failed.iter().cloned());
        self.aborted |= result.aborted;
        self.reports.extend(result.reports.iter().cloned());
    }
}

/// What every account of a wave shares.
pub(super) struct WaveInputs<'a> {
    pub(super) ctx: &'a RunCtx,
    pub(super) bucket: &'a str,
    pub(super) key: &'a str,
    pub(super) controls: &'a [Control],
    /// Accounts the run being resumed already converged.
    pub(super) done: &'a BTreeSet<String>,
    pub(super) events: &'a EventSink,
    pub(super) journal_file: &'a Path,
}

/// The wave in progress.
struct Scheduler<'a> {
    inputs: &'a WaveInputs<'a>,
    wave: &'a ResolvedWave,
    result: WaveResult,
    queue: VecDeque<TargetAccount>,
    failed_accounts: BTreeMap<String, TargetAccount>,
    paused: bool,
    commands_open: bool,
    tasks: JoinSet<AccountRun>,
}

pub(super) async fn run_wave(
    inputs: &WaveInputs<'_>,
    wave: &ResolvedWave,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    skip: &mut BTreeSet<String>,
) -> Result<WaveResult, ProvisionError> {
    inputs.events.send(Event::WaveStarted {
        wave: wave.name.clone(),
        accounts: wave.accounts.len(),
    });
    let mut s = Scheduler {
        inputs,
        wave,
        result: WaveResult::default(),
        queue: wave.accounts.iter().cloned().collect(),
        failed_accounts: BTreeMap::new(),
        paused: false,
        commands_open: true,
        tasks: JoinSet::new(),
    };
    let allowed = wave.failure_tolerance.allowed_failures(wave.accounts.len());
    loop {
        let stopping = s.result.aborted || s.result.failed.len() > allowed;
        if !stopping {
            s.start_ready(skip);
        }
        if s.tasks.is_empty() && (s.queue.is_empty() || stopping) && !s.paused {
            break;
        }
        if s.tasks.is_empty() && !s.commands_open {
            // Paused with no one left to resume: nothing can happen any more.
            break;
        }
        tokio::select! {
            Some(joined) = s.tasks.join_next(), if !s.tasks.is_empty() => {
                let run = joined.map_err(|e| ProvisionError::Config(format!("an account task failed: {e}")))?;
                s.finished(run)?;
            }
            command = commands.recv(), if s.commands_open => s.command(command, skip),
        }
    }
    Ok(s.not_started())
}

impl Scheduler<'_> {
    /// Starts accounts until the wave's concurrency is reached (none while paused).
    fn start_ready(&mut self, skip: &BTreeSet<String>) {
        let concurrency = self.wave.max_concurrency.max(1) as usize;
        while !self.paused && self.tasks.len() < concurrency {
            let Some(account) = self.queue.pop_front() else {
                break;
            };
            let id = account.id.to_string();
            if skip.contains(&id) {
                self.result.skipped += 1;
                self.result
                    .skipped_accounts
                    .push((id.clone(), "skipped by a person during the run".into()));
                self.account_finished(id, AccountStatus::Skipped);
                continue;
            }
            if self.inputs.done.contains(&id) {
                // Finished by the run being resumed: its steps are in the journal already.
                self.result.succeeded += 1;
                self.result.ok_accounts.insert(id.clone());
                self.account_finished(id, AccountStatus::Succeeded);
                continue;
            }
            self.spawn(account, id);
        }
    }

    fn spawn(&mut self, account: TargetAccount, id: String) {
        let inputs = self.inputs;
        inputs.events.send(Event::AccountStarted {
            account: id.clone(),
            name: account.name.clone(),
            wave: self.wave.name.clone(),
        });
        let ctx = inputs.ctx.clone();
        let d = Desired::new(&ctx.spec, &id, inputs.bucket, inputs.key, inputs.controls);
        let events = inputs.events.clone();
        let journal_file = inputs.journal_file.to_path_buf();
        self.tasks.spawn(async move {
            let started = Instant::now();
            let log = CallLog::new();
            let session = ctx
                .assume(&id, &ctx.spec.org.home_region)
                .await
                .counting_into(&log);
            let steps = Steps::new(&events, Some(&journal_file));
            let r = run_account(&session, &d, true, steps).await;
            let retries = totals(&log.snapshot()).2;
            (account, started.elapsed(), r, retries)
        });
    }

    /// An account that was not run (skipped, or done by the run being resumed).
    fn account_finished(&self, account: String, status: AccountStatus) {
        self.inputs.events.send(Event::AccountFinished {
            account,
            wave: self.wave.name.clone(),
            status,
            duration_ms: 0,
            retries: 0,
        });
    }

    /// An account's run came back: count it, journal it, tell the view.
    fn finished(
        &mut self,
        (account, elapsed, r, retries): AccountRun,
    ) -> Result<(), ProvisionError> {
        let id = account.id.to_string();
        let (status, label) = match r {
            Ok(reports) => {
                self.result.succeeded += 1;
                self.result.ok_accounts.insert(id.clone());
                self.result.reports.extend(reports);
                (AccountStatus::Succeeded, "succeeded")
            }
            Err(e) => {
                if let ProvisionError::Aws(aws) = &e {
                    self.result
                        .failed_steps
                        .insert(id.clone(), aws.step.clone());
                }
                self.result.failed.push((id.clone(), e.to_string()));
                self.failed_accounts.insert(id.clone(), account.clone());
                (AccountStatus::Failed, "failed")
            }
        };
        journal::append(
            self.inputs.journal_file,
            &Entry::Account {
                account: id.clone(),
                status: label.into(),
            },
        )?;
        self.inputs.events.send(Event::AccountFinished {
            account: id,
            wave: self.wave.name.clone(),
            status,
            duration_ms: elapsed.as_millis() as u64,
            retries,
        });
        Ok(())
    }

    /// What the view asked.
    fn command(&mut self, command: Option<Command>, skip: &mut BTreeSet<String>) {
        match command {
            Some(Command::Pause) => self.paused = true,
            Some(Command::Resume) => self.paused = false,
            Some(Command::Abort) => {
                self.result.aborted = true;
                self.paused = false;
            }
            // Nobody can send commands any more (no view): run on.
            None => {
                self.commands_open = false;
                self.paused = false;
            }
            Some(Command::Skip(id)) => {
                skip.insert(id);
            }
            Some(Command::Retry(id)) => {
                if let Some(account) = self.failed_accounts.remove(&id) {
                    self.result.failed.retain(|(a, _)| *a != id);
                    self.result.failed_steps.remove(&id);
                    self.queue.push_back(account);
                }
            }
            Some(Command::ApproveNextWave) => {}
        }
    }

    /// The wave's result, with the accounts it never started counted as skipped.
    fn not_started(mut self) -> WaveResult {
        self.result.skipped += self.queue.len();
        let why = if self.result.aborted {
            "not started: the run was stopped"
        } else {
            "not started: the wave stopped at its failure tolerance"
        };
        for account in std::mem::take(&mut self.queue) {
            let id = account.id.to_string();
            self.result.skipped_accounts.push((id.clone(), why.into()));
            self.account_finished(id, AccountStatus::Skipped);
        }
        self.result
    }
}
