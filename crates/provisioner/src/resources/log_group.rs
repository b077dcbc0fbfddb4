//! The CloudWatch Logs group the trail delivers to, with the spec's retention, encrypted under a
//! customer managed key of the account that only CloudWatch Logs may use, and only for this group.

use trailhead_policies::log_group_key_policy;

use super::desired::{Desired, STEP_LOG_GROUP, STEP_LOG_GROUP_KEY};
use crate::core::consistency::{KEY_PROPAGATION_WAIT, logs_key, settle};
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::plan::{Action, Diff, shown};
use crate::resources::key::{KeySpec, ensure_key};
use crate::resources::key_administrator::key_administrator;

/// The group's key: converged like the archive key (alias, rotation, policy); its ARN, once it
/// exists. Nothing when the spec leaves the group under the service's own encryption.
pub async fn ensure_log_group_key(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<(Action, Diff, Option<String>), ProvisionError> {
    let Some(alias) = &d.log_group_kms_alias else {
        return Ok((Action::NoOp, Diff::new(), None));
    };
    let site = CallSite::new(&d.account, &d.region, STEP_LOG_GROUP_KEY);
    let administrator = key_administrator(session, &site).await?;
    let spec = KeySpec {
        alias: alias.clone(),
        description: format!(
            "trailhead: encrypts the CloudTrail log group {}",
            d.log_group
        ),
        policy: log_group_key_policy(
            &d.partition,
            &d.account,
            &d.region,
            &d.log_group,
            &administrator,
        ),
    };
    ensure_key(&session.kms(), &site, &spec, apply).await
}

/// `key_arn`: the group's key, when the spec asks for one and it exists (a plan of a new key has
/// none yet, and shows the alias instead).
pub async fn ensure_log_group(
    session: &AccountSession,
    d: &Desired,
    key_arn: Option<&str>,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let site = CallSite::new(&d.account, &d.region, STEP_LOG_GROUP);
    let logs = session.logs();
    let found = logs
        .describe_log_groups()
        .log_group_name_prefix(&d.log_group)
        .send()
        .await
        .map_err(|e| site.error("DescribeLogGroups", e))?;
    let live = found
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(d.log_group.as_str()));
    let mut diff = Diff::new();
    let created = live.is_none();
    if created {
        diff.field("log_group", "(none)", &d.log_group);
    }
    let retention = live.and_then(|g| g.retention_in_days());
    let retention_changes = diff.field("retention_in_days", shown(retention), d.log_retention_days);
    let live_key = live.and_then(|g| g.kms_key_id());
    let wanted_key = key_arn.or(d.log_group_kms_alias.as_deref());
    let key_changes = diff.field("kms_key", shown(live_key), shown(wanted_key));
    if apply {
        if created {
            // Its key may have been made a moment ago (the step before).
            settle(logs_key, KEY_PROPAGATION_WAIT, || {
                logs.create_log_group()
                    .log_group_name(&d.log_group)
                    .set_kms_key_id(key_arn.map(str::to_string))
                    .send()
            })
            .await
            .map_err(|e| site.error("CreateLogGroup", e))?;
        } else if key_changes {
            associate_key(session, &site, d, key_arn).await?;
        }
        if retention_changes {
            logs.put_retention_policy()
                .log_group_name(&d.log_group)
                .retention_in_days(d.log_retention_days)
                .send()
                .await
                .map_err(|e| site.error("PutRetentionPolicy", e))?;
        }
    }
    let action = if created {
        Action::Create
    } else {
        diff.action()
    };
    Ok((action, diff))
}

/// Puts an existing group under `key_arn`, or back under the service's encryption with None.
async fn associate_key(
    session: &AccountSession,
    site: &CallSite,
    d: &Desired,
    key_arn: Option<&str>,
) -> Result<(), ProvisionError> {
    let logs = session.logs();
    match key_arn {
        Some(arn) => settle(logs_key, KEY_PROPAGATION_WAIT, || {
            logs.associate_kms_key()
                .log_group_name(&d.log_group)
                .kms_key_id(arn)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| site.error("AssociateKmsKey", e).into()),
        None => logs
            .disassociate_kms_key()
            .log_group_name(&d.log_group)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| site.error("DisassociateKmsKey", e).into()),
    }
}
