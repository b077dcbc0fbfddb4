//! The drill of one or more accounts: plan, offline replays, probes (cleaned up whatever
//! happens), then the chain followed until every alarm fired, broke, or the time ran out.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;
use trailhead_alarms::catalog::Control;
use trailhead_alarms::pattern::{Event, parse};
use trailhead_alarms::samples::samples;
use trailhead_model::Selection;

use super::chain::{self, ChainCtx, LINKS, Seen, Watch};
use super::plan::{self, PlannedAlarm, Probe, Scope, Treatment};
use super::probes::{self, Ledger, ProbeCtx};
use super::progress::{DrillProgress, Phase, ProgressSink};
use super::{AccountDrill, AlarmResult, DrillReport, LinkLatency, Outcome};
use crate::core::RunCtx;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::{AccountSession, session_name};
use crate::resources::monitoring::{LiveAlarm, LiveFilter, PREFIX, read_alarms, read_filters};
use trailhead_model::TargetAccount;

/// A session policy that takes every permission away: the drill's denied call.
const DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;

#[derive(Debug, Clone)]
pub struct DrillOptions {
    pub selection: Selection,
    /// Control ids to drill; empty: every control the spec deploys.
    pub only: Vec<String>,
    pub timeout: Duration,
    pub include_org_changes: bool,
    pub allow_log_archive: bool,
    pub dry_run: bool,
}

/// The accounts to drill, the log-archive account and the archive bucket.
async fn targets(
    ctx: &RunCtx,
    opts: &DrillOptions,
) -> Result<(Vec<TargetAccount>, String, String), ProvisionError> {
    let selected = crate::commands::verify::resolve_selected(ctx, &opts.selection).await?;
    let (mut chosen, la) = (selected.chosen, selected.log_archive);
    if opts.selection.is_all() && !opts.allow_log_archive {
        // The whole org: every account but the one that holds the evidence.
        chosen.retain(|t| t.id.as_str() != la);
    }
    if chosen.is_empty() {
        return Err(ProvisionError::UnknownAccount(
            "the selection matches no account".into(),
        ));
    }
    if !opts.allow_log_archive && chosen.iter().any(|t| t.id.as_str() == la) {
        return Err(ProvisionError::UnknownAccount(format!(
            "the drill does not touch the log-archive account {la} unless asked: pass \
             --allow-log-archive, or choose other accounts with --account / --wave"
        )));
    }
    let bucket = ctx.spec.log_archive.bucket_name(&ctx.spec.org, &la);
    Ok((chosen, la, bucket))
}

/// Drills every selected account, one after the other, telling `progress` what it does.
pub async fn drill(
    ctx: &RunCtx,
    opts: &DrillOptions,
    interrupted: watch::Receiver<bool>,
    progress: &ProgressSink,
) -> Result<DrillReport, ProvisionError> {
    let controls = crate::stages::member::controls(ctx)?;
    let (chosen, la, bucket) = targets(ctx, opts).await?;
    let mut report = DrillReport {
        org: ctx.spec.org.name.clone(),
        run_id: ctx.role.run_id.clone(),
        benchmark: ctx.spec.alarms.benchmark.id().to_string(),
        generated_at: Timestamp::now().to_string(),
        dry_run: opts.dry_run,
        accounts: Vec::new(),
        summary: Default::default(),
    };
    let home = ctx.spec.org.home_region.clone();
    let archive = ctx.assume(&la, &home).await;
    let of = chosen.len();
    for (i, t) in chosen.into_iter().enumerate() {
        progress.send(DrillProgress::Account {
            account: t.id.to_string(),
            name: t.name.clone(),
            index: i + 1,
            of,
        });
        let scope = Scope {
            management_account: t.id.as_str() == ctx.spec.org.management_account.as_str(),
            include_org_changes: opts.include_org_changes,
        };
        let planned = plan::plan(&controls, &opts.only, &scope);
        let target = Target {
            id: t.id.to_string(),
            archive: &archive,
            bucket: &bucket,
        };
        let drilled =
            drill_account(ctx, opts, &target, planned, interrupted.clone(), progress).await?;
        let count = |o: Outcome| drilled.alarms.iter().filter(|a| a.outcome == o).count();
        let (fired, broken) = (count(Outcome::Fired), count(Outcome::Broken));
        progress.send(DrillProgress::AccountDone {
            account: drilled.account_id.clone(),
            fired,
            broken,
            other: drilled.alarms.len() - fired - broken,
        });
        report.accounts.push(AccountDrill {
            name: t.name.clone(),
            ..drilled
        });
        if *interrupted.borrow() {
            break;
        }
    }
    report.summarize();
    Ok(report)
}

