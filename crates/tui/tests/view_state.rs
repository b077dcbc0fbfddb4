//! The view model: events in, state out, including events that arrive twice or out of order.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

mod fixtures;

use fixtures::*;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use trailhead_report::events::{AccountStatus, Command, Event};
use trailhead_report::plan::Action;
use trailhead_tui::keys::handle;
use trailhead_tui::state::{Mode, Status, WaveState};

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

#[test]
fn counts_and_wave_states_follow_the_events() {
    let st = state(&mid_rollout(10), 30);
    assert_eq!(st.progress(), (3, 1, 10));
    assert_eq!(st.count(Status::Running), 1);
    assert_eq!(st.waves[0].state, WaveState::Passed);
    assert_eq!(st.waves[1].state, WaveState::Running);
    assert_eq!(st.waves[2].state, WaveState::Waiting);
    assert_eq!(st.api_calls, 6 * 3 * 3 + 3 + 4);
    assert_eq!(st.retries, 2);
}

#[test]
fn failures_first_then_running_accounts() {
    let st = state(&mid_rollout(10), 30);
    let rows = st.rows();
    assert_eq!(st.accounts[rows[0]].id, id(3), "the failure comes first");
    assert_eq!(st.accounts[rows[1]].id, id(4), "then the running account");
    let a = st.selected_account().expect("selection");
    assert_eq!(a.status, Status::Failed);
    let trail = a
        .steps
        .iter()
        .find(|s| s.step == "trail")
        .expect("trail step");
    assert_eq!(
        trail
            .error
            .as_ref()
            .map(|(c, o, _)| (c.as_str(), o.as_str())),
        Some(("InsufficientEncryptionPolicyException", "CreateTrail"))
    );
}

#[test]
fn duplicate_events_are_not_counted_twice() {
    let mut events = mid_rollout(10);
    let again = events.clone();
    events.extend(again);
    let once = state(&mid_rollout(10), 30);
    let twice = state(&events, 30);
    assert_eq!(twice.progress(), once.progress());
    assert_eq!(twice.api_calls, once.api_calls);
    assert_eq!(twice.retries, once.retries);
    assert_eq!(twice.accounts.len(), 10);
    let a = twice
        .accounts
        .iter()
        .find(|a| a.id == id(0))
        .expect("account");
    assert_eq!(a.steps.len(), 6, "a step finished twice is still one step");
}

#[test]
fn out_of_order_events_still_make_sense() {
    // A step and the account's finish arrive before the run start and the account start.
    let events = vec![
        step_done(7, "trail", Action::Update),
        account_done(7, "workloads", AccountStatus::Succeeded),
        Event::AccountStarted {
            account: id(7),
            name: "acct-007".into(),
            wave: "workloads".into(),
        },
        run_started(10),
    ];
    let st = state(&events, 5);
    let a = st.accounts.iter().find(|a| a.id == id(7)).expect("account");
    assert_eq!(
        a.status,
        Status::Succeeded,
        "a late start does not undo the finish"
    );
    assert_eq!(a.name, "acct-007");
    assert_eq!(a.wave, "workloads");
    assert_eq!(
        st.accounts.len(),
        10,
        "no duplicate row for the early account"
    );
    assert_eq!(st.waves.len(), 3);
}

#[test]
fn keys_move_filter_and_send_commands() {
    let mut st = state(&mid_rollout(30), 10);
    handle(&mut st, key(KeyCode::End));
    assert_eq!(st.selected, 29);
    handle(&mut st, key(KeyCode::PageUp));
    assert_eq!(st.selected, 19);
    handle(&mut st, key(KeyCode::Home));
    assert_eq!(st.selected, 0);
    let out = handle(&mut st, key(KeyCode::Char('r')));
    assert_eq!(out.command, Some(Command::Retry(id(3))));
    handle(&mut st, key(KeyCode::Char('f')));
    assert_eq!(st.rows().len(), 1);
    handle(&mut st, key(KeyCode::Char('f')));
    handle(&mut st, key(KeyCode::Char('/')));
    assert_eq!(st.mode, Mode::Filter);
    for c in "acct-02".chars() {
        handle(&mut st, key(KeyCode::Char(c)));
    }
    handle(&mut st, key(KeyCode::Enter));
    assert_eq!(st.rows().len(), 10, "acct-020 … acct-029");
    handle(&mut st, key(KeyCode::Down));
    let target = st.selected_account().expect("selection").id.clone();
    assert_eq!(
        handle(&mut st, key(KeyCode::Char('s'))).command,
        Some(Command::Skip(target))
    );
    assert_eq!(
        handle(&mut st, key(KeyCode::Char('p'))).command,
        Some(Command::Pause)
    );
    assert!(st.paused);
    assert_eq!(
        handle(&mut st, key(KeyCode::Char('p'))).command,
        Some(Command::Resume)
    );
    assert_eq!(
        handle(&mut st, key(KeyCode::Char('g'))).command,
        Some(Command::ApproveNextWave)
    );
    let q = handle(&mut st, key(KeyCode::Char('q')));
    assert!(!q.quit, "q asks while the rollout runs");
    assert_eq!(st.mode, Mode::ConfirmQuit);
    let y = handle(&mut st, key(KeyCode::Char('y')));
    assert!(y.quit);
    assert_eq!(y.command, Some(Command::Abort));
}

