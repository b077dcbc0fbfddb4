//! Counts every AWS call per account and operation, with its attempts and throttles, through an
//! SDK interceptor. Idempotence is asserted with it ("a converged run makes zero writes"), and the
//! rollout reports retries from it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpStats {
    /// Operations started (one per SDK call, whatever its retries).
    pub calls: u64,
    /// HTTP attempts: calls plus retries.
    pub attempts: u64,
    /// Attempts answered with throttling (HTTP 429, 503 SlowDown, or a throttling error code).
    pub throttled: u64,
}

/// Key: (account, "service:Operation").
pub type CallStats = BTreeMap<(String, String), OpStats>;

#[derive(Debug, Clone, Default)]
pub struct CallLog {
    stats: Arc<Mutex<CallStats>>,
}

impl CallLog {
    pub fn new() -> Self {
        CallLog::default()
    }

    /// An interceptor that books calls for `account` into this log.
    pub fn interceptor(&self, account: &str) -> CallCounter {
        CallCounter {
            account: account.into(),
            logs: vec![self.clone()],
        }
    }

    /// Like [`CallLog::interceptor`], also booking into `extra` (per-account and per-step logs).
    pub fn interceptor_with(&self, account: &str, extra: &[CallLog]) -> CallCounter {
        let mut counter = self.interceptor(account);
        counter.logs.extend(extra.iter().cloned());
        counter
    }

    pub fn snapshot(&self) -> CallStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn reset(&self) {
        if let Ok(mut s) = self.stats.lock() {
            s.clear();
        }
    }

    fn update(&self, account: &str, key: String, f: impl Fn(&mut OpStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(s.entry((account.to_string(), key)).or_default());
        }
    }
}

/// Whether an operation only reads. Everything else counts as a write.
pub fn is_read(operation: &str) -> bool {
    let op = operation.rsplit(':').next().unwrap_or(operation);
    [
        "Get", "List", "Describe", "Head", "Lookup", "Search", "Filter",
    ]
    .iter()
    .any(|p| op.starts_with(p))
        || matches!(op, "AssumeRole" | "GetCallerIdentity")
}

/// Totals over a snapshot: (calls, writes, attempts − calls, throttled).
pub fn totals(stats: &CallStats) -> (u64, u64, u64, u64) {
    stats.iter().fold((0, 0, 0, 0), |acc, ((_, op), s)| {
        (
            acc.0 + s.calls,
            acc.1 + if is_read(op) { 0 } else { s.calls },
            acc.2 + s.attempts.saturating_sub(s.calls),
            acc.3 + s.throttled,
        )
    })
}

/// Throttling in every protocol's shape: HTTP 429, S3's 503 SlowDown, a JSON
/// `ThrottlingException` / `TooManyRequestsException`, or a query-protocol `Throttling` code.
fn is_throttle(r: &aws_smithy_runtime_api::client::orchestrator::HttpResponse) -> bool {
    let status = r.status().as_u16();
    if status == 429 || status == 503 {
        return true;
    }
    if status != 400 {
        return false;
    }
    let typed = r
        .headers()
        .get("x-amzn-errortype")
        .is_some_and(|t| t.contains("Throttling") || t.contains("TooManyRequests"));
    typed
        || r.body().bytes().is_some_and(|b| {
            let text = String::from_utf8_lossy(b);
            text.contains("<Code>Throttling</Code>")
                || text.contains("ThrottlingException")
                || text.contains("TooManyRequestsException")
        })
}

#[derive(Debug, Clone)]
pub struct CallCounter {
    account: Arc<str>,
    logs: Vec<CallLog>,
}

impl CallCounter {
    fn update(&self, key: String, f: impl Fn(&mut OpStats)) {
        for log in &self.logs {
            log.update(&self.account, key.clone(), &f);
        }
    }
}

/// When the current attempt of a call started, and which attempt it is: for the `--debug` log.
#[derive(Debug, Clone, Copy)]
struct AttemptClock {
    started: std::time::Instant,
    attempt: u32,
}

impl Storable for AttemptClock {
    type Storer = StoreReplace<Self>;
}

fn key(cfg: &ConfigBag) -> String {
    match cfg.load::<Metadata>() {
        Some(m) => format!("{}:{}", m.service(), m.name()),
        None => "unknown:unknown".into(),
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "trailhead::CallCounter"
    }

    // Not `read_before_execution`: client-level interceptors run that before the operation's
    // metadata is in the config bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.update(key(cfg), |s| s.calls += 1);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.update(key(cfg), |s| s.attempts += 1);
        let attempt = cfg.load::<AttemptClock>().map_or(1, |c| c.attempt + 1);
        cfg.interceptor_state().store_put(AttemptClock {
            started: std::time::Instant::now(),
            attempt,
        });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let throttled = context.response().is_some_and(is_throttle);
        if throttled {
            self.update(key(cfg), |s| s.throttled += 1);
        }
        // Names and numbers only: never a header, a body or a credential.
        if tracing::enabled!(target: "trailhead::aws", tracing::Level::DEBUG) {
            let clock = cfg.load::<AttemptClock>();
            tracing::debug!(
                target: "trailhead::aws",
                call = %key(cfg),
                account = %self.account,
                region = %cfg.load::<aws_types::region::Region>().map_or("", |r| r.as_ref()),
                status = context.response().map_or(0, |r| r.status().as_u16()),
                latency_ms = clock.map_or(0, |c| c.started.elapsed().as_millis() as u64),
                attempt = clock.map_or(1, |c| c.attempt),
                throttled,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        assert!(is_read("S3:GetBucketPolicy"));
        assert!(is_read("CloudTrail:DescribeTrails"));
        assert!(is_read("STS:AssumeRole"));
        assert!(!is_read("S3:PutBucketPolicy"));
        assert!(!is_read("CloudTrail:StartLogging"));
    }
}
