//! AssumeRole through IAM's eventual consistency.
//!
//! A role created seconds ago is not assumable yet: STS answers `AccessDenied` until the change
//! has reached every endpoint. AWS: "changes that you make in IAM ... take time to become
//! visible ... typically within seconds" and "we recommend that you do not include such IAM
//! changes in the critical, high-availability code paths" (IAM user guide, troubleshooting,
//! "Changes that I make are not always immediately visible"). So an `AccessDenied` from
//! AssumeRole is retried with backoff for a bounded time ([`ROLE_PROPAGATION_WAIT`]); any other
//! error, and an `AccessDenied` past the bound, is returned as it came.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::{self, ProvideCredentials, future};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// How long an `AccessDenied` from AssumeRole is taken for a role still propagating. IAM
/// changes usually take seconds to be visible; half a minute covers the slow cases without
/// holding a really missing role's account (which fails alone) for long.
pub const ROLE_PROPAGATION_WAIT: Duration = Duration::from_secs(30);

/// The backoff of the retries: the first pause, doubled after each refusal up to `max`, and
/// never past the bound.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    /// How long after the first attempt a refusal is still retried.
    pub bound: Duration,
}

impl Backoff {
    pub fn propagation(bound: Duration) -> Self {
        Backoff {
            first: Duration::from_millis(500),
            max: Duration::from_secs(5),
            bound,
        }
    }
}

/// Calls `attempt` until it succeeds, fails with an error `retryable` does not accept, or the
/// bound (counted from `started`) has passed; the last answer is returned.
pub async fn retry_until<T, E, F, Fut>(
    backoff: Backoff,
    started: Instant,
    retryable: impl Fn(&E) -> bool,
    mut attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = started + backoff.bound;
    let mut pause = backoff.first;
    loop {
        match attempt().await {
            Err(e) if retryable(&e) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(e);
                }
                tokio::time::sleep(pause.min(left)).await;
                pause = (pause * 2).min(backoff.max);
            }
            other => return other,
        }
    }
}

/// Whether an error (or anything in its source chain) is STS refusing AssumeRole with
/// `AccessDenied`: what a role that is still propagating answers.
pub fn is_assume_denied(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(sts) = e.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            return sts.code() == Some("AccessDenied");
        }
        current = e.source();
    }
    false
}

/// When a run first tried to assume its role in each account. The bound counts from there, for
/// the whole run: the preflight, then each step of the account's chain, load credentials one
/// after another when the role is missing, and a missing role must cost its account the bound
/// once, not once per attempt.
#[derive(Debug, Clone, Default)]
pub struct FirstAttempts(Arc<Mutex<HashMap<String, Instant>>>);

impl FirstAttempts {
    /// The first attempt at `account` in this run (now, if this is it).
    pub fn of(&self, account: &str) -> Instant {
        // A panic elsewhere while holding the lock leaves a usable map.
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(account.to_string()).or_insert_with(Instant::now)
    }
}

/// An AssumeRole credentials provider that waits out IAM propagation (see the module docs).
#[derive(Debug, Clone)]
pub struct PropagatingAssumeRole {
    inner: Arc<AssumeRoleProvider>,
    backoff: Backoff,
    account: String,
    first_attempts: FirstAttempts,
}

impl PropagatingAssumeRole {
    pub fn new(
        inner: AssumeRoleProvider,
        bound: Duration,
        account: &str,
        first_attempts: &FirstAttempts,
    ) -> Self {
        PropagatingAssumeRole {
            inner: Arc::new(inner),
            backoff: Backoff::propagation(bound),
            account: account.to_string(),
            first_attempts: first_attempts.clone(),
        }
    }

    async fn credentials(&self) -> provider::Result {
        let started = self.first_attempts.of(&self.account);
        retry_until(
            self.backoff,
            started,
            |e: &provider::error::CredentialsError| is_assume_denied(e),
            || self.inner.provide_credentials(),
        )
        .await
    }
}

impl ProvideCredentials for PropagatingAssumeRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick(bound_ms: u64) -> Backoff {
        Backoff {
            first: Duration::from_millis(1),
            max: Duration::from_millis(4),
            bound: Duration::from_millis(bound_ms),
        }
    }

    #[tokio::test]
    async fn a_refusal_that_clears_within_the_bound_is_waited_out() {
        let tries = AtomicU32::new(0);
        let answer = retry_until(
            quick(60_000),
            Instant::now(),
            |e: &&str| *e == "AccessDenied",
            || async {
                match tries.fetch_add(1, Ordering::SeqCst) {
                    0..=2 => Err("AccessDenied"),
                    _ => Ok("credentials"),
                }
            },
        )
        .await;
        assert_eq!(answer, Ok("credentials"));
        assert_eq!(tries.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn other_errors_are_returned_at_once() {
        let tries = AtomicU32::new(0);
        let answer: Result<(), _> = retry_until(
            quick(60_000),
            Instant::now(),
            |e: &&str| *e == "AccessDenied",
            || async {
                tries.fetch_add(1, Ordering::SeqCst);
                Err("RegionDisabledException")
            },
        )
        .await;
        assert_eq!(answer, Err("RegionDisabledException"));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_refusal_that_lasts_ends_once_the_bound_has_passed() {
        let tries = AtomicU32::new(0);
        let started = Instant::now();
        let answer: Result<(), _> = retry_until(
            quick(50),
            started,
            |e: &&str| *e == "AccessDenied",
            || async {
                tries.fetch_add(1, Ordering::SeqCst);
                Err("AccessDenied")
            },
        )
        .await;
        assert_eq!(answer, Err("AccessDenied"));
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(tries.load(Ordering::SeqCst) >= 2);
    }

    #[test]
    fn the_first_attempt_at_an_account_is_remembered_for_the_run() {
        let attempts = FirstAttempts::default();
        let first = attempts.of("111111111111");
        let shared = attempts.clone();
        assert_eq!(shared.of("111111111111"), first);
        assert!(attempts.of("222222222222") >= first);
    }

    #[tokio::test]
    async fn a_bound_already_spent_makes_one_attempt() {
        let tries = AtomicU32::new(0);
        let long_ago = Instant::now() - Duration::from_secs(60);
        let answer: Result<(), _> = retry_until(
            quick(50),
            long_ago,
            |e: &&str| *e == "AccessDenied",
            || async {
                tries.fetch_add(1, Ordering::SeqCst);
                Err("AccessDenied")
            },
        )
        .await;
        assert_eq!(answer, Err("AccessDenied"));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }
}
