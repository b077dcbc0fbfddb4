//! The scanners' CloudTrail checks, judged on the trail trailhead made in the account: Prowler's
//! `cloudtrail_*` checks of the CIS Logging items and Security Hub's CloudTrail.1, .2, .4 and .5.
//! Each rule is the scanner's own, from its source: Prowler's checks in
//! `prowler/providers/aws/services/cloudtrail/<check>/<check>.py`, Security Hub's in
//! `shared/reference/cis_alarms.md` §3. Other trails of the account are not judged: a scanner
//! may pass an account on one of them, but trailhead vouches only for its own.

use jiff::{SignedDuration, Timestamp};

use crate::commands::verify::Verdict;
use crate::commands::verify::controls::ControlInfo;
use crate::resources::selectors::{MANAGEMENT_SELECTOR, prowler_management_events};
use crate::resources::trail::LiveTrail;

/// One scanner check of the trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TrailCheck {
    ProwlerManagementEvents,
    ProwlerMultiRegion,
    ProwlerLogFileValidation,
    ProwlerKmsEncryption,
    ProwlerCloudWatchLogging,
    /// Security Hub CloudTrail.1, .2, .4, .5.
    SecurityHub(u8),
}

/// Prowler's window: a trail whose last CloudWatch Logs delivery is older fails.
const PROWLER_CWL_WINDOW: SignedDuration = SignedDuration::from_hours(24);

pub(super) const PROWLER: [TrailCheck; 5] = [
    TrailCheck::ProwlerManagementEvents,
    TrailCheck::ProwlerMultiRegion,
    TrailCheck::ProwlerLogFileValidation,
    TrailCheck::ProwlerKmsEncryption,
    TrailCheck::ProwlerCloudWatchLogging,
];

pub(super) const SECURITY_HUB: [TrailCheck; 4] = [
    TrailCheck::SecurityHub(1),
    TrailCheck::SecurityHub(2),
    TrailCheck::SecurityHub(4),
    TrailCheck::SecurityHub(5),
];

impl TrailCheck {
    pub(super) fn info(self) -> ControlInfo {
        let (id, title, required): (&str, &str, String) = match self {
            TrailCheck::ProwlerManagementEvents => (
                "cloudtrail_multi_region_enabled_logging_management_events",
                "CloudTrail logs read and write management events in all regions",
                format!(
                    "a multi-region trail, logging, with a basic selector of All management events or an advanced selector named exactly `{MANAGEMENT_SELECTOR}` without a readOnly condition"
                ),
            ),
            TrailCheck::ProwlerMultiRegion => (
                "cloudtrail_multi_region_enabled",
                "CloudTrail is enabled in all regions",
                "a trail that is logging, multi-region so that every region has one".into(),
            ),
            TrailCheck::ProwlerLogFileValidation => (
                "cloudtrail_log_file_validation_enabled",
                "CloudTrail log file validation is enabled",
                "the trail's LogFileValidationEnabled".into(),
            ),
            TrailCheck::ProwlerKmsEncryption => (
                "cloudtrail_kms_encryption_enabled",
                "CloudTrail logs are encrypted with a KMS key",
                "the trail's KmsKeyId".into(),
            ),
            TrailCheck::ProwlerCloudWatchLogging => (
                "cloudtrail_cloudwatch_logging_enabled",
                "CloudTrail delivers to CloudWatch Logs",
                "a CloudWatch Logs delivery in the last 24 hours (GetTrailStatus LatestCloudWatchLogsDeliveryTime)".into(),
            ),
            TrailCheck::SecurityHub(n) => security_hub_info(n),
        };
        ControlInfo {
            id: id.to_string(),
            title: title.to_string(),
            required,
        }
    }

    /// The verdict on trailhead's trail `name`, at `now`.
    pub(super) fn judge(self, name: &str, trail: &LiveTrail, now: Timestamp) -> (Verdict, String) {
        if !trail.exists {
            return (Verdict::Fail, format!("no trail named {name}"));
        }
        let verdict = |ok: bool, yes: String, no: String| match ok {
            true => (Verdict::Pass, yes),
            false => (Verdict::Fail, no),
        };
        match self {
            TrailCheck::ProwlerManagementEvents => management_events(name, trail),
            TrailCheck::ProwlerMultiRegion | TrailCheck::SecurityHub(1) if !trail.is_logging => {
                (Verdict::Fail, format!("trail {name} is not logging"))
            }
            TrailCheck::ProwlerMultiRegion => verdict(
                trail.multi_region,
                format!("trail {name} is multi-region and logging"),
                format!("trail {name} is not multi-region: only its home region passes"),
            ),
            TrailCheck::SecurityHub(1) => cloudtrail_1(name, trail),
            TrailCheck::ProwlerLogFileValidation | TrailCheck::SecurityHub(4) => verdict(
                trail.validation,
                format!("trail {name} validates its log files"),
                format!("trail {name} has log file validation disabled"),
            ),
            TrailCheck::ProwlerKmsEncryption | TrailCheck::SecurityHub(2) => match &trail.kms_key {
                Some(key) => (Verdict::Pass, format!("trail {name} encrypts with {key}")),
                None => (Verdict::Fail, format!("trail {name} has no KMS key")),
            },
            TrailCheck::ProwlerCloudWatchLogging => cloudwatch_logging(name, trail, now),
            TrailCheck::SecurityHub(_) => match &trail.log_group_arn {
                Some(arn) => (Verdict::Pass, format!("trail {name} delivers to {arn}")),
                None => (
                    Verdict::Fail,
                    format!("trail {name} has no CloudWatchLogsLogGroupArn"),
                ),
            },
        }
    }
}

