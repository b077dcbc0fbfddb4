use std::fmt;
use std::ops::Range;

use crate::{AlarmVariant, Benchmark};

/// A value with the byte range it came from, so that checks across fields can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> Located<T> {
    pub fn new(value: T, span: Range<usize>) -> Self {
        Located { value, span }
    }
}

/// A 12-digit AWS account id. Constructed only through validation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Accepts exactly 12 ASCII digits.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())).then(|| AccountId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The whole org spec, validated.
#[derive(Debug, Clone)]
pub struct OrgSpec {
    pub org: Org,
    pub access: Access,
    pub log_archive: LogArchive,
    pub trail: Trail,
    pub alarms: Alarms,
    pub accounts: Vec<Account>,
    pub discover: Option<Discover>,
    pub waves: Vec<Wave>,
    pub rollout: RolloutSettings,
    /// `[athena]`: query the archive with Athena; None when the spec has no such table.
    pub athena: Option<crate::athena::Athena>,
}

#[derive(Debug, Clone)]
pub struct Org {
    pub name: String,
    pub management_account: AccountId,
    pub home_region: String,
    /// Regions the trails must cover. The home region is always among them.
    pub regions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Access {
    pub role_name: String,
    /// Passed to AssumeRole when set; never printed.
    pub external_id: Option<String>,
    pub session_duration_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogArchiveAccount {
    Existing(AccountId),
    Create { name: String, email: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectLockMode {
    Governance,
    Compliance,
}

impl ObjectLockMode {
    pub fn as_aws_str(self) -> &'static str {
        match self {
            ObjectLockMode::Governance => "GOVERNANCE",
            ObjectLockMode::Compliance => "COMPLIANCE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectLock {
    pub mode: ObjectLockMode,
    pub days: u32,
}

#[derive(Debug, Clone)]
pub struct LogArchive {
    pub account: LogArchiveAccount,
    /// Template with `{org}`, `{account_id}` and `{region}` placeholders.
    pub bucket_name_template: String,
    /// Days after which log objects expire; None keeps them for good (required with MFA Delete,
    /// which S3 does not allow beside a lifecycle configuration).
    pub retention_days: Option<u32>,
    /// Days after which noncurrent versions expire; None keeps them.
    pub noncurrent_retention_days: Option<u32>,
    pub access_log_retention_days: u32,
    pub mfa_delete: bool,
    pub object_lock: Option<ObjectLock>,
    pub kms_alias: String,
    /// A security/audit account whose principals may read (decrypt) the logs.
    pub security_account: Option<AccountId>,
}

impl LogArchive {
    /// The archive bucket's lifecycle: (expiry days, noncurrent expiry days), or None for no
    /// lifecycle configuration at all.
    pub fn lifecycle(&self) -> Option<(u32, Option<u32>)> {
        self.retention_days
            .map(|days| (days, self.noncurrent_retention_days))
    }

    /// The archive bucket name once the log-archive account id is known.
    pub fn bucket_name(&self, org: &Org, account_id: &str) -> String {
        expand_template(
            &self.bucket_name_template,
            &org.name,
            account_id,
            &org.home_region,
        )
    }

    /// The bucket that receives the archive bucket's server access logs.
    pub fn access_log_bucket_name(&self, org: &Org, account_id: &str) -> String {
        access_log_bucket_for(&self.bucket_name(org, account_id))
    }
}

/// The access-log bucket is named after the archive bucket; the suffix keeps it within 63
/// characters because validation reserves room for it.
pub fn access_log_bucket_for(archive_bucket: &str) -> String {
    format!("{archive_bucket}-access-logs")
}

pub(crate) const ACCESS_LOG_SUFFIX_LEN: usize = "-access-logs".len();

pub(crate) fn expand_template(template: &str, org: &str, account_id: &str, region: &str) -> String {
    template
        .replace("{org}", org)
        .replace("{account_id}", account_id)
        .replace("{region}", region)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadWriteType {
    All,
    ReadOnly,
    WriteOnly,
}

impl ReadWriteType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "All" => Some(ReadWriteType::All),
            "ReadOnly" => Some(ReadWriteType::ReadOnly),
            "WriteOnly" => Some(ReadWriteType::WriteOnly),
            _ => None,
        }
    }

    pub fn as_aws_str(self) -> &'static str {
        match self {
            ReadWriteType::All => "All",
            ReadWriteType::ReadOnly => "ReadOnly",
            ReadWriteType::WriteOnly => "WriteOnly",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Trail {
    pub name: String,
    pub multi_region: bool,
    pub include_global_service_events: bool,
    pub log_file_validation: bool,
    pub management_events: ReadWriteType,
    pub log_group_name: String,
    pub cloudwatch_logs_retention_days: i32,
    /// The alias of the customer managed key that encrypts the log group in each account; None
    /// leaves the group under CloudWatch Logs' own encryption.
    pub log_group_kms_alias: Option<String>,
    pub data_events: DataEvents,
    /// CloudTrail Insights types; empty keeps Insights off (it is charged per event analysed).
    pub insights: Vec<InsightType>,
    /// What to do beside an organization trail made outside trailhead.
    pub organization_trail: OrganizationTrailMode,
    /// An SNS topic CloudTrail notifies on every log file it delivers; None sends none.
    pub notifications: Option<DeliveryNotifications>,
}

/// Where log-file delivery notifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationTopic {
    /// A topic in each account, for that account's trail.
    Member,
    /// One topic in the audit account (`[log_archive] security_account_id`) for every trail.
    Audit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryNotifications {
    pub topic: NotificationTopic,
    pub topic_name: Located<String>,
}

/// Accounts an existing organization trail already records: per-account trails anyway (their
/// CIS alarms need a log group in each account), or none there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OrganizationTrailMode {
    #[default]
    KeepPerAccount,
    SkipCovered,
}

impl OrganizationTrailMode {
    pub const NAMES: [&'static str; 2] = ["keep-per-account", "skip-covered"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "keep-per-account" => Some(OrganizationTrailMode::KeepPerAccount),
            "skip-covered" => Some(OrganizationTrailMode::SkipCovered),
            _ => None,
        }
    }
}

/// Object-level and function-level events, recorded through advanced event selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataEvents {
    /// S3 object events to record; None records none.
    pub s3: Option<ReadWriteType>,
    /// ARN prefixes (`arn:aws:s3:::bucket/` or `arn:aws:s3:::bucket/prefix`) the S3 events are
    /// limited to; empty means every bucket. The archive and access-log buckets are always left
    /// out, whatever is listed: a trail recording its own deliveries feeds itself.
    pub s3_bucket_arns: Vec<String>,
    /// Lambda Invoke events of every function.
    pub lambda: bool,
}

impl DataEvents {
    pub fn any(&self) -> bool {
        self.s3.is_some() || self.lambda
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InsightType {
    ApiCallRate,
    ApiErrorRate,
}

impl InsightType {
    pub const ALL: [InsightType; 2] = [InsightType::ApiCallRate, InsightType::ApiErrorRate];

    pub fn as_aws_str(self) -> &'static str {
        match self {
            InsightType::ApiCallRate => "ApiCallRateInsight",
            InsightType::ApiErrorRate => "ApiErrorRateInsight",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_aws_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Alarms {
    pub benchmark: Benchmark,
    /// Control ids of the benchmark that are not deployed.
    pub exclude: Vec<String>,
    pub sns_topic_name: String,
    pub emails: Vec<String>,
    /// Also deploy the extended set (detections beyond CIS; `alarms list --benchmark extended`).
    pub extended: bool,
    /// Published alternatives deployed in place of the benchmark's own patterns.
    pub variants: Vec<AlarmVariant>,
}

/// A member account listed in the spec: by id, or by name/email to be looked up.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Option<Located<AccountId>>,
    pub name: Option<Located<String>>,
    pub email: Option<Located<String>>,
    pub ou: Option<Located<String>>,
    pub span: Range<usize>,
}

impl Account {
    /// The best human label: name, else id, else email.
    pub fn label(&self) -> String {
        self.name
            .as_ref()
            .map(|n| n.value.clone())
            .or_else(|| self.id.as_ref().map(|i| i.value.to_string()))
            .or_else(|| self.email.as_ref().map(|e| e.value.clone()))
            .unwrap_or_default()
    }
}

/// Organizational units whose accounts are discovered from Organizations at run time.
#[derive(Debug, Clone)]
pub struct Discover {
    pub ous: Vec<Located<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaveMember {
    AccountId(AccountId),
    AccountName(String),
    Ou(String),
}

impl fmt::Display for WaveMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaveMember::AccountId(id) => write!(f, "{id}"),
            WaveMember::AccountName(n) => write!(f, "{n}"),
            WaveMember::Ou(ou) => write!(f, "ou:{ou}"),
        }
    }
}

/// How many failed accounts a wave may have before the rollout stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    Count(u32),
    Percent(u32),
}

impl Tolerance {
    /// The largest number of failures still tolerated in a wave of `size` accounts.
    pub fn allowed_failures(self, size: usize) -> usize {
        match self {
            Tolerance::Count(n) => n as usize,
            Tolerance::Percent(p) => size * p as usize / 100,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Wave {
    pub name: Located<String>,
    pub members: Vec<Located<WaveMember>>,
    /// Where `members` is written (the wave's header when it is not).
    pub members_span: Range<usize>,
    pub max_concurrency: u32,
    pub failure_tolerance: Tolerance,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct RolloutSettings {
    /// A cap on accounts in flight across the whole run, whatever the waves allow.
    pub max_concurrency: u32,
    /// The management account gets its trail and alarms too (root activity and Organizations
    /// changes happen there), reached with the caller's own credentials: it has no access role.
    pub include_management_account: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_is_exactly_twelve_digits() {
        assert!(AccountId::parse("123456789012").is_some());
        assert!(AccountId::parse("12345678901").is_none());
        assert!(AccountId::parse("1234567890123").is_none());
        assert!(AccountId::parse("12345678901a").is_none());
    }

    #[test]
    fn percent_tolerance_rounds_down() {
        assert_eq!(Tolerance::Percent(10).allowed_failures(25), 2);
        assert_eq!(Tolerance::Percent(0).allowed_failures(25), 0);
        assert_eq!(Tolerance::Count(3).allowed_failures(1), 3);
    }
}
