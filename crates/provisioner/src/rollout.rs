//! The rollout: preflight, the log-archive stage, then every account wave by wave, with a gate
//! after each wave, a failure tolerance, a journal that survives kill -9, and resume.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use trailhead_alarms::catalog::{self, Control};
use trailhead_model::{ResolvedWave, Selection, TargetAccount, resolve_waves};

use crate::counter::{CallLog, totals};
use crate::error::{AwsError, ProvisionError};
use crate::events::{AccountStatus, Command, Event, EventSink, WaveInfo, WaveStatus};
use crate::journal;
use crate::log_archive::{LogArchiveOutcome, RunCtx, log_archive_stage};
use crate::member::{
    Desired, STEP_ALARMS, STEP_DELIVERY_TOPIC, STEP_FILTERS, STEP_LOG_GROUP, STEP_LOG_GROUP_KEY,
    STEP_ROLE, STEP_TOPIC, STEP_TRAIL, log_group, monitoring, role, topic, trail,
};
use crate::plan::{Action, Diff, StepReport};
use crate::preflight::preflight;
use crate::session::AccountSession;
use crate::targets::SkippedAccount;

/// One line of `<state dir>/runs/<run id>.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// A start or a resume of the run: when, and by whom (the caller's ARN, as STS names it).
    Run {
        run_id: String,
        org: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caller: Option<String>,
    },
    Step {
        account: String,
        step: String,
        action: String,
    },
    Account {
        account: String,
        status: String,
    },
    Wave {
        wave: String,
        status: String,
    },
    Finished {
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct RolloutOptions {
    /// Continue this run id (its journal and session name) instead of starting a new one.
    pub resume: bool,
    /// Ask before each wave, the first included.
    pub confirm_waves: bool,
    /// Skip the preflight (tests of failure handling only).
    pub skip_preflight: bool,
    /// Gate: also wait up to this long for a log file of each account, written after its wave
    /// started, in the archive (on AWS, 5 to 15 minutes after StartLogging).
    pub gate_delivery: Option<Duration>,
    /// Check delivery after the first (canary) wave only, so that large rollouts do not wait
    /// for it on every wave.
    pub gate_delivery_canary_only: bool,
    /// `--account` / `--wave`: the member accounts to converge (the log archive is always
    /// converged for every account, so that narrowing never drops one from its policies).
    pub selection: Selection,
}

#[derive(Debug, Clone, Default)]
pub struct RolloutOutcome {
    pub run_id: String,
    pub succeeded: usize,
    pub failed: usize,
    pub skipped: usize,
    /// (account, error) of every failed account.
    pub failures: Vec<(String, String)>,
    pub aborted: bool,
    pub stopped_by_tolerance: Option<String>,
    /// (account, why) of every account the run left alone, in the order it did.
    pub skipped_accounts: Vec<(String, String)>,
    /// Failed account → the step that failed it (when a step did).
    pub failed_steps: BTreeMap<String, String>,
    /// What stops the run before its first write.
    pub preflight_problems: Vec<String>,
    /// What the run goes on despite (an account that cannot be reached fails alone).
    pub preflight_warnings: Vec<String>,
    pub reports: Vec<StepReport>,
}

impl RolloutOutcome {
    fn skip_wave(&mut self, wave: &ResolvedWave, why: &str) {
        self.skipped += wave.accounts.len();
        self.skipped_accounts.extend(
            wave.accounts
                .iter()
                .map(|a| (a.id.to_string(), why.to_string())),
        );
    }

    pub fn ok(&self) -> bool {
        self.failed == 0
            && !self.aborted
            && self.stopped_by_tolerance.is_none()
            && self.preflight_problems.is_empty()
    }
}

pub fn journal_path(state_dir: &Path, run_id: &str) -> PathBuf {
    state_dir.join("runs").join(format!("{run_id}.jsonl"))
}

/// What a journal says of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub run_id: String,
    /// The status the run finished with, or None: killed, or still running.
    pub finished: Option<String>,
    pub accounts: usize,
    pub failed: usize,
    /// When the run first started (journals older than this field have none).
    pub started_at: Option<jiff::Timestamp>,
    /// The time spent running, over every start and resume that finished.
    pub duration: Option<Duration>,
    /// Who started it (the caller's ARN), and who resumed it if that was someone else.
    pub callers: Vec<String>,
}

