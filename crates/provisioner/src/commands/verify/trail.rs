//! The trail's controls: multi-region, management events, validation, encryption, CloudWatch
//! Logs, delivery, the log group's key and the data events the spec asks for.

use trailhead_model::{DataEvents, ReadWriteType};

use super::archive::or_none;
use super::evidence::{check, delivery_evidence, result};
use super::{ControlResult, Verdict};
use crate::core::error::CallSite;
use crate::core::session::AccountSession;
use crate::reading::delivered::Delivered;
use crate::resources::selectors;
use crate::resources::trail::LiveTrail;

/// The controls judged on the account's trail.
pub(super) const TRAIL_CONTROLS: [&str; 5] = [
    "CloudTrail.1",
    "CloudTrail.2",
    "CloudTrail.4",
    "CloudTrail.5",
    "CloudTrail.Delivery",
];

/// `delivered`: the newest log file of this account in the archive, read back (the same check as
/// the wave gate). The endpoint's own LatestDeliveryTime is not trusted for this.
pub(super) fn trail_controls(
    trail: &LiveTrail,
    name: &str,
    delivered: &Result<Option<Delivered>, String>,
) -> Vec<ControlResult> {
    if !trail.exists {
        return TRAIL_CONTROLS
            .iter()
            .map(|id| {
                result(
                    id,
                    Verdict::Fail,
                    format!("no trail named {name} in this account"),
                )
            })
            .collect();
    }
    // Excluding KMS (or any source) fails Security Hub CloudWatch.7 / CloudTrail.1.
    let selectors_ok = trail
        .management_events()
        .is_some_and(|(kind, excluded)| kind == "All" && excluded.is_empty());
    let delivery = delivery_control(trail, delivered);
    vec![
        check(
            "CloudTrail.1",
            trail.multi_region && trail.is_logging && selectors_ok,
            format!(
                "multi-region {}, logging {}, selectors: {}",
                trail.multi_region,
                trail.is_logging,
                trail.selectors_text()
            ),
            "a multi-region trail, logging, read and write management events, no exclusions",
        ),
        check(
            "CloudTrail.2",
            trail.kms_key.is_some(),
            format!("KmsKeyId {}", or_none(&trail.kms_key)),
            "a KMS key",
        ),
        check(
            "CloudTrail.4",
            trail.validation,
            format!("LogFileValidationEnabled {}", trail.validation),
            "true",
        ),
        check(
            "CloudTrail.5",
            trail.log_group_arn.is_some(),
            format!(
                "CloudWatchLogsLogGroupArn {}",
                or_none(&trail.log_group_arn)
            ),
            "a log group",
        ),
        delivery,
    ]
}

/// (trailhead) CloudTrail.Delivery: the latest delivery error CloudTrail reports (archive, log
/// group, digest), else whether the trail logs, else the delivered files.
fn delivery_control(
    trail: &LiveTrail,
    delivered: &Result<Option<Delivered>, String>,
) -> ControlResult {
    match (
        &trail.latest_delivery_error,
        &trail.latest_cwl_delivery_error,
        &trail.latest_digest_delivery_error,
    ) {
        (Some(e), _, _) => result(
            "CloudTrail.Delivery",
            Verdict::Fail,
            format!("LatestDeliveryError: {e}"),
        ),
        (_, Some(e), _) => result(
            "CloudTrail.Delivery",
            Verdict::Fail,
            format!("LatestCloudWatchLogsDeliveryError: {e}"),
        ),
        (_, _, Some(e)) => result(
            "CloudTrail.Delivery",
            Verdict::Fail,
            format!("LatestDigestDeliveryError: {e}"),
        ),
        (None, None, None) if !trail.is_logging => {
            result("CloudTrail.Delivery", Verdict::Fail, "IsLogging: false")
        }
        (None, None, None) => delivery_evidence(delivered),
    }
}

/// (trailhead) The trail's log group is encrypted under the account's key of the spec's alias.
pub(super) async fn log_group_key_control(
    group: &str,
    alias: &str,
    session: &AccountSession,
    site: &CallSite,
) -> ControlResult {
    const ID: &str = "LogGroup.KMS";
    let found = session
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await;
    let live = match found {
        Ok(out) => out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(group))
            .map(|g| g.kms_key_id().map(str::to_string)),
        Err(e) => {
            let e = site.error("DescribeLogGroups", e);
            return result(ID, Verdict::Unknown, e.to_string());
        }
    };
    let Some(live) = live else {
        return result(
            ID,
            Verdict::Fail,
            format!("the log group {group} does not exist"),
        );
    };
    let wanted = match session.kms().describe_key().key_id(alias).send().await {
        Ok(out) => out.key_metadata().and_then(|m| m.arn()).map(str::to_string),
        Err(e) => {
            let e = site.error("DescribeKey", e);
            if e.code != "NotFoundException" {
                return result(ID, Verdict::Unknown, e.to_string());
            }
            None
        }
    };
    check(
        ID,
        wanted.is_some() && live == wanted,
        format!("kmsKeyId {}", or_none(&live)),
        &format!(
            "the key behind {alias} ({})",
            wanted.as_deref().unwrap_or("no such key in this account")
        ),
    )
}

/// Security Hub S3.22 (object-level write events; CIS v1.4 3.10, v3.0 3.8) and S3.23 (read;
/// CIS v1.4 3.11, v3.0 3.9), judged where the spec asks for that kind of S3 data event.
pub(super) fn data_event_control_ids(asked: &DataEvents) -> Vec<&'static str> {
    let (write, read) = match asked.s3 {
        Some(ReadWriteType::All) => (true, true),
        Some(ReadWriteType::WriteOnly) => (true, false),
        Some(ReadWriteType::ReadOnly) => (false, true),
        None => (false, false),
    };
    [("S3.22", write), ("S3.23", read)]
        .into_iter()
        .filter_map(|(id, asked)| asked.then_some(id))
        .collect()
}

pub(super) fn data_event_controls(trail: &LiveTrail, asked: &DataEvents) -> Vec<ControlResult> {
    data_event_control_ids(asked)
        .into_iter()
        .map(|id| {
            let (kind, words) = if id == "S3.22" {
                (ReadWriteType::WriteOnly, "write")
            } else {
                (ReadWriteType::ReadOnly, "read")
            };
            check(
                id,
                trail.multi_region
                    && trail.is_logging
                    && selectors::s3_objects_everywhere(&trail.advanced, kind),
                format!(
                    "multi-region {}, logging {}, selectors: {}",
                    trail.multi_region,
                    trail.is_logging,
                    trail.selectors_text()
                ),
                &format!(
                    "a multi-region trail, logging, recording S3 object-level {words} events of every bucket (the log archive's own buckets excepted)"
                ),
            )
        })
        .collect()
}
