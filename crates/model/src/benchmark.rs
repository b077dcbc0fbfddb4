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
}
