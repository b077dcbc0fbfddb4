//! Following one drilled event through the chain an alarm depends on, link by link:
//! 1 the archive (a log file read back and decrypted), 2 the log group, 3 a metric data point,
//! 4 the alarm in ALARM, 5 its action executed, 6 a confirmed subscriber. Each link is judged
//! from AWS's own records (object times, ingestion times, alarm history), never assumed.

use std::collections::BTreeSet;

use aws_sdk_cloudwatch::types::{HistoryItemType, Statistic};
use aws_smithy_types::DateTime;
use jiff::Timestamp;
use serde_json::Value;
use trailhead_alarms::catalog::Control;
use trailhead_alarms::pattern::{Event, Pattern, parse};

use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::resources::monitoring::{LiveAlarm, LiveFilter};

pub const LINKS: [&str; 6] = [
    "archive",
    "log group",
    "metric",
    "alarm",
    "action",
    "subscriber",
];

/// One alarm being followed.
pub struct Watch {
    pub control: Control,
    pub alarm_name: String,
    /// The catalog's pattern: what the event must look like to be the one the alarm watches.
    pattern: Option<Pattern>,
    pub filter: Option<LiveFilter>,
    pub alarm: Option<LiveAlarm>,
    /// When the probe made its change.
    pub at: Timestamp,
    /// Seconds from the change to each link, once seen.
    pub seen: [Option<f64>; 6],
    /// A link known to be broken (1-based), with the evidence.
    pub broken: Option<(usize, String)>,
}

impl Watch {
    pub fn new(
        control: Control,
        filter: Option<LiveFilter>,
        alarm: Option<LiveAlarm>,
        at: Timestamp,
    ) -> Self {
        let alarm_name = control.resource_name();
        let broken = setup_break(&control, filter.as_ref(), alarm.as_ref());
        Watch {
            pattern: parse(control.pattern).ok(),
            control,
            alarm_name,
            filter,
            alarm,
            at,
            seen: [None; 6],
            broken,
        }
    }

    /// The first link not seen yet (1-based), if any.
    pub fn first_unseen(&self) -> Option<usize> {
        self.seen.iter().position(Option::is_none).map(|i| i + 1)
    }

    /// Nothing more can be learned: every link seen, or the known break reached.
    pub fn done(&self) -> bool {
        match (self.first_unseen(), &self.broken) {
            (None, _) => true,
            (Some(k), Some((b, _))) => k >= *b,
            _ => false,
        }
    }

    fn mark(&mut self, link: usize, at: Timestamp) {
        if self.seen[link - 1].is_none() {
            let secs = at.duration_since(self.at).as_secs_f64().max(0.0);
            self.seen[link - 1] = Some(secs);
        }
    }

    /// A link cannot come after the next one: the data point existed when the alarm changed,
    /// even if the poll that saw it came later (links 3 and 6 are seen when polled, not stamped).
    fn order_latencies(&mut self) {
        for i in (0..self.seen.len() - 1).rev() {
            if let (Some(this), Some(next)) = (self.seen[i], self.seen[i + 1]) {
                self.seen[i] = Some(this.min(next));
            }
        }
    }

    /// Whether the catalog's pattern matches the event.
    fn catches(&self, event: &Event) -> bool {
        self.pattern.as_ref().is_some_and(|p| p.matches(event))
    }
}

/// Whether a record is the drill's own: made by its STS session, or naming its resources.
fn by_us(record: &Value, session_name: &str, marker: &str) -> bool {
    record["userIdentity"]["arn"]
        .as_str()
        .is_some_and(|a| a.ends_with(&format!("/{session_name}")))
        || record["requestParameters"].to_string().contains(marker)
}

/// What can be told before any event arrives: a missing filter breaks link 3, an alarm that
/// watches another metric than the filter puts breaks link 4.
fn setup_break(
    control: &Control,
    filter: Option<&LiveFilter>,
    alarm: Option<&LiveAlarm>,
) -> Option<(usize, String)> {
    let name = control.resource_name();
    let Some(filter) = filter else {
        return Some((3, format!("no metric filter {name} on the log group")));
    };
    let Some(alarm) = alarm else {
        return Some((4, format!("no alarm {name}")));
    };
    if (alarm.namespace.as_str(), alarm.metric.as_str())
        != (filter.namespace.as_str(), filter.metric.as_str())
    {
        return Some((
            4,
            format!(
                "alarm {name} watches {}/{}, but the filter puts {}/{}",
                alarm.namespace, alarm.metric, filter.namespace, filter.metric
            ),
        ));
    }
    if alarm.actions.is_empty() {
        return Some((5, format!("alarm {name} has no action")));
    }
    None
}

