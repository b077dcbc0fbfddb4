//! Who checks each control, so that a user sees why an alarm exists: the CIS item of the
//! control's own version (its profile Level, and whether the benchmark marks it Automated or
//! Manual), the Security Hub control that checks the topic and the standards it belongs to, and
//! Prowler's check with the compliance files that list it.
//!
//! Sources (`shared/reference`): `cis_alarms.md` §2 for Security Hub's "Related requirements",
//! `cis_v5_v6_v7_monitoring.md` for the Levels and statuses of v3.0.0 to v7.0.0 and for the
//! Prowler files (the same single check per item from cis_3.0 to cis_7.0). The v1.2.0 and
//! v1.4.0 Levels are not in those sources, so they are reported as unknown, not guessed.

use serde::Serialize;
use trailhead_model::Benchmark;

use crate::catalog::{Control, Topic};
use crate::scanners::{missing, prowler_checks, security_hub_accepts};

/// How the benchmark assesses an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Assessment {
    Automated,
    Manual,
}

/// The control's item in its own CIS version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CisItem {
    pub version: &'static str,
    pub id: String,
    /// The profile Level (1 or 2), where the sources give it.
    pub level: Option<u8>,
    pub assessment: Option<Assessment>,
}

/// The Security Hub control that checks the topic, and the standards that include it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityHubCheck {
    pub control: String,
    /// "CIS v1.2.0 3.3", …: the standards' requirement ids Security Hub maps it to.
    pub standards: Vec<&'static str>,
    /// Whether this control's pattern passes it (Security Hub wants its own string, nothing
    /// added).
    pub passes: bool,
}

/// Prowler's check of the topic and the compliance files that list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProwlerCoverage {
    pub check: &'static str,
    /// "cis_5.0_aws 4.10", …
    pub compliance: Vec<String>,
    /// Whether this control's pattern holds every clause the check requires.
    pub passes: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedBy {
    pub cis: Option<CisItem>,
    pub security_hub: Option<SecurityHubCheck>,
    pub prowler: Option<ProwlerCoverage>,
}

/// The CIS monitoring item number of a topic (v1.2.0's 3.n, later 4.n or 5.n).
fn item(topic: Topic) -> Option<u8> {
    Some(match topic {
        Topic::UnauthorizedApiCalls => 1,
        Topic::ConsoleSignInWithoutMfa => 2,
        Topic::RootAccountUsage => 3,
        Topic::IamPolicyChanges => 4,
        Topic::CloudTrailChanges => 5,
        Topic::ConsoleAuthFailures => 6,
        Topic::DisableOrDeleteCmk => 7,
        Topic::S3BucketPolicyChanges => 8,
        Topic::ConfigChanges => 9,
        Topic::SecurityGroupChanges => 10,
        Topic::NaclChanges => 11,
        Topic::NetworkGatewayChanges => 12,
        Topic::RouteTableChanges => 13,
        Topic::VpcChanges => 14,
        Topic::OrganizationsChanges => 15,
        _ => return None,
    })
}

/// v4.0.1 to v7.0.0 Levels by item (v5 table); v3.0.0 differs only in 4.1 (Level 1).
const LEVEL_V5: [u8; 15] = [2, 1, 1, 1, 1, 2, 2, 1, 2, 2, 2, 1, 1, 1, 1];

fn cis_item(benchmark: Benchmark, n: u8) -> Option<CisItem> {
    let level_v5 = LEVEL_V5.get(usize::from(n) - 1).copied();
    let (version, section, level, assessment) = match benchmark {
        Benchmark::Cis12 => ("v1.2.0", 3, None, None),
        Benchmark::Cis14 => ("v1.4.0", 4, None, None),
        Benchmark::Cis30 => (
            "v3.0.0",
            4,
            if n == 1 { Some(1) } else { level_v5 },
            Some(Assessment::Automated),
        ),
        Benchmark::Cis50 => ("v5.0.0", 4, level_v5, Some(Assessment::Manual)),
        Benchmark::Cis60 => ("v6.0.0", 5, level_v5, Some(Assessment::Manual)),
        Benchmark::Cis70 => ("v7.0.0", 5, level_v5, Some(Assessment::Manual)),
        Benchmark::SecurityHub | Benchmark::Extended => return None,
    };
    Some(CisItem {
        version,
        id: format!("{section}.{n}"),
        level,
        assessment,
    })
}

/// Security Hub's CloudWatch control of item `n` and its related requirements.
fn security_hub(n: u8) -> Option<(String, Vec<&'static str>)> {
    let (control, standards): (u8, Vec<&'static str>) = match n {
        3 => (
            1,
            vec![
                "CIS v1.2.0 1.1",
                "CIS v1.2.0 3.3",
                "CIS v1.4.0 1.7",
                "CIS v1.4.0 4.3",
            ],
        ),
        1 => (2, vec!["CIS v1.2.0 3.1"]),
        2 => (3, vec!["CIS v1.2.0 3.2"]),
        4..=14 => (n, cis_v12_v14(n)),
        _ => return None,
    };
    Some((format!("CloudWatch.{control}"), standards))
}

