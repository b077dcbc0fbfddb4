//! `verify`: the live state of every account, judged control by control (Security Hub / CIS ids),
//! with the evidence for each verdict, plus the drift the plan engine sees. What the endpoint
//! cannot show is reported as unknown or failed with the reason, never as passed.
//!
//! One file per family: the trail (`trail`), the archive (`archive`), the monitoring alarms
//! (`monitoring`), one account (`account`), how evidence is written (`evidence`), and the
//! command itself (`run`).

use serde::Serialize;

use crate::commands::verify::controls::ControlInfo;

mod account;
mod archive;
mod cloudwatch;
pub mod controls;
mod evidence;
mod monitoring;
mod run;
pub mod scanner;
mod scanner_trail;
mod trail;

pub(crate) use run::{resolve_selected, summarize};
pub use run::{verify, verify_selected};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Unknown,
}

impl Verdict {
    pub fn symbol(self) -> &'static str {
        match self {
            Verdict::Pass => "✓",
            Verdict::Fail => "✗",
            Verdict::Unknown => "?",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlResult {
    pub id: String,
    pub status: Verdict,
    /// The verdict in one sentence, for people.
    pub evidence: String,
    /// What was read from the account (or why nothing could be).
    pub observed: String,
    /// What passing requires.
    pub required: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountReport {
    pub account_id: String,
    pub name: String,
    pub controls: Vec<ControlResult>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub accounts: usize,
    pub pass: usize,
    pub fail: usize,
    pub unknown: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub org: String,
    /// When the live state was read (RFC 3339, UTC).
    pub generated_at: String,
    pub trailhead_version: String,
    /// The alarm benchmark of the spec (`cis-3.0`, `securityhub`, …).
    pub benchmark: String,
    /// Every control judged, in column order, with its title and requirement.
    pub controls: Vec<ControlInfo>,
    pub accounts: Vec<AccountReport>,
    /// Selected accounts that were not judged (not ACTIVE: suspended, closing), with why.
    pub skipped: Vec<Skipped>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub account_id: String,
    pub name: String,
    pub reason: String,
}

impl From<crate::core::targets::SkippedAccount> for Skipped {
    fn from(s: crate::core::targets::SkippedAccount) -> Self {
        Skipped {
            account_id: s.id,
            name: s.name,
            reason: s.reason,
        }
    }
}

impl VerifyReport {
    pub fn control_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for a in &self.accounts {
            for c in &a.controls {
                if !ids.contains(&c.id) {
                    ids.push(c.id.clone());
                }
            }
        }
        ids
    }
}
