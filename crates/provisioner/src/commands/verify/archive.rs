//! The archive's controls, read from the log-archive account: the bucket's public access,
//! TLS, encryption, logging, versioning and retention, and the access-log bucket.

use super::evidence::{check, result};
use super::{ControlResult, Verdict};
use crate::core::RunCtx;
use crate::resources::bucket::{BucketState, LIFECYCLE_RULE_ID};

/// The statements of a policy document, whether `Statement` is a list or a single object.
pub(super) fn statements(policy: &str) -> Vec<serde_json::Value> {
    match serde_json::from_str::<serde_json::Value>(policy) {
        Ok(v) => match &v["Statement"] {
            serde_json::Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        },
        Err(_) => Vec::new(),
    }
}

/// Whether a bucket policy grants anything to everyone without a condition.
pub(super) fn public_grant(policy: &str) -> bool {
    statements(policy).iter().any(|s| {
        let principal_any = s["Principal"] == "*" || s["Principal"]["AWS"] == "*";
        s["Effect"] == "Allow" && principal_any && s["Condition"].is_null()
    })
}

pub(super) fn tls_only(policy: &str) -> bool {
    statements(policy).iter().any(|s| {
        let actions = s["Action"].to_string();
        s["Effect"] == "Deny"
            && (actions.contains("s3:*") || actions == "\"*\"")
            && s["Condition"]["Bool"]["aws:SecureTransport"]
                .to_string()
                .contains("false")
    })
}

pub(super) fn or_none(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("(none)")
}

pub(super) fn block_public_access_text(settings: [bool; 4]) -> String {
    let names = [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ];
    names
        .iter()
        .zip(settings)
        .map(|(name, on)| format!("{name} {on}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn logging_text(logging: &Option<(String, String)>) -> String {
    match logging {
        Some((bucket, prefix)) => format!("to s3://{bucket}/{prefix}"),
        None => "off".into(),
    }
}

pub(super) fn bucket_controls(bucket: &str, live: &BucketState) -> Vec<ControlResult> {
    let public = live.policy.as_deref().is_some_and(public_grant);
    vec![
        check(
            "CloudTrail.6",
            live.exists && live.public_access_block == [true; 4] && !public,
            format!(
                "bucket {bucket}: block public access {}, public grant in policy: {public}",
                block_public_access_text(live.public_access_block)
            ),
            "all four Block Public Access settings and no unconditioned public grant",
        ),
        check(
            "CloudTrail.7",
            live.logging.is_some(),
            format!(
                "bucket {bucket}: access logging {}",
                logging_text(&live.logging)
            ),
            "server access logging on",
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
pub(super) fn archive_controls(
    ctx: &RunCtx,
    bucket: &str,
    live: &BucketState,
    key_arn: Option<&str>,
    rotation: Option<bool>,
) -> Vec<ControlResult> {
    let la = &ctx.spec.log_archive;
    let mut out = vec![
        check(
            "S3.14",
            live.versioning == "Enabled",
            format!("versioning {}", live.versioning),
            "Enabled",
        ),
        if live.mfa_delete == "Enabled" {
            result(
                "S3.20",
                Verdict::Pass,
                "MfaDelete Enabled (read back from S3)",
            )
        } else {
            result(
                "S3.20",
                Verdict::Fail,
                format!(
                    "MfaDelete {} — only the root user with MFA can enable it: run `trailhead mfa-delete`",
                    live.mfa_delete
                ),
            )
        },
        check(
            "S3.8",
            live.public_access_block == [true; 4],
            block_public_access_text(live.public_access_block),
            "all four true",
        ),
        check(
            "S3.5",
            live.policy.as_deref().is_some_and(tls_only),
            if live.policy.is_some() {
                "bucket policy present"
            } else {
                "no bucket policy"
            },
            "a Deny of s3:* when aws:SecureTransport is false",
        ),
    ];
    let enc = live.encryption.clone();
    let kms_ok = match (&enc, key_arn) {
        (Some((algo, Some(key), bucket_key)), Some(want)) => {
            algo == "aws:kms" && key == want && *bucket_key
        }
        _ => false,
    };
    out.push(check(
        "S3.17",
        kms_ok,
        match &enc {
            Some((algo, key, bucket_key)) => format!(
                "{algo} with {}, bucket key {}",
                key.as_deref().unwrap_or("no key"),
                if *bucket_key { "on" } else { "off" }
            ),
            None => "no default encryption".to_string(),
        },
        &format!(
            "aws:kms with {} and a bucket key",
            key_arn.unwrap_or("our key")
        ),
    ));
    // S3 allows no lifecycle rule beside MFA Delete: with MFA Delete chosen, S3.13 does not
    // apply to the archive (Security Hub reports it there; docs/verify.md says to suppress it).
    if let Some((expire, noncurrent)) = la.lifecycle() {
        let want = (
            Some(i32::try_from(expire).unwrap_or(i32::MAX)),
            noncurrent.map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            Some(7),
        );
        let show = |d: Option<i32>| d.map_or("never".to_string(), |d| format!("{d} days"));
        out.push(check(
            "S3.13",
            live.lifecycle == Some(want),
            match live.lifecycle {
                Some((e, n, a)) => format!(
                    "rule {LIFECYCLE_RULE_ID}: expire after {}, noncurrent after {}, abort uploads after {}",
                    show(e),
                    show(n),
                    show(a)
                ),
                None => format!("no enabled rule {LIFECYCLE_RULE_ID}"),
            },
            &format!(
                "expire after {expire} days, noncurrent after {}, abort uploads after 7 days",
                show(want.1)
            ),
        ));
    }
    if let Some(lock) = la.object_lock {
        let want = format!("{} {}d", lock.mode.as_aws_str(), lock.days);
        let seen = live
            .object_lock
            .as_ref()
            .map(|(m, d)| format!("{m} {}d", d.unwrap_or(0)));
        out.push(check(
            "S3.15",
            seen.as_deref() == Some(want.as_str()),
            seen.clone()
                .unwrap_or_else(|| "no default retention".to_string()),
            &want,
        ));
    }
    out.push(match rotation {
        Some(r) => check(
            "KMS.4",
            r,
            format!("rotation {r} for {}", key_arn.unwrap_or("?")),
            "true",
        ),
        None => result(
            "KMS.4",
            Verdict::Fail,
            format!("no key behind {}", la.kms_alias),
        ),
    });
    let _ = bucket;
    out
}
