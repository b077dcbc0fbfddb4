//! Per-account AWS access: an assumed role with its own credentials cache, and clients with their
//! own retry partition, so that hundreds of accounts neither re-assume roles through one shared
//! 64-entry cache nor starve each other through one shared retry token bucket.

use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime::client::retries::RetryPartition;
use aws_types::SdkConfig;
use aws_types::region::Region;

use crate::Connection;
use crate::core::counter::CallLog;
use crate::core::propagation::{FirstAttempts, PropagatingAssumeRole, ROLE_PROPAGATION_WAIT};

/// Time for the last AssumeRole of a load (with the SDK's own retries of transient errors)
/// after the propagation wait has run out.
const LOAD_TIMEOUT_MARGIN: Duration = Duration::from_secs(60);

/// What identifies a run to the accounts it touches.
#[derive(Debug, Clone)]
pub struct AccessRole {
    pub role_name: String,
    pub external_id: Option<String>,
    pub session_duration: Duration,
    /// Appears in every STS session name: `trailhead-<run id>`.
    pub run_id: String,
    /// How long AssumeRole's `AccessDenied` is taken for a role still propagating
    /// ([`crate::core::propagation`]).
    pub propagation_wait: Duration,
    /// Shared by every clone for the run: when each account was first tried.
    pub first_attempts: FirstAttempts,
}

impl AccessRole {
    /// The spec's access role under `run_id`, with the default propagation wait.
    pub fn of(access: &trailhead_model::Access, run_id: String) -> Self {
        AccessRole {
            role_name: access.role_name.clone(),
            external_id: access.external_id.clone(),
            session_duration: Duration::from_secs(u64::from(access.session_duration_seconds)),
            run_id,
            propagation_wait: ROLE_PROPAGATION_WAIT,
            first_attempts: FirstAttempts::default(),
        }
    }
}

#[derive(Clone)]
pub struct AccountSession {
    pub account_id: String,
    pub region: String,
    /// The role this session assumed; None for the caller's own credentials.
    via_role: Option<String>,
    config: SdkConfig,
    path_style: bool,
    calls: CallLog,
    step_calls: Vec<CallLog>,
}

impl std::fmt::Debug for AccountSession {
    // Never print the configuration: it holds the credentials provider.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountSession")
            .field("account_id", &self.account_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// The session name STS records for every call of a run.
pub fn session_name(run_id: &str) -> String {
    // STS allows 2–64 of [\w+=,.@-].
    let cleaned: String = run_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c))
        .collect();
    let mut name = format!("trailhead-{cleaned}");
    name.truncate(64);
    name
}

impl AccountSession {
    /// Assumes `role` in `account_id`. Credentials are fetched lazily and refreshed before they
    /// expire; each account has its own cache.
    pub async fn assume(
        conn: &Connection,
        base: &SdkConfig,
        account_id: &str,
        region: &str,
        role: &AccessRole,
        calls: &CallLog,
    ) -> Self {
        Self::assume_narrowed(conn, base, account_id, region, role, None, calls).await
    }

    /// As [`Self::assume`], the session narrowed by an inline session policy (it can only take
    /// permissions away: the drill's denied call uses one that denies everything).
    pub async fn assume_narrowed(
        conn: &Connection,
        base: &SdkConfig,
        account_id: &str,
        region: &str,
        role: &AccessRole,
        session_policy: Option<&str>,
        calls: &CallLog,
    ) -> Self {
        let arn = role_arn(region, account_id, &role.role_name);
        let mut builder = AssumeRoleProvider::builder(arn.clone())
            .session_name(session_name(&role.run_id))
            .session_length(role.session_duration)
            .region(Region::new(region.to_string()))
            .configure(base);
        if let Some(id) = &role.external_id {
            builder = builder.external_id(id);
        }
        if let Some(policy) = session_policy {
            builder = builder.policy(policy);
        }
        let provider = PropagatingAssumeRole::new(
            builder.build().await,
            role.propagation_wait,
            account_id,
            &role.first_attempts,
        );
        // The cache gives up on a load after its timeout: a load may wait out propagation.
        let cache = IdentityCache::lazy()
            .load_timeout(role.propagation_wait + LOAD_TIMEOUT_MARGIN)
            .build();
        let config = base
            .to_builder()
            .region(Region::new(region.to_string()))
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .identity_cache(cache)
            .build();
        AccountSession {
            account_id: account_id.to_string(),
            region: region.to_string(),
            via_role: Some(arn),
            config,
            path_style: conn.is_custom_endpoint(),
            calls: calls.clone(),
            step_calls: Vec::new(),
        }
    }

