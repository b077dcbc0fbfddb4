//! The benchmark's metric filters on the trail's log group, and an alarm on each metric.
//! Every pattern is parsed and checked by our engine before PutMetricFilter.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::types::MetricTransformation;
use trailhead_alarms::catalog::{Control, METRIC_NAMESPACE};
use trailhead_alarms::pattern::parse;

use super::desired::{Desired, STEP_ALARMS, STEP_FILTERS};
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::plan::{Action, Diff, Drift};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Puts in flight per step: the filters and alarms of one account are independent, but
/// PutMetricFilter and PutMetricAlarm have per-account quotas of a few calls a second, so a
/// small batch (retried with backoff when throttled) beats both one-by-one and all-at-once.
const PUTS_AT_ONCE: usize = 5;

/// The puts' per-account, per-region rates on AWS (CloudWatch's PutMetricAlarm quota is 3 TPS;
/// CloudWatch Logs' PutMetricFilter is taken as 5): each put waits its turn at that rate instead
/// of being throttled and backing off for seconds (docs/testing.md, "The AWS profile").
const ALARM_PUTS_PER_SECOND: f64 = 3.0;
const FILTER_PUTS_PER_SECOND: f64 = 5.0;

/// When the `i`-th put of a step may go: a second's worth at once (puts 0 to rate − 1), then
/// one at a time at nine tenths of the rate, so that timing noise and the odd retry stay inside
/// the quota.
fn turn(i: usize, per_second: f64) -> std::time::Duration {
    let paced = (i + 1).saturating_sub(per_second as usize) as f64;
    std::time::Duration::from_secs_f64(paced / (per_second * 0.9))
}

/// Waits for every put; the first failure wins.
async fn drain(
    mut puts: JoinSet<Result<(), crate::core::error::AwsError>>,
) -> Result<(), ProvisionError> {
    let mut first = None;
    while let Some(done) = puts.join_next().await {
        let r = done.map_err(|e| ProvisionError::Config(format!("a put task failed: {e}")))?;
        if let (Err(e), None) = (r, &first) {
            first = Some(e);
        }
    }
    match first {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Every trailhead filter and alarm starts with this, so that stale ones can be found.
pub const PREFIX: &str = "trailhead-";

pub const ALARM_PERIOD: i32 = 300;
pub const ALARM_THRESHOLD: f64 = 1.0;
pub const ALARM_EVALUATION_PERIODS: i32 = 1;
pub const ALARM_MISSING_DATA: &str = "notBreaching";

/// Parses every pattern before anything is sent: a pattern AWS would refuse never leaves here.
pub fn checked(controls: &[Control]) -> Result<(), ProvisionError> {
    for c in controls {
        parse(c.pattern).map_err(|e| {
            ProvisionError::Config(format!(
                "{} {}: pattern rejected before PutMetricFilter: {e}",
                c.benchmark, c.id
            ))
        })?;
    }
    Ok(())
}

/// An alarm as CloudWatch holds it.
#[derive(Debug, Clone)]
pub struct LiveAlarm {
    pub namespace: String,
    pub metric: String,
    pub actions: Vec<String>,
    pub state: String,
}

fn live_alarm(
    site: &CallSite,
    a: &aws_sdk_cloudwatch::types::MetricAlarm,
) -> Result<(String, LiveAlarm), ProvisionError> {
    let name = site.require(a.alarm_name(), "DescribeAlarms", "MetricAlarm.AlarmName")?;
    Ok((
        name.to_string(),
        LiveAlarm {
            namespace: a.namespace().unwrap_or_default().to_string(),
            metric: a.metric_name().unwrap_or_default().to_string(),
            actions: a.alarm_actions().to_vec(),
            state: a
                .state_value()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        },
    ))
}

/// The metric alarms named `names` (100 per call), or every alarm of the account when `None`.
pub async fn read_alarms(
    session: &AccountSession,
    site: &CallSite,
    names: Option<&[String]>,
) -> Result<Vec<(String, LiveAlarm)>, ProvisionError> {
    let cw = session.cloudwatch();
    let requests: Vec<Option<Vec<String>>> = match names {
        Some(names) => names.chunks(100).map(|c| Some(c.to_vec())).collect(),
        None => vec![None],
    };
    let mut out = Vec::new();
    for chunk in requests {
        let mut pages = cw
            .describe_alarms()
            .set_alarm_names(chunk)
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| site.error("DescribeAlarms", e))?;
            for a in page.metric_alarms() {
                out.push(live_alarm(site, a)?);
            }
        }
    }
    Ok(out)
}

/// One metric filter as CloudWatch Logs holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFilter {
    pub name: String,
    pub pattern: String,
    pub namespace: String,
    pub metric: String,
    pub value: String,
}

