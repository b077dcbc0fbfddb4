//! The drill's progress on stderr: on a terminal, a status line rewritten in place (the account,
//! its phase, how many alarms reached each link) above a permanent line per finished account;
//! in a log, one line per event.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;
use trailhead_provisioner::drill::LINKS;
use trailhead_provisioner::drill::{DrillProgress, Phase};

/// What the watcher knows of the account being drilled.
#[derive(Debug, Default)]
pub struct Watcher {
    label: String,
    phase: Option<Phase>,
    alarms: usize,
    reached: [usize; 6],
    started: Option<Instant>,
}

impl Watcher {
    /// The permanent lines an event makes: every event in a log; only the ends of accounts on a
    /// terminal, whose status line shows the rest.
    pub fn on(&mut self, p: &DrillProgress, terminal: bool, now: Instant) -> Vec<String> {
        match p {
            DrillProgress::Account {
                account,
                name,
                index,
                of,
            } => {
                *self = Watcher {
                    label: format!("{index}/{of} {name} ({account})"),
                    started: Some(now),
                    ..Watcher::default()
                };
                self.log_only(terminal, format!("drill: account {}", self.label))
            }
            DrillProgress::Phase { phase, alarms, .. } => {
                self.phase = Some(*phase);
                self.alarms = *alarms;
                self.log_only(
                    terminal,
                    format!(
                        "drill: {}: {} ({alarms} alarm(s))",
                        self.label,
                        phase.describe()
                    ),
                )
            }
            DrillProgress::Link {
                control,
                link,
                name,
                seconds,
                ..
            } => {
                if let Some(n) = self.reached.get_mut(link.saturating_sub(1)) {
                    *n += 1;
                }
                self.log_only(
                    terminal,
                    format!(
                        "drill: {}: {control} reached link {link} ({name}) after {seconds:.1}s",
                        self.label
                    ),
                )
            }
            DrillProgress::AccountDone {
                fired,
                broken,
                other,
                ..
            } => {
                let took = self.started.map_or(0, |s| now.duration_since(s).as_secs());
                vec![format!(
                    "drill: {}: {fired} fired, {broken} broken, {other} not drilled live, in {took}s",
                    self.label
                )]
            }
        }
    }

    fn log_only(&self, terminal: bool, line: String) -> Vec<String> {
        if terminal { Vec::new() } else { vec![line] }
    }

    /// The terminal's status line: where the drill is, and how far the alarms got.
    pub fn status(&self, now: Instant) -> Option<String> {
        let phase = self.phase?;
        let took = self.started.map_or(0, |s| now.duration_since(s).as_secs());
        let detail = match phase {
            Phase::Following => {
                let links: Vec<String> = self
                    .reached
                    .iter()
                    .zip(LINKS)
                    .map(|(n, name)| format!("{name} {n}/{}", self.alarms))
                    .collect();
                format!("following {} alarm(s): {}", self.alarms, links.join(" · "))
            }
            other => other.describe().to_string(),
        };
        Some(format!("drill {}: {detail} · {took}s", self.label))
    }
}

/// Prints progress until the drill drops its end of the channel.
pub async fn watch(mut events: UnboundedReceiver<DrillProgress>) {
    let terminal = std::io::stderr().is_terminal();
    let mut watcher = Watcher::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut shown = false;
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                let lines = watcher.on(&event, terminal, Instant::now());
                if terminal && shown && !lines.is_empty() {
                    eprint!("\r\x1b[2K");
                    shown = false;
                }
                for line in lines {
                    eprintln!("{line}");
                }
            }
            _ = tick.tick(), if terminal => {}
        }
        if terminal && let Some(status) = watcher.status(Instant::now()) {
            eprint!("\r\x1b[2K{status}");
            shown = true;
        }
    }
    if terminal && shown {
        eprint!("\r\x1b[2K");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> Vec<DrillProgress> {
        let account = "111111111111".to_string();
        vec![
            DrillProgress::Account {
                account: account.clone(),
                name: "dev".into(),
                index: 1,
                of: 2,
            },
            DrillProgress::Phase {
                account: account.clone(),
                phase: Phase::Following,
                alarms: 2,
            },
            DrillProgress::Link {
                account: account.clone(),
                control: "4.4".into(),
                link: 1,
                name: "archive",
                seconds: 3.25,
            },
            DrillProgress::AccountDone {
                account,
                fired: 1,
                broken: 1,
                other: 3,
            },
        ]
    }

    #[test]
    fn a_log_gets_a_line_per_event_and_a_terminal_only_the_ends() {
        let now = Instant::now();
        let mut log = Watcher::default();
        let lines: Vec<String> = events()
            .iter()
            .flat_map(|e| log.on(e, false, now))
            .collect();
        assert_eq!(
            lines,
            [
                "drill: account 1/2 dev (111111111111)",
                "drill: 1/2 dev (111111111111): following each event through the chain (2 alarm(s))",
                "drill: 1/2 dev (111111111111): 4.4 reached link 1 (archive) after 3.2s",
                "drill: 1/2 dev (111111111111): 1 fired, 1 broken, 3 not drilled live, in 0s",
            ]
        );
        let mut term = Watcher::default();
        let all = events();
        let lines: Vec<String> = all[..3]
            .iter()
            .flat_map(|e| term.on(e, true, now))
            .collect();
        assert!(lines.is_empty(), "{lines:?}");
        assert_eq!(
            term.status(now).as_deref(),
            Some(
                "drill 1/2 dev (111111111111): following 2 alarm(s): archive 1/2 · log group 0/2 · metric 0/2 · alarm 0/2 · action 0/2 · subscriber 0/2 · 0s"
            )
        );
        assert_eq!(term.on(&all[3], true, now).len(), 1);
    }
}