struct Target<'a> {
    id: String,
    archive: &'a AccountSession,
    bucket: &'a str,
}

fn base_result(
    p: &PlannedAlarm,
    outcome: Outcome,
    action: String,
    evidence: String,
) -> AlarmResult {
    AlarmResult {
        control: p.control.id.to_string(),
        title: p.control.title.to_string(),
        alarm: p.control.resource_name(),
        outcome,
        action,
        broken_link: None,
        broken_link_name: None,
        evidence,
        latencies: Vec::new(),
    }
}

fn broken(mut r: AlarmResult, link: usize, evidence: String) -> AlarmResult {
    r.outcome = Outcome::Broken;
    r.broken_link = Some(link);
    r.broken_link_name = Some(if link == 0 { "probe" } else { LINKS[link - 1] });
    r.evidence = evidence;
    r
}

/// An alarm no API call can set off: its deployed filter judged on the catalog's samples.
fn offline(p: &PlannedAlarm, filter: Option<&LiveFilter>) -> AlarmResult {
    let action = "replayed the catalog's sample records through the deployed filter".to_string();
    let r = base_result(p, Outcome::Offline, action, String::new());
    let Some(filter) = filter else {
        let why = format!(
            "no metric filter {} on the log group",
            p.control.resource_name()
        );
        return broken(r, 3, why);
    };
    let (positive, negative) = samples(p.control.topic);
    let (pos, neg) = (positive.to_string(), negative.to_string());
    let judged = parse(&filter.pattern).map(|pat| {
        (
            pat.matches(&Event::new(&pos)),
            pat.matches(&Event::new(&neg)),
        )
    });
    match judged {
        Ok((true, false)) => AlarmResult {
            evidence: format!(
                "filter {} matches the sample record and not its near miss (offline: the drill cannot produce this event here)",
                filter.name
            ),
            ..r
        },
        Ok((caught, near_miss)) => broken(
            r,
            3,
            format!(
                "filter {} {} the sample record and {} its near miss",
                filter.name,
                if caught { "matches" } else { "misses" },
                if near_miss { "matches" } else { "misses" }
            ),
        ),
        Err(e) => broken(r, 3, format!("filter {} does not parse: {e}", filter.name)),
    }
}

fn dry_run_results(planned: &[PlannedAlarm]) -> Vec<AlarmResult> {
    planned
        .iter()
        .map(|p| match &p.treatment {
            Treatment::Drill { probe } => {
                base_result(p, Outcome::Planned, probe.describe().into(), String::new())
            }
            Treatment::Offline => base_result(
                p,
                Outcome::Offline,
                "would replay the catalog's sample records through the deployed filter".into(),
                String::new(),
            ),
            Treatment::NotDrillable { why } => {
                base_result(p, Outcome::NotDrillable, String::new(), why.clone())
            }
        })
        .collect()
}

