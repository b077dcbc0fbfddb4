//! The CloudWatch Logs group the trail delivers to, with the spec's retention.

use super::{Desired, STEP_LOG_GROUP};
use crate::error::{CallSite, ProvisionError};
use crate::plan::{Action, Diff, shown};
use crate::session::AccountSession;

pub async fn ensure_log_group(
    session: &AccountSession,
    d: &Desired,
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
    if apply {
        if created {
            logs.create_log_group()
                .log_group_name(&d.log_group)
                .send()
                .await
                .map_err(|e| site.error("CreateLogGroup", e))?;
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
