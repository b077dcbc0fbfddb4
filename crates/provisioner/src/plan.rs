//! What a step found and did: create, update (with field-level changes), no-op, or pending.
//! `plan` and `rollout` produce the same reports; only `rollout` acts on them.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    NoOp,
    /// Cannot be done by this run (e.g. MFA Delete needs the root user): instructions attached.
    Pending,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::NoOp => "no-op",
            Action::Pending => "pending",
        })
    }
}

/// One field that differs between live state and the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub from: String,
    pub to: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} → {}", self.field, self.from, self.to)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub account: String,
    pub region: String,
    pub step: String,
    pub action: Action,
    pub changes: Vec<Change>,
    /// Warnings and instructions a person must read.
    pub notes: Vec<String>,
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// The API calls the step made, and how many of them were retried attempts.
    pub api_calls: u64,
    pub retries: u64,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// Collects the differences of one resource, then says what to do about them.
#[derive(Debug, Default)]
pub struct Diff {
    pub changes: Vec<Change>,
}

impl Diff {
    pub fn new() -> Self {
        Diff::default()
    }

    /// Records `field` when `live` differs from `want`.
    pub fn field(&mut self, field: &str, live: impl fmt::Display, want: impl fmt::Display) -> bool {
        let (live, want) = (live.to_string(), want.to_string());
        if live == want {
            return false;
        }
        self.changes.push(Change {
            field: field.to_string(),
            from: live,
            to: want,
        });
        true
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn action(&self) -> Action {
        if self.changes.is_empty() {
            Action::NoOp
        } else {
            Action::Update
        }
    }
}

/// `Some(x)` as `x`, `None` as `(none)`: how absent live values read in a change.
pub fn shown<T: fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "(none)".to_string(), |v| v.to_string())
}
