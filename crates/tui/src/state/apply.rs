//! How each event changes the view: the log-archive stage's steps apart, then the run, its
//! waves, accounts and steps; a repeated or late event never undoes what a newer one said.

use trailhead_report::events::{AccountStatus, Event, WaveInfo, WaveStatus};
use trailhead_report::plan::Action;

use super::{Status, ViewState, WaveState};

impl ViewState {
    /// Step events of the log-archive stage: kept apart, counted, never an account's status.
    fn apply_stage(&mut self, event: &Event) {
        match event {
            Event::StepStarted { account, step, .. } => {
                self.stage_step(account, step).running = true;
            }
            Event::StepFinished {
                account,
                step,
                action,
                changes,
                notes,
                duration_ms,
                api_calls,
                retries,
                ..
            } => {
                let first_time =
                    self.stage_step(account, step)
                        .finish(*action, changes, notes, *duration_ms);
                if first_time {
                    self.api_calls += api_calls;
                    self.retries += retries;
                }
                if *action != Action::NoOp {
                    self.note(format!("log archive: {account} {step}: {action}"));
                }
            }
            Event::StepFailed {
                account,
                step,
                operation,
                error_code,
                message,
                duration_ms,
                api_calls,
                retries,
                ..
            } => {
                let s = self.stage_step(account, step);
                if s.fail(error_code, operation, message, *duration_ms) {
                    self.api_calls += api_calls;
                    self.retries += retries;
                }
                self.note(format!(
                    "✗ log archive: {account} {step}: {operation} {error_code}"
                ));
            }
            _ => {}
        }
    }

    pub fn apply(&mut self, event: &Event) {
        let step_event = matches!(
            event,
            Event::StepStarted { .. } | Event::StepFinished { .. } | Event::StepFailed { .. }
        );
        if step_event && !self.waves_started {
            self.apply_stage(event);
            return;
        }
        match event {
            Event::RunStarted {
                run_id, org, waves, ..
            } => self.run_started(run_id, org, waves),
            Event::AccountSkipped {
                account,
                name,
                reason,
            } => {
                let a = self.account(account);
                a.name = name.clone();
                a.status = Status::Skipped;
                a.skip_reason = Some(reason.clone());
                self.note(format!("{account} ({name}) skipped: {reason}"));
            }
            Event::AccountStarted { .. } | Event::AccountFinished { .. } => {
                self.apply_account(event)
            }
            Event::RunFinished { .. } => self.run_finished(event),
            _ if step_event => self.apply_step(event),
            _ => self.apply_wave(event),
        }
        self.clamp_selection();
    }

    fn run_started(&mut self, run_id: &str, org: &str, waves: &[WaveInfo]) {
        self.run_id = run_id.to_string();
        self.org = org.to_string();
        for w in waves {
            let total = w.accounts.len();
            self.wave(&w.name).total = total;
            for (id, name) in &w.accounts {
                let a = self.account(id);
                a.name = name.clone();
                a.wave = w.name.clone();
            }
        }
        self.note(format!("run {run_id} started: {} wave(s)", waves.len()));
    }

    /// Waves and their gates.
    fn apply_wave(&mut self, event: &Event) {
        match event {
            Event::WaveStarted { wave, accounts } => {
                self.waves_started = true;
                let w = self.wave(wave);
                w.state = WaveState::Running;
                w.total = w.total.max(*accounts);
                self.note(format!("wave {wave} started"));
            }
            Event::WaitingForApproval { wave } => {
                self.wave(wave).state = WaveState::WaitingApproval;
                self.note(format!("wave {wave} is waiting for approval: press g"));
            }
            Event::GateStarted { wave } => self.wave(wave).state = WaveState::Gate,
            Event::GateFinished {
                wave,
                passed: false,
                problems,
            } => self.note(format!("gate of {wave} failed: {}", problems.join("; "))),
            Event::WaveFinished { wave, status, .. } => self.wave_finished(wave, *status),
            _ => {}
        }
    }

