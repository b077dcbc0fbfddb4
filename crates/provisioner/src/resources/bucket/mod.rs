//! The two buckets of the log archive. Each setting is read, compared with the spec, and written
//! only when it differs, so a converged bucket costs reads only.

use aws_sdk_s3::Client;
use trailhead_policies::{PolicyKind, check_budget, same_policy};

mod read;
mod spec;
mod write;

use crate::core::error::{CallSite, ProvisionError};
use crate::plan::{Action, Diff, shown};
pub use read::read_bucket;
pub use spec::{
    ABORT_MULTIPART_DAYS, BucketSpec, BucketState, Encryption, LIFECYCLE_RULE_ID, Lifecycle,
    bucket_key, days,
};

fn public_access_block_text(pab: [bool; 4]) -> String {
    const NAMES: [&str; 4] = [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ];
    let on: Vec<&str> = NAMES
        .iter()
        .zip(pab)
        .filter_map(|(n, v)| v.then_some(*n))
        .collect();
    match on.len() {
        4 => "all four on".into(),
        0 => "off".into(),
        _ => format!("only {}", on.join(", ")),
    }
}

/// Which settings differ: each one is converged by its own write.
#[derive(Debug, Default)]
struct Changes {
    versioning: bool,
    public_access_block: bool,
    ownership: bool,
    encryption: bool,
    lifecycle: bool,
    logging: bool,
    policy: bool,
    object_lock: bool,
}

fn compare_lifecycle(live: &BucketState, spec: &BucketSpec, diff: &mut Diff) -> bool {
    let Some(want) = spec.lifecycle else {
        return !live.lifecycle_rules.is_empty()
            && diff.field(
                "lifecycle",
                live.lifecycle_rules.join(", "),
                "(none: MFA Delete needs a bucket without lifecycle rules)",
            );
    };
    let (exp, nc, abort) = live.lifecycle.unwrap_or((None, None, None));
    let mut changes = diff.field("expiration_days", shown(exp), days(want.expire_days));
    changes |= diff.field(
        "noncurrent_expiration_days",
        shown(nc),
        shown(want.noncurrent_days.map(days)),
    );
    changes |= diff.field(
        "abort_incomplete_multipart_days",
        shown(abort),
        ABORT_MULTIPART_DAYS,
    );
    changes
}

fn compare_encryption(live: &BucketState, spec: &BucketSpec, diff: &mut Diff) -> bool {
    let (want_algo, want_key) = match &spec.encryption {
        Encryption::S3Managed => ("AES256".to_string(), None),
        Encryption::Kms { key_arn } => ("aws:kms".to_string(), Some(key_arn.clone())),
    };
    let live_enc = live.encryption.clone().unwrap_or_default();
    let mut changes = diff.field(
        "sse_algorithm",
        shown(live.encryption.as_ref().map(|e| &e.0)),
        &want_algo,
    );
    changes |= diff.field(
        "sse_kms_key",
        shown(live_enc.1.as_deref()),
        shown(want_key.as_deref()),
    );
    changes |= bucket_key(spec) && diff.field("bucket_key_enabled", live_enc.2, true);
    changes
}

fn compare(live: &BucketState, spec: &BucketSpec, diff: &mut Diff) -> Changes {
    let want_versioning = if spec.versioning {
        "Enabled"
    } else {
        "Disabled"
    };
    let policy_same = live
        .policy
        .as_deref()
        .is_some_and(|p| same_policy(p, &spec.policy));
    let lock_want = spec
        .object_lock
        .map(|l| format!("{} {}d", l.mode.as_aws_str(), l.days));
    let lock_live = live
        .object_lock
        .as_ref()
        .map(|(m, d)| format!("{m} {}d", d.unwrap_or(0)));
    Changes {
        versioning: spec.versioning && diff.field("versioning", &live.versioning, want_versioning),
        public_access_block: diff.field(
            "public_access_block",
            public_access_block_text(live.public_access_block),
            public_access_block_text([true; 4]),
        ),
        ownership: diff.field(
            "object_ownership",
            shown(live.ownership.as_deref()),
            "BucketOwnerEnforced",
        ),
        encryption: compare_encryption(live, spec, diff),
        lifecycle: compare_lifecycle(live, spec, diff),
        logging: diff.field(
            "access_logging",
            shown(live.logging.as_ref().map(|(b, p)| format!("{b}/{p}"))),
            shown(spec.logging.as_ref().map(|(b, p)| format!("{b}/{p}"))),
        ),
        policy: !policy_same
            && diff.field(
                "policy",
                if live.policy.is_some() {
                    "(differs)"
                } else {
                    "(none)"
                },
                format!("{} statements", spec.policy.statements.len()),
            ),
        object_lock: lock_want.is_some()
            && diff.field("object_lock", shown(lock_live), shown(lock_want)),
    }
}

