//! The identity policies a spec needs, scoped to its names (see `trailhead permissions`).

use trailhead_model::{LogArchiveAccount, OrgSpec};
use trailhead_policies::{AthenaNames, PermissionInputs};

use crate::core::session::partition;
use crate::resources::desired::ROLE_NAME;

pub fn permission_inputs(spec: &OrgSpec) -> PermissionInputs {
    let la = &spec.log_archive;
    let account = match &la.account {
        LogArchiveAccount::Existing(id) => id.to_string(),
        LogArchiveAccount::Create { .. } => "*".to_string(),
    };
    PermissionInputs {
        partition: partition(&spec.org.home_region).to_string(),
        access_role: spec.access.role_name.clone(),
        trail_name: spec.trail.name.clone(),
        log_group: spec.trail.log_group_name.clone(),
        topic_name: spec.alarms.sns_topic_name.clone(),
        delivery_topic: spec
            .trail
            .notifications
            .as_ref()
            .map(|n| n.topic_name.value.clone()),
        logs_role: ROLE_NAME.to_string(),
        bucket: la.bucket_name(&spec.org, &account),
        creates_account: matches!(la.account, LogArchiveAccount::Create { .. }),
        athena: spec.athena.as_ref().map(|a| AthenaNames {
            database: a.database.clone(),
            table: a.table.clone(),
            workgroup: a.workgroup.clone(),
        }),
        key_aliases: std::iter::once(la.kms_alias.clone())
            .chain(spec.trail.log_group_kms_alias.clone())
            .collect(),
        management_target: spec
            .rollout
            .include_management_account
            .then(|| spec.org.management_account.to_string()),
    }
}