    fn wave_finished(&mut self, wave: &str, status: WaveStatus) {
        // A wave skipped because the run was aborted was not reached: its accounts stay "not
        // started" rather than look skipped on purpose.
        if status == WaveStatus::Skipped && !self.aborting {
            for a in self
                .accounts
                .iter_mut()
                .filter(|a| a.wave == wave && a.status == Status::Pending)
            {
                a.status = Status::Skipped;
            }
        }
        self.wave(wave).state = match status {
            WaveStatus::Passed => WaveState::Passed,
            WaveStatus::Failed => WaveState::Failed,
            WaveStatus::Skipped => WaveState::Skipped,
        };
        self.note(format!("wave {wave}: {status}"));
    }

    fn apply_account(&mut self, event: &Event) {
        match event {
            Event::AccountStarted {
                account,
                name,
                wave,
            } => {
                let a = self.account(account);
                a.name = name.clone();
                a.wave = wave.clone();
                // A late "started" never undoes a finish that already arrived.
                if a.status == Status::Pending {
                    a.status = Status::Running;
                }
            }
            Event::AccountFinished {
                account,
                status,
                duration_ms,
                retries,
                wave,
            } => {
                let a = self.account(account);
                a.status = match status {
                    AccountStatus::Succeeded => Status::Succeeded,
                    AccountStatus::Failed => Status::Failed,
                    AccountStatus::Skipped => Status::Skipped,
                };
                a.duration_ms = *duration_ms;
                a.retries = *retries;
                if a.wave.is_empty() {
                    a.wave = wave.clone();
                }
                a.current_step.clear();
            }
            _ => {}
        }
    }

    /// A member account's steps.
    fn apply_step(&mut self, event: &Event) {
        match event {
            Event::StepStarted { account, step, .. } => {
                let seq = self.step_starts;
                self.step_starts += 1;
                let a = self.account(account);
                if a.status == Status::Pending {
                    a.status = Status::Running;
                }
                a.current_step = step.clone();
                let s = Self::step(a, step);
                s.started.get_or_insert(seq);
                if s.action.is_none() && s.error.is_none() {
                    s.running = true;
                }
            }
            Event::StepFinished {
                account,
                step,
                action,
                changes,
                notes,
                duration_ms,
                api_calls,
                retries,
                ..
            } => {
                let a = self.account(account);
                let first_time = Self::step(a, step).finish(*action, changes, notes, *duration_ms);
                if first_time {
                    self.api_calls += api_calls;
                    self.retries += retries;
                }
                if *action != Action::NoOp {
                    self.note(format!("{account} {step}: {action}"));
                }
            }
            Event::StepFailed {
                account,
                step,
                operation,
                error_code,
                message,
                duration_ms,
                api_calls,
                retries,
                ..
            } => {
                let a = self.account(account);
                a.status = Status::Failed;
                if Self::step(a, step).fail(error_code, operation, message, *duration_ms) {
                    self.api_calls += api_calls;
                    self.retries += retries;
                }
                self.note(format!("✗ {account} {step}: {operation} {error_code}"));
            }
            _ => {}
        }
    }

    fn run_finished(&mut self, event: &Event) {
        let Event::RunFinished {
            api_calls,
            retries,
            throttled,
            resume_command,
            succeeded,
            failed,
            skipped,
            interrupted,
            ..
        } = event
        else {
            return;
        };
        self.finished = true;
        self.interrupted = *interrupted;
        self.settle();
        self.api_calls = self.api_calls.max(*api_calls);
        self.retries = self.retries.max(*retries);
        self.throttled = *throttled;
        self.resume_command = resume_command.clone();
        let ended = if *interrupted {
            "run interrupted"
        } else {
            "run finished"
        };
        self.note(format!(
            "{ended}: {succeeded} ok, {failed} failed, {skipped} skipped"
        ));
        if let (true, Some(cmd)) = (*interrupted, resume_command) {
            self.note(format!("resume with: {cmd}"));
        }
    }

    /// After the run nothing runs: a step still marked running never finished, and an account
    /// without a verdict is reported by what its steps show.
    fn settle(&mut self) {
        for a in &mut self.accounts {
            for s in &mut a.steps {
                s.running = false;
            }
            a.current_step.clear();
            if self.interrupted && a.status == Status::Pending && a.steps.is_empty() {
                continue;
            }
            if matches!(a.status, Status::Running | Status::Pending) {
                a.status = if a.steps.iter().any(|s| s.error.is_some()) {
                    Status::Failed
                } else {
                    Status::Skipped
                };
            }
        }
        for s in &mut self.stage {
            s.view.running = false;
        }
    }
}
