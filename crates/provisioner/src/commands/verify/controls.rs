//! What each control verify judges is called and what it requires, so that reports say more
//! than "4.1" and every verdict carries its requirement beside what was observed. Titles of the
//! Security Hub controls follow AWS's control reference; the CIS and CloudWatch alarm controls
//! take theirs from the alarm catalog.

use serde::Serialize;
use trailhead_alarms::catalog::Control;

/// A control as a report's legend shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlInfo {
    pub id: String,
    pub title: String,
    pub required: String,
}

/// (id, title, what passing requires) of every control verify judges besides the alarms.
const CONTROLS: &[(&str, &str, &str)] = &[
    (
        "CloudTrail.1",
        "CloudTrail enabled with a multi-Region trail recording read and write management events",
        "a logging multi-Region trail with management events of type All",
    ),
    (
        "CloudTrail.2",
        "CloudTrail encryption at rest enabled",
        "the trail encrypts log files with a KMS key",
    ),
    (
        "CloudTrail.4",
        "CloudTrail log file validation enabled",
        "LogFileValidationEnabled true",
    ),
    (
        "CloudTrail.5",
        "CloudTrail trails integrated with CloudWatch Logs",
        "a log group and a delivery role on the trail, delivering",
    ),
    (
        "CloudTrail.6",
        "The S3 bucket that stores CloudTrail logs is not publicly accessible",
        "no public grant or policy statement on the archive bucket",
    ),
    (
        "CloudTrail.7",
        "S3 bucket access logging enabled on the CloudTrail bucket",
        "server access logging on the archive bucket",
    ),
    (
        "CloudTrail.Delivery",
        "Log files reach the archive and hold the account's records (trailhead)",
        "IsLogging true, no delivery error, a log file of the account read back",
    ),
    (
        "CloudWatch.15",
        "CloudWatch alarms have an action for the ALARM state (Security Hub; trailhead's alarms)",
        "every trailhead alarm has an alarm action",
    ),
    (
        "CloudWatch.16",
        "CloudWatch log groups are retained at least a year (Security Hub; trailhead's log group)",
        "the trail's log group keeps events 365 days or more, or for ever",
    ),
    (
        "CloudWatch.17",
        "CloudWatch alarm actions are activated (Security Hub; trailhead's alarms)",
        "ActionsEnabled true on every trailhead alarm",
    ),
    (
        "Drift",
        "The live state matches the spec (trailhead)",
        "no change pending in `trailhead plan` for the account",
    ),
    (
        "LogGroup.KMS",
        "The CloudTrail log group is encrypted with a KMS key (trailhead)",
        "a KMS key on the log group",
    ),
    (
        "S3.5",
        "S3 buckets require requests to use SSL",
        "a Deny of aws:SecureTransport false in the bucket policy",
    ),
    (
        "S3.8",
        "S3 buckets block public access",
        "all four Block Public Access settings on",
    ),
    (
        "S3.13",
        "S3 buckets have lifecycle configurations",
        "an enabled lifecycle rule",
    ),
    (
        "S3.14",
        "S3 buckets have versioning enabled",
        "versioning Enabled",
    ),
    (
        "S3.15",
        "S3 buckets have Object Lock enabled",
        "Object Lock enabled",
    ),
    (
        "S3.17",
        "S3 buckets are encrypted at rest with KMS keys",
        "default encryption aws:kms",
    ),
    (
        "S3.20",
        "S3 buckets have MFA delete enabled",
        "MFA Delete Enabled (or Object Lock in its place)",
    ),
    (
        "S3.22",
        "S3 buckets log object-level write events",
        "a trail selecting S3 data events of type WriteOnly or All",
    ),
    (
        "S3.23",
        "S3 buckets log object-level read events",
        "a trail selecting S3 data events of type ReadOnly or All",
    ),
    (
        "KMS.4",
        "KMS key rotation enabled",
        "automatic rotation on the archive key",
    ),
];

/// The title and requirement of `id`: an alarm control of the selected catalog, else one of
/// the table above, else the id itself (a new control still shows, untitled).
pub fn describe(id: &str, alarms: &[Control]) -> ControlInfo {
    if let Some(c) = alarms.iter().find(|c| c.id == id) {
        return ControlInfo {
            id: id.into(),
            title: c.title.into(),
            required: format!(
                "a metric filter with the {} pattern, an alarm on {} with an action to a subscribed topic",
                c.benchmark.id(),
                c.metric_name
            ),
        };
    }
    match CONTROLS.iter().find(|(known, _, _)| *known == id) {
        Some((_, title, required)) => ControlInfo {
            id: id.into(),
            title: (*title).into(),
            required: (*required).into(),
        },
        None => ControlInfo {
            id: id.into(),
            title: id.into(),
            required: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use trailhead_model::Benchmark;

    use super::*;

    #[test]
    fn alarm_controls_take_their_catalog_title_and_others_the_table() {
        let alarms = trailhead_alarms::deployed::selected(Benchmark::Cis30, &[]);
        let first = alarms.first().expect("a catalog");
        let info = describe(first.id, &alarms);
        assert_eq!(info.title, first.title);
        assert!(info.required.contains(first.metric_name));
        let s3 = describe("S3.20", &alarms);
        assert!(s3.title.contains("MFA delete"), "{}", s3.title);
        assert_eq!(describe("X.9", &alarms).title, "X.9");
    }
}
