//! The controls a spec deploys: its benchmark's (from the catalog), less what it excludes,
//! with the scanners' companions of the topics it keeps, and the extended set when asked.

use trailhead_model::Benchmark;

use crate::catalog::{Control, Topic, controls};
use crate::scanners::companions;

/// The controls a spec deploys: its benchmark, less what it excludes, and the scanner
/// companions of the topics it keeps (see `scanners`), so that Prowler passes too.
pub fn selected(benchmark: Benchmark, exclude: &[String]) -> Vec<Control> {
    let kept: Vec<Control> = controls(benchmark)
        .into_iter()
        .filter(|c| !exclude.iter().any(|e| e == c.id))
        .collect();
    let wanted = |topic: Topic| {
        kept.iter().any(|c| c.topic == topic)
            || !controls(benchmark).iter().any(|c| c.topic == topic)
    };
    let companions: Vec<Control> = companions(benchmark)
        .into_iter()
        .filter(|c| wanted(c.topic))
        .collect();
    kept.into_iter().chain(companions).collect()
}

/// What a spec deploys: `selected`, and the extended set when `[alarms] extended = true`.
pub fn for_spec(alarms: &trailhead_model::Alarms) -> Vec<Control> {
    let mut out = selected(alarms.benchmark, &alarms.exclude);
    if alarms.extended {
        out.extend(controls(Benchmark::Extended));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_remove_controls() {
        let picked = selected(Benchmark::Cis30, &["4.15".to_string(), "4.1".to_string()]);
        // 13 of CIS 3.0 and the route-table companion: the companions of excluded topics go too.
        assert_eq!(picked.len(), 14);
        assert!(
            picked
                .iter()
                .all(|c| !["4.15", "4.1", "S.2", "P.15"].contains(&c.id))
        );
        assert!(picked.iter().any(|c| c.id == "P.13"));
    }
}
