//! The one step runner. Every step of every stage (the log archive, each member account, Athena)
//! runs through [`Steps::run`]: it sends `step_started` before and `step_finished` or
//! `step_failed` after, counts the step's own calls (the session it hands the step counts into
//! a log of that step alone), and appends the journal line when the run keeps one.

use std::path::Path;
use std::time::Instant;

use crate::core::counter::{CallLog, totals};
use crate::core::error::{AwsError, ProvisionError};
use crate::core::journal::{self, Entry};
use crate::core::session::AccountSession;
use crate::events::{Event, EventSink};
use crate::plan::{Action, Diff, StepReport};

/// What a step did, and what it hands the steps after it.
pub struct Done<T = ()> {
    pub action: Action,
    pub diff: Diff,
    pub notes: Vec<String>,
    pub value: T,
    /// The account to report the step under when it is only known once the step ran (the
    /// log-archive account it created); None reports it where it started.
    pub account: Option<String>,
}

impl Done {
    pub fn of(action: Action, diff: Diff) -> Self {
        Done::with(action, diff, ())
    }
}

impl<T> Done<T> {
    pub fn with(action: Action, diff: Diff, value: T) -> Self {
        Done {
            action,
            diff,
            notes: Vec::new(),
            value,
            account: None,
        }
    }

    pub fn noted(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }
}

/// Where a stage's steps report: the run's events, and its journal when it keeps one.
#[derive(Clone, Copy)]
pub struct Steps<'a> {
    events: &'a EventSink,
    journal: Option<&'a Path>,
}

impl<'a> Steps<'a> {
    pub fn new(events: &'a EventSink, journal: Option<&'a Path>) -> Self {
        Steps { events, journal }
    }

    /// Runs one step in `session` (the account and region it is reported under): events before
    /// and after, its own call count, a journal line when it is done.
    pub async fn run<T, F, Fut>(
        &self,
        name: &str,
        session: &AccountSession,
        f: F,
    ) -> Result<(StepReport, T), ProvisionError>
    where
        F: FnOnce(AccountSession) -> Fut,
        Fut: std::future::Future<Output = Result<Done<T>, ProvisionError>>,
    {
        self.run_as(&session.account_id, name, session, f).await
    }

    /// [`Steps::run`] of a step that hands nothing on: its action and changes are all it has.
    pub async fn step<F, Fut>(
        &self,
        name: &str,
        session: &AccountSession,
        f: F,
    ) -> Result<StepReport, ProvisionError>
    where
        F: FnOnce(AccountSession) -> Fut,
        Fut: std::future::Future<Output = Result<(Action, Diff), ProvisionError>>,
    {
        let step = |s| async move { f(s).await.map(|(action, diff)| Done::of(action, diff)) };
        self.run(name, session, step).await.map(|(r, ())| r)
    }

    /// [`Steps::run`] reported under `account`, for a step whose account is not the session's
    /// (the log-archive account's step runs in the management account).
    pub async fn run_as<T, F, Fut>(
        &self,
        account: &str,
        name: &str,
        session: &AccountSession,
        f: F,
    ) -> Result<(StepReport, T), ProvisionError>
    where
        F: FnOnce(AccountSession) -> Fut,
        Fut: std::future::Future<Output = Result<Done<T>, ProvisionError>>,
    {
        self.events.send(Event::StepStarted {
            account: account.to_string(),
            region: session.region.clone(),
            step: name.to_string(),
        });
        let log = CallLog::new();
        let started = Instant::now();
        // Boxed: step futures hold whole SDK calls; on the heap they keep task stacks small.
        let result = Box::pin(f(session.counting_into(&log))).await;
        let (calls, _, retries, _) = totals(&log.snapshot());
        let done = match result {
            Ok(done) => done,
            Err(e) => {
                let aws = failure(&e, account, &session.region, name);
                let ms = started.elapsed().as_millis() as u64;
                self.events
                    .send(crate::core::error::step_failed(&aws, ms, calls, retries));
                return Err(e);
            }
        };
        let r = StepReport {
            account: done.account.unwrap_or_else(|| account.to_string()),
            region: session.region.clone(),
            step: name.to_string(),
            action: done.action,
            changes: done.diff.changes,
            notes: done.notes,
            duration: started.elapsed(),
            api_calls: calls,
            retries,
        };
        self.events.send(report_event(&r));
        if let Some(path) = self.journal {
            let line = Entry::Step {
                account: r.account.clone(),
                step: r.step.clone(),
                action: r.action.to_string(),
            };
            journal::append(path, &line)?;
        }
        Ok((r, done.value))
    }

    /// A step a plan cannot read yet (its account or database is still to come): reported as
    /// a creation, without a call.
    pub fn unread(&self, label: &str, region: &str, step: &str) -> StepReport {
        let r = to_be_created(label, region, step);
        self.events.send(Event::StepStarted {
            account: r.account.clone(),
            region: r.region.clone(),
            step: r.step.clone(),
        });
        self.events.send(report_event(&r));
        r
    }
}

/// The error a failed step reports: an AWS error as it came, anything else as a ConfigError
/// of that step.
fn failure(e: &ProvisionError, account: &str, region: &str, step: &str) -> AwsError {
    match e {
        ProvisionError::Aws(a) => (**a).clone(),
        other => AwsError {
            account: account.to_string(),
            region: region.to_string(),
            step: step.to_string(),
            operation: "-".into(),
            code: "ConfigError".into(),
            message: other.to_string(),
        },
    }
}

pub(crate) fn report_event(r: &StepReport) -> Event {
    Event::StepFinished {
        account: r.account.clone(),
        region: r.region.clone(),
        step: r.step.clone(),
        action: r.action,
        changes: r.changes.clone(),
        notes: r.notes.clone(),
        duration_ms: r.duration.as_millis() as u64,
        api_calls: r.api_calls,
        retries: r.retries,
    }
}

fn to_be_created(label: &str, region: &str, step: &str) -> StepReport {
    let mut diff = Diff::new();
    diff.field(step, "(none)", "(new)");
    StepReport {
        account: label.to_string(),
        region: region.to_string(),
        step: step.to_string(),
        action: Action::Create,
        changes: diff.changes,
        notes: Vec::new(),
        duration: std::time::Duration::ZERO,
        api_calls: 0,
        retries: 0,
    }
}
