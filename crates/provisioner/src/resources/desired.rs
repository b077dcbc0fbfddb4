//! Per-account steps: the CloudTrail → CloudWatch Logs role, the log group, the alarm topic, the
//! trail, and the metric filters and alarms. Each reads live state first and writes only what
//! differs.

use trailhead_alarms::catalog::Control;
use trailhead_model::{
    DataEvents, InsightType, NotificationTopic, OrgSpec, ReadWriteType, access_log_bucket_for,
};

use crate::core::session::partition;

pub const ROLE_NAME: &str = "trailhead-cloudtrail-to-cloudwatch-logs";
pub const ROLE_POLICY_NAME: &str = "trailhead-cloudtrail-log-delivery";

pub const STEP_ROLE: &str = "cwl role";
pub const STEP_LOG_GROUP: &str = "log group";
pub const STEP_LOG_GROUP_KEY: &str = "log group key";
pub const STEP_DELIVERY_TOPIC: &str = "delivery topic";
pub const STEP_TOPIC: &str = "alarm topic";
pub const STEP_TRAIL: &str = "trail";
pub const STEP_FILTERS: &str = "metric filters";
pub const STEP_ALARMS: &str = "alarms";

/// The topic a trail notifies of each delivered log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryTopic {
    pub name: String,
    pub arn: String,
    /// One topic in the audit account for every trail, converged with the archive.
    pub central: bool,
}

impl DeliveryTopic {
    /// The spec's topic for `account`'s trail; None without notifications, or for a central
    /// topic when the spec names no audit account (validation refuses that).
    pub fn of(spec: &OrgSpec, account: &str) -> Option<Self> {
        let n = spec.trail.notifications.as_ref()?;
        let region = &spec.org.home_region;
        let owner = match n.topic {
            NotificationTopic::Member => account.to_string(),
            NotificationTopic::Audit => spec.log_archive.security_account.as_ref()?.to_string(),
        };
        let name = n.topic_name.value.clone();
        Some(DeliveryTopic {
            arn: format!("arn:{}:sns:{region}:{owner}:{name}", partition(region)),
            name,
            central: n.topic == NotificationTopic::Audit,
        })
    }
}

/// What one account must look like.
#[derive(Debug, Clone)]
pub struct Desired {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub trail_name: String,
    pub multi_region: bool,
    pub global_events: bool,
    pub log_file_validation: bool,
    pub read_write: ReadWriteType,
    pub data_events: DataEvents,
    pub insights: Vec<InsightType>,
    pub bucket: String,
    pub key_arn: String,
    pub log_group: String,
    pub log_retention_days: i32,
    pub log_group_kms_alias: Option<String>,
    pub topic_name: String,
    pub emails: Vec<String>,
    pub delivery_topic: Option<DeliveryTopic>,
    pub controls: Vec<Control>,
}

impl Desired {
    pub fn new(
        spec: &OrgSpec,
        account: &str,
        bucket: &str,
        key_arn: &str,
        controls: &[Control],
    ) -> Self {
        let region = spec.org.home_region.clone();
        Desired {
            partition: partition(&region).to_string(),
            account: account.to_string(),
            trail_name: spec.trail.name.clone(),
            multi_region: spec.trail.multi_region,
            global_events: spec.trail.include_global_service_events,
            log_file_validation: spec.trail.log_file_validation,
            read_write: spec.trail.management_events,
            data_events: spec.trail.data_events.clone(),
            insights: spec.trail.insights.clone(),
            bucket: bucket.to_string(),
            key_arn: key_arn.to_string(),
            log_group: spec.trail.log_group_name.clone(),
            log_retention_days: spec.trail.cloudwatch_logs_retention_days,
            log_group_kms_alias: spec.trail.log_group_kms_alias.clone(),
            topic_name: spec.alarms.sns_topic_name.clone(),
            emails: spec.alarms.emails.clone(),
            delivery_topic: DeliveryTopic::of(spec, account),
            controls: controls.to_vec(),
            region,
        }
    }

    pub fn trail_ref(&self) -> trailhead_policies::TrailRef {
        trailhead_policies::TrailRef {
            account: self.account.clone(),
            region: self.region.clone(),
            name: self.trail_name.clone(),
        }
    }

    /// The advanced event selectors the trail needs, or None when basic ones do.
    pub fn advanced_selectors(&self) -> Option<Vec<crate::resources::selectors::Selector>> {
        let access_logs = access_log_bucket_for(&self.bucket);
        crate::resources::selectors::desired(
            &self.partition,
            self.read_write,
            &self.data_events,
            &[&self.bucket, &access_logs],
        )
    }

    pub fn trail_arn(&self) -> String {
        self.trail_ref().arn(&self.partition)
    }

    pub fn role_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/{ROLE_NAME}",
            self.partition, self.account
        )
    }

    pub fn log_group_arn(&self) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{}:*",
            self.partition, self.region, self.account, self.log_group
        )
    }

    /// The group's own ARN (without the `:*` CloudTrail wants): what the logs service names as
    /// the encryption context of the group's key.
    pub fn log_group_context_arn(&self) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{}",
            self.partition, self.region, self.account, self.log_group
        )
    }

    pub fn topic_arn(&self) -> String {
        format!(
            "arn:{}:sns:{}:{}:{}",
            self.partition, self.region, self.account, self.topic_name
        )
    }
}

#[cfg(test)]
impl Desired {
    /// An account as a default spec wants it, for the resources' compare tests.
    pub(crate) fn example() -> Self {
        Desired {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "111111111111".into(),
            trail_name: "org-trail".into(),
            multi_region: true,
            global_events: true,
            log_file_validation: true,
            read_write: ReadWriteType::All,
            data_events: DataEvents::default(),
            insights: Vec::new(),
            bucket: "archive".into(),
            key_arn: "arn:aws:kms:eu-west-1:222222222222:key/k".into(),
            log_group: "cloudtrail/org".into(),
            log_retention_days: 365,
            log_group_kms_alias: None,
            topic_name: "alarms".into(),
            emails: Vec::new(),
            delivery_topic: None,
            controls: Vec::new(),
        }
    }
}
