//! The gate after each wave: every account converged and, when asked, delivering to the archive.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use trailhead_alarms::catalog::Control;
use trailhead_model::TargetAccount;

use crate::core::RunCtx;
use crate::core::session::AccountSession;
use crate::resources::monitoring;

/// The gate's delivery check: wait up to `limit` for a log file of each account, newer than
/// `since` (the wave's start), in the archive bucket.
#[derive(Debug, Clone)]
pub struct DeliveryCheck {
    pub limit: Duration,
    pub since: jiff::Timestamp,
    pub bucket: String,
    pub archive_account: String,
}

/// After a wave: every account of it logs, has no delivery error, and has its filters and
/// alarms; with `delivery`, its events really arrived in the archive.
pub async fn gate(
    ctx: &RunCtx,
    accounts: &[TargetAccount],
    controls: &[Control],
    delivery: Option<DeliveryCheck>,
) -> Vec<String> {
    let limit = Arc::new(Semaphore::new(
        ctx.spec.rollout.max_concurrency.max(1) as usize
    ));
    let archive_s3 = match &delivery {
        Some(d) => Some(
            ctx.assume(&d.archive_account, &ctx.spec.org.home_region)
                .await
                .s3(),
        ),
        None => None,
    };
    let mut tasks = JoinSet::new();
    for a in accounts {
        let a = a.clone();
        let ctx = ctx.clone();
        let limit = limit.clone();
        let expected = controls.len();
        let check = delivery.clone().zip(archive_s3.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            gate_account(&ctx, &a, expected, check).await
        });
    }
    let mut problems = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(p) => problems.extend(p),
            Err(e) => problems.push(format!("a gate task failed: {e}")),
        }
    }
    problems.sort();
    // The delivery check and the status check both see a delivery error: say it once.
    problems.dedup();
    problems
}

/// A delivery error of a status, when it is fresh: the latest S3 delivery attempt failed and was
/// made at or after `since`. An older error may be stale (AWS keeps it until the next attempt,
/// minutes later), so the gate waits for that attempt instead of failing on it.
pub fn fresh_delivery_error(
    s: &aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput,
    since: jiff::Timestamp,
) -> Option<String> {
    let error = s.latest_delivery_error().filter(|e| !e.is_empty())?;
    let time = |t: Option<&str>| t.and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let attempt = time(s.latest_delivery_attempt_time())?;
    let succeeded = time(s.latest_delivery_attempt_succeeded());
    let failed_last = succeeded.is_none_or(|ok| ok < attempt);
    // Attempt times have whole seconds: an attempt in the wave's first second counts.
    let recent = attempt.as_second() >= since.as_second();
    (failed_last && recent).then(|| error.to_string())
}

/// Waits for a log file of the account that holds one of its records. A fresh S3 delivery error
/// fails the account at once (the file will not come); at the deadline, any delivery error the
/// trail still reports is the reason given, else the missing file.
pub(super) async fn await_delivery(
    ctx: &RunCtx,
    a: &TargetAccount,
    session: &AccountSession,
    check: &DeliveryCheck,
    archive_s3: &aws_sdk_s3::Client,
) -> Option<String> {
    let home = &ctx.spec.org.home_region;
    let site = crate::core::error::CallSite::new(a.id.as_str(), home, "gate delivery");
    let deadline = Instant::now() + check.limit;
    let mut pause = Duration::from_millis(500);
    loop {
        let reported = match session
            .cloudtrail()
            .get_trail_status()
            .name(&ctx.spec.trail.name)
            .send()
            .await
        {
            Ok(s) => {
                if let Some(error) = fresh_delivery_error(&s, check.since) {
                    return Some(format!("{}: log delivery error {error}", a.id));
                }
                delivery_errors(&s)
            }
            Err(e) => return Some(format!("{}: {}", a.id, site.error("GetTrailStatus", e))),
        };
        let found = crate::reading::delivered::newest_log_file(
            archive_s3,
            &site,
            &check.bucket,
            a.id.as_str(),
            home,
            Some(check.since),
        )
        .await;
        let late = Instant::now() >= deadline;
        match found {
            Ok(Some(d)) if d.own_records > 0 => return None,
            Ok(_) if late && !reported.is_empty() => {
                let (what, error) = &reported[0];
                return Some(format!("{}: {what} error {error}", a.id));
            }
            Ok(Some(d)) if late => {
                return Some(format!(
                    "{}: the newest log file s3://{}/{} holds no record of the account",
                    a.id, check.bucket, d.key
                ));
            }
            Ok(_) if late => {
                return Some(format!(
                    "{}: no log file delivered to s3://{} within {}s of the wave's start",
                    a.id,
                    check.bucket,
                    check.limit.as_secs()
                ));
            }
            Ok(_) => {}
            Err(e) => return Some(format!("{}: {e}", a.id)),
        }
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_secs(15));
    }
}

/// Whether the gate of wave `index` checks delivery.
pub fn checks_delivery(index: usize, canary_only: bool) -> bool {
    index == 0 || !canary_only
}

