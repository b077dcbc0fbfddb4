//! AWS's own limits, for the fault injector: a token bucket per account × region × operation at
//! the rate AWS allows, and a latency per call drawn from a per-operation distribution. Over the
//! emulator this makes a rollout wait where it would wait on AWS, and answer throttling with
//! each protocol's real error so that the SDK's retry path runs. Every figure, its source or the
//! word "assumption", is in docs/testing.md ("The AWS profile").

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One operation's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpLimits {
    /// Sustained calls per second, per account and region.
    pub rate: f64,
    /// Calls allowed at once from a full bucket.
    pub burst: f64,
    pub median: Duration,
    /// 99th percentile latency: with the median, it fixes a log-normal distribution.
    pub p99: Duration,
}

const fn limits(rate: f64, burst: f64, median_ms: u64, p99_ms: u64) -> OpLimits {
    OpLimits {
        rate,
        burst,
        median: Duration::from_millis(median_ms),
        p99: Duration::from_millis(p99_ms),
    }
}

/// `signing name:Operation` → limits. The signing name is the credential scope's service
/// (`monitoring` is CloudWatch); S3 operations are keyed by HTTP method.
const TABLE: &[(&str, OpLimits)] = &[
    ("monitoring:PutMetricAlarm", limits(3.0, 3.0, 60, 400)),
    ("monitoring:DescribeAlarms", limits(9.0, 9.0, 50, 300)),
    ("logs:PutMetricFilter", limits(5.0, 5.0, 60, 400)),
    ("logs:DescribeMetricFilters", limits(5.0, 5.0, 50, 300)),
    ("logs:CreateLogGroup", limits(5.0, 5.0, 80, 500)),
    ("logs:DescribeLogGroups", limits(10.0, 10.0, 50, 300)),
    ("logs:PutRetentionPolicy", limits(5.0, 5.0, 60, 400)),
    ("cloudtrail:CreateTrail", limits(1.0, 1.0, 300, 1500)),
    ("cloudtrail:UpdateTrail", limits(1.0, 1.0, 300, 1500)),
    ("cloudtrail:StartLogging", limits(1.0, 1.0, 200, 1000)),
    ("cloudtrail:PutEventSelectors", limits(1.0, 1.0, 200, 1000)),
    ("iam:CreateRole", limits(10.0, 10.0, 150, 800)),
    ("iam:PutRolePolicy", limits(10.0, 10.0, 150, 800)),
    ("sts:AssumeRole", limits(100.0, 100.0, 120, 600)),
    ("kms:CreateKey", limits(5.0, 5.0, 200, 1000)),
];

/// Any operation the table does not name.
const DEFAULT: OpLimits = limits(20.0, 20.0, 60, 400);

#[derive(Debug, Clone, Default)]
pub struct AwsProfile;

impl AwsProfile {
    pub fn limits(&self, operation: &str) -> OpLimits {
        TABLE
            .iter()
            .find(|(op, _)| *op == operation)
            .map_or(DEFAULT, |(_, l)| *l)
    }

    /// The latency of one call, from two uniform draws in (0, 1): log-normal with the
    /// operation's median and 99th percentile (Box–Muller for the normal draw).
    pub fn latency(&self, operation: &str, u1: f64, u2: f64) -> Duration {
        let l = self.limits(operation);
        let median = l.median.as_secs_f64();
        let sigma = (l.p99.as_secs_f64() / median).ln() / Z99;
        let z = (-2.0 * u1.max(1e-12).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        Duration::from_secs_f64(median * (sigma * z).exp())
    }
}

/// The 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326;

/// Token buckets, one per `account/region/operation` key.
#[derive(Debug, Default)]
pub struct Buckets {
    buckets: HashMap<String, (f64, Instant)>,
}

impl Buckets {
    /// Takes a token for `key` at `now`: false when the bucket is empty (AWS would throttle).
    pub fn take(&mut self, key: &str, limits: OpLimits, now: Instant) -> bool {
        let (tokens, last) = self
            .buckets
            .entry(key.to_string())
            .or_insert((limits.burst, now));
        let refilled = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * limits.rate)
            .min(limits.burst);
        *last = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            true
        } else {
            *tokens = refilled;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let mut b = Buckets::default();
        let l = AwsProfile.limits("monitoring:PutMetricAlarm");
        let t0 = Instant::now();
        let first: Vec<bool> = (0..5).map(|_| b.take("a/r/op", l, t0)).collect();
        assert_eq!(first, [true, true, true, false, false]);
        // One second later, three more tokens: the documented 3 TPS.
        let t1 = t0 + Duration::from_secs(1);
        let next: Vec<bool> = (0..4).map(|_| b.take("a/r/op", l, t1)).collect();
        assert_eq!(next, [true, true, true, false]);
        assert!(b.take("other-account/r/op", l, t1), "buckets are per key");
    }

    #[test]
    fn latencies_have_the_table_median_and_tail() {
        let p = AwsProfile;
        let mut draws: Vec<Duration> = (1..1000)
            .map(|i| {
                let u1 = i as f64 / 1000.0;
                let u2 = ((i * 7919) % 1000) as f64 / 1000.0 + 0.0005;
                p.latency("cloudtrail:CreateTrail", u1, u2)
            })
            .collect();
        draws.sort();
        let median = draws[draws.len() / 2].as_millis();
        assert!((200..=450).contains(&median), "median {median} ms");
        assert!(draws[draws.len() - 1] > Duration::from_millis(600));
    }
}
