//! The Athena workgroup: results in the archive account's results bucket, encrypted with the
//! archive key, the workgroup's settings enforced over the client's, and a per-query scan cutoff.

use aws_sdk_athena::Client;
use aws_sdk_athena::error::ProvideErrorMetadata;
use aws_sdk_athena::types::{
    EncryptionConfiguration, EncryptionOption, ResultConfiguration, ResultConfigurationUpdates,
    WorkGroupConfiguration, WorkGroupConfigurationUpdates,
};

use crate::core::error::{CallSite, ProvisionError};
use crate::plan::{Action, Diff};

#[derive(Debug, Clone)]
pub struct WorkgroupSpec {
    pub name: String,
    /// `s3://<results bucket>/`.
    pub output_location: String,
    pub key_arn: String,
    pub cutoff_bytes: i64,
    /// The log-archive account: results are never written to a bucket someone else owns.
    pub expected_bucket_owner: String,
}

/// The settings trailhead manages, as (field, value) text, for comparing.
fn settings_of(config: Option<&WorkGroupConfiguration>) -> Vec<(&'static str, String)> {
    let result = config.and_then(|c| c.result_configuration());
    let encryption = result.and_then(|r| r.encryption_configuration());
    let text = |v: Option<&str>| v.unwrap_or("(none)").to_string();
    vec![
        (
            "output_location",
            text(result.and_then(|r| r.output_location())),
        ),
        (
            "expected_bucket_owner",
            text(result.and_then(|r| r.expected_bucket_owner())),
        ),
        (
            "encryption",
            text(encryption.map(|e| e.encryption_option().as_str())),
        ),
        ("kms_key", text(encryption.and_then(|e| e.kms_key()))),
        (
            "enforce_workgroup_configuration",
            config
                .and_then(|c| c.enforce_work_group_configuration())
                .unwrap_or(false)
                .to_string(),
        ),
        (
            "bytes_scanned_cutoff",
            config
                .and_then(|c| c.bytes_scanned_cutoff_per_query())
                .map_or("(none)".into(), |b| b.to_string()),
        ),
        (
            "publish_cloudwatch_metrics",
            config
                .and_then(|c| c.publish_cloud_watch_metrics_enabled())
                .unwrap_or(false)
                .to_string(),
        ),
    ]
}

fn encryption(spec: &WorkgroupSpec) -> Result<EncryptionConfiguration, ProvisionError> {
    EncryptionConfiguration::builder()
        .encryption_option(EncryptionOption::SseKms)
        .kms_key(&spec.key_arn)
        .build()
        .map_err(|e| ProvisionError::Config(e.to_string()))
}

fn wanted(spec: &WorkgroupSpec) -> Result<WorkGroupConfiguration, ProvisionError> {
    Ok(WorkGroupConfiguration::builder()
        .result_configuration(
            ResultConfiguration::builder()
                .output_location(&spec.output_location)
                .expected_bucket_owner(&spec.expected_bucket_owner)
                .encryption_configuration(encryption(spec)?)
                .build(),
        )
        .enforce_work_group_configuration(true)
        .publish_cloud_watch_metrics_enabled(true)
        .bytes_scanned_cutoff_per_query(spec.cutoff_bytes)
        .build())
}

fn updates(spec: &WorkgroupSpec) -> Result<WorkGroupConfigurationUpdates, ProvisionError> {
    Ok(WorkGroupConfigurationUpdates::builder()
        .result_configuration_updates(
            ResultConfigurationUpdates::builder()
                .output_location(&spec.output_location)
                .expected_bucket_owner(&spec.expected_bucket_owner)
                .encryption_configuration(encryption(spec)?)
                .build(),
        )
        .enforce_work_group_configuration(true)
        .publish_cloud_watch_metrics_enabled(true)
        .bytes_scanned_cutoff_per_query(spec.cutoff_bytes)
        .build())
}

pub async fn converge_workgroup(
    athena: &Client,
    site: &CallSite,
    spec: &WorkgroupSpec,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let live = match athena.get_work_group().work_group(&spec.name).send().await {
        Ok(out) => out.work_group,
        // AWS answers a missing workgroup with InvalidRequestException.
        Err(e) if e.code() == Some("InvalidRequestException") => None,
        Err(e) => return Err(site.error("GetWorkGroup", e).into()),
    };
    let want = wanted(spec)?;
    let mut diff = Diff::new();
    let action = match &live {
        None => {
            diff.field("workgroup", "(none)", &spec.name);
            Action::Create
        }
        Some(group) => {
            let mut changed = false;
            for ((field, live), (_, want)) in settings_of(group.configuration())
                .into_iter()
                .zip(settings_of(Some(&want)))
            {
                changed |= diff.field(field, live, want);
            }
            if !changed {
                return Ok((Action::NoOp, diff));
            }
            Action::Update
        }
    };
    if apply {
        if action == Action::Create {
            athena
                .create_work_group()
                .name(&spec.name)
                .description("trailhead: queries over the organization's CloudTrail archive")
                .configuration(want)
                .send()
                .await
                .map_err(|e| site.error("CreateWorkGroup", e))?;
        } else {
            athena
                .update_work_group()
                .work_group(&spec.name)
                .configuration_updates(updates(spec)?)
                .send()
                .await
                .map_err(|e| site.error("UpdateWorkGroup", e))?;
        }
    }
    Ok((action, diff))
}
