//! The policy documents trailhead writes (archive bucket, access-log bucket, KMS key, the
//! CloudTrail → CloudWatch Logs role, the alarm topic), their size budgets, and an evaluator
//! for the conditions we emit. The emulator checks none of these policies, so this crate does.
//!
//! Pure: no AWS SDK and no I/O. Builders are deterministic, so that a policy read back from AWS
//! can be compared with the one we would write.

mod budget;
mod builders;
mod document;
mod evaluate;
mod permissions;

pub use budget::{BudgetError, PolicyKind, check_budget, minified_size};
pub use builders::{
    ArchiveInputs, AthenaGrant, DeputyMode, KEY_ADMINISTRATION_ACTIONS, TopicPublishers, TrailRef,
    access_log_bucket_policy, archive_bucket_policy, athena_results_bucket_policy,
    cloudtrail_logs_role_policy, cloudtrail_logs_role_trust, cloudtrail_topic_policy, key_policy,
    log_group_key_policy, logs_role_boundary, sns_topic_policy, trailhead_administers,
};
pub use document::{
    Condition, Effect, PolicyDocument, Principal, Statement, percent_decode, same_policy,
};
pub use evaluate::{Decision, Request, RequestPrincipal, evaluate};
pub use permissions::{
    AthenaNames, DRILL_TAG, PermissionInputs, access_role_policy, caller_policy, drill_key_policy,
    drill_policy, grants_action, iam_action, key_upgrade_policy,
};
