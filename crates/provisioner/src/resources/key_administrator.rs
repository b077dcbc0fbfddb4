//! Who administers trailhead's keys in an account: the one principal their key policies name
//! (`TrailheadAdministersThisKey`). The access role where trailhead assumed it; in the management
//! account, which is reached with the caller's own credentials, the caller's role (or user).

use aws_sdk_iam::error::ProvideErrorMetadata;

use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;

/// The principal `session` acts as, as a key policy must name it: a role's ARN with its path.
pub async fn key_administrator(
    session: &AccountSession,
    site: &CallSite,
) -> Result<String, ProvisionError> {
    if let Some(role) = session.via_role() {
        return Ok(role.to_string());
    }
    let me = session
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| site.error("GetCallerIdentity", e))?;
    let arn = me
        .arn()
        .ok_or_else(|| ProvisionError::Config("GetCallerIdentity returned no ARN".into()))?;
    let Some(role) = assumed_role_name(arn) else {
        // A user's or the root's ARN is already what a key policy names.
        return Ok(arn.to_string());
    };
    // An assumed-role ARN omits the role's path (IAM Identity Center's roles have one), and a
    // key policy must name the role with it: KMS refuses an ARN it cannot resolve.
    let found = session
        .iam()
        .get_role()
        .role_name(role)
        .send()
        .await
        .map_err(|e| match e.code() {
            Some("AccessDenied") => ProvisionError::Config(format!(
                "{}: the caller ({arn}) may not read its own role, which the key policies of the management account name: grant iam:GetRole on it (`trailhead permissions` prints the statement)",
                site.account
            )),
            _ => site.error("GetRole", e).into(),
        })?;
    found
        .role()
        .map(|r| r.arn().to_string())
        .ok_or_else(|| ProvisionError::Config(format!("GetRole {role} returned no role")))
}

/// The role name in `arn:<partition>:sts::<account>:assumed-role/<name>/<session>`.
pub fn assumed_role_name(arn: &str) -> Option<&str> {
    let (_, resource) = arn.split_once(":sts::")?;
    let rest = resource.split_once(":assumed-role/")?.1;
    let (name, session) = rest.split_once('/')?;
    (!name.is_empty() && !session.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::assumed_role_name;

    #[test]
    fn an_assumed_role_arn_names_its_role() {
        assert_eq!(
            assumed_role_name("arn:aws:sts::111111111111:assumed-role/Pipeline/run-1"),
            Some("Pipeline")
        );
        assert_eq!(
            assumed_role_name(
                "arn:aws-cn:sts::111111111111:assumed-role/AWSReservedSSO_Admin_0a1b/jo@example.com"
            ),
            Some("AWSReservedSSO_Admin_0a1b")
        );
    }

    #[test]
    fn users_roots_and_odd_arns_name_no_role() {
        for arn in [
            "arn:aws:iam::111111111111:user/ops/jo",
            "arn:aws:iam::111111111111:root",
            "arn:aws:sts::111111111111:federated-user/jo",
            "arn:aws:sts::111111111111:assumed-role/NoSession",
        ] {
            assert_eq!(assumed_role_name(arn), None, "{arn}");
        }
    }
}