/// Where to look and who "we" are.
pub struct ChainCtx<'a> {
    pub member: &'a AccountSession,
    pub archive: &'a AccountSession,
    pub bucket: &'a str,
    pub log_group: &'a str,
    /// The STS session name of every call the drill made.
    pub session_name: &'a str,
    /// What every resource name of the drill starts with.
    pub marker: &'a str,
    pub site: CallSite,
}

/// Archive keys already read, so that each poll reads only new files, and the last error met
/// while looking at links 1 and 2 (an unreadable archive is evidence, not silence).
#[derive(Default)]
pub struct Seen {
    keys: BTreeSet<String>,
    errors: [Option<String>; 2],
}

impl Seen {
    /// The last error met while looking for `link` (1-based), if any.
    pub fn error(&self, link: usize) -> Option<&str> {
        self.errors
            .get(link.wrapping_sub(1))
            .and_then(|e| e.as_deref())
    }
}

/// One round of looking at every link not yet seen.
pub async fn poll(c: &ChainCtx<'_>, watches: &mut [Watch], read: &mut Seen) {
    let open: Vec<usize> = (0..watches.len()).filter(|&i| !watches[i].done()).collect();
    if open.is_empty() {
        return;
    }
    let since = open
        .iter()
        .map(|&i| watches[i].at)
        .min()
        .unwrap_or_else(Timestamp::now);
    if open.iter().any(|&i| watches[i].seen[0].is_none()) {
        let outcome = archive_link(c, watches, read, since).await;
        read.errors[0] = outcome.err().map(|e| e.to_string());
    }
    if open.iter().any(|&i| watches[i].seen[1].is_none()) {
        let outcome = log_group_link(c, watches, since).await;
        read.errors[1] = outcome.err().map(|e| e.to_string());
    }
    for i in open {
        let w = &mut watches[i];
        if w.seen[2].is_none() {
            metric_link(c, w).await;
        }
        if w.seen[3].is_none() || w.seen[4].is_none() {
            history_links(c, w).await;
        }
        if w.seen[4].is_some() && w.seen[5].is_none() && w.broken.is_none() {
            subscriber_link(c, w).await;
        }
        w.order_latencies();
    }
}

async fn archive_link(
    c: &ChainCtx<'_>,
    watches: &mut [Watch],
    read: &mut Seen,
    since: Timestamp,
) -> Result<(), ProvisionError> {
    let s3 = c.archive.s3();
    let day = jiff::tz::TimeZone::UTC.to_datetime(since).date();
    let mut regions = vec![c.member.region.clone()];
    if c.member.region != "us-east-1" {
        // Global services (IAM, Organizations) are delivered with us-east-1's files.
        regions.push("us-east-1".into());
    }
    for region in regions {
        let prefix = crate::reading::archive::day_prefix(&c.member.account_id, &region, day);
        let objects =
            crate::reading::archive::list_window_prefix(&s3, &c.site, c.bucket, &prefix).await?;
        for (key, modified) in objects {
            if modified < since.as_second() - 1 || !read.keys.insert(key.clone()) {
                continue;
            }
            let text = crate::reading::archive::fetch_log(&s3, &c.site, c.bucket, &key).await?;
            let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let arrived = Timestamp::from_second(modified).unwrap_or_else(|_| Timestamp::now());
            for record in doc["Records"].as_array().into_iter().flatten() {
                if !by_us(record, c.session_name, c.marker) {
                    continue;
                }
                let text = record.to_string();
                let event = Event::new(&text);
                for w in watches.iter_mut() {
                    if w.seen[0].is_none() && w.catches(&event) {
                        w.mark(1, arrived.max(w.at));
                    }
                }
            }
        }
    }
    Ok(())
}

