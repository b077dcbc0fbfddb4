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

/// The differences of many like resources (a benchmark's alarms), grouped by what changed. A
/// topic changed on every alarm reads as one change naming the field and the count, not as every
/// alarm's whole definition: drift at scale stays readable in a plan and in verify.
#[derive(Debug)]
pub struct Drift {
    plural: &'static str,
    changed: std::collections::BTreeMap<(String, String, String), Vec<String>>,
    missing: Vec<String>,
    extra: Vec<String>,
}

impl Drift {
    /// `plural` names the resources in a grouped change ("alarms").
    pub fn new(plural: &'static str) -> Self {
        Drift {
            plural,
            changed: Default::default(),
            missing: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Records every field of `name` whose live value differs from the wanted one; `live` and
    /// `want` list the same fields in the same order. True when any differs.
    pub fn compare(
        &mut self,
        name: &str,
        live: &[(&str, String)],
        want: &[(&str, String)],
    ) -> bool {
        let mut differs = false;
        for ((field, have), (_, wanted)) in live.iter().zip(want) {
            if have != wanted {
                differs = true;
                self.changed
                    .entry((field.to_string(), have.clone(), wanted.clone()))
                    .or_default()
                    .push(name.to_string());
            }
        }
        differs
    }

    /// A resource the spec wants that is not there.
    pub fn missing(&mut self, name: &str) {
        self.missing.push(name.to_string());
    }

    /// A resource that is there and the spec no longer wants.
    pub fn extra(&mut self, name: &str) {
        self.extra.push(name.to_string());
    }

    pub fn into_diff(self) -> Diff {
        let mut diff = Diff::new();
        for ((field, from, to), names) in self.changed {
            let whose = match names.as_slice() {
                [one] => one.clone(),
                many => format!("{} {}", many.len(), self.plural),
            };
            diff.field(&format!("{field} of {whose}"), from, to);
        }
        if !self.missing.is_empty() {
            let label = format!("missing {}", self.plural);
            diff.field(&label, "(none)", named(&self.missing));
        }
        if !self.extra.is_empty() {
            let label = format!("{} not in the spec's benchmark", self.plural);
            diff.field(&label, named(&self.extra), "(removed)");
        }
        diff
    }
}

/// "a" alone; "3: a, b, c"; or the first three and how many more.
fn named(names: &[String]) -> String {
    if let [one] = names {
        return one.clone();
    }
    let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
    let more = names.len().saturating_sub(3);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("{}: {}{tail}", names.len(), shown.join(", "))
}

/// `Some(x)` as `x`, `None` as `(none)`: how absent live values read in a change.
pub fn shown<T: fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "(none)".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(topic: &str, period: &str) -> Vec<(&'static str, String)> {
        vec![
            ("alarm_actions", topic.to_string()),
            ("period", period.to_string()),
        ]
    }

    #[test]
    fn one_field_changed_on_many_resources_is_one_change() {
        let mut drift = Drift::new("alarms");
        for i in 0..18 {
            let name = format!("cis-{i}");
            let period = if i == 4 { "60" } else { "300" };
            assert!(drift.compare(&name, &alarm("old", period), &alarm("new", "300")));
        }
        assert!(!drift.compare("same", &alarm("new", "300"), &alarm("new", "300")));
        let shown: Vec<String> = drift
            .into_diff()
            .changes
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "alarm_actions of 18 alarms: old → new",
                "period of cis-4: 60 → 300"
            ]
        );
    }

    #[test]
    fn missing_and_extra_resources_are_counted_and_named() {
        let mut drift = Drift::new("alarms");
        for name in ["a", "b", "c", "d", "e"] {
            drift.missing(name);
        }
        drift.extra("old");
        let shown: Vec<String> = drift
            .into_diff()
            .changes
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "missing alarms: (none) → 5: a, b, c and 2 more",
                "alarms not in the spec's benchmark: old → (removed)"
            ]
        );
    }
}