/// The caller's identity for the journal; a run is not refused for want of it.
async fn caller_arn(ctx: &RunCtx) -> Option<String> {
    let management = ctx.management().await;
    let who = management.sts().get_caller_identity().send().await.ok()?;
    who.arn().map(str::to_string)
}

/// Every run of a state directory, newest first.
pub fn list_runs(state_dir: &Path) -> Vec<RunSummary> {
    run_ids(state_dir)
        .into_iter()
        .rev()
        .map(|run_id| {
            let lines: Vec<Entry> =
                journal::read_all(&journal_path(state_dir, &run_id)).unwrap_or_default();
            let mut summary = RunSummary {
                run_id,
                finished: None,
                accounts: 0,
                failed: 0,
                started_at: None,
                duration: None,
                callers: Vec::new(),
            };
            // A resumed run journals an account again: its last status counts.
            let mut accounts = std::collections::BTreeMap::new();
            let mut began: Option<jiff::Timestamp> = None;
            for line in lines {
                match line {
                    Entry::Account { account, status } => {
                        accounts.insert(account, status);
                    }
                    Entry::Run { at, caller, .. } => {
                        began = at.and_then(|t| t.parse().ok());
                        summary.started_at = summary.started_at.or(began);
                        if let Some(c) = caller.filter(|c| !summary.callers.contains(c)) {
                            summary.callers.push(c);
                        }
                    }
                    Entry::Finished { status, at } => {
                        summary.finished = Some(status);
                        let ended: Option<jiff::Timestamp> = at.and_then(|t| t.parse().ok());
                        if let (Some(b), Some(e)) = (began.take(), ended) {
                            let spent = e.duration_since(b).unsigned_abs();
                            summary.duration = Some(summary.duration.unwrap_or_default() + spent);
                        }
                    }
                    _ => {}
                }
            }
            summary.accounts = accounts.len();
            summary.failed = accounts.values().filter(|s| *s != "succeeded").count();
            summary
        })
        .collect()
}

/// The run ids of a state directory, oldest first (ids sort by time).
fn run_ids(state_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(state_dir.join("runs")) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".jsonl"))
                .map(str::to_string)
        })
        .collect();
    ids.sort();
    ids
}

/// The newest run id of a state directory.
pub fn last_run_id(state_dir: &Path) -> Option<String> {
    run_ids(state_dir).pop()
}

/// A lock that keeps two rollouts of one org in one state directory apart. A lock left by a
/// killed process (its pid is gone) is taken over.
pub struct Lock(PathBuf);

