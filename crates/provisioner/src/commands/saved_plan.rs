//! A saved plan (`plan --out`), applied exactly by `rollout --plan`, the way `terraform apply
//! PLANFILE` does. It pins the spec by hash and each account's live state by a fingerprint of
//! what the plan found there; a rollout re-reads both and refuses when either moved.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use trailhead_model::Selection;

use crate::plan::{Action, Change, StepReport};

/// The plan file's format; a file of another format is refused rather than half-understood.
pub const FORMAT: &str = "trailhead-plan/1";

/// One planned step, as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub account: String,
    pub region: String,
    pub step: String,
    pub action: Action,
    pub changes: Vec<Change>,
}

impl From<&StepReport> for PlannedStep {
    fn from(r: &StepReport) -> Self {
        PlannedStep {
            account: r.account.clone(),
            region: r.region.clone(),
            step: r.step.clone(),
            action: r.action,
            changes: r.changes.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: String,
    /// The trailhead version that made it.
    pub trailhead: String,
    pub created: String,
    pub org: String,
    pub spec_path: String,
    /// SHA-256 of the spec file's bytes.
    pub spec_sha256: String,
    pub accounts: Vec<String>,
    pub waves: Vec<String>,
    /// Account → fingerprint of what the plan found in it.
    pub fingerprints: BTreeMap<String, String>,
    pub steps: Vec<PlannedStep>,
}

/// Why a saved plan cannot be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StalePlan {
    #[error("the plan file is not a trailhead plan of format {FORMAT} (found `{0}`)")]
    Format(String),
    #[error(
        "the spec changed since the plan was made (plan: sha256 {planned}, now: {now}); run `trailhead plan --out` again"
    )]
    Spec { planned: String, now: String },
    #[error("the plan is for org `{planned}`, the spec is org `{now}`")]
    Org { planned: String, now: String },
    #[error(
        "the live state moved since the plan was made in {}: re-run `trailhead plan --out` and review it",
        .0.join(", ")
    )]
    Live(Vec<String>),
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Per account, a hash of every step's region, name, action and field changes, in a fixed
/// order: two plans agree on an account exactly when they would do the same to it. Durations
/// and notes are left out: they vary between identical reads.
pub fn fingerprints(reports: &[StepReport]) -> BTreeMap<String, String> {
    let mut per_account: BTreeMap<String, Vec<PlannedStep>> = BTreeMap::new();
    for r in reports {
        per_account
            .entry(r.account.clone())
            .or_default()
            .push(PlannedStep::from(r));
    }
    per_account
        .into_iter()
        .map(|(account, mut steps)| {
            steps.sort_by(|a, b| (&a.region, &a.step).cmp(&(&b.region, &b.step)));
            let bytes = serde_json::to_vec(&steps).unwrap_or_default();
            (account, sha256_hex(&bytes))
        })
        .collect()
}

impl SavedPlan {
    pub fn new(
        org: &str,
        spec_path: &str,
        spec_bytes: &[u8],
        selection: &Selection,
        reports: &[StepReport],
        trailhead: &str,
    ) -> Self {
        SavedPlan {
            format: FORMAT.into(),
            trailhead: trailhead.into(),
            created: jiff::Timestamp::now().to_string(),
            org: org.into(),
            spec_path: spec_path.into(),
            spec_sha256: sha256_hex(spec_bytes),
            accounts: selection.accounts.clone(),
            waves: selection.waves.clone(),
            fingerprints: fingerprints(reports),
            steps: reports.iter().map(PlannedStep::from).collect(),
        }
    }

    pub fn selection(&self) -> Selection {
        Selection {
            accounts: self.accounts.clone(),
            waves: self.waves.clone(),
        }
    }

    /// Checks the plan against the spec as it is now, before any call.
    pub fn check_spec(&self, org: &str, spec_bytes: &[u8]) -> Result<(), StalePlan> {
        if self.format != FORMAT {
            return Err(StalePlan::Format(self.format.clone()));
        }
        if self.org != org {
            return Err(StalePlan::Org {
                planned: self.org.clone(),
                now: org.into(),
            });
        }
        let now = sha256_hex(spec_bytes);
        if now != self.spec_sha256 {
            return Err(StalePlan::Spec {
                planned: self.spec_sha256.clone(),
                now,
            });
        }
        Ok(())
    }

    /// Checks the plan against a fresh read-only plan: every account whose fingerprint differs,
    /// appeared or vanished has moved.
    pub fn check_live(&self, fresh: &[StepReport]) -> Result<(), StalePlan> {
        let now = fingerprints(fresh);
        let moved: Vec<String> = self
            .fingerprints
            .keys()
            .chain(now.keys())
            .filter(|a| self.fingerprints.get(*a) != now.get(*a))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if moved.is_empty() {
            Ok(())
        } else {
            Err(StalePlan::Live(moved))
        }
    }

    pub fn changes(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Create | Action::Update))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn report(account: &str, step: &str, action: Action, ms: u64) -> StepReport {
        StepReport {
            account: account.into(),
            region: "eu-west-1".into(),
            step: step.into(),
            action,
            changes: Vec::new(),
            notes: vec![format!("read in {ms} ms")],
            duration: Duration::from_millis(ms),
            api_calls: ms,
            retries: 0,
        }
    }

    fn saved(reports: &[StepReport]) -> SavedPlan {
        SavedPlan::new(
            "acme",
            "org.toml",
            b"[org]\n",
            &Selection::default(),
            reports,
            "0.1.0",
        )
    }

    #[test]
    fn the_same_findings_read_again_are_not_stale_whatever_the_timing_or_order() {
        let first = [
            report("111111111111", "trail", Action::Create, 5),
            report("111111111111", "alarms", Action::Create, 7),
        ];
        let again = [
            report("111111111111", "alarms", Action::Create, 90),
            report("111111111111", "trail", Action::Create, 40),
        ];
        assert_eq!(saved(&first).check_live(&again), Ok(()));
    }

    #[test]
    fn a_moved_account_is_named_and_only_it() {
        let plan = saved(&[
            report("111111111111", "trail", Action::Create, 5),
            report("222222222222", "trail", Action::NoOp, 5),
        ]);
        let fresh = [
            report("111111111111", "trail", Action::Create, 5),
            report("222222222222", "trail", Action::Update, 5),
            report("333333333333", "trail", Action::Create, 5),
        ];
        assert_eq!(
            plan.check_live(&fresh),
            Err(StalePlan::Live(vec![
                "222222222222".into(),
                "333333333333".into()
            ]))
        );
    }

    #[test]
    fn an_edited_spec_or_another_org_is_refused_before_any_call() {
        let plan = saved(&[]);
        assert_eq!(plan.check_spec("acme", b"[org]\n"), Ok(()));
        assert!(matches!(
            plan.check_spec("acme", b"[org]\nname = 1\n"),
            Err(StalePlan::Spec { .. })
        ));
        assert!(matches!(
            plan.check_spec("other", b"[org]\n"),
            Err(StalePlan::Org { .. })
        ));
        let mut old = plan.clone();
        old.format = "trailhead-plan/0".into();
        assert!(matches!(
            old.check_spec("acme", b"[org]\n"),
            Err(StalePlan::Format(_))
        ));
    }
}