fn security_hub_info(n: u8) -> (&'static str, &'static str, String) {
    match n {
        1 => (
            "CloudTrail.1",
            "A multi-region trail records read and write management events",
            "a multi-region trail, logging, recording All management events with no excluded event source".into(),
        ),
        2 => (
            "CloudTrail.2",
            "CloudTrail has encryption at rest enabled",
            "the trail's KmsKeyId".into(),
        ),
        4 => (
            "CloudTrail.4",
            "CloudTrail log file validation is enabled",
            "the trail's LogFileValidationEnabled".into(),
        ),
        _ => (
            "CloudTrail.5",
            "CloudTrail trails are integrated with CloudWatch Logs",
            "the trail's CloudWatchLogsLogGroupArn".into(),
        ),
    }
}

/// Prowler's management-events check: the console's selector name, or a basic selector.
fn management_events(name: &str, trail: &LiveTrail) -> (Verdict, String) {
    let selectors = trail.selectors_text();
    if !trail.is_logging {
        (Verdict::Fail, format!("trail {name} is not logging"))
    } else if !trail.multi_region {
        let why = format!("trail {name} is not multi-region: only its home region passes");
        (Verdict::Fail, why)
    } else if prowler_management_events(&trail.selectors, &trail.advanced) {
        let why = format!("trail {name} is multi-region and logging; selectors: {selectors}");
        (Verdict::Pass, why)
    } else if trail.advanced.is_empty() {
        let why =
            format!("no basic selector of trail {name} records All management events: {selectors}");
        (Verdict::Fail, why)
    } else {
        let why = format!(
            "no advanced selector of trail {name} is named exactly `{MANAGEMENT_SELECTOR}` without a readOnly condition (the only name Prowler reads): {selectors}"
        );
        (Verdict::Fail, why)
    }
}

/// Security Hub CloudTrail.1 (Config rule multi-region-cloudtrail-enabled, readWriteType ALL,
/// includeManagementEvents true; no excluded management event source).
fn cloudtrail_1(name: &str, trail: &LiveTrail) -> (Verdict, String) {
    if !trail.multi_region {
        return (Verdict::Fail, format!("trail {name} is not multi-region"));
    }
    match trail.management_events() {
        Some((kind, excluded)) if kind == "All" && excluded.is_empty() => (
            Verdict::Pass,
            format!("trail {name} is multi-region and records All management events"),
        ),
        Some((kind, excluded)) if kind == "All" => (
            Verdict::Fail,
            format!(
                "trail {name} excludes management events from {}",
                excluded.join(", ")
            ),
        ),
        Some((kind, _)) => (
            Verdict::Fail,
            format!("trail {name} records only {kind} management events"),
        ),
        None => (
            Verdict::Fail,
            format!("trail {name} records no management events"),
        ),
    }
}

/// Prowler's CloudWatch Logs check: a delivery within the last 24 hours.
fn cloudwatch_logging(name: &str, trail: &LiveTrail, now: Timestamp) -> (Verdict, String) {
    match (&trail.log_group_arn, trail.cwl_delivered_at) {
        (None, _) => (
            Verdict::Fail,
            format!("trail {name} is not configured to deliver to CloudWatch Logs"),
        ),
        (Some(arn), None) => (
            Verdict::Fail,
            format!(
                "trail {name} has not delivered to {arn} yet{}",
                cwl_error(trail)
            ),
        ),
        (Some(arn), Some(at)) if now.duration_since(at) > PROWLER_CWL_WINDOW => (
            Verdict::Fail,
            format!(
                "trail {name} last delivered to {arn} at {at}, more than 24 hours ago{}",
                cwl_error(trail)
            ),
        ),
        (Some(arn), Some(at)) => (
            Verdict::Pass,
            format!("trail {name} last delivered to {arn} at {at}"),
        ),
    }
}

