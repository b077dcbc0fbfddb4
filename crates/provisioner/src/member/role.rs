//! The role CloudTrail assumes to deliver to CloudWatch Logs.

use aws_sdk_iam::error::ProvideErrorMetadata;
use trailhead_policies::{
    PolicyKind, check_budget, cloudtrail_logs_role_policy, cloudtrail_logs_role_trust, same_policy,
};

use super::{Desired, ROLE_NAME, ROLE_POLICY_NAME, STEP_ROLE};
use crate::error::{CallSite, ProvisionError};
use crate::plan::{Action, Diff};
use crate::session::AccountSession;

pub async fn ensure_role(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let site = CallSite::new(&d.account, &d.region, STEP_ROLE);
    let trust = cloudtrail_logs_role_trust();
    let inline = cloudtrail_logs_role_policy(&d.partition, &d.account, &d.region, &d.log_group);
    for (kind, doc) in [
        (PolicyKind::RoleTrustPolicy, &trust),
        (PolicyKind::RoleInlinePolicy, &inline),
    ] {
        check_budget(kind, doc)
            .map_err(|e| ProvisionError::Config(format!("role {ROLE_NAME}: {e}")))?;
    }
    let iam = session.iam();
    let mut diff = Diff::new();
    let existing = match iam.get_role().role_name(ROLE_NAME).send().await {
        Ok(out) => out.role().map(|r| {
            r.assume_role_policy_document()
                .unwrap_or_default()
                .to_string()
        }),
        Err(e) if e.code() == Some("NoSuchEntity") => None,
        Err(e) => return Err(site.error("GetRole", e).into()),
    };
    let created = existing.is_none();
    let trust_changes = match &existing {
        None => diff.field("role", "(none)", ROLE_NAME),
        Some(live) => {
            !same_policy(live, &trust)
                && diff.field(
                    "trust_policy",
                    "(differs)",
                    "cloudtrail.amazonaws.com (no source conditions: CloudTrail sends none for this role)",
                )
        }
    };
    let live_inline = if created {
        None
    } else {
        match iam
            .get_role_policy()
            .role_name(ROLE_NAME)
            .policy_name(ROLE_POLICY_NAME)
            .send()
            .await
        {
            Ok(out) => Some(out.policy_document().to_string()),
            Err(e) if e.code() == Some("NoSuchEntity") => None,
            Err(e) => return Err(site.error("GetRolePolicy", e).into()),
        }
    };
    let inline_changes = !live_inline
        .as_deref()
        .is_some_and(|p| same_policy(p, &inline))
        && diff.field(
            "inline_policy",
            if live_inline.is_some() {
                "(differs)"
            } else {
                "(none)"
            },
            format!("{} log streams only", d.log_group),
        );
    if apply {
        if created {
            iam.create_role()
                .role_name(ROLE_NAME)
                .assume_role_policy_document(trust.to_json())
                .description(
                    "trailhead: lets this account's CloudTrail trail deliver to CloudWatch Logs",
                )
                .send()
                .await
                .map_err(|e| site.error("CreateRole", e))?;
        } else if trust_changes {
            iam.update_assume_role_policy()
                .role_name(ROLE_NAME)
                .policy_document(trust.to_json())
                .send()
                .await
                .map_err(|e| site.error("UpdateAssumeRolePolicy", e))?;
        }
        if inline_changes {
            iam.put_role_policy()
                .role_name(ROLE_NAME)
                .policy_name(ROLE_POLICY_NAME)
                .policy_document(inline.to_json())
                .send()
                .await
                .map_err(|e| site.error("PutRolePolicy", e))?;
        }
    }
    let action = if created {
        Action::Create
    } else {
        diff.action()
    };
    Ok((action, diff))
}
