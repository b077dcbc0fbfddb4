//! Calls that follow a change AWS makes visible only eventually, retried with bounded backoff,
//! and only for the answers AWS documents for that lag; every other error comes back at once.
//!
//! - A new KMS key: "It typically takes less than a few seconds for the change to propagate
//!   … in some cases it can take several minutes. You might get unexpected errors, such as a
//!   NotFoundException or an InvalidStateException … We recommend that you configure a retry
//!   strategy" (KMS developer guide, "AWS KMS eventual consistency"). CloudWatch Logs, handed
//!   such a key, answers `AccessDeniedException: The specified KMS key does not exist or is not
//!   allowed to be used …` (CloudWatch Logs API reference, AssociateKmsKey and CreateLogGroup).
//! - A policy written seconds earlier (a role, the archive bucket or key, the delivery topic):
//!   CloudTrail refuses the trail with the matching `Insufficient…`/`Invalid…` exception until
//!   it is visible (CloudTrail API reference, CreateTrail and UpdateTrail errors).

use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::core::propagation::{Backoff, retry_until};

/// How long a new key's lag is waited out: "in some cases it can take several minutes".
pub const KEY_PROPAGATION_WAIT: Duration = Duration::from_secs(180);

/// How long CloudTrail is given to see a policy written seconds before.
pub const POLICY_PROPAGATION_WAIT: Duration = Duration::from_secs(60);

/// Which answers mean "not visible yet", by error code and message.
pub type Lag = fn(code: &str, message: &str) -> bool;

/// KMS on a key created moments ago.
pub fn new_key(code: &str, _message: &str) -> bool {
    matches!(code, "NotFoundException" | "InvalidStateException")
}

/// KMS on a key that exists and may be new (adopted after a crash, or being deleted): only
/// NotFoundException is lag; InvalidStateException there is the key's real state.
pub fn key_not_found(code: &str, _message: &str) -> bool {
    code == "NotFoundException"
}

/// CloudWatch Logs on a key it cannot see yet; any other AccessDenied is a real refusal.
pub fn logs_key(code: &str, message: &str) -> bool {
    code == "AccessDeniedException" && message.contains("KMS key")
}

/// CloudTrail on a role, bucket, key or topic policy written moments ago.
pub fn trail_policies(code: &str, _message: &str) -> bool {
    matches!(
        code,
        "InvalidCloudWatchLogsRoleArnException"
            | "InvalidCloudWatchLogsLogGroupArnException"
            | "InsufficientS3BucketPolicyException"
            | "InsufficientEncryptionPolicyException"
            | "InsufficientSnsTopicPolicyException"
    )
}

/// Calls `call` until it succeeds, fails with an answer `lag` does not take for the lag, or
/// `bound` has passed since the first attempt.
pub async fn settle<T, E, F, Fut>(
    lag: Lag,
    bound: Duration,
    call: F,
) -> Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let retryable = |e: &SdkError<E, HttpResponse>| {
        e.code()
            .is_some_and(|code| lag(code, e.message().unwrap_or_default()))
    };
    retry_until(Backoff::propagation(bound), Instant::now(), retryable, call).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_answers_are_taken_for_lag() {
        assert!(new_key("NotFoundException", ""));
        assert!(new_key("InvalidStateException", ""));
        assert!(!new_key("AccessDeniedException", ""));
        let logs = "The specified KMS key does not exist or is not allowed to be used with Arn 'arn:aws:logs:…'";
        assert!(logs_key("AccessDeniedException", logs));
        assert!(!logs_key("AccessDeniedException", "User is not authorized"));
        assert!(trail_policies("InsufficientSnsTopicPolicyException", ""));
        assert!(!key_not_found("InvalidStateException", ""));
        assert!(!trail_policies("TrailAlreadyExistsException", ""));
    }
}