async fn log_group_link(
    c: &ChainCtx<'_>,
    watches: &mut [Watch],
    since: Timestamp,
) -> Result<(), ProvisionError> {
    let logs = c.member.logs();
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .filter_log_events()
            .log_group_name(c.log_group)
            .start_time(since.as_millisecond() - 5_000)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| c.site.error("FilterLogEvents", e))?;
        for event in page.events() {
            let message = event.message().unwrap_or_default();
            let Ok(record) = serde_json::from_str::<Value>(message) else {
                continue;
            };
            if !by_us(&record, c.session_name, c.marker) {
                continue;
            }
            let ingested = event
                .ingestion_time()
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                .unwrap_or_else(Timestamp::now);
            let matched = Event::new(message);
            for w in watches.iter_mut() {
                if w.seen[1].is_none() && w.catches(&matched) {
                    w.mark(2, ingested.max(w.at));
                }
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(());
        }
    }
}

fn aws_time(t: Timestamp) -> DateTime {
    DateTime::from_millis(t.as_millisecond())
}

async fn metric_link(c: &ChainCtx<'_>, w: &mut Watch) {
    let Some(filter) = &w.filter else { return };
    let now = Timestamp::now();
    let out = c
        .member
        .cloudwatch()
        .get_metric_statistics()
        .namespace(&filter.namespace)
        .metric_name(&filter.metric)
        .start_time(DateTime::from_secs(w.at.as_second() - 120))
        .end_time(DateTime::from_secs(now.as_second() + 120))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await;
    let counted = out.is_ok_and(|o| {
        o.datapoints().iter().any(|d| {
            d.sum().unwrap_or(0.0) > 0.0
                && d.timestamp()
                    .is_some_and(|t| t.secs() >= w.at.as_second() - 60)
        })
    });
    if counted {
        w.mark(3, now);
    }
}

async fn history_links(c: &ChainCtx<'_>, w: &mut Watch) {
    let out = c
        .member
        .cloudwatch()
        .describe_alarm_history()
        .alarm_name(&w.alarm_name)
        .start_date(aws_time(w.at))
        .max_records(100)
        .send()
        .await;
    let Ok(out) = out else { return };
    let mut items: Vec<_> = out.alarm_history_items().to_vec();
    items.sort_by_key(|i| i.timestamp().map(|t| t.as_nanos()).unwrap_or(0));
    for item in items {
        let when = item
            .timestamp()
            .and_then(|t| Timestamp::from_millisecond(t.to_millis().unwrap_or(0)).ok())
            .unwrap_or_else(Timestamp::now);
        let summary = item.history_summary().unwrap_or_default();
        match item.history_item_type() {
            Some(HistoryItemType::StateUpdate) if summary.ends_with("to ALARM") => {
                w.mark(4, when.max(w.at));
            }
            Some(HistoryItemType::Action) if w.seen[3].is_some() => {
                if summary.starts_with("Successfully executed action") {
                    w.mark(5, when.max(w.at));
                } else if w.seen[4].is_none() && w.broken.is_none() {
                    w.broken = Some((5, summary.to_string()));
                }
            }
            _ => {}
        }
    }
}

async fn subscriber_link(c: &ChainCtx<'_>, w: &mut Watch) {
    let Some(topic) = w.alarm.as_ref().and_then(|a| a.actions.first()).cloned() else {
        return;
    };
    let out = c
        .member
        .sns()
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await;
    let Ok(out) = out else { return };
    let pending = out
        .subscriptions()
        .iter()
        .filter(|s| s.subscription_arn() == Some("PendingConfirmation"))
        .count();
    let confirmed = out.subscriptions().len() - pending;
    if confirmed > 0 {
        w.mark(6, Timestamp::now());
    } else {
        w.broken = Some((
            6,
            format!(
                "topic {topic} has no confirmed subscription ({pending} pending confirmation): \
                 the notification reached nobody"
            ),
        ));
    }
}

