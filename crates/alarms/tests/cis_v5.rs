//! CIS v5.0.0, v6.0.0 and v7.0.0: one set of monitoring patterns under each version's ids, equal
//! to the published strings once the double quotes (lost in their transcription, restored here
//! from v3.0.0) are removed again; v5's 4.10 counts ModifySecurityGroupRules.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_alarms::catalog::controls;
use trailhead_alarms::pattern::{Event, parse};
use trailhead_model::Benchmark;

/// Item number and pattern, as published (see the file's header for the source).
fn published() -> Vec<(usize, &'static str)> {
    include_str!("data/cis_v5_monitoring_patterns.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (n, pattern) = l.split_once('\t').expect("n<TAB>pattern");
            (n.parse().expect("item number"), pattern)
        })
        .collect()
}

#[test]
fn v5_to_v7_strings_are_the_published_ones_with_their_quotes_restored() {
    let published = published();
    assert_eq!(published.len(), 15);
    for (benchmark, section) in [
        (Benchmark::Cis50, "4"),
        (Benchmark::Cis60, "5"),
        (Benchmark::Cis70, "5"),
    ] {
        let catalog = controls(benchmark);
        assert_eq!(catalog.len(), 15, "{benchmark}");
        for (n, pattern) in &published {
            let c = &catalog[n - 1];
            assert_eq!(c.id, format!("{section}.{n}"), "{benchmark}");
            assert_eq!(c.pattern.replace('"', ""), *pattern, "{benchmark} {}", c.id);
            parse(c.pattern).unwrap_or_else(|e| panic!("{benchmark} {}: {e}", c.id));
        }
    }
}

#[test]
fn modify_security_group_rules_is_a_security_group_change_from_v5_on() {
    let event = trailhead_alarms::samples::record(
        "ec2.amazonaws.com",
        "ModifySecurityGroupRules",
        serde_json::json!({}),
    );
    let raw = serde_json::to_string(&event).expect("json");
    let v5 = parse(controls(Benchmark::Cis50)[9].pattern).expect("parses");
    let v3 = parse(controls(Benchmark::Cis30)[9].pattern).expect("parses");
    assert!(v5.matches(&Event::new(&raw)));
    assert!(!v3.matches(&Event::new(&raw)), "v3.0.0 does not list it");
}