pub(super) async fn gate_account(
    ctx: &RunCtx,
    a: &TargetAccount,
    expected: usize,
    delivery: Option<(DeliveryCheck, aws_sdk_s3::Client)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let session = ctx.assume(a.id.as_str(), &ctx.spec.org.home_region).await;
    let site = crate::core::error::CallSite::new(a.id.as_str(), &ctx.spec.org.home_region, "gate");
    if let Some((check, archive_s3)) = &delivery {
        problems.extend(await_delivery(ctx, a, &session, check, archive_s3).await);
    }
    let ct = session.cloudtrail();
    let cw = session.cloudwatch();
    let (status, filters, alarms) = tokio::join!(
        ct.get_trail_status().name(&ctx.spec.trail.name).send(),
        monitoring::read_filters(
            &session,
            &site,
            &ctx.spec.trail.log_group_name,
            Some(monitoring::PREFIX)
        ),
        cw.describe_alarms()
            .alarm_name_prefix(monitoring::PREFIX)
            .send(),
    );
    match status {
        Ok(s) => {
            if s.is_logging() != Some(true) {
                problems.push(format!(
                    "{}: trail {} is not logging",
                    a.id, ctx.spec.trail.name
                ));
            }
            for (what, error) in delivery_errors(&s) {
                problems.push(format!("{}: {what} error {error}", a.id));
            }
        }
        Err(e) => problems.push(format!("{}: {}", a.id, site.error("GetTrailStatus", e))),
    }
    match filters {
        Ok(Some(f)) if f.len() >= expected => {}
        Ok(Some(f)) => problems.push(format!(
            "{}: {} of {expected} metric filters present",
            a.id,
            f.len()
        )),
        Ok(None) => problems.push(format!(
            "{}: the log group {} does not exist",
            a.id, ctx.spec.trail.log_group_name
        )),
        Err(e) => problems.push(format!("{}: {e}", a.id)),
    }
    match alarms {
        Ok(al) if al.metric_alarms().len() >= expected => {}
        Ok(al) => problems.push(format!(
            "{}: {} of {expected} alarms present",
            a.id,
            al.metric_alarms().len()
        )),
        Err(e) => problems.push(format!("{}: {}", a.id, site.error("DescribeAlarms", e))),
    }
    problems
}

/// Every delivery error GetTrailStatus reports: to S3, to CloudWatch Logs, and of digest files
/// (a trail whose digests fail has no integrity proof, even while its logs arrive).
pub fn delivery_errors(
    s: &aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput,
) -> Vec<(&'static str, String)> {
    [
        ("log delivery", s.latest_delivery_error()),
        (
            "CloudWatch Logs delivery",
            s.latest_cloud_watch_logs_delivery_error(),
        ),
        ("digest delivery", s.latest_digest_delivery_error()),
    ]
    .into_iter()
    .filter_map(|(what, e)| e.filter(|e| !e.is_empty()).map(|e| (what, e.to_string())))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;

    #[test]
    fn only_a_failed_attempt_since_the_wave_began_fails_the_gate_at_once() {
        use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
        let since: jiff::Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        let status = |attempt: &str, ok: Option<&str>| {
            GetTrailStatusOutput::builder()
                .latest_delivery_error("AccessDenied")
                .latest_delivery_attempt_time(attempt)
                .set_latest_delivery_attempt_succeeded(ok.map(str::to_string))
                .build()
        };
        let fresh = status("2026-12-02T10:00:05Z", Some("2026-12-02T09:00:00Z"));
        assert_eq!(
            fresh_delivery_error(&fresh, since).as_deref(),
            Some("AccessDenied")
        );
        assert_eq!(
            fresh_delivery_error(&status("2026-12-02T10:00:05Z", None), since).as_deref(),
            Some("AccessDenied")
        );
        // Before the wave: possibly stale. Succeeded since: not the latest word.
        assert_eq!(
            fresh_delivery_error(&status("2026-12-02T09:59:00Z", None), since),
            None
        );
        let recovered = status("2026-12-02T10:00:05Z", Some("2026-12-02T10:00:05Z"));
        assert_eq!(fresh_delivery_error(&recovered, since), None);
    }

    #[test]
    fn canary_only_checks_delivery_after_the_first_wave_alone() {
        assert!(checks_delivery(0, true) && checks_delivery(0, false));
        assert!(!checks_delivery(1, true) && checks_delivery(1, false));
    }

    #[test]
    fn a_digest_delivery_error_is_a_delivery_error() {
        let status = GetTrailStatusOutput::builder()
            .is_logging(true)
            .latest_delivery_error("")
            .latest_digest_delivery_error("AccessDenied")
            .build();
        assert_eq!(
            delivery_errors(&status),
            vec![("digest delivery", "AccessDenied".to_string())]
        );
        let clean = GetTrailStatusOutput::builder().is_logging(true).build();
        assert!(delivery_errors(&clean).is_empty());
    }
}
