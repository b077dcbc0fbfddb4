//! Every catalog entry counts its positive sample record and ignores its negative one.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_alarms::catalog::all;
use trailhead_alarms::pattern::{Event, parse};
use trailhead_alarms::samples::samples;

#[test]
fn every_control_matches_its_positive_and_not_its_negative_record() {
    let mut checked = 0;
    for control in all() {
        let pattern = parse(control.pattern).expect("catalog pattern parses");
        let (positive, negative) = samples(control.topic);
        let pos = serde_json::to_string(&positive).expect("json");
        let neg = serde_json::to_string(&negative).expect("json");
        assert!(
            pattern.matches(&Event::new(&pos)),
            "{} {} misses its positive record",
            control.benchmark,
            control.id
        );
        assert!(
            !pattern.matches(&Event::new(&neg)),
            "{} {} matches its negative record",
            control.benchmark,
            control.id
        );
        checked += 1;
    }
    // CIS 1.2, 1.4, 3.0, 5.0, 6.0 and 7.0, Security Hub, and the extended set.
    assert_eq!(checked, 14 + 15 + 15 + 15 + 15 + 15 + 14 + 5);
}

#[test]
fn the_v1_4_unauthorized_pattern_matches_nearly_everything() {
    let v14 = trailhead_alarms::catalog::controls(trailhead_model::Benchmark::Cis14);
    let catch_all = parse(v14[0].pattern).expect("parses");
    let v30 = trailhead_alarms::catalog::controls(trailhead_model::Benchmark::Cis30);
    let scoped = parse(v30[0].pattern).expect("parses");
    let ordinary =
        trailhead_alarms::samples::record("s3.amazonaws.com", "ListBuckets", serde_json::json!({}));
    let raw = serde_json::to_string(&ordinary).expect("json");
    assert!(
        catch_all.matches(&Event::new(&raw)),
        "v1.4 4.1 should fire on an ordinary call"
    );
    assert!(!scoped.matches(&Event::new(&raw)), "v3.0 4.1 should not");
}

#[test]
fn a_missing_field_never_satisfies_not_equals() {
    // CIS 4.3 relies on this: an event without eventType is not counted as root usage.
    let root =
        parse(trailhead_alarms::catalog::controls(trailhead_model::Benchmark::Cis30)[2].pattern)
            .expect("parses");
    let event = r#"{"userIdentity":{"type":"Root"}}"#;
    assert!(!root.matches(&Event::new(event)));
}
