//! What a drill is doing while it runs. On AWS a drill takes 5–15 minutes per account, mostly
//! waiting for delivery: a person (or a pipeline's log) must see which account, which phase, and
//! which link each alarm has reached, not silence.

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

#[derive(Debug, Clone, PartialEq)]
pub enum DrillProgress {
    /// The drill of the `index`th (1-based) of `of` accounts begins.
    Account {
        account: String,
        name: String,
        index: usize,
        of: usize,
    },
    /// A phase of one account's drill: settling the alarms, the probes, following the chain.
    Phase {
        account: String,
        phase: Phase,
        /// How many alarms the phase is about.
        alarms: usize,
    },
    /// An alarm's event reached a link of the chain, `seconds` after the probe's change.
    Link {
        account: String,
        control: String,
        link: usize,
        name: &'static str,
        seconds: f64,
    },
    /// One account is done: how its alarms came out.
    AccountDone {
        account: String,
        fired: usize,
        broken: usize,
        other: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for drilled alarms already in ALARM to leave it.
    Settling,
    /// Making each harmless change, and undoing it.
    Probes,
    /// Following each event through the chain.
    Following,
}

impl Phase {
    pub fn describe(self) -> &'static str {
        match self {
            Phase::Settling => "reading the alarms (waiting for any in ALARM to leave it)",
            Phase::Probes => "making the harmless changes and undoing them",
            Phase::Following => "following each event through the chain",
        }
    }
}

/// Where progress goes; `none()` drops it (tests, and `--dry-run`'s callers that print nothing).
#[derive(Debug, Clone, Default)]
pub struct ProgressSink(Option<UnboundedSender<DrillProgress>>);

impl ProgressSink {
    pub fn channel() -> (Self, UnboundedReceiver<DrillProgress>) {
        let (tx, rx) = unbounded_channel();
        (ProgressSink(Some(tx)), rx)
    }

    pub fn none() -> Self {
        ProgressSink(None)
    }

    pub fn send(&self, p: DrillProgress) {
        if let Some(tx) = &self.0 {
            // A watcher that went away does not stop the drill.
            let _ = tx.send(p);
        }
    }
}