/// Every filter of a log group (whose names start with `prefix`), all pages; None when the group
/// does not exist, which AWS answers with ResourceNotFoundException rather than an empty list.
pub async fn read_filters(
    session: &AccountSession,
    site: &CallSite,
    group: &str,
    prefix: Option<&str>,
) -> Result<Option<Vec<LiveFilter>>, ProvisionError> {
    let logs = session.logs();
    let mut filters = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = match logs
            .describe_metric_filters()
            .log_group_name(group)
            .set_filter_name_prefix(prefix.map(str::to_string))
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(site.error("DescribeMetricFilters", e).into()),
        };
        for f in page.metric_filters() {
            let t = f.metric_transformations().first();
            filters.push(LiveFilter {
                name: site
                    .require(f.filter_name(), "DescribeMetricFilters", "filterName")?
                    .to_string(),
                pattern: f.filter_pattern().unwrap_or_default().to_string(),
                namespace: t
                    .map(|t| t.metric_namespace().to_string())
                    .unwrap_or_default(),
                metric: t.map(|t| t.metric_name().to_string()).unwrap_or_default(),
                value: t.map(|t| t.metric_value().to_string()).unwrap_or_default(),
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(Some(filters));
        }
    }
}

pub async fn ensure_filters(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    checked(&d.controls)?;
    let site = CallSite::new(&d.account, &d.region, STEP_FILTERS);
    let live: BTreeMap<String, Vec<(&str, String)>> =
        read_filters(session, &site, &d.log_group, Some(PREFIX))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                let fields = vec![
                    ("filter_pattern", f.pattern),
                    ("metric_namespace", f.namespace),
                    ("metric_name", f.metric),
                    ("metric_value", f.value),
                ];
                (f.name, fields)
            })
            .collect();
    let mut drift = Drift::new("metric filters");
    let mut to_put = Vec::new();
    for c in &d.controls {
        let name = c.resource_name();
        let want = vec![
            ("filter_pattern", c.pattern.to_string()),
            ("metric_namespace", METRIC_NAMESPACE.to_string()),
            ("metric_name", c.metric_name.to_string()),
            ("metric_value", "1".to_string()),
        ];
        match live.get(&name) {
            Some(have) => {
                if drift.compare(&name, have, &want) {
                    to_put.push(c);
                }
            }
            None => {
                drift.missing(&name);
                to_put.push(c);
            }
        }
    }
    let wanted: Vec<String> = d.controls.iter().map(Control::resource_name).collect();
    let stale: Vec<&String> = live.keys().filter(|k| !wanted.contains(k)).collect();
    for s in &stale {
        drift.extra(s);
    }
    let diff = drift.into_diff();
    if apply {
        let logs = session.logs();
        let limit = std::sync::Arc::new(Semaphore::new(PUTS_AT_ONCE));
        let mut puts = JoinSet::new();
        for (i, c) in to_put.into_iter().enumerate() {
            let transformation = MetricTransformation::builder()
                .metric_name(c.metric_name)
                .metric_namespace(METRIC_NAMESPACE)
                .metric_value("1")
                .build()
                .map_err(|e| {
                    ProvisionError::Config(format!("cannot build a metric transformation: {e}"))
                })?;
            let call = logs
                .put_metric_filter()
                .log_group_name(&d.log_group)
                .filter_name(c.resource_name())
                .filter_pattern(c.pattern)
                .metric_transformations(transformation);
            let (site, limit) = (site.clone(), limit.clone());
            puts.spawn(async move {
                tokio::time::sleep(turn(i, FILTER_PUTS_PER_SECOND)).await;
                let _permit = limit.acquire().await;
                call.send()
                    .await
                    .map(|_| ())
                    .map_err(|e| site.error("PutMetricFilter", e))
            });
        }
        drain(puts).await?;
        for name in stale {
            logs.delete_metric_filter()
                .log_group_name(&d.log_group)
                .filter_name(name)
                .send()
                .await
                .map_err(|e| site.error("DeleteMetricFilter", e))?;
        }
    }
    Ok(summarize(
        live.len(),
        d.controls.len(),
        "metric_filters",
        diff,
    ))
}

/// A first deployment reads as one line ("metric_filters: 0 → 15"), not fifteen.
fn summarize(live: usize, wanted: usize, what: &str, diff: Diff) -> (Action, Diff) {
    if live == 0 && !diff.is_empty() {
        let mut short = Diff::new();
        short.field(what, 0, wanted);
        (Action::Create, short)
    } else {
        (diff.action(), diff)
    }
}

