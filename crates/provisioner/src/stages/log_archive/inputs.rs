//! What the log archive's policies are built from, and where Athena queries run.

use trailhead_model::{OrgSpec, TargetAccount, athena_results_bucket_for};
use trailhead_policies::{ArchiveInputs, AthenaGrant, TrailRef};

use crate::core::session::partition;

pub fn archive_inputs(
    spec: &OrgSpec,
    org_id: &str,
    la: &str,
    targets: &[TargetAccount],
    key_administrator: String,
) -> ArchiveInputs {
    let home = &spec.org.home_region;
    ArchiveInputs {
        partition: partition(home).to_string(),
        bucket: spec.log_archive.bucket_name(&spec.org, la),
        org_id: org_id.to_string(),
        log_archive_account: la.to_string(),
        security_account: spec
            .log_archive
            .security_account
            .as_ref()
            .map(|a| a.to_string()),
        trail_name: spec.trail.name.clone(),
        trails: targets
            .iter()
            .map(|t| TrailRef {
                account: t.id.to_string(),
                region: home.clone(),
                name: spec.trail.name.clone(),
            })
            .collect(),
        key_arn: None,
        key_administrator,
        athena: spec.athena.as_ref().map(|_| AthenaGrant {
            results_bucket: athena_results_bucket_for(&spec.log_archive.bucket_name(&spec.org, la)),
            query_account: query_account(spec, la),
        }),
    }
}

/// The account where Athena queries run: the audit account, else the log-archive account.
pub fn query_account(spec: &OrgSpec, log_archive: &str) -> String {
    spec.log_archive
        .security_account
        .as_ref()
        .map_or_else(|| log_archive.to_string(), |a| a.to_string())
}