impl Lock {
    pub fn acquire(state_dir: &Path) -> Result<Self, ProvisionError> {
        std::fs::create_dir_all(state_dir).map_err(|source| ProvisionError::Io {
            action: "create",
            path: state_dir.display().to_string(),
            source,
        })?;
        let path = state_dir.join("lock");
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = write!(f, "{}", std::process::id());
                    let _ = f.sync_all();
                    return Ok(Lock(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder: Option<u32> = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|s| s.trim().parse().ok());
                    match holder {
                        Some(pid)
                            if Path::new(&format!("/proc/{pid}")).exists()
                                && pid != std::process::id() =>
                        {
                            return Err(ProvisionError::Config(format!(
                                "another rollout of this org (pid {pid}) holds {}; wait for it, or stop it",
                                path.display()
                            )));
                        }
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(source) => {
                    return Err(ProvisionError::Io {
                        action: "create",
                        path: path.display().to_string(),
                        source,
                    });
                }
            }
        }
        Err(ProvisionError::Config(format!(
            "cannot take the lock {}",
            path.display()
        )))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn report_event(r: &StepReport) -> Event {
    Event::StepFinished {
        account: r.account.clone(),
        region: r.region.clone(),
        step: r.step.clone(),
        action: r.action,
        changes: r.changes.clone(),
        notes: r.notes.clone(),
        duration_ms: r.duration.as_millis() as u64,
        api_calls: r.api_calls,
        retries: r.retries,
    }
}

/// Runs one step: events before and after, its own call count, a journal line when it is done.
async fn step<F, Fut>(
    name: &str,
    session: &AccountSession,
    events: &EventSink,
    journal_file: Option<&Path>,
    f: F,
) -> Result<StepReport, ProvisionError>
where
    F: FnOnce(AccountSession) -> Fut,
    Fut: std::future::Future<Output = Result<(Action, Diff), ProvisionError>>,
{
    events.send(Event::StepStarted {
        account: session.account_id.clone(),
        region: session.region.clone(),
        step: name.to_string(),
    });
    let log = CallLog::new();
    let started = Instant::now();
    // Boxed: step futures hold whole SDK calls; on the heap they keep task stacks small.
    let result = Box::pin(f(session.counting_into(&log))).await;
    let (calls, _, retries, _) = totals(&log.snapshot());
    match result {
        Ok((action, diff)) => {
            let r = StepReport {
                account: session.account_id.clone(),
                region: session.region.clone(),
                step: name.to_string(),
                action,
                changes: diff.changes,
                notes: Vec::new(),
                duration: started.elapsed(),
                api_calls: calls,
                retries,
            };
            events.send(report_event(&r));
            if let Some(path) = journal_file {
                journal::append(
                    path,
                    &Entry::Step {
                        account: r.account.clone(),
                        step: r.step.clone(),
                        action: r.action.to_string(),
                    },
                )?;
            }
            Ok(r)
        }
        Err(e) => {
            let aws = match &e {
                ProvisionError::Aws(a) => (**a).clone(),
                other => AwsError {
                    account: session.account_id.clone(),
                    region: session.region.clone(),
                    step: name.to_string(),
                    operation: "-".into(),
                    code: "ConfigError".into(),
                    message: other.to_string(),
                },
            };
            events.send(Event::step_failed(
                &aws,
                started.elapsed().as_millis() as u64,
                calls,
                retries,
            ));
            Err(e)
        }
    }
}

/// Every step of one member account. Independent steps run together; the trail waits for its
/// role and log group, the alarms for their topic.
pub async fn run_account(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
    events: &EventSink,
    journal_file: Option<&Path>,
) -> Result<Vec<StepReport>, ProvisionError> {
    // Each step starts as soon as what it needs exists: the alarms need only their topic, the
    // filters their log group, the trail its role, log group and delivery topic. The alarms,
    // held to CloudWatch's few puts a second, are the longest chain, so nothing else delays
    // their start.
    let (alarm_chain, rest) = tokio::join!(
        async {
            let t = step(STEP_TOPIC, session, events, journal_file, |s| async move {
                topic::ensure_topic(&s, d, apply).await
            })
            .await?;
            let al = step(STEP_ALARMS, session, events, journal_file, |s| async move {
                monitoring::ensure_alarms(&s, d, apply).await
            })
            .await?;
            Ok::<_, ProvisionError>((t, al))
        },
        trail_and_filter_chain(session, d, apply, events, journal_file),
    );
    let ((r, k, g, dt, tr, fl), (t, al)) = (rest?, alarm_chain?);
    let mut reports = vec![r];
    reports.extend(k);
    reports.extend([g, t]);
    reports.extend(dt);
    reports.extend([tr, fl, al]);
    Ok(reports)
}

type TrailChain = (
    StepReport,
    Option<StepReport>,
    StepReport,
    Option<StepReport>,
    StepReport,
    StepReport,
);

/// Role, log group (with its key) and delivery topic together; then the trail, which needs all
/// three, beside the filters, which need the log group.
async fn trail_and_filter_chain(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
    events: &EventSink,
    journal_file: Option<&Path>,
) -> Result<TrailChain, ProvisionError> {
    let own_delivery_topic = d.delivery_topic.as_ref().is_some_and(|t| !t.central);
    let (r, kg, dt) = tokio::join!(
        step(STEP_ROLE, session, events, journal_file, |s| async move {
            role::ensure_role(&s, d, apply).await
        }),
        log_group_steps(session, d, apply, events, journal_file),
        async {
            if !own_delivery_topic {
                return Ok(None);
            }
            step(
                STEP_DELIVERY_TOPIC,
                session,
                events,
                journal_file,
                |s| async move { topic::ensure_delivery_topic(&s, d, apply).await },
            )
            .await
            .map(Some)
        },
    );
    let (r, (k, g), dt) = (r?, kg?, dt?);
    let (tr, fl) = tokio::join!(
        step(STEP_TRAIL, session, events, journal_file, |s| async move {
            trail::ensure_trail(&s, d, apply).await
        }),
        step(
            STEP_FILTERS,
            session,
            events,
            journal_file,
            |s| async move { monitoring::ensure_filters(&s, d, apply).await }
        ),
    );
    Ok((r, k, g, dt, tr?, fl?))
}

/// The group's key (when the spec encrypts the group), then the group under it.
async fn log_group_steps(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
    events: &EventSink,
    journal_file: Option<&Path>,
) -> Result<(Option<StepReport>, StepReport), ProvisionError> {
    let key_arn = std::sync::OnceLock::new();
    let key = match d.log_group_kms_alias {
        Some(_) => {
            let key_arn = &key_arn;
            Some(
                step(
                    STEP_LOG_GROUP_KEY,
                    session,
                    events,
                    journal_file,
                    |s| async move {
                        let (action, diff, arn) =
                            log_group::ensure_log_group_key(&s, d, apply).await?;
                        if let Some(arn) = arn {
                            let _ = key_arn.set(arn);
                        }
                        Ok((action, diff))
                    },
                )
                .await?,
            )
        }
        None => None,
    };
    let key_arn = key_arn.get().map(String::as_str);
    let group = step(
        STEP_LOG_GROUP,
        session,
        events,
        journal_file,
        |s| async move { log_group::ensure_log_group(&s, d, key_arn, apply).await },
    )
    .await?;
    Ok((key, group))
}

/// The controls the spec deploys, each pattern already checked.
pub fn controls(ctx: &RunCtx) -> Result<Vec<Control>, ProvisionError> {
    let c = catalog::for_spec(&ctx.spec.alarms);
    monitoring::checked(&c)?;
    Ok(c)
}

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
async fn await_delivery(
    ctx: &RunCtx,
    a: &TargetAccount,
    session: &AccountSession,
    check: &DeliveryCheck,
    archive_s3: &aws_sdk_s3::Client,
) -> Option<String> {
    let home = &ctx.spec.org.home_region;
    let site = crate::error::CallSite::new(a.id.as_str(), home, "gate delivery");
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
        let found = crate::delivered::newest_log_file(
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

async fn gate_account(
    ctx: &RunCtx,
    a: &TargetAccount,
    expected: usize,
    delivery: Option<(DeliveryCheck, aws_sdk_s3::Client)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let session = ctx.assume(a.id.as_str(), &ctx.spec.org.home_region).await;
    let site = crate::error::CallSite::new(a.id.as_str(), &ctx.spec.org.home_region, "gate");
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

fn archive_events(outcome: &LogArchiveOutcome, events: &EventSink) {
    for r in &outcome.reports {
        events.send(Event::StepStarted {
            account: r.account.clone(),
            region: r.region.clone(),
            step: r.step.clone(),
        });
        events.send(report_event(r));
    }
}

/// What a plan found: every step's report, the accounts it could not read (an unassumable role
/// is one failed account, not an aborted plan), and the accounts it leaves alone.
#[derive(Debug, Clone, Default)]
pub struct PlanOutcome {
    pub reports: Vec<StepReport>,
    /// The waves planned (narrowed to the selection), for showing rows in the order a rollout
    /// would reach them.
    pub waves: Vec<ResolvedWave>,
    /// (account, what went wrong)
    pub failures: Vec<(String, String)>,
    pub skipped: Vec<SkippedAccount>,
}

/// `plan`: the same engine as the rollout, reading and comparing only.
pub async fn plan(ctx: &RunCtx, events: &EventSink) -> Result<PlanOutcome, ProvisionError> {
    plan_selected(ctx, events, &Selection::default()).await
}

/// The waves a run covers: every target placed, then narrowed to the selection. A selection
/// that leaves nothing is an error, not a silent no-op.
pub fn selected_waves(
    ctx: &RunCtx,
    targets: &[TargetAccount],
    selection: &Selection,
) -> Result<Vec<ResolvedWave>, ProvisionError> {
    let waves = selection.narrow(resolve_waves(&ctx.spec, targets));
    if waves.is_empty() && !selection.is_all() {
        return Err(ProvisionError::UnknownAccount(format!(
            "{} matches no account this run governs ({} account(s) in the organization's scope)",
            selection.describe(),
            targets.len()
        )));
    }
    Ok(waves)
}

/// Checks, with reads of the organization only, that a selection names some account this run
/// governs: an empty selection must fail before the log archive is touched.
pub async fn check_selection(ctx: &RunCtx, selection: &Selection) -> Result<(), ProvisionError> {
    if selection.is_all() {
        return Ok(());
    }
    let management = ctx.management().await;
    let org = crate::targets::read_org(&management).await?;
    let la = crate::targets::log_archive_id(&ctx.spec, &org);
    let resolved =
        crate::targets::resolve_targets(&management, &ctx.spec, &org, la.as_deref()).await?;
    selected_waves(ctx, &resolved.targets, selection).map(|_| ())
}

/// `plan` of the accounts and waves selected; the log archive is planned whole.
pub async fn plan_selected(
    ctx: &RunCtx,
    events: &EventSink,
    selection: &Selection,
) -> Result<PlanOutcome, ProvisionError> {
    let ctx = RunCtx {
        apply: false,
        ..ctx.clone()
    };
    let controls = controls(&ctx)?;
    let archive = log_archive_stage(&ctx).await?;
    archive_events(&archive, events);
    let waves = selected_waves(&ctx, &archive.targets, selection)?;
    let mut outcome = PlanOutcome {
        reports: archive.reports.clone(),
        waves: waves.clone(),
        failures: Vec::new(),
        skipped: archive.skipped.clone(),
    };
    let bucket = archive
        .bucket
        .clone()
        .unwrap_or_else(|| "(new bucket)".into());
    let key = archive
        .key_arn
        .clone()
        .unwrap_or_else(|| "(new key)".into());
    let limit = Arc::new(Semaphore::new(ctx.spec.rollout.max_concurrency as usize));
    let mut tasks = JoinSet::new();
    for t in waves.into_iter().flat_map(|w| w.accounts) {
        let ctx = ctx.clone();
        let d = Desired::new(&ctx.spec, t.id.as_str(), &bucket, &key, &controls);
        let events = events.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let session = ctx.assume(t.id.as_str(), &ctx.spec.org.home_region).await;
            (
                t.id.to_string(),
                run_account(&session, &d, false, &events, None).await,
            )
        });
    }
    let mut members = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done.map_err(|e| ProvisionError::Config(format!("a plan task failed: {e}")))? {
            (_, Ok(r)) => members.extend(r),
            (account, Err(e)) => outcome.failures.push((account, e.to_string())),
        }
    }
    // Accounts in the order the rollout reaches them; each account's steps stay in step order.
    let rank: BTreeMap<String, usize> = outcome
        .waves
        .iter()
        .flat_map(|w| &w.accounts)
        .enumerate()
        .map(|(i, a)| (a.id.to_string(), i))
        .collect();
    members.sort_by_key(|r| rank.get(&r.account).copied().unwrap_or(usize::MAX));
    outcome.reports.extend(members);
    outcome.failures.sort();
    Ok(outcome)
}

enum Flow {
    Continue,
    Abort,
}

/// Waits for approval of the next wave, honouring abort meanwhile; skips asked for while
/// waiting apply to the waves to come.
async fn await_approval(
    commands: &mut mpsc::UnboundedReceiver<Command>,
    skip: &mut BTreeSet<String>,
) -> Flow {
    while let Some(c) = commands.recv().await {
        match c {
            Command::ApproveNextWave => return Flow::Continue,
            Command::Abort => return Flow::Abort,
            Command::Skip(id) => {
                skip.insert(id);
            }
            _ => {}
        }
    }
    Flow::Abort
}

pub async fn rollout(
    ctx: &RunCtx,
    opts: &RolloutOptions,
    events: &EventSink,
    mut commands: mpsc::UnboundedReceiver<Command>,
) -> Result<RolloutOutcome, ProvisionError> {
    let run_id = ctx.role.run_id.clone();
    let started = Instant::now();
    let _lock = Lock::acquire(&ctx.state_dir)?;
    // Before the journal's first line: a selection of nothing is not a run.
    check_selection(ctx, &opts.selection).await?;
    let journal_file = journal_path(&ctx.state_dir, &run_id);
    let previous: Vec<Entry> = journal::read_all(&journal_file)?;
    if opts.resume && previous.is_empty() {
        return Err(ProvisionError::Config(format!(
            "no journal for run {run_id} in {}",
            ctx.state_dir.display()
        )));
    }
    let done: BTreeSet<String> = previous
        .iter()
        .filter_map(|e| match e {
            Entry::Account { account, status } if status == "succeeded" => Some(account.clone()),
            _ => None,
        })
        .collect();
    // Every start and resume: `runs list` says when a run began, how long it took, who ran it.
    journal::append(
        &journal_file,
        &Entry::Run {
            run_id: run_id.clone(),
            org: ctx.spec.org.name.clone(),
            at: Some(jiff::Timestamp::now().to_string()),
            caller: caller_arn(ctx).await,
        },
    )?;
    let controls = controls(ctx)?;
    let mut outcome = RolloutOutcome {
        run_id: run_id.clone(),
        ..RolloutOutcome::default()
    };

    if !opts.skip_preflight {
        let (blocking, warnings): (Vec<_>, Vec<_>) =
            preflight(ctx).await?.into_iter().partition(|p| p.blocking);
        outcome.preflight_warnings = warnings.into_iter().map(|p| p.message).collect();
        if !blocking.is_empty() {
            outcome.preflight_problems = blocking.into_iter().map(|p| p.message).collect();
            return Ok(outcome);
        }
    }

    let archive = log_archive_stage(ctx).await?;
    outcome.reports.extend(archive.reports.clone());
    let (Some(bucket), Some(key)) = (archive.bucket.clone(), archive.key_arn.clone()) else {
        return Err(ProvisionError::Config(
            "the log-archive stage produced no bucket or key".into(),
        ));
    };

    let waves = selected_waves(ctx, &archive.targets, &opts.selection)?;
    outcome.skipped += archive.skipped.len();
    outcome.skipped_accounts.extend(
        archive
            .skipped
            .iter()
            .map(|s| (s.id.clone(), s.reason.clone())),
    );
    events.send(Event::RunStarted {
        run_id: run_id.clone(),
        org: ctx.spec.org.name.clone(),
        mode: if opts.resume {
            "resume".into()
        } else {
            "rollout".into()
        },
        accounts: waves.iter().map(|w| w.accounts.len()).sum(),
        waves: waves
            .iter()
            .map(|w| WaveInfo {
                name: w.name.clone(),
                accounts: w
                    .accounts
                    .iter()
                    .map(|a| (a.id.to_string(), a.name.clone()))
                    .collect(),
                max_concurrency: w.max_concurrency,
            })
            .collect(),
    });
    // The log-archive stage ran before the waves were known; its steps follow run_started so
    // that run_started is always the first event.
    archive_events(&archive, events);

    for s in &archive.skipped {
        events.send(Event::AccountSkipped {
            account: s.id.clone(),
            name: s.name.clone(),
            reason: s.reason.clone(),
        });
    }

    let mut stop_reason: Option<String> = None;
    // Accounts the view asked to skip, whenever it asked.
    let mut skip: BTreeSet<String> = BTreeSet::new();
    for (index, wave) in waves.iter().enumerate() {
        if stop_reason.is_some() || outcome.aborted {
            outcome.skip_wave(wave, "not started: an earlier wave stopped the run");
            events.send(Event::WaveFinished {
                wave: wave.name.clone(),
                status: WaveStatus::Skipped,
                succeeded: 0,
                failed: 0,
                skipped: wave.accounts.len(),
            });
            continue;
        }
        if opts.confirm_waves {
            events.send(Event::WaitingForApproval {
                wave: wave.name.clone(),
            });
            if let Flow::Abort = await_approval(&mut commands, &mut skip).await {
                outcome.aborted = true;
                outcome.skip_wave(wave, "not started: the wave was not approved");
                events.send(Event::WaveFinished {
                    wave: wave.name.clone(),
                    status: WaveStatus::Skipped,
                    succeeded: 0,
                    failed: 0,
                    skipped: wave.accounts.len(),
                });
                continue;
            }
        }
        let wave_started = jiff::Timestamp::now();
        let result = run_wave(
            ctx,
            wave,
            &bucket,
            &key,
            &controls,
            &done,
            events,
            &journal_file,
            &mut commands,
            &mut skip,
        )
        .await?;
        outcome.succeeded += result.succeeded;
        outcome.failed += result.failed.len();
        outcome.skipped += result.skipped;
        outcome.skipped_accounts.extend(result.skipped_accounts);
        outcome.failed_steps.extend(result.failed_steps);
        outcome.failures.extend(result.failed.clone());
        outcome.aborted |= result.aborted;
        outcome.reports.extend(result.reports);
        let allowed = wave.failure_tolerance.allowed_failures(wave.accounts.len());
        let mut status = WaveStatus::Passed;
        if result.failed.len() > allowed {
            status = WaveStatus::Failed;
            stop_reason = Some(format!(
                "wave {} had {} failed account(s), more than its tolerance of {allowed}",
                wave.name,
                result.failed.len()
            ));
        } else if !result.aborted {
            events.send(Event::GateStarted {
                wave: wave.name.clone(),
            });
            let ok_accounts: Vec<TargetAccount> = wave
                .accounts
                .iter()
                .filter(|a| result.ok_accounts.contains(&a.id.to_string()))
                .cloned()
                .collect();
            let check = opts
                .gate_delivery
                .filter(|_| checks_delivery(index, opts.gate_delivery_canary_only))
                .zip(archive.account_id.clone())
                .map(|(limit, archive_account)| DeliveryCheck {
                    limit,
                    // S3 keeps whole seconds: a file written in the wave's first second counts.
                    since: wave_started
                        .checked_sub(jiff::SignedDuration::from_secs(1))
                        .unwrap_or(wave_started),
                    bucket: bucket.clone(),
                    archive_account,
                });
            let problems = gate(ctx, &ok_accounts, &controls, check).await;
            events.send(Event::GateFinished {
                wave: wave.name.clone(),
                passed: problems.is_empty(),
                problems: problems.clone(),
            });
            if !problems.is_empty() {
                status = WaveStatus::Failed;
                stop_reason = Some(format!(
                    "wave {} failed its gate: {}",
                    wave.name,
                    problems.join("; ")
                ));
            }
        }
        journal::append(
            &journal_file,
            &Entry::Wave {
                wave: wave.name.clone(),
                status: status.to_string().to_lowercase(),
            },
        )?;
        events.send(Event::WaveFinished {
            wave: wave.name.clone(),
            status,
            succeeded: result.succeeded,
            failed: result.failed.len(),
            skipped: result.skipped,
        });
    }
    outcome.stopped_by_tolerance = stop_reason;
    let (calls, writes, retries, throttled) = totals(&ctx.calls.snapshot());
    let status = if outcome.ok() {
        "succeeded"
    } else if outcome.aborted {
        "aborted"
    } else {
        "failed"
    };
    journal::append(
        &journal_file,
        &Entry::Finished {
            status: status.into(),
            at: Some(jiff::Timestamp::now().to_string()),
        },
    )?;
    events.send(Event::RunFinished {
        run_id: run_id.clone(),
        succeeded: outcome.succeeded,
        failed: outcome.failed,
        skipped: outcome.skipped,
        api_calls: calls,
        writes,
        retries,
        throttled,
        duration_ms: started.elapsed().as_millis() as u64,
        resume_command: (!outcome.ok()).then(|| format!("{}{run_id}", ctx.resume_prefix)),
        interrupted: outcome.aborted,
    });
    Ok(outcome)
}

/// One finished account task: the account, how long it took, what it did, its retries.
type AccountRun = (
    TargetAccount,
    Duration,
    Result<Vec<StepReport>, ProvisionError>,
    u64,
);

struct WaveResult {
    succeeded: usize,
    ok_accounts: BTreeSet<String>,
    failed: Vec<(String, String)>,
    failed_steps: BTreeMap<String, String>,
    skipped: usize,
    skipped_accounts: Vec<(String, String)>,
    aborted: bool,
    reports: Vec<StepReport>,
}

#[allow(clippy::too_many_arguments)]
async fn run_wave(
    ctx: &RunCtx,
    wave: &ResolvedWave,
    bucket: &str,
    key: &str,
    controls: &[Control],
    done: &BTreeSet<String>,
    events: &EventSink,
    journal_file: &Path,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    skip: &mut BTreeSet<String>,
) -> Result<WaveResult, ProvisionError> {
    events.send(Event::WaveStarted {
        wave: wave.name.clone(),
        accounts: wave.accounts.len(),
    });
    let mut result = WaveResult {
        succeeded: 0,
        ok_accounts: BTreeSet::new(),
        failed: Vec::new(),
        failed_steps: BTreeMap::new(),
        skipped: 0,
        skipped_accounts: Vec::new(),
        aborted: false,
        reports: Vec::new(),
    };
    let allowed = wave.failure_tolerance.allowed_failures(wave.accounts.len());
    let mut queue: std::collections::VecDeque<TargetAccount> =
        wave.accounts.iter().cloned().collect();
    let mut failed_accounts: BTreeMap<String, TargetAccount> = BTreeMap::new();
    let mut paused = false;
    let mut commands_open = true;
    let mut tasks: JoinSet<AccountRun> = JoinSet::new();
    let concurrency = wave.max_concurrency.max(1) as usize;
    loop {
        let stopping = result.aborted || result.failed.len() > allowed;
        while !stopping && !paused && tasks.len() < concurrency {
            let Some(account) = queue.pop_front() else {
                break;
            };
            let id = account.id.to_string();
            if skip.contains(&id) {
                result.skipped += 1;
                result
                    .skipped_accounts
                    .push((id.clone(), "skipped by a person during the run".into()));
                events.send(Event::AccountFinished {
                    account: id,
                    wave: wave.name.clone(),
                    status: AccountStatus::Skipped,
                    duration_ms: 0,
                    retries: 0,
                });
                continue;
            }
            if done.contains(&id) {
                // Finished by the run being resumed: its steps are in the journal already.
                result.succeeded += 1;
                result.ok_accounts.insert(id.clone());
                events.send(Event::AccountFinished {
                    account: id,
                    wave: wave.name.clone(),
                    status: AccountStatus::Succeeded,
                    duration_ms: 0,
                    retries: 0,
                });
                continue;
            }
            events.send(Event::AccountStarted {
                account: id.clone(),
                name: account.name.clone(),
                wave: wave.name.clone(),
            });
            let ctx = ctx.clone();
            let d = Desired::new(&ctx.spec, &id, bucket, key, controls);
            let events = events.clone();
            let journal_file = journal_file.to_path_buf();
            tasks.spawn(async move {
                let started = Instant::now();
                let log = CallLog::new();
                let session = ctx
                    .assume(&id, &ctx.spec.org.home_region)
                    .await
                    .counting_into(&log);
                let r = run_account(&session, &d, true, &events, Some(&journal_file)).await;
                let retries = totals(&log.snapshot()).2;
                (account, started.elapsed(), r, retries)
            });
        }
        if tasks.is_empty() && (queue.is_empty() || stopping) && !paused {
            break;
        }
        if tasks.is_empty() && !commands_open {
            // Paused with no one left to resume: nothing can happen any more.
            break;
        }
        tokio::select! {
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                let (account, elapsed, r, retries) = joined.map_err(|e| ProvisionError::Config(format!("an account task failed: {e}")))?;
                let id = account.id.to_string();
                let (status, label) = match r {
                    Ok(reports) => {
                        result.succeeded += 1;
                        result.ok_accounts.insert(id.clone());
                        result.reports.extend(reports);
                        (AccountStatus::Succeeded, "succeeded")
                    }
                    Err(e) => {
                        if let ProvisionError::Aws(aws) = &e {
                            result.failed_steps.insert(id.clone(), aws.step.clone());
                        }
                        result.failed.push((id.clone(), e.to_string()));
                        failed_accounts.insert(id.clone(), account.clone());
                        (AccountStatus::Failed, "failed")
                    }
                };
                journal::append(journal_file, &Entry::Account { account: id.clone(), status: label.into() })?;
                events.send(Event::AccountFinished { account: id, wave: wave.name.clone(), status, duration_ms: elapsed.as_millis() as u64, retries });
            }
            command = commands.recv(), if commands_open => match command {
                Some(Command::Pause) => paused = true,
                Some(Command::Resume) => paused = false,
                Some(Command::Abort) => {
                    result.aborted = true;
                    paused = false;
                }
                // Nobody can send commands any more (no view): run on.
                None => {
                    commands_open = false;
                    paused = false;
                }
                Some(Command::Skip(id)) => {
                    skip.insert(id);
                }
                Some(Command::Retry(id)) => {
                    if let Some(account) = failed_accounts.remove(&id) {
                        result.failed.retain(|(a, _)| *a != id);
                        result.failed_steps.remove(&id);
                        queue.push_back(account);
                    }
                }
                Some(Command::ApproveNextWave) => {}
            },
        }
    }
    result.skipped += queue.len();
    for account in &queue {
        let why = if result.aborted {
            "not started: the run was stopped"
        } else {
            "not started: the wave stopped at its failure tolerance"
        };
        result
            .skipped_accounts
            .push((account.id.to_string(), why.into()));
    }
    for account in queue {
        events.send(Event::AccountFinished {
            account: account.id.to_string(),
            wave: wave.name.clone(),
            status: AccountStatus::Skipped,
            duration_ms: 0,
            retries: 0,
        });
    }
    Ok(result)
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
