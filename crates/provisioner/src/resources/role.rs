//! The role CloudTrail assumes to deliver to CloudWatch Logs: its trust, its inline policy (the
//! trail's own log streams), and its permissions boundary (log writes only, whatever its policies
//! say later).

use aws_sdk_iam::Client;
use aws_sdk_iam::error::ProvideErrorMetadata;
use trailhead_policies::{
    PolicyDocument, PolicyKind, check_budget, cloudtrail_logs_role_policy,
    cloudtrail_logs_role_trust, logs_role_boundary, same_policy,
};

use super::desired::{Desired, ROLE_NAME, ROLE_POLICY_NAME, STEP_ROLE};
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::plan::{Action, Diff};

/// The role as it is: None for each part that does not exist.
struct LiveRole {
    trust: Option<String>,
    boundary: Option<String>,
    inline: Option<String>,
}

/// What differs, part by part.
struct Changes {
    created: bool,
    boundary: bool,
    trust: bool,
    inline: bool,
}

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
    let boundary = logs_role_boundary(&d.partition);
    let live = read_role(&iam, &site).await?;
    let mut diff = Diff::new();
    let changes = compare(&live, &trust, &inline, &boundary, &d.log_group, &mut diff);
    if apply {
        write_role(&iam, &site, &changes, &trust, &inline, &boundary).await?;
    }
    let action = if changes.created {
        Action::Create
    } else {
        diff.action()
    };
    Ok((action, diff))
}

async fn read_role(iam: &Client, site: &CallSite) -> Result<LiveRole, ProvisionError> {
    let (trust, boundary) = match iam.get_role().role_name(ROLE_NAME).send().await {
        Ok(out) => {
            let role = out
                .role()
                .ok_or_else(|| ProvisionError::Config("GetRole returned no role".into()))?;
            let trust = role.assume_role_policy_document().ok_or_else(|| {
                ProvisionError::Config(format!("GetRole {ROLE_NAME} returned no trust policy"))
            })?;
            let boundary = role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string);
            (Some(trust.to_string()), boundary)
        }
        Err(e) if e.code() == Some("NoSuchEntity") => (None, None),
        Err(e) => return Err(site.error("GetRole", e).into()),
    };
    if trust.is_none() {
        return Ok(LiveRole {
            trust,
            boundary,
            inline: None,
        });
    }
    let inline = match iam
        .get_role_policy()
        .role_name(ROLE_NAME)
        .policy_name(ROLE_POLICY_NAME)
        .send()
        .await
    {
        Ok(out) => Some(out.policy_document().to_string()),
        Err(e) if e.code() == Some("NoSuchEntity") => None,
        Err(e) => return Err(site.error("GetRolePolicy", e).into()),
    };
    Ok(LiveRole {
        trust,
        boundary,
        inline,
    })
}

/// Pure: what `live` lacks, recorded into `diff`.
fn compare(
    live: &LiveRole,
    trust: &PolicyDocument,
    inline: &PolicyDocument,
    boundary: &str,
    log_group: &str,
    diff: &mut Diff,
) -> Changes {
    let created = live.trust.is_none();
    let trust_changes = match &live.trust {
        None => diff.field("role", "(none)", ROLE_NAME),
        Some(text) => {
            !same_policy(text, trust)
                && diff.field(
                    "trust_policy",
                    "(differs)",
                    "cloudtrail.amazonaws.com (no source conditions: CloudTrail sends none for this role)",
                )
        }
    };
    let boundary_changes = !created
        && diff.field(
            "permissions_boundary",
            live.boundary.as_deref().unwrap_or("(none)"),
            boundary,
        );
    let inline_changes = !live
        .inline
        .as_deref()
        .is_some_and(|p| same_policy(p, inline))
        && diff.field(
            "inline_policy",
            if live.inline.is_some() {
                "(differs)"
            } else {
                "(none)"
            },
            format!("{log_group} log streams only"),
        );
    Changes {
        created,
        boundary: boundary_changes,
        trust: trust_changes && !created,
        inline: inline_changes,
    }
}

async fn write_role(
    iam: &Client,
    site: &CallSite,
    changes: &Changes,
    trust: &PolicyDocument,
    inline: &PolicyDocument,
    boundary: &str,
) -> Result<(), ProvisionError> {
    // The boundary first: the access role may write the role's policy only within it.
    if changes.boundary {
        iam.put_role_permissions_boundary()
            .role_name(ROLE_NAME)
            .permissions_boundary(boundary)
            .send()
            .await
            .map_err(|e| site.error("PutRolePermissionsBoundary", e))?;
    }
    if changes.created {
        iam.create_role()
            .role_name(ROLE_NAME)
            .assume_role_policy_document(trust.to_json())
            .permissions_boundary(boundary)
            .description(
                "trailhead: lets this account's CloudTrail trail deliver to CloudWatch Logs",
            )
            .send()
            .await
            .map_err(|e| site.error("CreateRole", e))?;
    } else if changes.trust {
        iam.update_assume_role_policy()
            .role_name(ROLE_NAME)
            .policy_document(trust.to_json())
            .send()
            .await
            .map_err(|e| site.error("UpdateAssumeRolePolicy", e))?;
    }
    if changes.inline {
        iam.put_role_policy()
            .role_name(ROLE_NAME)
            .policy_name(ROLE_POLICY_NAME)
            .policy_document(inline.to_json())
            .send()
            .await
            .map_err(|e| site.error("PutRolePolicy", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(boundary: Option<&str>) -> LiveRole {
        LiveRole {
            trust: Some(cloudtrail_logs_role_trust().to_json()),
            boundary: boundary.map(str::to_string),
            inline: Some(cloudtrail_logs_role_policy("aws", "1", "eu-west-1", "g").to_json()),
        }
    }

    fn changes(live: &LiveRole) -> (Changes, Diff) {
        let mut diff = Diff::new();
        let inline = cloudtrail_logs_role_policy("aws", "1", "eu-west-1", "g");
        let c = compare(
            live,
            &cloudtrail_logs_role_trust(),
            &inline,
            &logs_role_boundary("aws"),
            "g",
            &mut diff,
        );
        (c, diff)
    }

    #[test]
    fn a_role_without_the_boundary_gets_it_and_nothing_else() {
        let (c, diff) = changes(&live(None));
        assert!(c.boundary && !c.trust && !c.inline && !c.created);
        assert_eq!(diff.changes.len(), 1);
        let (c, _) = changes(&live(Some("arn:aws:iam::1:policy/Broad")));
        assert!(c.boundary, "someone else's boundary is replaced by ours");
        let (c, diff) = changes(&live(Some(&logs_role_boundary("aws"))));
        assert!(!c.boundary && diff.changes.is_empty());
    }

    #[test]
    fn a_new_role_is_created_with_its_boundary_and_policy() {
        let none = LiveRole {
            trust: None,
            boundary: None,
            inline: None,
        };
        let (c, _) = changes(&none);
        assert!(c.created && !c.boundary && !c.trust && c.inline);
    }
}
