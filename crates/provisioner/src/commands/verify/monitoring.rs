//! The CIS monitoring controls: each alarm's filter, alarm, action and subscribers, judged
//! against the benchmark's pattern and its own sample events.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::MetricAlarm;
use trailhead_alarms::catalog::Control;
use trailhead_alarms::pattern::{Event as LogEvent, parse};
use trailhead_alarms::samples::samples;
use trailhead_model::Benchmark;

use super::evidence::result;
use super::{ControlResult, Verdict};
use crate::core::RunCtx;
use crate::core::error::CallSite;
use crate::core::session::AccountSession;
use crate::resources::monitoring::read_filters;

/// The alarms whose newest action failed, with AWS's summary: the alarm history is the only
/// place AWS records a topic that refused CloudWatch's publish.
pub(super) async fn failed_alarm_actions(
    session: &AccountSession,
) -> Result<BTreeMap<String, String>, String> {
    let out = session
        .cloudwatch()
        .describe_alarm_history()
        .history_item_type(aws_sdk_cloudwatch::types::HistoryItemType::Action)
        .max_records(100)
        .send()
        .await
        .map_err(|e| crate::core::error::describe(&e).0)?;
    let mut newest: BTreeMap<String, String> = BTreeMap::new();
    // Newest first: the first item of an alarm is its latest action.
    for item in out.alarm_history_items() {
        if let Some(name) = item.alarm_name() {
            newest
                .entry(name.to_string())
                .or_insert_with(|| item.history_summary().unwrap_or_default().to_string());
        }
    }
    newest.retain(|_, summary| summary.starts_with("Failed"));
    Ok(newest)
}

/// A metric filter as read: name, pattern, metric namespace, metric name.
type Filter = (String, String, String, String);

/// One monitoring control: a filter with the benchmark's pattern (exactly, or equivalent on the
/// sample records), an alarm on its metric, and a subscribed topic behind the alarm.
pub(super) async fn monitoring_control(
    session: &AccountSession,
    benchmark: Benchmark,
    control: &Control,
    filters: &[Filter],
    failed_actions: &Result<BTreeMap<String, String>, String>,
) -> ControlResult {
    match judge(session, benchmark, control, filters, failed_actions).await {
        Ok(passed) | Err(passed) => passed,
    }
}

/// [`monitoring_control`], each check returning its verdict early as an `Err`.
async fn judge(
    session: &AccountSession,
    benchmark: Benchmark,
    control: &Control,
    filters: &[Filter],
    failed_actions: &Result<BTreeMap<String, String>, String>,
) -> Result<ControlResult, ControlResult> {
    let ((name, _, namespace, metric), is_exact) = matching_filter(benchmark, control, filters)?;
    let alarm = alarm_with_action(session, control, name, namespace, metric).await?;
    let alarm_name = alarm.alarm_name().unwrap_or_default();
    if let Ok(failed) = failed_actions
        && let Some(summary) = failed.get(alarm_name)
    {
        return Err(result(
            control.id,
            Verdict::Fail,
            format!("alarm {alarm_name}'s last action failed: {summary}"),
        ));
    }
    let topic = alarm.alarm_actions()[0].clone();
    let (subscriptions, pending) = subscriptions(session, control, &topic).await?;
    let how = if is_exact {
        "exact pattern"
    } else {
        "equivalent pattern (not byte-identical)"
    };
    if subscriptions == 0 {
        let pending = if pending > 0 {
            format!(
                " ({pending} pending confirmation: the recipient must follow the link in the mail)"
            )
        } else {
            String::new()
        };
        return Err(result(
            control.id,
            Verdict::Fail,
            format!(
                "filter {name} ({how}) and alarm {alarm_name} exist, but topic {topic} has no confirmed subscription{pending}"
            ),
        ));
    }
    let history = match failed_actions {
        Ok(_) => "no failed action in the alarm history".to_string(),
        Err(e) => format!("alarm history unreadable: {e}"),
    };
    Ok(result(
        control.id,
        Verdict::Pass,
        format!(
            "filter {name} ({how}), alarm {alarm_name} → {topic} with {subscriptions} subscription(s); {history}"
        ),
    ))
}