/// The settings of an alarm that trailhead owns, field by field, so drift names what moved.
type AlarmFields = Vec<(&'static str, String)>;

fn owned_fields(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> AlarmFields {
    vec![
        ("namespace", a.namespace().unwrap_or_default().to_string()),
        (
            "metric_name",
            a.metric_name().unwrap_or_default().to_string(),
        ),
        (
            "statistic",
            a.statistic().map_or("", |s| s.as_str()).to_string(),
        ),
        ("period", a.period().unwrap_or_default().to_string()),
        (
            "comparison_operator",
            a.comparison_operator()
                .map_or("", |c| c.as_str())
                .to_string(),
        ),
        ("threshold", a.threshold().unwrap_or_default().to_string()),
        (
            "evaluation_periods",
            a.evaluation_periods().unwrap_or_default().to_string(),
        ),
        (
            "treat_missing_data",
            a.treat_missing_data().unwrap_or_default().to_string(),
        ),
        ("alarm_actions", a.alarm_actions().join(", ")),
    ]
}

fn wanted_alarm(c: &Control, topic: &str) -> AlarmFields {
    vec![
        ("namespace", METRIC_NAMESPACE.to_string()),
        ("metric_name", c.metric_name.to_string()),
        ("statistic", Statistic::Sum.as_str().to_string()),
        ("period", ALARM_PERIOD.to_string()),
        (
            "comparison_operator",
            ComparisonOperator::GreaterThanOrEqualToThreshold
                .as_str()
                .to_string(),
        ),
        ("threshold", ALARM_THRESHOLD.to_string()),
        ("evaluation_periods", ALARM_EVALUATION_PERIODS.to_string()),
        ("treat_missing_data", ALARM_MISSING_DATA.to_string()),
        ("alarm_actions", topic.to_string()),
    ]
}

pub async fn ensure_alarms(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let site = CallSite::new(&d.account, &d.region, STEP_ALARMS);
    let cw = session.cloudwatch();
    let topic = d.topic_arn();
    let mut live = BTreeMap::new();
    let mut pages = cw
        .describe_alarms()
        .alarm_name_prefix(PREFIX)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.error("DescribeAlarms", e))?;
        for a in page.metric_alarms() {
            let name = site.require(a.alarm_name(), "DescribeAlarms", "MetricAlarm.AlarmName")?;
            live.insert(name.to_string(), owned_fields(a));
        }
    }
    let mut drift = Drift::new("alarms");
    let mut to_put = Vec::new();
    for c in &d.controls {
        let name = c.resource_name();
        let want = wanted_alarm(c, &topic);
        match live.get(&name) {
            Some(have) => {
                if drift.compare(&name, have, &want) {
                    to_put.push(c);
                }
            }
            None => {
                drift.missing(&name);
                to_put.push(c);
            }
        }
    }
    let wanted: Vec<String> = d.controls.iter().map(Control::resource_name).collect();
    let stale: Vec<String> = live
        .keys()
        .filter(|k| !wanted.contains(k))
        .cloned()
        .collect();
    for s in &stale {
        drift.extra(s);
    }
    let diff = drift.into_diff();
    if apply {
        let limit = std::sync::Arc::new(Semaphore::new(PUTS_AT_ONCE));
        let mut puts = JoinSet::new();
        for (i, c) in to_put.into_iter().enumerate() {
            let call = cw
                .put_metric_alarm()
                .alarm_name(c.resource_name())
                .alarm_description(format!("{} {}: {}", c.benchmark, c.id, c.title))
                .namespace(METRIC_NAMESPACE)
                .metric_name(c.metric_name)
                .statistic(Statistic::Sum)
                .period(ALARM_PERIOD)
                .threshold(ALARM_THRESHOLD)
                .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
                .evaluation_periods(ALARM_EVALUATION_PERIODS)
                .treat_missing_data(ALARM_MISSING_DATA)
                .alarm_actions(&topic);
            let (site, limit) = (site.clone(), limit.clone());
            puts.spawn(async move {
                tokio::time::sleep(turn(i, ALARM_PUTS_PER_SECOND)).await;
                let _permit = limit.acquire().await;
                call.send()
                    .await
                    .map(|_| ())
                    .map_err(|e| site.error("PutMetricAlarm", e))
            });
        }
        drain(puts).await?;
        if !stale.is_empty() {
            cw.delete_alarms()
                .set_alarm_names(Some(stale))
                .send()
                .await
                .map_err(|e| site.error("DeleteAlarms", e))?;
        }
    }
    Ok(summarize(live.len(), d.controls.len(), "alarms", diff))
}

#[cfg(test)]
mod pacing_tests {
    use super::*;

    #[test]
    fn puts_go_a_seconds_worth_at_once_then_at_the_rate() {
        let turns: Vec<u128> = (0..7)
            .map(|i| turn(i, ALARM_PUTS_PER_SECOND).as_millis())
            .collect();
        assert_eq!(turns, [0, 0, 0, 370, 740, 1111, 1481]);
        // 15 CIS alarms under 3 a second: the last goes after about 4.4 s, never faster.
        assert_eq!(turn(14, ALARM_PUTS_PER_SECOND).as_millis(), 4444);
    }

    #[test]
    fn no_put_finds_an_empty_token_bucket() {
        // A bucket of `rate` tokens, refilled at `rate` a second: the i-th put takes one.
        for rate in [ALARM_PUTS_PER_SECOND, FILTER_PUTS_PER_SECOND] {
            for i in 0..60 {
                let at = turn(i, rate).as_secs_f64();
                let tokens = rate + rate * at - i as f64;
                assert!(
                    tokens >= 1.0,
                    "put {i} at {rate}/s finds {tokens:.2} tokens"
                );
            }
        }
    }
}