/// Compares, then (when `apply`) converges one bucket. Returns the action and its changes.
pub async fn ensure_bucket(
    s3: &Client,
    site: &CallSite,
    spec: &BucketSpec,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    // Budgets first: nothing is created for a policy AWS would refuse.
    check_budget(PolicyKind::BucketPolicy, &spec.policy)
        .map_err(|e| ProvisionError::Config(format!("bucket {}: {e}", spec.name)))?;
    let live = read_bucket(s3, site, &spec.name).await?;
    let mut diff = Diff::new();
    let created = !live.exists;
    if created {
        diff.field("bucket", "(none)", &spec.name);
    }
    let changes = compare(&live, spec, &mut diff);
    let action = if created {
        Action::Create
    } else {
        diff.action()
    };
    if !apply || diff.is_empty() {
        return Ok((action, diff));
    }
    if spec.lifecycle.is_none() && !live.foreign_lifecycle_rules().is_empty() {
        return Err(ProvisionError::Config(lifecycle_blocks_mfa_delete(
            &spec.name,
            &live.foreign_lifecycle_rules(),
        )));
    }
    if created {
        write::create_bucket(s3, site, spec).await?;
    }
    // Versioning before the object lock, which needs it on.
    if changes.versioning || (created && spec.versioning) {
        write::versioning(s3, site, &spec.name).await?;
    }
    if changes.public_access_block {
        write::public_access_block(s3, site, &spec.name).await?;
    }
    if changes.ownership {
        write::ownership(s3, site, &spec.name).await?;
    }
    if changes.encryption {
        write::encryption(s3, site, spec).await?;
    }
    if changes.lifecycle {
        write::lifecycle(s3, site, spec).await?;
    }
    // The policy before logging: S3 checks that the log target's policy admits its logging service.
    if changes.policy {
        write::policy(s3, site, spec).await?;
    }
    if changes.logging {
        write::logging(s3, site, spec).await?;
    }
    if changes.object_lock
        && let Some(lock) = spec.object_lock
    {
        write::object_lock(s3, site, &spec.name, lock).await?;
    }
    Ok((
        if created {
            Action::Create
        } else {
            Action::Update
        },
        diff,
    ))
}

/// What preflight, plan and rollout say about lifecycle rules trailhead did not make.
pub fn lifecycle_blocks_mfa_delete(bucket: &str, rules: &[&str]) -> String {
    format!(
        "bucket {bucket} has lifecycle rules ({}) that block MFA Delete: S3 refuses MFA Delete beside any lifecycle configuration. Remove them (aws s3api delete-bucket-lifecycle --bucket {bucket}), or set mfa_delete = false and use Object Lock",
        rules.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use trailhead_policies::access_log_bucket_policy;

    use super::*;

    fn spec(lifecycle: Option<Lifecycle>) -> BucketSpec {
        BucketSpec {
            name: "archive".into(),
            region: "eu-west-1".into(),
            encryption: Encryption::Kms {
                key_arn: "arn:aws:kms:eu-west-1:1:key/k".into(),
            },
            lifecycle,
            versioning: true,
            object_lock: None,
            logging: Some(("access".into(), "s3-access/archive/".into())),
            policy: access_log_bucket_policy("aws", "access", "archive", "1"),
        }
    }

    /// The bucket exactly as `spec` wants it.
    fn converged(spec: &BucketSpec) -> BucketState {
        BucketState {
            exists: true,
            versioning: "Enabled".into(),
            mfa_delete: "Disabled".into(),
            public_access_block: [true; 4],
            ownership: Some("BucketOwnerEnforced".into()),
            encryption: Some((
                "aws:kms".into(),
                Some("arn:aws:kms:eu-west-1:1:key/k".into()),
                true,
            )),
            lifecycle: spec.lifecycle.map(|l| {
                let nc = l.noncurrent_days.map(days);
                (Some(days(l.expire_days)), nc, Some(ABORT_MULTIPART_DAYS))
            }),
            lifecycle_rules: spec
                .lifecycle
                .map(|_| vec![LIFECYCLE_RULE_ID.to_string()])
                .unwrap_or_default(),
            logging: spec.logging.clone(),
            policy: Some(spec.policy.to_json()),
            object_lock: None,
        }
    }

    fn fields(diff: &Diff) -> Vec<&str> {
        diff.changes.iter().map(|c| c.field.as_str()).collect()
    }

    #[test]
    fn a_converged_bucket_needs_no_write() {
        let s = spec(Some(Lifecycle {
            expire_days: 400,
            noncurrent_days: Some(30),
        }));
        let mut diff = Diff::new();
        let c = compare(&converged(&s), &s, &mut diff);
        assert!(diff.changes.is_empty(), "{:?}", fields(&diff));
        assert!(!(c.versioning || c.public_access_block || c.encryption || c.lifecycle));
        assert!(!(c.ownership || c.logging || c.policy || c.object_lock));
    }

    #[test]
    fn one_public_access_setting_off_and_another_key_are_each_their_own_write() {
        let s = spec(None);
        let mut live = converged(&s);
        live.public_access_block = [true, true, false, true];
        live.encryption = Some((
            "aws:kms".into(),
            Some("arn:aws:kms:eu-west-1:1:key/other".into()),
            true,
        ));
        let mut diff = Diff::new();
        let c = compare(&live, &s, &mut diff);
        assert_eq!(fields(&diff), ["public_access_block", "sse_kms_key"]);
        assert!(c.public_access_block && c.encryption);
        assert!(!(c.versioning || c.lifecycle || c.logging || c.policy));
        assert!(
            diff.changes[0].from.contains("only BlockPublicAcls"),
            "{:?}",
            diff.changes[0]
        );
    }

    #[test]
    fn without_a_lifecycle_someone_elses_rule_is_shown_never_our_expiry() {
        // MFA Delete allows no lifecycle rule: a spec without one reports a rule it finds.
        let s = spec(None);
        let mut live = converged(&s);
        live.lifecycle_rules = vec!["theirs".into()];
        let mut diff = Diff::new();
        let c = compare(&live, &s, &mut diff);
        assert!(c.lifecycle);
        assert_eq!(fields(&diff), ["lifecycle"]);
    }
}
