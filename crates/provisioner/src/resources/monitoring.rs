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
    /// Whether CloudWatch runs the actions (DisableAlarmActions turns them off).
    pub actions_enabled: bool,
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
            actions_enabled: a
                .actions_enabled()
                .ok_or_else(|| site.missing("DescribeAlarms", "MetricAlarm.ActionsEnabled"))?,
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

/// The settings trailhead owns of a filter or an alarm, field by field, so drift names what
/// moved.
type Fields = Vec<(&'static str, String)>;

/// What converging a set of named resources (the filters, or the alarms) does: put the missing
/// and the drifted, delete the stale (ours by name, no longer wanted).
struct SetChanges<'a> {
    diff: Diff,
    put: Vec<&'a Control>,
    stale: Vec<String>,
}

/// The controls' resources as wanted, against the live ones named with our prefix.
fn compare_set<'a>(
    plural: &'static str,
    live: &BTreeMap<String, Fields>,
    controls: &'a [Control],
    want: impl Fn(&Control) -> Fields,
) -> SetChanges<'a> {
    let mut drift = Drift::new(plural);
    let mut put = Vec::new();
    for c in controls {
        let name = c.resource_name();
        match live.get(&name) {
            Some(have) => {
                if drift.compare(&name, have, &want(c)) {
                    put.push(c);
                }
            }
            None => {
                drift.missing(&name);
                put.push(c);
            }
        }
    }
    let wanted: Vec<String> = controls.iter().map(Control::resource_name).collect();
    let stale: Vec<String> = live
        .keys()
        .filter(|k| !wanted.contains(k))
        .cloned()
        .collect();
    for s in &stale {
        drift.extra(s);
    }
    SetChanges {
        diff: drift.into_diff(),
        put,
        stale,
    }
}

fn filter_fields(f: LiveFilter) -> (String, Fields) {
    let fields = vec![
        ("filter_pattern", f.pattern),
        ("metric_namespace", f.namespace),
        ("metric_name", f.metric),
        ("metric_value", f.value),
    ];
    (f.name, fields)
}

fn wanted_filter(c: &Control) -> Fields {
    vec![
        ("filter_pattern", c.pattern.to_string()),
        ("metric_namespace", METRIC_NAMESPACE.to_string()),
        ("metric_name", c.metric_name.to_string()),
        ("metric_value", "1".to_string()),
    ]
}

pub async fn ensure_filters(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    checked(&d.controls)?;
    let site = CallSite::new(&d.account, &d.region, STEP_FILTERS);
    let live: BTreeMap<String, Fields> = read_filters(session, &site, &d.log_group, Some(PREFIX))
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(filter_fields)
        .collect();
    let changes = compare_set("metric filters", &live, &d.controls, wanted_filter);
    if apply {
        write_filters(session, &site, d, &changes).await?;
    }
    Ok(summarize(
        live.len(),
        d.controls.len(),
        "metric_filters",
        changes.diff,
    ))
}

/// Puts the missing and drifted filters at the service's pace, then deletes the stale ones.
async fn write_filters(
    session: &AccountSession,
    site: &CallSite,
    d: &Desired,
    changes: &SetChanges<'_>,
) -> Result<(), ProvisionError> {
    let logs = session.logs();
    let limit = std::sync::Arc::new(Semaphore::new(PUTS_AT_ONCE));
    let mut puts = JoinSet::new();
    for (i, c) in changes.put.iter().enumerate() {
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
    for name in &changes.stale {
        logs.delete_metric_filter()
            .log_group_name(&d.log_group)
            .filter_name(name)
            .send()
            .await
            .map_err(|e| site.error("DeleteMetricFilter", e))?;
    }
    Ok(())
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

fn owned_fields(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> Fields {
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
        // Disabled actions notify nobody (Security Hub CloudWatch.17): drift to put back.
        (
            "actions_enabled",
            a.actions_enabled().unwrap_or(true).to_string(),
        ),
    ]
}

fn wanted_alarm(c: &Control, topic: &str) -> Fields {
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
        ("actions_enabled", true.to_string()),
    ]
}

pub async fn ensure_alarms(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let site = CallSite::new(&d.account, &d.region, STEP_ALARMS);
    let topic = d.topic_arn();
    let mut live = BTreeMap::new();
    let mut pages = session
        .cloudwatch()
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
    let changes = compare_set("alarms", &live, &d.controls, |c| wanted_alarm(c, &topic));
    if apply {
        write_alarms(session, &site, &topic, &changes).await?;
    }
    Ok(summarize(
        live.len(),
        d.controls.len(),
        "alarms",
        changes.diff,
    ))
}

/// Puts the missing and drifted alarms at the service's pace, then deletes the stale ones.
async fn write_alarms(
    session: &AccountSession,
    site: &CallSite,
    topic: &str,
    changes: &SetChanges<'_>,
) -> Result<(), ProvisionError> {
    let cw = session.cloudwatch();
    let limit = std::sync::Arc::new(Semaphore::new(PUTS_AT_ONCE));
    let mut puts = JoinSet::new();
    for (i, c) in changes.put.iter().enumerate() {
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
            .actions_enabled(true)
            .alarm_actions(topic);
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
    if !changes.stale.is_empty() {
        cw.delete_alarms()
            .set_alarm_names(Some(changes.stale.clone()))
            .send()
            .await
            .map_err(|e| site.error("DeleteAlarms", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod compare_tests {
    use trailhead_model::Benchmark;

    use super::*;

    fn controls() -> Vec<Control> {
        trailhead_alarms::catalog::controls(Benchmark::Cis30)
            .into_iter()
            .take(3)
            .collect()
    }

    fn converged(controls: &[Control]) -> BTreeMap<String, Fields> {
        controls
            .iter()
            .map(|c| (c.resource_name(), wanted_filter(c)))
            .collect()
    }

    #[test]
    fn converged_filters_need_no_put_and_no_delete() {
        let controls = controls();
        let changes = compare_set(
            "metric filters",
            &converged(&controls),
            &controls,
            wanted_filter,
        );
        assert!(changes.diff.is_empty() && changes.put.is_empty() && changes.stale.is_empty());
    }

    #[test]
    fn a_drifted_a_missing_and_a_stale_filter_are_each_handled_alone() {
        let controls = controls();
        let mut live = converged(&controls);
        live.remove(&controls[0].resource_name());
        if let Some(fields) = live.get_mut(&controls[1].resource_name()) {
            fields[0].1 = "{ $.eventName = \"Other\" }".into();
        }
        live.insert(format!("{PREFIX}retired"), wanted_filter(&controls[2]));
        let changes = compare_set("metric filters", &live, &controls, wanted_filter);
        let put: Vec<&str> = changes.put.iter().map(|c| c.id).collect();
        assert_eq!(put, [controls[0].id, controls[1].id]);
        assert_eq!(changes.stale, [format!("{PREFIX}retired")]);
        assert_eq!(changes.diff.action(), Action::Update);
    }
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