    /// A session in one account for a command that is not a run (search, backtest, validate):
    /// the connection's configuration for `region`, `role` assumed, calls counted in `calls`.
    pub async fn reach(
        conn: &Connection,
        account_id: &str,
        region: &str,
        role: &AccessRole,
        calls: &CallLog,
    ) -> Self {
        let base = conn.base_config(region).await;
        Self::assume(conn, &base, account_id, region, role, calls).await
    }

    /// The caller's own identity (no role assumed), e.g. the management account.
    pub fn direct(conn: &Connection, base: &SdkConfig, account_id: &str, calls: &CallLog) -> Self {
        AccountSession {
            account_id: account_id.to_string(),
            region: base.region().map(|r| r.to_string()).unwrap_or_default(),
            via_role: None,
            config: base.clone(),
            path_style: conn.is_custom_endpoint(),
            calls: calls.clone(),
            step_calls: Vec::new(),
        }
    }

    /// The same account in another region.
    pub fn in_region(&self, region: &str) -> Self {
        let mut other = self.clone();
        other.region = region.to_string();
        other.config = self
            .config
            .to_builder()
            .region(Region::new(region.to_string()))
            .build();
        other
    }

    /// The same session, also counting its calls into `log` (an account's or a step's own count).
    pub fn counting_into(&self, log: &CallLog) -> Self {
        let mut other = self.clone();
        other.step_calls.push(log.clone());
        other
    }

    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    /// The role this session assumed (its ARN), or None for the caller's own credentials.
    pub fn via_role(&self) -> Option<&str> {
        self.via_role.as_deref()
    }

    fn partition_name(&self, service: &str) -> RetryPartition {
        RetryPartition::new(format!("trailhead-{}-{service}", self.account_id))
    }
}

/// The ARN of a role, in the partition of the region it is used from.
pub fn role_arn(region: &str, account: &str, role_name: &str) -> String {
    format!("arn:{}:iam::{account}:role/{role_name}", partition(region))
}

pub fn partition(region: &str) -> &'static str {
    trailhead_model::rules::partition_of(region)
}

/// One accessor per service: a client with the account's retry partition and the call counter.
macro_rules! clients {
    ($($fn_name:ident => $sdk:ident, $service:literal;)*) => {
        impl AccountSession {
            $(
                pub fn $fn_name(&self) -> $sdk::Client {
                    let conf = $sdk::config::Builder::from(&self.config)
                        .retry_partition(self.partition_name($service))
                        .interceptor(self.calls.interceptor_with(&self.account_id, &self.step_calls))
                        .build();
                    $sdk::Client::from_conf(conf)
                }
            )*
        }
    };
}

clients! {
    sts => aws_sdk_sts, "sts";
    organizations => aws_sdk_organizations, "organizations";
    kms => aws_sdk_kms, "kms";
    iam => aws_sdk_iam, "iam";
    cloudtrail => aws_sdk_cloudtrail, "cloudtrail";
    logs => aws_sdk_cloudwatchlogs, "logs";
    sns => aws_sdk_sns, "sns";
    cloudwatch => aws_sdk_cloudwatch, "cloudwatch";
    glue => aws_sdk_glue, "glue";
    athena => aws_sdk_athena, "athena";
    ec2 => aws_sdk_ec2, "ec2";
}

impl AccountSession {
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .retry_partition(self.partition_name("s3"))
            .interceptor(
                self.calls
                    .interceptor_with(&self.account_id, self.step_calls.as_ref()),
            )
            .force_path_style(self.path_style)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }
}

/// A run id: UTC time to the second plus a short random suffix, sortable and unique enough for
/// one state directory.
pub fn new_run_id() -> String {
    let now = jiff::Timestamp::now();
    let stamp = jiff::tz::TimeZone::UTC
        .to_datetime(now)
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let noise = (now.subsec_nanosecond() as u32) ^ std::process::id().rotate_left(16);
    format!("{stamp}-{:04x}", noise & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_carry_the_run_id_within_sts_limits() {
        assert_eq!(session_name("20261127-abc"), "trailhead-20261127-abc");
        assert_eq!(session_name("a b/c"), "trailhead-abc");
        assert_eq!(session_name(&"x".repeat(100)).len(), 64);
    }
}

#[cfg(test)]
mod partition_tests {
    use super::*;

    #[test]
    fn arns_follow_the_partition_of_the_region() {
        assert_eq!(role_arn("eu-west-1", "1", "R"), "arn:aws:iam::1:role/R");
        assert_eq!(role_arn("cn-north-1", "1", "R"), "arn:aws-cn:iam::1:role/R");
        assert_eq!(
            role_arn("us-gov-west-1", "1", "R"),
            "arn:aws-us-gov:iam::1:role/R"
        );
    }
}
