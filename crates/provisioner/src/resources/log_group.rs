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

/// What is live of the group: None when it does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveGroup {
    /// Days; None keeps events for ever.
    pub retention: Option<i32>,
    pub key: Option<String>,
}

/// What converging the group changes.
#[derive(Debug, Default, PartialEq, Eq)]
struct GroupChanges {
    create: bool,
    retention: bool,
    key: bool,
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
    let live = read_group(session, &site, &d.log_group).await?;
    let mut diff = Diff::new();
    let changes = compare(live.as_ref(), d, key_arn, &mut diff);
    if apply {
        write_group(session, &site, d, key_arn, &changes).await?;
    }
    let action = if changes.create {
        Action::Create
    } else {
        diff.action()
    };
    Ok((action, diff))
}

pub async fn read_group(
    session: &AccountSession,
    site: &CallSite,
    name: &str,
) -> Result<Option<LiveGroup>, ProvisionError> {
    let found = session
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| site.error("DescribeLogGroups", e))?;
    Ok(found
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .map(|g| LiveGroup {
            retention: g.retention_in_days(),
            key: g.kms_key_id().map(str::to_string),
        }))
}

/// The group as the spec wants it, against what is live.
fn compare(
    live: Option<&LiveGroup>,
    d: &Desired,
    key_arn: Option<&str>,
    diff: &mut Diff,
) -> GroupChanges {
    let create = live.is_none();
    if create {
        diff.field("log_group", "(none)", &d.log_group);
    }
    let retention = live.and_then(|g| g.retention);
    let live_key = live.and_then(|g| g.key.as_deref());
    let wanted_key = key_arn.or(d.log_group_kms_alias.as_deref());
    GroupChanges {
        create,
        retention: diff.field("retention_in_days", shown(retention), d.log_retention_days),
        key: diff.field("kms_key", shown(live_key), shown(wanted_key)),
    }
}

async fn write_group(
    session: &AccountSession,
    site: &CallSite,
    d: &Desired,
    key_arn: Option<&str>,
    changes: &GroupChanges,
) -> Result<(), ProvisionError> {
    let logs = session.logs();
    if changes.create {
        // Its key may have been made a moment ago (the step before).
        settle(logs_key, KEY_PROPAGATION_WAIT, || {
            logs.create_log_group()
                .log_group_name(&d.log_group)
                .set_kms_key_id(key_arn.map(str::to_string))
                .send()
        })
        .await
        .map_err(|e| site.error("CreateLogGroup", e))?;
    } else if changes.key {
        associate_key(session, site, d, key_arn).await?;
    }
    if changes.retention {
        logs.put_retention_policy()
            .log_group_name(&d.log_group)
            .retention_in_days(d.log_retention_days)
            .send()
            .await
            .map_err(|e| site.error("PutRetentionPolicy", e))?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/g";

    fn encrypted() -> Desired {
        Desired {
            log_group_kms_alias: Some("alias/trailhead-logs".into()),
            ..Desired::example()
        }
    }

    #[test]
    fn a_converged_group_needs_no_write() {
        let d = encrypted();
        let live = LiveGroup {
            retention: Some(d.log_retention_days),
            key: Some(KEY.into()),
        };
        let mut diff = Diff::new();
        let c = compare(Some(&live), &d, Some(KEY), &mut diff);
        assert_eq!(c, GroupChanges::default());
        assert!(diff.changes.is_empty());
    }

    #[test]
    fn a_group_without_its_key_gets_it_and_keeps_its_retention() {
        let d = encrypted();
        let live = LiveGroup {
            retention: Some(d.log_retention_days),
            key: None,
        };
        let mut diff = Diff::new();
        let c = compare(Some(&live), &d, Some(KEY), &mut diff);
        assert!(c.key && !c.retention && !c.create);
        assert_eq!(diff.changes.len(), 1);
    }

    #[test]
    fn a_plan_of_a_new_key_shows_the_alias_and_a_new_group_is_created() {
        let d = encrypted();
        let mut diff = Diff::new();
        let c = compare(None, &d, None, &mut diff);
        assert!(c.create && c.retention && c.key);
        let key = diff.changes.iter().find(|c| c.field == "kms_key");
        assert_eq!(key.map(|c| c.to.as_str()), Some("alias/trailhead-logs"));
    }
}
