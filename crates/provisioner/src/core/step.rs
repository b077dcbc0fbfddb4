//! One step of one account: run it, count its calls, send its events live, report it.

use std::path::Path;
use std::time::Instant;

use crate::core::counter::{CallLog, totals};
use crate::core::error::{AwsError, ProvisionError};
use crate::core::journal::{self, Entry};
use crate::core::session::AccountSession;
use crate::events::{Event, EventSink};
use crate::plan::{Action, Diff, StepReport};

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

/// Runs one step: events before and after, its own call count, a journal line when it is done.
pub(crate) async fn step<F, Fut>(
    name: &str,
    session: &AccountSession,
    events: &EventSink,
    journal_file: Option<&Path>,
    f: F,
) -> Result<StepReport, ProvisionError>
where
    F: FnOnce(AccountSession) -> Fut,
    Fut: std::future::Future<Output = Result<(Action, Diff), ProvisionError>>,
{
    events.send(Event::StepStarted {
        account: session.account_id.clone(),
        region: session.region.clone(),
        step: name.to_string(),
    });
    let log = CallLog::new();
    let started = Instant::now();
    // Boxed: step futures hold whole SDK calls; on the heap they keep task stacks small.
    let result = Box::pin(f(session.counting_into(&log))).await;
    let (calls, _, retries, _) = totals(&log.snapshot());
    match result {
        Ok((action, diff)) => {
            let r = StepReport {
                account: session.account_id.clone(),
                region: session.region.clone(),
                step: name.to_string(),
                action,
                changes: diff.changes,
                notes: Vec::new(),
                duration: started.elapsed(),
                api_calls: calls,
                retries,
            };
            events.send(report_event(&r));
            if let Some(path) = journal_file {
                journal::append(
                    path,
                    &Entry::Step {
                        account: r.account.clone(),
                        step: r.step.clone(),
                        action: r.action.to_string(),
                    },
                )?;
            }
            Ok(r)
        }
        Err(e) => {
            let aws = match &e {
                ProvisionError::Aws(a) => (**a).clone(),
                other => AwsError {
                    account: session.account_id.clone(),
                    region: session.region.clone(),
                    step: name.to_string(),
                    operation: "-".into(),
                    code: "ConfigError".into(),
                    message: other.to_string(),
                },
            };
            events.send(crate::core::error::step_failed(
                &aws,
                started.elapsed().as_millis() as u64,
                calls,
                retries,
            ));
            Err(e)
        }
    }
}