/// The evidence for a link that was never seen before the deadline.
pub fn timeout_evidence(c: &ChainCtx<'_>, w: &Watch, link: usize, waited: f64) -> String {
    let name = &w.alarm_name;
    match link {
        1 => format!(
            "no log file in s3://{}/AWSLogs/{}/CloudTrail/ held the event after {waited:.0} s",
            c.bucket, c.member.account_id
        ),
        2 => format!(
            "the event did not reach log group {} within {waited:.0} s",
            c.log_group
        ),
        3 => format!(
            "no data point on {} within {waited:.0} s",
            w.filter
                .as_ref()
                .map(|f| format!("{}/{}", f.namespace, f.metric))
                .unwrap_or_default()
        ),
        4 => match w.alarm.as_ref() {
            Some(a) if a.state == "ALARM" => format!(
                "alarm {name} was already in ALARM, so it could not change state: wait for OK and drill again"
            ),
            _ => format!("alarm {name} did not reach ALARM within {waited:.0} s"),
        },
        5 => format!("alarm {name} reached ALARM but no action was executed within {waited:.0} s"),
        _ => format!("no confirmed subscriber was found within {waited:.0} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailhead_alarms::catalog::controls;
    use trailhead_model::Benchmark;

    fn vpc_control() -> Control {
        controls(Benchmark::Cis30)
            .into_iter()
            .find(|c| c.id == "4.14")
            .unwrap_or_else(|| panic!("CIS 3.0 has 4.14"))
    }

    fn filter(metric: &str) -> LiveFilter {
        LiveFilter {
            name: vpc_control().resource_name(),
            pattern: vpc_control().pattern.to_string(),
            namespace: "CISBenchmark".into(),
            metric: metric.into(),
            value: "1".into(),
        }
    }

    fn alarm(metric: &str, actions: &[&str]) -> LiveAlarm {
        LiveAlarm {
            namespace: "CISBenchmark".into(),
            metric: metric.into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            actions_enabled: true,
            state: "OK".into(),
        }
    }

    #[test]
    fn what_is_missing_before_any_event_names_its_link() {
        let at = Timestamp::now();
        let topic = ["arn:aws:sns:eu-west-1:111111111111:alarms"];
        let no_filter = Watch::new(vpc_control(), None, Some(alarm("VPCChanges", &topic)), at);
        assert_eq!(no_filter.broken.map(|b| b.0), Some(3));
        let other_metric = Watch::new(
            vpc_control(),
            Some(filter("VPCChanges")),
            Some(alarm("Other", &topic)),
            at,
        );
        assert!(
            other_metric
                .broken
                .as_ref()
                .is_some_and(|(k, why)| *k == 4 && why.contains("Other"))
        );
        let silent = Watch::new(
            vpc_control(),
            Some(filter("VPCChanges")),
            Some(alarm("VPCChanges", &[])),
            at,
        );
        assert_eq!(silent.broken.map(|b| b.0), Some(5));
        let sound = Watch::new(
            vpc_control(),
            Some(filter("VPCChanges")),
            Some(alarm("VPCChanges", &topic)),
            at,
        );
        assert!(sound.broken.is_none() && !sound.done());
    }

    #[test]
    fn a_link_seen_late_by_the_poll_is_not_later_than_the_next_one() {
        let mut w = Watch::new(
            vpc_control(),
            Some(filter("VPCChanges")),
            None,
            Timestamp::now(),
        );
        w.seen = [Some(1.0), Some(2.0), Some(9.0), Some(4.0), Some(4.0), None];
        w.order_latencies();
        assert_eq!(
            w.seen,
            [Some(1.0), Some(2.0), Some(4.0), Some(4.0), Some(4.0), None]
        );
        assert_eq!(w.first_unseen(), Some(6));
    }

    /// The two checks the links make, one after the other, as one question.
    struct Ours(Watch);

    impl Ours {
        fn ours(&self, record: &Value, session_name: &str, marker: &str) -> bool {
            by_us(record, session_name, marker) && self.0.catches(&Event::new(&record.to_string()))
        }
    }

    #[test]
    fn only_the_drills_own_matching_event_counts() {
        let w = Watch::new(
            vpc_control(),
            Some(filter("VPCChanges")),
            None,
            Timestamp::now(),
        );
        let record = |arn: &str, name: &str| serde_json::json!({"eventName": name, "userIdentity": {"arn": arn}, "requestParameters": {}});
        let w = Ours(w);
        let ours = "arn:aws:sts::1:assumed-role/R/trailhead-run-1";
        assert!(w.ours(
            &record(ours, "DeleteVpc"),
            "trailhead-run-1",
            "trailhead-drill-1"
        ));
        assert!(!w.ours(
            &record(ours, "DescribeVpcs"),
            "trailhead-run-1",
            "trailhead-drill-1"
        ));
        let someone = "arn:aws:sts::1:assumed-role/R/alice";
        assert!(!w.ours(
            &record(someone, "DeleteVpc"),
            "trailhead-run-1",
            "trailhead-drill-1"
        ));
    }
}
