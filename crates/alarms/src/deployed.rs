//! The controls a spec deploys: its benchmark's (from the catalog), less what it excludes,
//! with the scanners' companions of the topics it keeps, and the extended set when asked.

use trailhead_model::Benchmark;

use crate::catalog::{Control, Topic, controls, variant};
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

/// What a spec deploys: `selected` with its variants in place of the patterns they replace (same
/// names, so turning one on or off updates the filter in place), and the extended set when
/// `[alarms] extended = true`.
pub fn for_spec(alarms: &trailhead_model::Alarms) -> Vec<Control> {
    let mut out = selected(alarms.benchmark, &alarms.exclude);
    let own = alarms.benchmark.control_ids();
    for v in alarms.variants.iter().copied().map(variant) {
        for c in out
            .iter_mut()
            .filter(|c| c.topic == v.topic && own.iter().any(|id| id == c.id))
        {
            c.pattern = v.pattern;
            c.warning = Some(v.note);
        }
    }
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

    #[test]
    fn the_sso_variant_replaces_the_sign_in_pattern_under_the_same_name() {
        let mut alarms = trailhead_model::Alarms {
            benchmark: Benchmark::Cis50,
            exclude: Vec::new(),
            sns_topic_name: "t".into(),
            emails: Vec::new(),
            extended: false,
            variants: Vec::new(),
        };
        let plain = for_spec(&alarms);
        alarms.variants = vec![trailhead_model::AlarmVariant::SsoConsoleLogin];
        let sso = for_spec(&alarms);
        assert_eq!(plain.len(), sso.len());
        let changed: Vec<(&Control, &Control)> = plain
            .iter()
            .zip(&sso)
            .filter(|(a, b)| a.pattern != b.pattern)
            .collect();
        assert_eq!(changed.len(), 1);
        let (before, after) = changed[0];
        assert_eq!(before.id, "4.2");
        assert_eq!(before.resource_name(), after.resource_name());
        assert!(after.pattern.contains(r#"$.userIdentity.type = "IAMUser""#));
    }
}