fn cwl_error(trail: &LiveTrail) -> String {
    trail
        .latest_cwl_delivery_error
        .as_ref()
        .map(|e| format!(" (last error: {e})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::selectors::Selector;

    fn trail(selectors: Vec<(String, bool, Vec<String>)>) -> LiveTrail {
        LiveTrail {
            exists: true,
            multi_region: true,
            is_logging: true,
            validation: true,
            kms_key: Some("arn:aws:kms:eu-west-1:111111111111:key/k".into()),
            log_group_arn: Some("arn:aws:logs:eu-west-1:111111111111:log-group:g:*".into()),
            selectors,
            ..LiveTrail::default()
        }
    }

    fn all() -> LiveTrail {
        trail(vec![("All".into(), true, Vec::new())])
    }

    fn status(check: TrailCheck, t: &LiveTrail) -> Verdict {
        check.judge("t", t, Timestamp::UNIX_EPOCH).0
    }

    #[test]
    fn prowler_passes_management_events_only_under_the_consoles_selector_name() {
        let check = TrailCheck::ProwlerManagementEvents;
        assert_eq!(status(check, &all()), Verdict::Pass);
        let live = |name: &str| {
            let mut t = trail(Vec::new());
            let mut s = Selector {
                name: name.into(),
                ..Default::default()
            };
            s.fields
                .entry("eventCategory".into())
                .or_default()
                .insert("Equals".into(), ["Management".to_string()].into());
            t.advanced = vec![s];
            t
        };
        assert_eq!(status(check, &live(MANAGEMENT_SELECTOR)), Verdict::Pass);
        let (verdict, why) = check.judge("t", &live("Management events"), Timestamp::UNIX_EPOCH);
        assert_eq!(verdict, Verdict::Fail);
        assert!(why.contains("named exactly"), "{why}");
        let mut stopped = all();
        stopped.is_logging = false;
        assert_eq!(status(check, &stopped), Verdict::Fail);
        let mut one_region = all();
        one_region.multi_region = false;
        assert_eq!(status(check, &one_region), Verdict::Fail);
    }

    #[test]
    fn each_setting_fails_its_own_checks_only() {
        let mut no_validation = all();
        no_validation.validation = false;
        assert_eq!(
            status(TrailCheck::ProwlerLogFileValidation, &no_validation),
            Verdict::Fail
        );
        assert_eq!(
            status(TrailCheck::SecurityHub(4), &no_validation),
            Verdict::Fail
        );
        assert_eq!(
            status(TrailCheck::ProwlerKmsEncryption, &no_validation),
            Verdict::Pass
        );
        let mut no_key = all();
        no_key.kms_key = None;
        assert_eq!(status(TrailCheck::SecurityHub(2), &no_key), Verdict::Fail);
        assert_eq!(
            status(TrailCheck::ProwlerMultiRegion, &no_key),
            Verdict::Pass
        );
        let mut no_group = all();
        no_group.log_group_arn = None;
        assert_eq!(status(TrailCheck::SecurityHub(5), &no_group), Verdict::Fail);
        assert_eq!(
            status(TrailCheck::ProwlerCloudWatchLogging, &no_group),
            Verdict::Fail
        );
        let mut one_region = all();
        one_region.multi_region = false;
        assert_eq!(
            status(TrailCheck::ProwlerMultiRegion, &one_region),
            Verdict::Fail
        );
        assert_eq!(
            status(TrailCheck::SecurityHub(1), &one_region),
            Verdict::Fail
        );
        assert_eq!(
            status(TrailCheck::SecurityHub(1), &LiveTrail::default()),
            Verdict::Fail
        );
    }

    #[test]
    fn security_hub_cloudtrail_1_wants_every_management_event() {
        assert_eq!(status(TrailCheck::SecurityHub(1), &all()), Verdict::Pass);
        let write_only = trail(vec![("WriteOnly".into(), true, Vec::new())]);
        assert_eq!(
            status(TrailCheck::SecurityHub(1), &write_only),
            Verdict::Fail
        );
        let excluding = trail(vec![("All".into(), true, vec!["kms.amazonaws.com".into()])]);
        let (verdict, why) =
            TrailCheck::SecurityHub(1).judge("t", &excluding, Timestamp::UNIX_EPOCH);
        assert_eq!(verdict, Verdict::Fail);
        assert!(why.contains("kms.amazonaws.com"), "{why}");
    }

    #[test]
    fn prowler_wants_a_cloudwatch_delivery_within_a_day() {
        let check = TrailCheck::ProwlerCloudWatchLogging;
        let now: Timestamp = "2026-12-08T12:00:00Z".parse().expect("a timestamp");
        let mut t = all();
        assert_eq!(
            check.judge("t", &t, now).0,
            Verdict::Fail,
            "never delivered"
        );
        t.cwl_delivered_at = Some(now - SignedDuration::from_hours(23));
        assert_eq!(check.judge("t", &t, now).0, Verdict::Pass);
        t.cwl_delivered_at = Some(now - SignedDuration::from_hours(25));
        t.latest_cwl_delivery_error = Some("AccessDenied".into());
        let (verdict, why) = check.judge("t", &t, now);
        assert_eq!(verdict, Verdict::Fail);
        assert!(
            why.contains("more than 24 hours ago (last error: AccessDenied)"),
            "{why}"
        );
    }
}
