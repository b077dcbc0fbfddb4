//! Recorded rollout events for the view's tests and benchmark.

#![allow(dead_code)]

use std::time::Duration;

use trailhead_report::events::{AccountStatus, Event, WaveInfo, WaveStatus};
use trailhead_report::plan::{Action, Change};
use trailhead_tui::ViewState;

pub fn id(i: usize) -> String {
    format!("{:012}", 100_000_000_000 + i)
}

/// A run of `n` accounts in three waves: 2 canaries, 3 security accounts, the rest.
pub fn run_started(n: usize) -> Event {
    let accounts: Vec<(String, String)> = (0..n).map(|i| (id(i), format!("acct-{i:03}"))).collect();
    let split = [(0, 2.min(n)), (2.min(n), 5.min(n)), (5.min(n), n)];
    let names = ["canary", "security", "workloads"];
    Event::RunStarted {
        run_id: "20261127T120000Z-abcd".into(),
        org: "acme".into(),
        mode: "rollout".into(),
        accounts: n,
        waves: split
            .iter()
            .zip(names)
            .map(|((a, b), name)| WaveInfo {
                name: name.into(),
                accounts: accounts[*a..*b].to_vec(),
                max_concurrency: 4,
            })
            .collect(),
    }
}

pub fn step_done(i: usize, step: &str, action: Action) -> Event {
    Event::StepFinished {
        account: id(i),
        region: "eu-west-1".into(),
        step: step.into(),
        action,
        changes: if action == Action::Create {
            vec![Change {
                field: step.replace(' ', "_"),
                from: "(none)".into(),
                to: "(new)".into(),
            }]
        } else {
            Vec::new()
        },
        notes: Vec::new(),
        duration_ms: 120,
        api_calls: 3,
        retries: 0,
    }
}

pub fn account_done(i: usize, wave: &str, status: AccountStatus) -> Event {
    Event::AccountFinished {
        account: id(i),
        wave: wave.into(),
        status,
        duration_ms: 1500,
        retries: 1,
    }
}

pub fn finish_account(events: &mut Vec<Event>, i: usize, wave: &str) {
    events.push(Event::AccountStarted {
        account: id(i),
        name: format!("acct-{i:03}"),
        wave: wave.into(),
    });
    for s in [
        "cwl role",
        "log group",
        "alarm topic",
        "trail",
        "metric filters",
        "alarms",
    ] {
        events.push(Event::StepStarted {
            account: id(i),
            region: "eu-west-1".into(),
            step: s.into(),
        });
        events.push(step_done(i, s, Action::Create));
    }
    events.push(account_done(i, wave, AccountStatus::Succeeded));
}

pub fn fail_account(events: &mut Vec<Event>, i: usize, wave: &str) {
    events.push(Event::AccountStarted {
        account: id(i),
        name: format!("acct-{i:03}"),
        wave: wave.into(),
    });
    events.push(step_done(i, "cwl role", Action::Create));
    events.push(Event::StepStarted {
        account: id(i),
        region: "eu-west-1".into(),
        step: "trail".into(),
    });
    events.push(Event::StepFailed {
        account: id(i),
        region: "eu-west-1".into(),
        step: "trail".into(),
        operation: "CreateTrail".into(),
        error_code: "InsufficientEncryptionPolicyException".into(),
        message: "Insufficient permissions to access S3 bucket or KMS key".into(),
        duration_ms: 900,
        api_calls: 4,
        retries: 2,
    });
    events.push(account_done(i, wave, AccountStatus::Failed));
}

pub fn start_running(events: &mut Vec<Event>, i: usize, wave: &str, step: &str) {
    events.push(Event::AccountStarted {
        account: id(i),
        name: format!("acct-{i:03}"),
        wave: wave.into(),
    });
    events.push(Event::StepStarted {
        account: id(i),
        region: "eu-west-1".into(),
        step: step.into(),
    });
}

pub fn state(events: &[Event], elapsed_secs: u64) -> ViewState {
    let mut st = ViewState::new("", "");
    st.color = false;
    for e in events {
        st.apply(e);
    }
    st.elapsed = Duration::from_secs(elapsed_secs);
    st
}

/// A run of `n` accounts whose canary wave has passed its gate.
pub fn canary_passed(n: usize) -> Vec<Event> {
    let mut ev = vec![
        run_started(n),
        Event::WaveStarted {
            wave: "canary".into(),
            accounts: 2,
        },
    ];
    finish_account(&mut ev, 0, "canary");
    finish_account(&mut ev, 1, "canary");
    ev.push(Event::GateStarted {
        wave: "canary".into(),
    });
    ev.push(Event::GateFinished {
        wave: "canary".into(),
        passed: true,
        problems: vec![],
    });
    ev.push(Event::WaveFinished {
        wave: "canary".into(),
        status: WaveStatus::Passed,
        succeeded: 2,
        failed: 0,
        skipped: 0,
    });
    ev
}

/// Canaries passed, one security account failed (selected), two workloads running.
pub fn mid_rollout(n: usize) -> Vec<Event> {
    let mut ev = canary_passed(n);
    ev.push(Event::WaveStarted {
        wave: "security".into(),
        accounts: 3,
    });
    finish_account(&mut ev, 2, "security");
    fail_account(&mut ev, 3, "security");
    start_running(&mut ev, 4, "security", "trail");
    ev
}