async fn drill_account(
    ctx: &RunCtx,
    opts: &DrillOptions,
    target: &Target<'_>,
    planned: Vec<PlannedAlarm>,
    interrupted: watch::Receiver<bool>,
    progress: &ProgressSink,
) -> Result<AccountDrill, ProvisionError> {
    let mut out = AccountDrill {
        account_id: target.id.clone(),
        name: String::new(),
        alarms: Vec::new(),
        leftovers: Vec::new(),
    };
    if opts.dry_run {
        out.alarms = dry_run_results(&planned);
        return Ok(out);
    }
    let home = ctx.spec.org.home_region.clone();
    let site = CallSite::new(&target.id, &home, "drill");
    let session = ctx.assume(&target.id, &home).await;
    let group = &ctx.spec.trail.log_group_name;
    let filters = read_filters(&session, &site, group, Some(PREFIX))
        .await?
        .unwrap_or_default();
    let names: Vec<String> = planned.iter().map(|p| p.control.resource_name()).collect();
    let drilled: Vec<&PlannedAlarm> = planned
        .iter()
        .filter(|p| matches!(p.treatment, Treatment::Drill { .. }))
        .collect();
    let phase = |phase: Phase| {
        progress.send(DrillProgress::Phase {
            account: target.id.clone(),
            phase,
            alarms: drilled.len(),
        })
    };
    let started = tokio::time::Instant::now();
    phase(Phase::Settling);
    let alarms = settle(&session, &site, &names, &drilled, opts.timeout / 2).await?;

    phase(Phase::Probes);
    let (times, failures, leftovers) =
        run_probes(ctx, &interrupted, &session, &site, &drilled).await;
    out.leftovers = leftovers;
    let mut watches = watches_of(&drilled, &times, &filters, &alarms);
    let chain_ctx = ChainCtx {
        member: &session,
        archive: target.archive,
        bucket: target.bucket,
        log_group: group,
        session_name: &session_name(&ctx.role.run_id),
        marker: &probes::drill_name(&session.account_id, &ctx.role.run_id),
        site: site.clone(),
    };
    // --timeout bounds the whole drill of the account: settling, the probes, following.
    let left = opts.timeout.saturating_sub(started.elapsed());
    phase(Phase::Following);
    let (waited, read) = follow(&chain_ctx, &mut watches, left, interrupted, progress).await;
    let seen = Followed {
        watches: &watches,
        read: &read,
        waited,
    };
    for p in &planned {
        out.alarms.push(match &p.treatment {
            Treatment::Offline => offline(p, filter_of(&filters, &p.control).as_ref()),
            Treatment::NotDrillable { why } => {
                base_result(p, Outcome::NotDrillable, String::new(), why.clone())
            }
            Treatment::Drill { probe } => drilled_result(p, *probe, &seen, &failures, &chain_ctx),
        });
    }
    Ok(out)
}

/// The deployed filter of a control, if any.
fn filter_of(filters: &[LiveFilter], c: &Control) -> Option<LiveFilter> {
    filters
        .iter()
        .find(|f| f.name == c.resource_name())
        .cloned()
}

/// A watch for each drilled alarm whose probe went out, from the moment it did.
fn watches_of(
    drilled: &[&PlannedAlarm],
    times: &BTreeMap<Probe, Timestamp>,
    filters: &[LiveFilter],
    alarms: &BTreeMap<String, LiveAlarm>,
) -> Vec<Watch> {
    let mut watches = Vec::new();
    for p in drilled {
        let Treatment::Drill { probe } = p.treatment else {
            continue;
        };
        if let Some(at) = times.get(&probe) {
            watches.push(Watch::new(
                p.control.clone(),
                filter_of(filters, &p.control),
                alarms.get(&p.control.resource_name()).cloned(),
                *at,
            ));
        }
    }
    watches
}

/// What following the chain found: the watches, the errors met, how long it looked.
struct Followed<'a> {
    watches: &'a [Watch],
    read: &'a Seen,
    waited: f64,
}