fn cis_v12_v14(n: u8) -> Vec<&'static str> {
    const V12: [&str; 11] = [
        "CIS v1.2.0 3.4",
        "CIS v1.2.0 3.5",
        "CIS v1.2.0 3.6",
        "CIS v1.2.0 3.7",
        "CIS v1.2.0 3.8",
        "CIS v1.2.0 3.9",
        "CIS v1.2.0 3.10",
        "CIS v1.2.0 3.11",
        "CIS v1.2.0 3.12",
        "CIS v1.2.0 3.13",
        "CIS v1.2.0 3.14",
    ];
    const V14: [&str; 11] = [
        "CIS v1.4.0 4.4",
        "CIS v1.4.0 4.5",
        "CIS v1.4.0 4.6",
        "CIS v1.4.0 4.7",
        "CIS v1.4.0 4.8",
        "CIS v1.4.0 4.9",
        "CIS v1.4.0 4.10",
        "CIS v1.4.0 4.11",
        "CIS v1.4.0 4.12",
        "CIS v1.4.0 4.13",
        "CIS v1.4.0 4.14",
    ];
    let i = usize::from(n) - 4;
    [V12.get(i), V14.get(i)]
        .into_iter()
        .flatten()
        .copied()
        .collect()
}

/// Prowler's CIS compliance files that list item `n`, with its id in each.
fn prowler_files(n: u8) -> Vec<String> {
    ["3.0", "4.0", "5.0"]
        .iter()
        .map(|v| format!("cis_{v}_aws 4.{n}"))
        .chain(["6.0", "7.0"].iter().map(|v| format!("cis_{v}_aws 5.{n}")))
        .collect()
}

/// Who checks `control`, and whether its pattern passes each of them.
pub fn checked_by(control: &Control) -> CheckedBy {
    let Some(n) = item(control.topic) else {
        return CheckedBy {
            cis: None,
            security_hub: None,
            prowler: None,
        };
    };
    // A scanner companion (S.2, P.13, P.15) is not a CIS item: only the scanner it exists for.
    let companion = control.id.starts_with("S.") || control.id.starts_with("P.");
    let cis = if companion {
        None
    } else {
        cis_item(control.benchmark, n)
    };
    let security_hub = security_hub(n).map(|(id, standards)| SecurityHubCheck {
        control: id,
        standards,
        passes: security_hub_accepts(control.topic, control.pattern),
    });
    let prowler = prowler_checks()
        .into_iter()
        .find(|c| c.topic == control.topic)
        .map(|check| ProwlerCoverage {
            check: check.check,
            compliance: prowler_files(n),
            passes: missing(&check, control.pattern).is_empty(),
        });
    CheckedBy {
        cis,
        security_hub,
        prowler,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::controls;

    fn of(benchmark: Benchmark, id: &str) -> CheckedBy {
        let c = controls(benchmark)
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| checked_by(&c));
        c.unwrap_or_else(|| panic!("{benchmark} has no {id}"))
    }

    #[test]
    fn cis_levels_and_statuses_follow_the_published_tables() {
        let v5 = of(Benchmark::Cis50, "4.10").cis;
        assert_eq!(
            v5,
            Some(CisItem {
                version: "v5.0.0",
                id: "4.10".into(),
                level: Some(2),
                assessment: Some(Assessment::Manual),
            })
        );
        let v7 = of(Benchmark::Cis70, "5.3").cis.map(|c| (c.id, c.level));
        assert_eq!(v7, Some(("5.3".to_string(), Some(1))));
        // v3.0.0: every item Automated, 4.1 still Level 1.
        let v3 = of(Benchmark::Cis30, "4.1").cis;
        assert_eq!(
            v3.map(|c| (c.level, c.assessment)),
            Some((Some(1), Some(Assessment::Automated)))
        );
        assert_eq!(of(Benchmark::Cis14, "4.1").cis.and_then(|c| c.level), None);
    }

    #[test]
    fn security_hub_checks_its_own_strings_and_maps_only_to_cis_v1_2_and_v1_4() {
        let root = of(Benchmark::SecurityHub, "CloudWatch.1").security_hub;
        let root = root.expect("CloudWatch.1");
        assert!(root.passes);
        assert!(root.standards.contains(&"CIS v1.4.0 4.3"));
        let vpc = of(Benchmark::Cis50, "4.14")
            .security_hub
            .expect("CloudWatch.14");
        assert_eq!(vpc.control, "CloudWatch.14");
        assert_eq!(vpc.standards, vec!["CIS v1.2.0 3.14", "CIS v1.4.0 4.14"]);
        assert!(vpc.standards.iter().all(|s| !s.contains("v5.0.0")));
        // CIS v5's 4.1 adds terms to the v1.2 string: Security Hub's CloudWatch.2 fails it.
        let unauthorized = of(Benchmark::Cis50, "4.1")
            .security_hub
            .expect("CloudWatch.2");
        assert!(!unauthorized.passes);
        // Organizations changes have no Security Hub control.
        assert!(of(Benchmark::Cis50, "4.15").security_hub.is_none());
    }

    #[test]
    fn prowler_lists_each_item_in_every_cis_file_from_v3() {
        let sg = of(Benchmark::Cis60, "5.10").prowler.expect("prowler");
        assert_eq!(
            sg.check,
            "cloudwatch_log_metric_filter_security_group_changes"
        );
        assert!(sg.compliance.contains(&"cis_5.0_aws 4.10".to_string()));
        assert!(sg.compliance.contains(&"cis_7.0_aws 5.10".to_string()));
        assert!(sg.passes);
        // The CIS route-table string lacks the eventSource clause Prowler wants.
        assert!(
            !of(Benchmark::Cis50, "4.13")
                .prowler
                .expect("prowler")
                .passes
        );
        assert!(of(Benchmark::Extended, "E.1").prowler.is_none());
    }
}
