//! How a verdict is written: a result with its evidence, a check of seen against required.

use super::{ControlResult, Verdict};
use crate::reading::delivered::Delivered;

pub(super) fn result(id: &str, status: Verdict, evidence: impl Into<String>) -> ControlResult {
    let evidence = evidence.into();
    ControlResult {
        id: id.to_string(),
        status,
        observed: evidence.clone(),
        evidence,
        required: String::new(),
    }
}

pub(super) fn check(id: &str, ok: bool, seen: impl Into<String>, required: &str) -> ControlResult {
    let seen = seen.into();
    let (status, evidence) = if ok {
        (Verdict::Pass, format!("{seen} (required: {required})"))
    } else {
        (Verdict::Fail, format!("seen: {seen}; required: {required}"))
    };
    ControlResult {
        id: id.to_string(),
        status,
        evidence,
        observed: seen,
        required: required.to_string(),
    }
}

pub(super) fn delivery_evidence(delivered: &Result<Option<Delivered>, String>) -> ControlResult {
    let id = "CloudTrail.Delivery";
    match delivered {
        Ok(Some(d)) if d.own_records > 0 => result(
            id,
            Verdict::Pass,
            format!(
                "IsLogging: true; no delivery errors; {} read back: {} of its {} records are this account's",
                d.key, d.own_records, d.records
            ),
        ),
        Ok(Some(d)) => result(
            id,
            Verdict::Fail,
            format!(
                "the newest log file {} holds no record of this account ({} records)",
                d.key, d.records
            ),
        ),
        Ok(None) => result(
            id,
            Verdict::Unknown,
            "IsLogging: true, no delivery errors, but no log file of this account in the archive today or yesterday (on AWS the first arrives 5 to 15 minutes after StartLogging)",
        ),
        Err(e) => result(
            id,
            Verdict::Unknown,
            format!("reading the archive failed: {e}"),
        ),
    }
}
