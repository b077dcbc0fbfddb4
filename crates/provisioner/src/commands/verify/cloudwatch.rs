//! Security Hub's CloudWatch.15, .16 and .17, judged in every account whatever the benchmark:
//! Security Hub scores them under every standard that includes them (its Foundational Best
//! Practices among them). They are judged on what trailhead made (its alarms and its log group);
//! Security Hub judges every alarm and log group of the account.

use super::evidence::result;
use super::{ControlResult, Verdict};
use crate::core::RunCtx;
use crate::core::error::CallSite;
use crate::core::session::AccountSession;
use crate::resources::log_group::{LiveGroup, read_group};
use crate::resources::monitoring::{LiveAlarm, PREFIX, read_alarms};

/// CloudWatch.16's minimum (Config rule `cw-loggroup-retention-period-check`, default 365).
pub(super) const MIN_RETENTION_DAYS: i32 = 365;

pub(super) const CLOUDWATCH_CONTROLS: [&str; 3] =
    ["CloudWatch.15", "CloudWatch.16", "CloudWatch.17"];

/// Reads trailhead's alarms and log group in the account, then judges the three controls.
pub(super) async fn cloudwatch_controls(
    ctx: &RunCtx,
    session: &AccountSession,
    site: &CallSite,
) -> Vec<ControlResult> {
    let group = &ctx.spec.trail.log_group_name;
    let read = async {
        let alarms = read_alarms(session, site, None).await?;
        let ours: Vec<(String, LiveAlarm)> = alarms
            .into_iter()
            .filter(|(name, _)| name.starts_with(PREFIX))
            .collect();
        Ok::<_, crate::ProvisionError>((ours, read_group(session, site, group).await?))
    };
    match read.await {
        Ok((alarms, live)) => judge(&alarms, group, live.as_ref()),
        Err(e) => CLOUDWATCH_CONTROLS
            .iter()
            .map(|id| result(id, Verdict::Unknown, e.to_string()))
            .collect(),
    }
}

/// The three verdicts, from what was read.
pub(super) fn judge(
    alarms: &[(String, LiveAlarm)],
    group: &str,
    live: Option<&LiveGroup>,
) -> Vec<ControlResult> {
    let without_action: Vec<&str> = alarms
        .iter()
        .filter(|(_, a)| a.actions.is_empty())
        .map(|(n, _)| n.as_str())
        .collect();
    let disabled: Vec<&str> = alarms
        .iter()
        .filter(|(_, a)| !a.actions_enabled)
        .map(|(n, _)| n.as_str())
        .collect();
    let n = alarms.len();
    vec![
        every_alarm(
            "CloudWatch.15",
            n,
            &without_action,
            "has no action for the ALARM state",
        ),
        retention(group, live),
        every_alarm("CloudWatch.17", n, &disabled, "has its actions disabled"),
    ]
}

fn every_alarm(id: &str, total: usize, failing: &[&str], what: &str) -> ControlResult {
    if failing.is_empty() {
        let evidence = format!("each of trailhead's {total} alarm(s) passes");
        return result(id, Verdict::Pass, evidence);
    }
    let evidence = format!(
        "{} of {total} alarm(s) {what}: {}",
        failing.len(),
        failing.join(", ")
    );
    result(id, Verdict::Fail, evidence)
}

fn retention(group: &str, live: Option<&LiveGroup>) -> ControlResult {
    let id = "CloudWatch.16";
    match live.map(|g| g.retention) {
        None => result(id, Verdict::Fail, format!("no log group {group}")),
        Some(None) => result(id, Verdict::Pass, format!("{group} keeps events for ever")),
        Some(Some(days)) if days >= MIN_RETENTION_DAYS => result(
            id,
            Verdict::Pass,
            format!("{group} keeps events {days} days"),
        ),
        Some(Some(days)) => result(
            id,
            Verdict::Fail,
            format!("{group} keeps events {days} days, under {MIN_RETENTION_DAYS}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(actions: &[&str], enabled: bool) -> LiveAlarm {
        LiveAlarm {
            namespace: "CISBenchmark".into(),
            metric: "M".into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            actions_enabled: enabled,
            state: "OK".into(),
        }
    }

    fn verdicts(alarms: &[(String, LiveAlarm)], retention: Option<i32>) -> Vec<Verdict> {
        let group = LiveGroup {
            retention,
            key: None,
        };
        judge(alarms, "/g", Some(&group))
            .iter()
            .map(|c| c.status)
            .collect()
    }

    #[test]
    fn each_control_fails_alone_on_what_it_reads() {
        let ok = ("trailhead-a".to_string(), alarm(&["arn:topic"], true));
        assert_eq!(
            verdicts(std::slice::from_ref(&ok), Some(365)),
            [Verdict::Pass; 3]
        );
        assert_eq!(
            verdicts(std::slice::from_ref(&ok), None),
            [Verdict::Pass; 3],
            "never expire"
        );
        let short = verdicts(std::slice::from_ref(&ok), Some(90));
        assert_eq!(short, [Verdict::Pass, Verdict::Fail, Verdict::Pass]);
        let silent = ("trailhead-b".to_string(), alarm(&[], true));
        let v = verdicts(&[ok.clone(), silent], Some(400));
        assert_eq!(v, [Verdict::Fail, Verdict::Pass, Verdict::Pass]);
        let disabled = ("trailhead-c".to_string(), alarm(&["arn:topic"], false));
        let judged = judge(&[ok, disabled], "/g", None);
        let v: Vec<Verdict> = judged.iter().map(|c| c.status).collect();
        assert_eq!(v, [Verdict::Pass, Verdict::Fail, Verdict::Fail]);
        assert!(
            judged[2].evidence.contains("trailhead-c"),
            "{}",
            judged[2].evidence
        );
    }
}