fn drilled_result(
    p: &PlannedAlarm,
    probe: Probe,
    seen: &Followed<'_>,
    failures: &BTreeMap<Probe, String>,
    c: &ChainCtx<'_>,
) -> AlarmResult {
    let Followed {
        watches,
        read,
        waited,
    } = *seen;
    let r = base_result(p, Outcome::Fired, probe.describe().into(), String::new());
    if let Some(error) = failures.get(&probe) {
        return broken(r, 0, format!("the probe failed: {error}"));
    }
    let Some(w) = watches.iter().find(|w| w.control.id == p.control.id) else {
        return broken(r, 0, "the probe did not run (interrupted)".into());
    };
    let latencies: Vec<LinkLatency> = w
        .seen
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            s.map(|seconds| LinkLatency {
                link: i + 1,
                name: LINKS[i],
                seconds: (seconds * 10.0).round() / 10.0,
            })
        })
        .collect();
    let r = AlarmResult { latencies, ..r };
    match w.first_unseen() {
        None => AlarmResult {
            evidence: format!("{} notified a confirmed subscriber", w.alarm_name),
            ..r
        },
        Some(k) => {
            let evidence = match &w.broken {
                Some((b, why)) if *b == k => why.clone(),
                _ => match read.error(k) {
                    Some(error) => format!(
                        "{} (last error: {error})",
                        chain::timeout_evidence(c, w, k, waited)
                    ),
                    None => chain::timeout_evidence(c, w, k, waited),
                },
            };
            broken(r, k, evidence)
        }
    }
}

/// Waits (up to `limit`) for the drilled alarms to leave ALARM: one already in ALARM cannot
/// change state, so its drill would prove nothing. Returns the alarms as last read.
async fn settle(
    session: &AccountSession,
    site: &CallSite,
    names: &[String],
    drilled: &[&PlannedAlarm],
    limit: Duration,
) -> Result<BTreeMap<String, LiveAlarm>, ProvisionError> {
    let deadline = tokio::time::Instant::now() + limit;
    let watched: Vec<String> = drilled.iter().map(|p| p.control.resource_name()).collect();
    loop {
        let alarms: BTreeMap<String, LiveAlarm> = read_alarms(session, site, Some(names))
            .await?
            .into_iter()
            .collect();
        let busy = watched
            .iter()
            .any(|n| alarms.get(n).is_some_and(|a| a.state == "ALARM"));
        if !busy || tokio::time::Instant::now() >= deadline {
            return Ok(alarms);
        }
        tokio::time::sleep(poll_interval(limit)).await;
    }
}

fn poll_interval(timeout: Duration) -> Duration {
    (timeout / 40).clamp(Duration::from_secs(1), Duration::from_secs(15))
}

/// Runs every probe once; returns when each made its change, the probes that failed, and what
/// could not be removed. The ledger is emptied whatever happened.
async fn run_probes(
    ctx: &RunCtx,
    interrupted: &watch::Receiver<bool>,
    session: &AccountSession,
    site: &CallSite,
    drilled: &[&PlannedAlarm],
) -> (
    BTreeMap<Probe, Timestamp>,
    BTreeMap<Probe, String>,
    Vec<String>,
) {
    let owned: Vec<PlannedAlarm> = drilled.iter().map(|p| (*p).clone()).collect();
    let order = plan::probes(&owned);
    let home = &session.region;
    let base = ctx.conn.base_config(home).await;
    let denied = AccountSession::assume_narrowed(
        &ctx.conn,
        &base,
        &session.account_id,
        home,
        &ctx.role,
        Some(DENY_ALL),
        &ctx.calls,
    )
    .await;
    let management = ctx.management().await;
    let ledger = Ledger::default();
    let p = ProbeCtx {
        session,
        denied: &denied,
        management: &management,
        run_id: &ctx.role.run_id,
        trail_name: &ctx.spec.trail.name,
        ledger: &ledger,
        site: site.clone(),
        role_name: (session.account_id != ctx.spec.org.management_account.as_str())
            .then_some(ctx.role.role_name.as_str()),
    };
    let (mut times, mut failures) = (BTreeMap::new(), BTreeMap::new());
    let mut vpc = String::new();
    if order.iter().any(|p| p.needs_vpc()) {
        match probes::create_vpc(&p).await {
            Ok((id, at)) => {
                vpc = id;
                times.insert(Probe::Vpc, at);
            }
            Err(e) => {
                for probe in order.iter().filter(|p| p.needs_vpc()) {
                    failures.insert(*probe, e.to_string());
                }
            }
        }
    }
    for probe in order {
        if *interrupted.borrow() {
            break;
        }
        if failures.contains_key(&probe) || probe == Probe::Vpc {
            continue;
        }
        match probes::run(&p, probe, &vpc).await {
            Ok(at) => {
                times.insert(probe, at);
            }
            Err(e) => {
                failures.insert(probe, e.to_string());
            }
        }
    }
    let failed = super::cleanup::remove_all(session, site, &ledger.pending()).await;
    let leftovers = failed
        .into_iter()
        .map(|(r, why)| format!("{}: {why}", r.label()))
        .collect();
    (times, failures, leftovers)
}

