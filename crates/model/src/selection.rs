//! `--account` and `--wave`: the part of the organization a rollout, plan or verify was asked
//! to touch. The log archive always serves every account; only the member waves narrow.

use crate::{OrgSpec, REMAINING_WAVE, ResolvedWave};

/// Which accounts and waves a run covers. Empty lists mean all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Account ids or names.
    pub accounts: Vec<String>,
    /// Wave names.
    pub waves: Vec<String>,
}

impl Selection {
    pub fn is_all(&self) -> bool {
        self.accounts.is_empty() && self.waves.is_empty()
    }

    /// Refuses, before any call, a wave the spec does not define (the automatic `remaining`
    /// wave included), with the waves there are.
    pub fn check_waves(&self, spec: &OrgSpec) -> Result<(), String> {
        let known: Vec<&str> = spec
            .waves
            .iter()
            .map(|w| w.name.value.as_str())
            .chain([REMAINING_WAVE])
            .collect();
        match self.waves.iter().find(|w| !known.contains(&w.as_str())) {
            None => Ok(()),
            Some(w) => Err(format!(
                "no wave `{w}` in the spec; the waves are: {}",
                known.join(", ")
            )),
        }
    }

    /// The waves narrowed to the selection, in their order; waves left empty are dropped.
    pub fn narrow(&self, waves: Vec<ResolvedWave>) -> Vec<ResolvedWave> {
        waves
            .into_iter()
            .filter(|w| self.waves.is_empty() || self.waves.contains(&w.name))
            .map(|mut w| {
                if !self.accounts.is_empty() {
                    w.accounts.retain(|a| {
                        self.accounts
                            .iter()
                            .any(|s| *s == a.name || s.as_str() == a.id.as_str())
                    });
                }
                w
            })
            .filter(|w| !w.accounts.is_empty())
            .collect()
    }

    /// What the selection was, for messages: `--account a --wave canary`.
    pub fn describe(&self) -> String {
        let accounts = self.accounts.iter().map(|a| format!("--account {a}"));
        let waves = self.waves.iter().map(|w| format!("--wave {w}"));
        accounts.chain(waves).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, TargetAccount, Tolerance};

    fn wave(name: &str, accounts: &[(&str, &str)]) -> ResolvedWave {
        ResolvedWave {
            name: name.into(),
            accounts: accounts
                .iter()
                .filter_map(|(id, name)| {
                    Some(TargetAccount {
                        id: AccountId::parse(id)?,
                        name: (*name).into(),
                        ous: Vec::new(),
                    })
                })
                .collect(),
            max_concurrency: 4,
            failure_tolerance: Tolerance::Count(0),
        }
    }

    fn waves() -> Vec<ResolvedWave> {
        vec![
            wave("canary", &[("111111111111", "sandbox")]),
            wave(
                "prod",
                &[("222222222222", "payments"), ("333333333333", "ledger")],
            ),
        ]
    }

    fn names(waves: &[ResolvedWave]) -> Vec<(String, Vec<String>)> {
        waves
            .iter()
            .map(|w| {
                let ids = w.accounts.iter().map(|a| a.id.to_string()).collect();
                (w.name.clone(), ids)
            })
            .collect()
    }

    #[test]
    fn no_selection_keeps_everything() {
        let all = Selection::default();
        assert!(all.is_all());
        assert_eq!(names(&all.narrow(waves())), names(&waves()));
    }

    #[test]
    fn accounts_by_id_or_name_keep_their_waves_and_empty_waves_go() {
        let s = Selection {
            accounts: vec!["ledger".into(), "111111111111".into()],
            waves: Vec::new(),
        };
        assert_eq!(
            names(&s.narrow(waves())),
            vec![
                ("canary".to_string(), vec!["111111111111".to_string()]),
                ("prod".to_string(), vec!["333333333333".to_string()]),
            ]
        );
        let only_prod = Selection {
            accounts: vec!["payments".into()],
            waves: Vec::new(),
        };
        assert_eq!(only_prod.narrow(waves()).len(), 1);
    }

    #[test]
    fn a_wave_and_an_account_must_both_match() {
        let s = Selection {
            accounts: vec!["sandbox".into()],
            waves: vec!["prod".into()],
        };
        assert!(s.narrow(waves()).is_empty());
        assert_eq!(s.describe(), "--account sandbox --wave prod");
    }
}
