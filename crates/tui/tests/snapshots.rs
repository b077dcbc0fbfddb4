//! Rendered frames, at 80×24 and 160×48, for the states people see most.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

mod fixtures;

use fixtures::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use trailhead_report::events::{Event, WaveStatus};
use trailhead_tui::ViewState;
use trailhead_tui::render::draw;

fn frame(st: &mut ViewState, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal.draw(|f| draw(f, st)).expect("draw");
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn both(name: &str, mut st: ViewState) {
    insta::assert_snapshot!(format!("{name}_80x24"), frame(&mut st.clone(), 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), frame(&mut st, 160, 48));
}

#[test]
fn start() {
    both(
        "start",
        state(
            &[
                run_started(30),
                Event::WaveStarted {
                    wave: "canary".into(),
                    accounts: 2,
                },
            ],
            1,
        ),
    );
}

#[test]
fn mid_rollout_with_a_failure_selected() {
    both("mid_rollout_failure", state(&mid_rollout(30), 42));
}

#[test]
fn gate_waiting_for_approval() {
    let mut ev = canary_passed(30);
    ev.push(Event::WaitingForApproval {
        wave: "security".into(),
    });
    both("waiting_for_approval", state(&ev, 20));
}

#[test]
fn abort_in_progress() {
    let mut st = state(&mid_rollout(30), 50);
    st.aborting = true;
    both("abort_in_progress", st);
}

#[test]
fn finished() {
    let mut ev = mid_rollout(8);
    ev.push(account_done(
        4,
        "security",
        trailhead_report::events::AccountStatus::Succeeded,
    ));
    ev.push(Event::WaveFinished {
        wave: "security".into(),
        status: WaveStatus::Failed,
        succeeded: 2,
        failed: 1,
        skipped: 0,
    });
    ev.push(Event::WaveFinished {
        wave: "workloads".into(),
        status: WaveStatus::Skipped,
        succeeded: 0,
        failed: 0,
        skipped: 3,
    });
    ev.push(Event::RunFinished {
        run_id: "20261127T120000Z-abcd".into(),
        succeeded: 4,
        failed: 1,
        skipped: 3,
        api_calls: 140,
        writes: 90,
        retries: 3,
        throttled: 2,
        duration_ms: 61_000,
        resume_command: Some(
            "trailhead rollout --org acme.toml --resume 20261127T120000Z-abcd".into(),
        ),
        interrupted: false,
    });
    both("finished", state(&ev, 61));
}

#[test]
fn help_overlay() {
    let mut st = state(&mid_rollout(30), 42);
    st.show_help = true;
    both("help", st);
}

#[test]
fn the_mfa_prompt_shows_only_a_mask() {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    terminal
        .draw(|f| {
            trailhead_tui::prompt::draw_prompt(f, "MFA code for arn:aws:iam::1:mfa/root", 4, 6)
        })
        .expect("draw");
    let buf = terminal.backend().buffer();
    let text: String = (0..24u16)
        .map(|y| {
            (0..80u16)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(text.contains("code: ****__"), "{text}");
    assert!(
        !text.chars().any(|c| c.is_ascii_digit() && !"1".contains(c)),
        "no typed digit is ever drawn:\n{text}"
    );
    insta::assert_snapshot!("mfa_prompt_80x24", text);
}
