//! Keys → view changes and commands for the scheduler.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use trailhead_report::events::Command;

use crate::state::{Mode, Status, ViewState};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeyOutcome {
    pub command: Option<Command>,
    /// Leave the view (once the run has finished, or at once if it has).
    pub quit: bool,
}

const PAGE: usize = 10;

/// `r`: retries the selected failed account while the run goes on; otherwise says why not.
fn retry(st: &mut ViewState, out: &mut KeyOutcome) {
    let selected = st
        .selected_account()
        .map(|a| (a.id.clone(), a.name.clone(), a.status));
    st.notice = Some(match (st.finished, selected) {
        (true, _) => match &st.resume_command {
            Some(cmd) => format!("r: the run has finished; retry its failed accounts with: {cmd}"),
            None => "r: the run has finished and nothing failed; q leaves".to_string(),
        },
        (false, Some((id, _, Status::Failed))) => {
            out.command = Some(Command::Retry(id.clone()));
            format!("r: {id} is queued again")
        }
        (false, Some((id, name, _))) => {
            format!("r retries a failed account; {name} ({id}) has not failed")
        }
        (false, None) => "r: no account selected".to_string(),
    });
}

pub fn handle(st: &mut ViewState, key: KeyEvent) -> KeyOutcome {
    let mut out = KeyOutcome::default();
    st.notice = None;
    // In raw mode Ctrl-C is a key: the first one aborts gracefully, a second one leaves.
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        if st.aborting || st.finished {
            out.quit = true;
        } else {
            st.aborting = true;
            out.command = Some(Command::Abort);
        }
        return out;
    }
    match st.mode {
        Mode::Filter => {
            match key.code {
                KeyCode::Enter => st.mode = Mode::Normal,
                KeyCode::Esc => {
                    st.filter.clear();
                    st.mode = Mode::Normal;
                }
                KeyCode::Backspace => {
                    st.filter.pop();
                }
                KeyCode::Char(c) => st.filter.push(c),
                _ => {}
            }
            st.selected = 0;
            st.offset = 0;
            st.clamp_selection();
            return out;
        }
        Mode::ConfirmQuit => {
            match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    st.aborting = true;
                    out.command = Some(Command::Abort);
                    out.quit = true;
                    st.mode = Mode::Normal;
                }
                _ => st.mode = Mode::Normal,
            }
            return out;
        }
        Mode::Normal => {}
    }
    let rows = st.rows().len();
    let last = rows.saturating_sub(1);
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => st.selected = st.selected.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => st.selected = (st.selected + 1).min(last),
        KeyCode::PageUp => st.selected = st.selected.saturating_sub(PAGE),
        KeyCode::PageDown => st.selected = (st.selected + PAGE).min(last),
        KeyCode::Home => st.selected = 0,
        KeyCode::End => st.selected = last,
        KeyCode::Enter => st.show_detail = !st.show_detail,
        KeyCode::Esc => {
            if st.show_help {
                st.show_help = false;
            } else {
                st.show_detail = false;
            }
        }
        KeyCode::Char('/') => st.mode = Mode::Filter,
        KeyCode::Char('f') => {
            st.failures_only = !st.failures_only;
            st.selected = 0;
            st.offset = 0;
        }
        KeyCode::Char('p') if !st.finished => {
            st.paused = !st.paused;
            out.command = Some(if st.paused {
                Command::Pause
            } else {
                Command::Resume
            });
        }
        KeyCode::Char('r') => retry(st, &mut out),
        KeyCode::Char('s') => {
            if let Some(a) = st
                .selected_account()
                .filter(|a| a.status == Status::Pending)
            {
                out.command = Some(Command::Skip(a.id.clone()));
            }
        }
        KeyCode::Char('g') => out.command = Some(Command::ApproveNextWave),
        KeyCode::Char('a') if !st.finished && !st.aborting => {
            st.aborting = true;
            out.command = Some(Command::Abort);
        }
        KeyCode::Char('q') => {
            if st.finished {
                out.quit = true;
            } else {
                st.mode = Mode::ConfirmQuit;
            }
        }
        KeyCode::Char('?') => st.show_help = !st.show_help,
        _ => {}
    }
    st.clamp_selection();
    out
}