#[test]
fn ctrl_c_aborts_then_leaves() {
    let mut st = state(&mid_rollout(10), 10);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let first = handle(&mut st, ctrl_c);
    assert_eq!(first.command, Some(Command::Abort));
    assert!(!first.quit);
    assert!(handle(&mut st, ctrl_c).quit);
}

#[test]
fn the_summary_names_failures_and_the_resume_command() {
    let mut events = mid_rollout(10);
    events.push(Event::RunFinished {
        run_id: "r1".into(),
        succeeded: 3,
        failed: 1,
        skipped: 6,
        api_calls: 100,
        writes: 50,
        retries: 2,
        throttled: 1,
        duration_ms: 1000,
        resume_command: Some("trailhead rollout --org x --resume r1".into()),
        interrupted: false,
    });
    let text = trailhead_tui::summary(&state(&events, 10));
    assert!(
        text.contains("InsufficientEncryptionPolicyException"),
        "{text}"
    );
    assert!(text.contains("--resume r1"), "{text}");
}

/// A finished run: the log-archive stage (MFA Delete pending), a canary with one failure of
/// two, one account skipped.
fn finished_run() -> Vec<Event> {
    let archive = "999999999999";
    let mut ev = vec![
        run_started(4),
        Event::StepStarted {
            account: archive.into(),
            region: "eu-west-1".into(),
            step: "mfa delete".into(),
        },
        Event::StepFinished {
            account: archive.into(),
            region: "eu-west-1".into(),
            step: "mfa delete".into(),
            action: Action::Pending,
            changes: Vec::new(),
            notes: vec!["run `trailhead mfa-delete` as the root user".into()],
            duration_ms: 5,
            api_calls: 1,
            retries: 0,
        },
        Event::WaveStarted {
            wave: "canary".into(),
            accounts: 2,
        },
    ];
    finish_account(&mut ev, 0, "canary");
    fail_account(&mut ev, 1, "canary");
    ev.push(Event::WaveFinished {
        wave: "canary".into(),
        status: trailhead_report::events::WaveStatus::Failed,
        succeeded: 1,
        failed: 1,
        skipped: 0,
    });
    start_running(&mut ev, 2, "security", "trail");
    ev.push(Event::WaveFinished {
        wave: "security".into(),
        status: trailhead_report::events::WaveStatus::Skipped,
        succeeded: 0,
        failed: 0,
        skipped: 3,
    });
    ev.push(Event::RunFinished {
        run_id: "20261127T120000Z-abcd".into(),
        succeeded: 1,
        failed: 1,
        skipped: 2,
        api_calls: 40,
        writes: 20,
        retries: 2,
        throttled: 0,
        duration_ms: 9000,
        resume_command: Some(
            "trailhead rollout --org o.toml --resume 20261127T120000Z-abcd".into(),
        ),
        interrupted: false,
    });
    ev
}

#[test]
fn final_counts_agree_with_the_run_and_the_summary_and_nothing_stays_running() {
    let st = state(&finished_run(), 9);
    let c = st.counts();
    assert_eq!(
        (c.ok, c.failed, c.skipped, c.running, c.total),
        (1, 1, 2, 0, 4)
    );
    assert!(
        st.accounts.iter().all(|a| a.id != "999999999999"),
        "the log-archive stage is not an account row"
    );
    assert!(
        st.accounts
            .iter()
            .all(|a| a.current_step.is_empty() && a.steps.iter().all(|s| !s.running))
    );
    let summary = trailhead_tui::summary(&st);
    assert!(
        summary.contains("1 succeeded, 1 failed, 2 skipped of 4 account(s)"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "pending: 999999999999 mfa delete:\n  run `trailhead mfa-delete` as the root user"
        ),
        "{summary}"
    );
    let canary = st.wave_counts("canary");
    assert_eq!((canary.ok, canary.failed, canary.total), (1, 1, 2));
}

#[test]
fn the_clock_and_the_call_rate_stop_when_the_run_finishes() {
    let mut st = state(&finished_run(), 9);
    let rate = st.rate();
    st.tick(std::time::Duration::from_secs(600));
    assert_eq!(st.elapsed, std::time::Duration::from_secs(9));
    assert_eq!(st.rate(), rate);
    let mut running = state(&mid_rollout(10), 30);
    running.tick(std::time::Duration::from_secs(31));
    assert_eq!(running.elapsed, std::time::Duration::from_secs(31));
}

#[test]
fn r_after_the_run_says_why_and_how_to_retry() {
    let mut st = state(&finished_run(), 9);
    let out = handle(&mut st, key(KeyCode::Char('r')));
    assert_eq!(out.command, None);
    let notice = st.notice.clone().expect("a notice");
    assert!(
        notice.contains("the run has finished") && notice.contains("--resume"),
        "{notice}"
    );
    handle(&mut st, key(KeyCode::Down));
    assert_eq!(st.notice, None, "the notice lasts one key");

    let mut running = state(&mid_rollout(10), 30);
    running.selected = 1;
    let out = handle(&mut running, key(KeyCode::Char('r')));
    assert_eq!(out.command, None);
    assert!(
        running
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("has not failed"))
    );
}