/// The filter that carries the control's pattern, and whether byte for byte: an equivalent
/// pattern (same verdict on the sample records) passes CIS, not Security Hub.
fn matching_filter<'a>(
    benchmark: Benchmark,
    control: &Control,
    filters: &'a [Filter],
) -> Result<(&'a Filter, bool), ControlResult> {
    let exact = filters.iter().find(|f| f.1 == control.pattern);
    let (positive, negative) = samples(control.topic);
    let (pos, neg) = (positive.to_string(), negative.to_string());
    let equivalent = exact.or_else(|| {
        filters.iter().find(|f| {
            parse(&f.1)
                .is_ok_and(|p| p.matches(&LogEvent::new(&pos)) && !p.matches(&LogEvent::new(&neg)))
        })
    });
    let Some(found) = equivalent else {
        return Err(result(
            control.id,
            Verdict::Fail,
            format!(
                "no metric filter with the {benchmark} pattern for {}",
                control.title
            ),
        ));
    };
    if exact.is_none() && benchmark == Benchmark::SecurityHub {
        return Err(result(
            control.id,
            Verdict::Fail,
            format!(
                "filter {} is equivalent on the sample records but not the exact string Security Hub requires: {}",
                found.0, found.1
            ),
        ));
    }
    Ok((found, exact.is_some()))
}

/// The first alarm on the filter's metric that has an action.
async fn alarm_with_action(
    session: &AccountSession,
    control: &Control,
    filter: &str,
    namespace: &str,
    metric: &str,
) -> Result<MetricAlarm, ControlResult> {
    let alarms = session
        .cloudwatch()
        .describe_alarms_for_metric()
        .metric_name(metric)
        .namespace(namespace)
        .send()
        .await
        .map_err(|e| {
            let why = crate::core::error::describe(&e).0;
            let detail = format!("DescribeAlarmsForMetric failed: {why}");
            result(control.id, Verdict::Unknown, detail)
        })?;
    alarms
        .metric_alarms()
        .iter()
        .find(|a| !a.alarm_actions().is_empty())
        .cloned()
        .ok_or_else(|| {
            let detail =
                format!("filter {filter} has no alarm with an action on {namespace}/{metric}");
            result(control.id, Verdict::Fail, detail)
        })
}

/// The topic's confirmed and pending subscriptions: an email subscription nobody confirmed
/// delivers nothing, and lists as PendingConfirmation.
async fn subscriptions(
    session: &AccountSession,
    control: &Control,
    topic: &str,
) -> Result<(usize, usize), ControlResult> {
    let listed = session
        .sns()
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .map_err(|e| {
            let why = crate::core::error::describe(&e).0;
            let detail = format!("ListSubscriptionsByTopic {topic} failed: {why}");
            result(control.id, Verdict::Unknown, detail)
        })?;
    let pending = listed
        .subscriptions()
        .iter()
        .filter(|s| s.subscription_arn() == Some("PendingConfirmation"))
        .count();
    Ok((listed.subscriptions().len() - pending, pending))
}

pub(super) async fn monitoring_controls(
    ctx: &RunCtx,
    controls: &[Control],
    session: &AccountSession,
    site: &CallSite,
) -> Vec<ControlResult> {
    let group = &ctx.spec.trail.log_group_name;
    let filters = match read_filters(session, site, group, None).await {
        Ok(Some(filters)) => filters,
        Ok(None) => {
            let why = format!("the log group {group} does not exist, so no metric filter does");
            return controls
                .iter()
                .map(|c| result(c.id, Verdict::Fail, why.clone()))
                .collect();
        }
        Err(e) => {
            return controls
                .iter()
                .map(|c| result(c.id, Verdict::Unknown, e.to_string()))
                .collect();
        }
    };
    let filters: Vec<(String, String, String, String)> = filters
        .into_iter()
        .map(|f| (f.name, f.pattern, f.namespace, f.metric))
        .collect();
    let failed_actions = failed_alarm_actions(session).await;
    let mut out = Vec::new();
    for c in controls {
        out.push(
            monitoring_control(
                session,
                ctx.spec.alarms.benchmark,
                c,
                &filters,
                &failed_actions,
            )
            .await,
        );
    }
    out
}
