use std::fmt;

/// The monitoring benchmarks trailhead can deploy. Only the ids live here, so that the spec can be
/// validated without the alarm catalog; the `alarms` crate checks that its catalog agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Benchmark {
    Cis12,
    Cis14,
    Cis30,
    /// CIS v5.0.0: Security Hub's current CIS standard.
    Cis50,
    /// CIS v6.0.0 and v7.0.0: v5's monitoring items, renumbered 5.n.
    Cis60,
    Cis70,
    SecurityHub,
    /// Detections beyond CIS (`[alarms] extended = true`): deployed beside a benchmark, never
    /// chosen as one, so it is not in `ALL` and `parse` does not know it.
    Extended,
}

/// How many controls the extended set has (the `alarms` crate checks its catalog agrees).
pub const EXTENDED_CONTROLS: usize = 5;

impl Benchmark {
    pub const ALL: [Benchmark; 7] = [
        Benchmark::Cis12,
        Benchmark::Cis14,
        Benchmark::Cis30,
        Benchmark::Cis50,
        Benchmark::Cis60,
        Benchmark::Cis70,
        Benchmark::SecurityHub,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Benchmark::Cis12 => "cis-1.2",
            Benchmark::Cis14 => "cis-1.4",
            Benchmark::Cis30 => "cis-3.0",
            Benchmark::Cis50 => "cis-5.0",
            Benchmark::Cis60 => "cis-6.0",
            Benchmark::Cis70 => "cis-7.0",
            Benchmark::SecurityHub => "securityhub",
            Benchmark::Extended => "extended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.id() == s)
    }

    /// The control ids of the benchmark's monitoring section, in order.
    pub fn control_ids(self) -> Vec<String> {
        match self {
            Benchmark::Cis12 => (1..=14).map(|i| format!("3.{i}")).collect(),
            Benchmark::Cis14 | Benchmark::Cis30 | Benchmark::Cis50 => {
                (1..=15).map(|i| format!("4.{i}")).collect()
            }
            // v6 and v7 move Monitoring to section 5, item for item.
            Benchmark::Cis60 | Benchmark::Cis70 => (1..=15).map(|i| format!("5.{i}")).collect(),
            Benchmark::SecurityHub => (1..=14).map(|i| format!("CloudWatch.{i}")).collect(),
            Benchmark::Extended => (1..=EXTENDED_CONTROLS).map(|i| format!("E.{i}")).collect(),
        }
    }
}

/// A published alternative to one of a benchmark's patterns, deployed in its place when the spec
/// asks for it (`[alarms] variants`). Only the ids live here; the `alarms` catalog holds the
/// patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlarmVariant {
    /// CIS's alternative to the console sign-in without MFA item (v1.3.0 on, 4.2 / 5.2): only
    /// IAM users' successful sign-ins, which leaves out IAM Identity Center's federated ones.
    SsoConsoleLogin,
}

impl AlarmVariant {
    pub const ALL: [AlarmVariant; 1] = [AlarmVariant::SsoConsoleLogin];

    pub fn id(self) -> &'static str {
        match self {
            AlarmVariant::SsoConsoleLogin => "sso-console-login",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.id() == s)
    }

    /// Why `benchmark` cannot take this variant, if it cannot.
    pub fn refused_by(self, benchmark: Benchmark) -> Option<&'static str> {
        match (self, benchmark) {
            (AlarmVariant::SsoConsoleLogin, Benchmark::Cis12) => {
                Some("CIS v1.2.0 has no SSO variant: CIS published it with v1.3.0")
            }
            (AlarmVariant::SsoConsoleLogin, Benchmark::SecurityHub) => Some(
                "Security Hub's CloudWatch.3 already is the SSO variant: securityhub deploys it",
            ),
            (AlarmVariant::SsoConsoleLogin, Benchmark::Extended) => {
                Some("the extended set has no console sign-in alarm")
            }
            _ => None,
        }
    }
}

impl Benchmark {
    /// The benchmark new specs get: the newest CIS version Security Hub offers as a standard.
    pub const DEFAULT: Benchmark = Benchmark::Cis50;

    /// What moved between this benchmark and [`Benchmark::DEFAULT`], for one older than it.
    pub fn behind_default(self) -> Option<&'static str> {
        match self {
            Benchmark::Cis12 => Some(
                "CIS v1.3.0 moved monitoring to section 4 and added 4.15 (AWS Organizations changes); v2.0.0 binds 4.1's exclusions with `&&`; v5.0.0 adds ModifySecurityGroupRules to 4.10",
            ),
            Benchmark::Cis14 => Some(
                "v2.0.0 binds 4.1's exclusions with `&&`, where v1.4.0's ORed `!=` terms match nearly every event; v5.0.0 adds ModifySecurityGroupRules to 4.10",
            ),
            Benchmark::Cis30 => Some(
                "v5.0.0 adds ModifySecurityGroupRules to 4.10 (a security-group rule changed in place), names the items \"… is monitored\" and marks them Manual, and moves 4.1 to Level 2",
            ),
            _ => None,
        }
    }
}

impl fmt::Display for Benchmark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_counts_match_the_benchmarks() {
        for b in Benchmark::ALL {
            assert_eq!(Benchmark::parse(b.id()), Some(b));
        }
        assert_eq!(Benchmark::Cis12.control_ids().len(), 14);
        assert_eq!(Benchmark::Cis14.control_ids().len(), 15);
        assert_eq!(Benchmark::SecurityHub.control_ids()[6], "CloudWatch.7");
        assert_eq!(Benchmark::Cis50.control_ids()[9], "4.10");
        assert_eq!(Benchmark::Cis70.control_ids()[14], "5.15");
        assert_eq!(Benchmark::parse("cis-6.0"), Some(Benchmark::Cis60));
        assert_eq!(Benchmark::parse("cis-9"), None);
    }

    #[test]
    fn only_benchmarks_older_than_the_default_are_behind_it() {
        let behind: Vec<Benchmark> = Benchmark::ALL
            .into_iter()
            .filter(|b| b.behind_default().is_some())
            .collect();
        assert_eq!(
            behind,
            vec![Benchmark::Cis12, Benchmark::Cis14, Benchmark::Cis30]
        );
        assert_eq!(Benchmark::DEFAULT.id(), "cis-5.0");
    }

    #[test]
    fn the_sso_variant_needs_a_cis_version_that_published_it() {
        let v = AlarmVariant::SsoConsoleLogin;
        assert_eq!(AlarmVariant::parse(v.id()), Some(v));
        assert!(v.refused_by(Benchmark::Cis12).is_some());
        assert!(v.refused_by(Benchmark::SecurityHub).is_some());
        for b in [
            Benchmark::Cis14,
            Benchmark::Cis30,
            Benchmark::Cis50,
            Benchmark::Cis70,
        ] {
            assert_eq!(v.refused_by(b), None, "{b}");
        }
    }
}
