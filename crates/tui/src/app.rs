//! The live loop: rollout events and keys in, frames out. The terminal is restored on every
//! way out: normal exit, panic (ratatui's hook), Ctrl-C (a key in raw mode) and SIGTERM (the
//! CLI turns it into an abort, and the loop ends when the run does).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event as TermEvent, KeyEventKind};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use trailhead_report::events::{Command, Event};

use crate::keys;
use crate::render::draw;
use crate::state::{Status, ViewState};

/// Reads terminal input on its own thread (crossterm's read blocks) until told to stop.
fn input_thread(stop: Arc<AtomicBool>) -> UnboundedReceiver<TermEvent> {
    let (tx, rx) = unbounded_channel();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if let Ok(true) = event::poll(Duration::from_millis(50))
                && let Ok(e) = event::read()
                && tx.send(e).is_err()
            {
                return;
            }
        }
    });
    rx
}

/// Shows the rollout until the user leaves (after the run finished, or after confirming).
/// Returns the final state, for the summary printed on the normal screen.
pub async fn run(
    mut events: UnboundedReceiver<Event>,
    commands: UnboundedSender<Command>,
    mut state: ViewState,
) -> io::Result<ViewState> {
    let mut terminal = ratatui::try_init()?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut input = input_thread(stop.clone());
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut leave_when_finished = false;
    let mut events_open = true;
    let result = loop {
        state.tick(started.elapsed());
        if let Err(e) = terminal.draw(|f| draw(f, &mut state)) {
            break Err(e);
        }
        if leave_when_finished && (state.finished || !events_open) {
            break Ok(());
        }
        tokio::select! {
            e = events.recv(), if events_open => match e {
                Some(e) => state.apply(&e),
                None => events_open = false,
            },
            Some(t) = input.recv() => match t {
                TermEvent::Key(k) if k.kind == KeyEventKind::Press => {
                    let out = keys::handle(&mut state, k);
                    if let Some(c) = out.command {
                        let _ = commands.send(c);
                    }
                    if out.quit {
                        leave_when_finished = true;
                    }
                }
                // The next loop turn redraws at the new size.
                TermEvent::Resize(_, _) => {}
                _ => {}
            },
            _ = tick.tick() => {}
        }
    };
    stop.store(true, Ordering::Relaxed);
    ratatui::restore();
    result.map(|()| state)
}

/// What stays on the normal screen after the view closes: the same counts the view showed.
pub fn summary(state: &ViewState) -> String {
    let c = state.counts();
    let not_started = c.total - c.ok - c.failed - c.skipped - c.running;
    let (ended, unreached) = if state.interrupted {
        (" was interrupted", format!(", {not_started} not started"))
    } else {
        ("", String::new())
    };
    let mut s = format!(
        "run {}{ended}: {} succeeded, {} failed, {} skipped{unreached} of {} account(s); {} API call(s), {} retried, {} throttled\n",
        state.run_id,
        c.ok,
        c.failed,
        c.skipped,
        c.total,
        state.api_calls,
        state.retries,
        state.throttled
    );
    for a in state.accounts.iter().filter(|a| a.status == Status::Failed) {
        let error = a
            .steps
            .iter()
            .find_map(|st| {
                st.error
                    .as_ref()
                    .map(|(code, op, msg)| format!("{}: {op} failed with {code}: {msg}", st.step))
            })
            .unwrap_or_else(|| "failed".into());
        s.push_str(&format!("  ✗ {} ({}): {error}\n", a.name, a.id));
    }
    for (account, step) in state.pending_steps() {
        s.push_str(&format!("pending: {account} {}:\n", step.step));
        for n in &step.notes {
            s.push_str(&format!("  {n}\n"));
        }
    }
    if let Some(cmd) = &state.resume_command {
        s.push_str(&format!("resume with: {cmd}\n"));
    }
    s
}
