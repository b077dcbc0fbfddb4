//! The plain output of a rollout: one line per event that a person reading a pipeline log needs.

use std::collections::HashMap;

use trailhead_provisioner::events::Event;

/// The lines of one run: it learns each account's name from the run's start, so that every
/// line names the account beside its id (a log reader knows `prod-payments`, not `3141…`).
#[derive(Debug, Default)]
pub struct PlainLines {
    names: HashMap<String, String>,
}

impl PlainLines {
    pub fn line(&mut self, e: &Event) -> Option<String> {
        match e {
            Event::RunStarted { waves, .. } => {
                for (id, name) in waves.iter().flat_map(|w| &w.accounts) {
                    self.names.insert(id.clone(), name.clone());
                }
            }
            Event::AccountStarted { account, name, .. } => {
                self.names.insert(account.clone(), name.clone());
            }
            _ => {}
        }
        plain_line(e, &|id: &str| self.label(id))
    }

    /// `id (name)`, or the id alone when the name is unknown.
    fn label(&self, id: &str) -> String {
        match self.names.get(id).filter(|n| !n.is_empty() && *n != id) {
            Some(name) => format!("{id} ({name})"),
            None => id.to_string(),
        }
    }
}

/// One line per event, for people reading a pipeline log; `who` names an account.
fn plain_line(e: &Event, who: &dyn Fn(&str) -> String) -> Option<String> {
    Some(match e {
        Event::RunStarted {
            run_id,
            org,
            accounts,
            waves,
            ..
        } => {
            format!(
                "run {run_id}: org {org}, {accounts} account(s) in {} wave(s)",
                waves.len()
            )
        }
        Event::AccountSkipped {
            account,
            name,
            reason,
        } => format!("   {account} ({name}): skipped: {reason}"),
        Event::WaveStarted { wave, accounts } => format!("== wave {wave}: {accounts} account(s)"),
        Event::WaitingForApproval { wave } => format!("== wave {wave} is waiting for approval"),
        Event::AccountStarted { .. } | Event::StepStarted { .. } | Event::GateStarted { .. } => {
            return None;
        }
        Event::StepFinished {
            account,
            step,
            action,
            changes,
            notes,
            duration_ms,
            ..
        } => {
            let mut line = format!("   {} {step}: {action} ({duration_ms} ms)", who(account));
            for c in changes {
                line.push_str(&format!("\n      {c}"));
            }
            for n in notes {
                line.push_str(&format!("\n      note: {n}"));
            }
            line
        }
        Event::StepFailed {
            account,
            region,
            step,
            operation,
            error_code,
            message,
            ..
        } => {
            format!(
                "   ✗ {} {region} {step}: {operation} failed with {error_code}: {message}",
                who(account)
            )
        }
        Event::AccountFinished {
            account,
            status,
            duration_ms,
            retries,
            ..
        } => {
            format!(
                "   {}: {status} in {duration_ms} ms, {retries} retr(ies)",
                who(account)
            )
        }
        Event::GateFinished {
            wave,
            passed,
            problems,
        } => {
            if *passed {
                format!("   gate of {wave}: passed")
            } else {
                format!("   gate of {wave}: FAILED: {}", problems.join("; "))
            }
        }
        Event::WaveFinished {
            wave,
            status,
            succeeded,
            failed,
            skipped,
        } => {
            format!("== wave {wave}: {status} ({succeeded} ok, {failed} failed, {skipped} skipped)")
        }
        Event::RunFinished {
            run_id,
            succeeded,
            failed,
            skipped,
            api_calls,
            writes,
            retries,
            throttled,
            duration_ms,
            resume_command,
            interrupted,
        } => {
            let ended = if *interrupted {
                "was interrupted after"
            } else {
                "finished in"
            };
            let mut s = format!(
                "run {run_id} {ended} {:.1} s: {succeeded} succeeded, {failed} failed, {skipped} skipped; {api_calls} API call(s), {writes} write(s), {retries} retr(ies), {throttled} throttled",
                *duration_ms as f64 / 1000.0
            );
            if let Some(cmd) = resume_command {
                s.push_str(&format!("\nresume with: {cmd}"));
            }
            s
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailhead_provisioner::events::{AccountStatus, WaveInfo};
    use trailhead_provisioner::plan::Action;

    #[test]
    fn every_account_line_names_the_account_beside_its_id() {
        let mut lines = PlainLines::default();
        lines.line(&Event::RunStarted {
            run_id: "r1".into(),
            org: "acme".into(),
            mode: "rollout".into(),
            accounts: 1,
            waves: vec![WaveInfo {
                name: "canary".into(),
                accounts: vec![("111111111111".into(), "prod-payments".into())],
                max_concurrency: 1,
            }],
        });
        let step = lines.line(&Event::StepFinished {
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            step: "trail".into(),
            action: Action::Create,
            changes: Vec::new(),
            notes: Vec::new(),
            duration_ms: 5,
            api_calls: 1,
            retries: 0,
        });
        assert_eq!(
            step.as_deref(),
            Some("   111111111111 (prod-payments) trail: create (5 ms)")
        );
        let done = lines.line(&Event::AccountFinished {
            account: "111111111111".into(),
            status: AccountStatus::Succeeded,
            duration_ms: 9,
            retries: 0,
            wave: "canary".into(),
        });
        assert!(
            done.unwrap()
                .starts_with("   111111111111 (prod-payments): ")
        );
        // An account the run never named (the log archive's stage) reads as its id.
        let stage = lines.line(&Event::StepFinished {
            account: "222222222222".into(),
            region: "eu-west-1".into(),
            step: "archive bucket".into(),
            action: Action::NoOp,
            changes: Vec::new(),
            notes: Vec::new(),
            duration_ms: 5,
            api_calls: 1,
            retries: 0,
        });
        assert_eq!(
            stage.as_deref(),
            Some("   222222222222 archive bucket: no-op (5 ms)")
        );
    }
}