/// Polls the chain until every watch is done, the timeout passes, or an interrupt; returns the
/// seconds waited.
async fn follow(
    c: &ChainCtx<'_>,
    watches: &mut [Watch],
    timeout: Duration,
    mut interrupted: watch::Receiver<bool>,
    progress: &ProgressSink,
) -> (f64, Seen) {
    let started = tokio::time::Instant::now();
    let mut read = Seen::default();
    loop {
        let before: Vec<[Option<f64>; 6]> = watches.iter().map(|w| w.seen).collect();
        chain::poll(c, watches, &mut read).await;
        tell_links(c, watches, &before, progress);
        if watches.iter().all(Watch::done) || started.elapsed() >= timeout || *interrupted.borrow()
        {
            return (started.elapsed().as_secs_f64(), read);
        }
        tokio::select! {
            _ = tokio::time::sleep(poll_interval(timeout)) => {}
            _ = interrupted.changed() => {}
        }
    }
}

/// The links each watch reached in the last poll, in link order.
fn tell_links(
    c: &ChainCtx<'_>,
    watches: &[Watch],
    before: &[[Option<f64>; 6]],
    progress: &ProgressSink,
) {
    for (w, was) in watches.iter().zip(before) {
        for (i, (now, then)) in w.seen.iter().zip(was).enumerate() {
            if let (Some(seconds), None) = (now, then) {
                progress.send(DrillProgress::Link {
                    account: c.member.account_id.clone(),
                    control: w.control.id.to_string(),
                    link: i + 1,
                    name: LINKS[i],
                    seconds: (seconds * 10.0).round() / 10.0,
                });
            }
        }
    }
}

/// `drill --cleanup`: removes every tagged leftover of earlier drills in the selected accounts;
/// returns (account, removed, failed).
pub async fn cleanup_leftovers(
    ctx: &RunCtx,
    opts: &DrillOptions,
) -> Result<Vec<(String, Vec<String>, Vec<String>)>, ProvisionError> {
    let (chosen, _, _) = targets(ctx, opts).await?;
    let home = ctx.spec.org.home_region.clone();
    let mut out = Vec::new();
    for t in chosen {
        let site = CallSite::new(t.id.as_str(), &home, "drill cleanup");
        let session = ctx.assume(t.id.as_str(), &home).await;
        let found = super::cleanup::leftovers(&session, &site).await?;
        let failed = super::cleanup::remove_all(&session, &site, &found).await;
        let failed_labels: Vec<String> = failed
            .iter()
            .map(|(r, why)| format!("{}: {why}", r.label()))
            .collect();
        let removed = found
            .iter()
            .filter(|r| !failed.iter().any(|(f, _)| f == *r))
            .map(|r| r.label())
            .collect();
        out.push((t.id.to_string(), removed, failed_labels));
    }
    Ok(out)
}