#[test]
fn names_cut_in_the_middle_stay_apart() {
    use trailhead_tui::render::fit;
    let a = fit("workload-production-eu-west-1", 16);
    let b = fit("workload-production-eu-west-2", 16);
    assert_ne!(a, b);
    assert_eq!(a.chars().count(), 16);
    assert!(a.ends_with("west-1"), "{a}");
    assert_eq!(fit("short", 16), "short");
}

fn started(i: usize, step: &str) -> Event {
    Event::StepStarted {
        account: id(i),
        region: "eu-west-1".into(),
        step: step.into(),
    }
}

#[test]
fn ctrl_c_at_the_approval_question_reads_interrupted_with_the_resume_command() {
    let mut events = canary_passed(10);
    events.push(Event::WaitingForApproval {
        wave: "security".into(),
    });
    let mut st = state(&events, 30);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(handle(&mut st, ctrl_c).command, Some(Command::Abort));
    // The scheduler stops: the waves it did not reach are skipped, the run ends interrupted.
    for wave in ["security", "workloads"] {
        st.apply(&Event::WaveFinished {
            wave: wave.into(),
            status: trailhead_report::events::WaveStatus::Skipped,
            succeeded: 0,
            failed: 0,
            skipped: 0,
        });
    }
    let resume = "trailhead rollout --org acme.toml --resume 20261127T120000Z-abcd";
    st.apply(&Event::RunFinished {
        run_id: "20261127T120000Z-abcd".into(),
        succeeded: 2,
        failed: 0,
        skipped: 0,
        api_calls: 10,
        writes: 5,
        retries: 0,
        throttled: 0,
        duration_ms: 30_000,
        resume_command: Some(resume.into()),
        interrupted: true,
    });
    assert!(st.finished && st.interrupted);
    let c = st.counts();
    assert_eq!((c.ok, c.skipped), (2, 0), "nothing was skipped on purpose");
    assert_eq!(st.count(Status::Pending), 8, "8 accounts not started");
    assert!(
        st.log
            .iter()
            .any(|l| l == &format!("resume with: {resume}"))
    );
    let summary = trailhead_tui::summary(&st);
    assert!(
        summary.starts_with("run 20261127T120000Z-abcd was interrupted: 2 succeeded, 0 failed, 0 skipped, 8 not started of 10 account(s)"),
        "{summary}"
    );
    assert!(summary.contains(&format!("resume with: {resume}")));
}

#[test]
fn a_skipped_account_says_why_and_steps_read_in_the_order_they_started() {
    let mut events = vec![run_started(10)];
    events.push(Event::AccountSkipped {
        account: id(9),
        name: "acct-009".into(),
        reason: "SUSPENDED: the account is suspended".into(),
    });
    events.push(Event::WaveStarted {
        wave: "workloads".into(),
        accounts: 5,
    });
    // The trail starts before the alarms, but the alarms' finish arrives first.
    events.push(step_done(5, "alarms", Action::Create));
    events.push(started(5, "trail"));
    events.push(started(5, "alarms"));
    events.push(step_done(5, "trail", Action::Create));
    let st = state(&events, 5);
    let skipped = st.accounts.iter().find(|a| a.id == id(9)).unwrap();
    assert_eq!(
        skipped.skip_reason.as_deref(),
        Some("SUSPENDED: the account is suspended")
    );
    let a = st.accounts.iter().find(|a| a.id == id(5)).unwrap();
    let order: Vec<&str> = a
        .steps_in_run_order()
        .iter()
        .map(|s| s.step.as_str())
        .collect();
    assert_eq!(order, ["trail", "alarms"]);
}

#[test]
fn a_failed_log_archive_step_shows_on_the_stage_and_makes_no_account_row() {
    let archive = "999999999999".to_string();
    let events = vec![
        run_started(2),
        Event::StepStarted {
            account: archive.clone(),
            region: "eu-west-1".into(),
            step: "archive key".into(),
        },
        Event::StepFailed {
            account: archive.clone(),
            region: "eu-west-1".into(),
            step: "archive key".into(),
            operation: "PutKeyPolicy".into(),
            error_code: "AccessDeniedException".into(),
            message: "not allowed".into(),
            duration_ms: 12,
            api_calls: 3,
            retries: 0,
        },
    ];
    let st = state(&events, 1);
    let key = st
        .stage
        .iter()
        .find(|s| s.view.step == "archive key")
        .expect("the stage step");
    assert!(!key.view.running);
    assert_eq!(
        key.view.error.as_ref().map(|e| e.0.as_str()),
        Some("AccessDeniedException")
    );
    assert!(st.accounts.iter().all(|a| a.id != archive));
    assert_eq!(st.api_calls, 3);
}
