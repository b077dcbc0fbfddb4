#![allow(clippy::expect_used)] // a benchmark stops at the first surprise
//! `cargo xtask bench rollout --accounts N --latency-ms L [--concurrency C]`: a rollout of N
//! accounts in the emulator, every call delayed by L, against the fastest it could be.
//! `--profile aws` replaces the fixed delay by AWS's own limits (docs/testing.md, "The AWS
//! profile"): per account × region × operation token buckets, answered with real throttling
//! errors, and a latency per call drawn from each operation's distribution.
//!
//! The bound is the larger of (a) the longest chain of dependent calls per account, summed over
//! the waves given each wave's concurrency (with the profile: the trail chain with IAM
//! propagation, or the alarms and filters at their rates, whichever is longer; plus the
//! management account's AssumeRole rate and the log-archive stage), and (b) all calls ÷ the
//! emulator's throughput, measured in this run, for the calls that reach it. It also prints
//! trailhead's CPU over wall time and its peak RSS. The last line is `wall/bound = R`.
//!
//! `--backend replay` (the default with the profile) takes the emulator out of the measurement:
//! the first canary account talks to the emulator and is recorded, and the workload accounts are
//! answered from that recording (tests/support/replay.rs). `--backend emulator` sends every
//! call to the emulator. The output names the backend of every figure.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trailhead_e2e::aws_profile::AwsProfile;
use trailhead_e2e::faults::{FaultConfig, FaultInjector};
use trailhead_e2e::replay::{Replay, ReplayStats, canary_and_workloads};
use trailhead_e2e::{REGION, emulator, emulator_control, run_ctx, seed};
use trailhead_emulator_support::seed::SeededOrg;
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::events::EventSink;
use trailhead_provisioner::plan::{Action, StepReport};
use trailhead_provisioner::rollout::{RolloutOptions, plan, rollout};

/// The steps of the log-archive stage (docs/events.md).
const ARCHIVE_STEPS: &[&str] = &[
    "log-archive account",
    "organization trail",
    "access-log bucket",
    "archive key",
    "archive bucket",
    "mfa delete",
];

/// The dependent chain of a new account, whatever the implementation: assume its role; read,
/// create and grant the CloudTrail role; read, create and start the trail (which needs the
/// role). Log group, topic, filters and alarms can all run beside it.
const CHAIN_CALLS: u64 = 7;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn arg_text(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// CPU seconds (user + system, every thread) this process has used: /proc/self/stat's utime
/// and stime, in clock ticks of 1/100 s (Linux's USER_HZ on every architecture it runs on).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat(5); 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

/// The calls of a new account that must follow one another (each needs what the one before
/// made, or reads before it writes), from AssumeRole to the first of the rated puts.
const ROLE_CHAIN: &[&str] = &["iam:GetRole", "iam:CreateRole", "iam:PutRolePolicy"];
const GROUP_CHAIN: &[&str] = &["kms:CreateKey", "logs:CreateLogGroup"];
const TRAIL_CHAIN: &[&str] = &[
    "cloudtrail:DescribeTrails",
    "cloudtrail:CreateTrail",
    "cloudtrail:StartLogging",
];
/// The alarms name their topic as their action, so the topic comes first.
const ALARM_CHAIN: &[&str] = &["sns:CreateTopic", "monitoring:DescribeAlarms"];
const FILTER_CHAIN: &[&str] = &["logs:DescribeMetricFilters"];

/// The critical path of one new account under the profile, from each operation's median
/// latency and rate: the trail waits for its role (created, granted, propagated) and its log
/// group; the alarms for their topic, then their rate; the filters for the log group, then
/// their rate. Returns (trail, alarms, filters) in seconds.
fn profile_account_path(p: &AwsProfile, iam_delay: f64, puts: usize) -> (f64, f64, f64) {
    let chain = |ops: &[&str]| {
        ops.iter()
            .map(|op| p.limits(op).median.as_secs_f64())
            .sum::<f64>()
    };
    let rated = |op: &str| {
        let l = p.limits(op);
        (puts as f64 - l.burst).max(0.0) / l.rate + l.median.as_secs_f64()
    };
    // Nothing in an account starts before its role is assumed.
    let assume = chain(&["sts:AssumeRole"]);
    let group = chain(GROUP_CHAIN);
    let trail = assume + (chain(ROLE_CHAIN) + iam_delay).max(group) + chain(TRAIL_CHAIN);
    let alarms = assume + chain(ALARM_CHAIN) + rated("monitoring:PutMetricAlarm");
    let filters = assume + group + chain(FILTER_CHAIN) + rated("logs:PutMetricFilter");
    (trail, alarms, filters)
}

fn peak_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Emulator,
    Replay,
}

struct Args {
    accounts: usize,
    latency: Duration,
    profile: Option<AwsProfile>,
    concurrency: usize,
    backend: Backend,
}

fn parse_args() -> Args {
    let profile = match arg_text("--profile").as_deref() {
        None => None,
        Some("aws") => Some(AwsProfile),
        Some(other) => fail(&format!(
            "unknown --profile {other}: the one profile is `aws`"
        )),
    };
    let backend = match arg_text("--backend").as_deref() {
        None if profile.is_some() => Backend::Replay,
        None | Some("emulator") => Backend::Emulator,
        Some("replay") => Backend::Replay,
        Some(other) => fail(&format!(
            "unknown --backend {other}: `replay` (recorded answers) or `emulator`"
        )),
    };
    Args {
        accounts: arg("--accounts", 100).max(3) as usize,
        latency: Duration::from_millis(arg("--latency-ms", 50)),
        profile,
        concurrency: arg("--concurrency", 16) as usize,
        backend,
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

/// (b)'s denominator: the emulator's own throughput, measured now, without added latency, for
/// the calls a rollout makes most: metric alarm and filter writes, and reads.
async fn emulator_throughput(clean: &trailhead_provisioner::Connection, concurrency: usize) -> f64 {
    let base = clean.base_config(REGION).await;
    let sts = aws_sdk_sts::Client::new(&base);
    let cw = aws_sdk_cloudwatch::Client::new(&base);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&base);
    let group = format!("/trailhead/bench-probe-{}", std::process::id());
    let _ = logs.create_log_group().log_group_name(&group).send().await;
    let probes = 400;
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    for i in 0..probes {
        let (sts, cw, logs, group) = (sts.clone(), cw.clone(), logs.clone(), group.clone());
        let limit = limit.clone();
        set.spawn(async move {
            let _p = limit.acquire_owned().await;
            match i % 4 {
                0 => cw
                    .put_metric_alarm()
                    .alarm_name(format!("bench-probe-{}", i % 15))
                    .namespace("Probe")
                    .metric_name("Probe")
                    .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
                    .period(300)
                    .threshold(1.0)
                    .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold)
                    .evaluation_periods(1)
                    .send()
                    .await
                    .is_ok(),
                1 => logs
                    .put_metric_filter()
                    .log_group_name(&group)
                    .filter_name(format!("probe-{}", i % 15))
                    .filter_pattern("{ $.eventName = Probe }")
                    .metric_transformations(
                        aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                            .metric_name("Probe")
                            .metric_namespace("Probe")
                            .metric_value("1")
                            .build()
                            .expect("transformation"),
                    )
                    .send()
                    .await
                    .is_ok(),
                2 => cw.describe_alarms().alarm_name_prefix("bench-probe").send().await.is_ok(),
                _ => sts.get_caller_identity().send().await.is_ok(),
            }
        });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        ok += usize::from(r.unwrap_or(false));
    }
    let throughput = ok as f64 / started.elapsed().as_secs_f64();
    println!(
        "emulator throughput: {throughput:.0} calls/s ({ok} probes: alarm and filter writes, reads)"
    );
    throughput
}

/// The wire between trailhead and the emulator: the profile (or the fixed latency) and faults
/// outermost, then, with the replay backend, the recording.
fn install_wire(
    clean: &trailhead_provisioner::Connection,
    args: &Args,
    org: &SeededOrg,
) -> (
    trailhead_provisioner::Connection,
    FaultInjector,
    Option<Replay>,
) {
    let holder = Arc::new(Mutex::new(None));
    let h = holder.clone();
    let config = FaultConfig {
        latency: args.latency,
        profile: args.profile.clone(),
        ..FaultConfig::default()
    };
    let roles = (args.backend == Backend::Replay)
        .then(|| canary_and_workloads(org).expect("the seeded org has a canary"));
    let slow = clean.clone().wrap_http_client(move |inner| {
        let replay =
            roles.map(|(template, replayed)| Replay::new(inner.clone(), &template, replayed));
        let backend = replay.as_ref().map_or(inner, |r| r.shared());
        let injector = FaultInjector::new(backend, config);
        let shared = injector.shared();
        if let Ok(mut g) = h.lock() {
            *g = Some((injector, replay));
        }
        shared
    });
    let (injector, replay) = holder
        .lock()
        .ok()
        .and_then(|mut g| g.take())
        .expect("the injector is installed when the client is wrapped");
    (slow, injector, replay)
}

/// Where a workload account's time goes: each step's mean duration over the replayed (or all
/// workload) accounts, longest first.
fn step_profile(reports: &[StepReport], org: &SeededOrg) -> String {
    let workloads: std::collections::HashSet<&str> = org
        .members
        .iter()
        .filter(|a| a.ou == "Workloads")
        .map(|a| a.id.as_str())
        .collect();
    let mut sums: std::collections::BTreeMap<&str, (f64, u32)> = Default::default();
    for r in reports
        .iter()
        .filter(|r| workloads.contains(r.account.as_str()))
    {
        let e = sums.entry(r.step.as_str()).or_default();
        e.0 += r.duration.as_secs_f64();
        e.1 += 1;
    }
    let mut means: Vec<(&str, f64)> = sums
        .into_iter()
        .map(|(step, (sum, n))| (step, sum / f64::from(n.max(1))))
        .collect();
    means.sort_by(|a, b| b.1.total_cmp(&a.1));
    means
        .iter()
        .map(|(step, secs)| format!("{step} {secs:.2} s"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Times the phases of a run from its events: what came before the first wave (preflight and
/// the log-archive stage), then each wave and its gate.
fn timeline() -> (EventSink, tokio::task::JoinHandle<String>) {
    use trailhead_provisioner::events::Event;
    let (sink, mut events) = EventSink::channel();
    let collector = tokio::spawn(async move {
        let started = Instant::now();
        let mut mark = started;
        let mut parts = Vec::new();
        while let Some(event) = events.recv().await {
            let since = mark.elapsed().as_secs_f64();
            let label = match event {
                Event::WaveStarted { wave, .. } if parts.is_empty() => {
                    format!("before the waves {since:.1} s; {wave} ")
                }
                Event::GateStarted { .. } => format!("{since:.1} s + gate "),
                Event::WaveFinished { .. } => format!("{since:.1} s"),
                Event::WaveStarted { wave, .. } => format!("; {wave} "),
                _ => continue,
            };
            mark = Instant::now();
            parts.push(label);
        }
        parts.concat()
    });
    (sink, collector)
}

fn backend_label(args: &Args, stats: Option<ReplayStats>) -> String {
    let shaping = if args.profile.is_some() {
        "under the AWS profile"
    } else {
        "every call delayed by --latency-ms"
    };
    match stats {
        Some(s) => format!(
            "recorded answers (replay), {shaping}: {} calls answered from the first canary's recording, {} sent to the emulator (STS, management, log archive, canaries), {} misses",
            s.replayed, s.forwarded, s.misses
        ),
        None => format!("the emulator (moto), {shaping}"),
    }
}

/// A seeded org of `n` accounts and its spec, with the workload wave at `concurrency`.
async fn seeded(
    clean: &trailhead_provisioner::Connection,
    n: usize,
    concurrency: usize,
) -> (SeededOrg, String) {
    let seeding = Instant::now();
    let org = seed(clean, "bench", n - 2).await;
    println!(
        "seeded {n} accounts in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    // The new accounts' access roles become assumable after the emulator's IAM delay; with
    // account creation instant, that delay would otherwise fail the preflight.
    let iam_wait = emulator_control(&["settings"])["iam_delay"]
        .as_f64()
        .unwrap_or(0.0);
    tokio::time::sleep(Duration::from_secs_f64(iam_wait)).await;
    let mut spec = org.spec_toml("bench", REGION);
    spec = spec.replace(
        "max_concurrency = 8",
        &format!("max_concurrency = {concurrency}"),
    );
    // The seeded spec has a [rollout] table already: the cap goes into it.
    spec = spec.replacen(
        "[rollout]\n",
        &format!("[rollout]\nmax_concurrency = {concurrency}\n"),
        1,
    );
    (org, spec)
}

/// The bound's terms, in seconds.
struct Bound {
    archive: f64,
    waves: f64,
    assume_rate: f64,
    throughput: f64,
    /// "wave accounts/concurrency" of each wave.
    sizes: Vec<String>,
}

impl Bound {
    fn total(&self) -> f64 {
        self.archive + self.waves.max(self.throughput).max(self.assume_rate)
    }
}

/// (a) the dependent chain per account, per wave, at each wave's concurrency; with the
/// profile, the management account's AssumeRole bucket and the log-archive stage; (b) the calls
/// that reached the emulator at its measured throughput.
fn compute_bound(
    args: &Args,
    ctx: &trailhead_provisioner::log_archive::RunCtx,
    org: &SeededOrg,
    outcome: &Result<
        trailhead_provisioner::rollout::RolloutOutcome,
        trailhead_provisioner::ProvisionError,
    >,
    injector: &FaultInjector,
    emulator_calls: u64,
    throughput: f64,
) -> Bound {
    let iam_delay = emulator_control(&["settings"])["iam_delay"]
        .as_f64()
        .unwrap_or(0.0);
    let alarms = trailhead_provisioner::rollout::controls(ctx).map_or(15, |c| c.len());
    let per_account = match &args.profile {
        Some(p) => {
            let (chain, alarm_s, filter_s) = profile_account_path(p, iam_delay, alarms);
            println!(
                "per account: trail chain {chain:.2} s (with IAM propagation {iam_delay:.1} s), {alarms} alarms {alarm_s:.2} s, filters {filter_s:.2} s"
            );
            chain.max(alarm_s).max(filter_s)
        }
        None => CHAIN_CALLS as f64 * args.latency.as_secs_f64(),
    };
    let mut waves = 0.0;
    let mut sizes = Vec::new();
    for w in &ctx.spec.waves {
        let size = org
            .all_accounts()
            .filter(|a| {
                w.members
                    .iter()
                    .any(|m| m.value.to_string() == format!("ou:{}", a.ou))
            })
            .count();
        let conc = (w.max_concurrency as usize).min(args.concurrency).max(1);
        waves += size.div_ceil(conc) as f64 * per_account;
        sizes.push(format!("{} {size}/{conc}", w.name.value));
    }
    let (assume_rate, archive) = match (&args.profile, outcome) {
        (Some(p), Ok(o)) => {
            let archive_calls: u64 = o
                .reports
                .iter()
                .filter(|r| ARCHIVE_STEPS.contains(&r.step.as_str()))
                .map(|r| r.api_calls)
                .sum();
            // Every AssumeRole the run made (an account is assumed for the preflight, the
            // archive's checks and its wave), all from the management account's bucket.
            let assumed = injector
                .counts()
                .get("sts:AssumeRole")
                .map_or(org.all_accounts().count() as u64, |c| c.calls);
            (
                assumed as f64 / p.limits("sts:AssumeRole").rate,
                archive_calls as f64 * p.limits("s3:PUT").median.as_secs_f64(),
            )
        }
        _ => (0.0, 0.0),
    };
    Bound {
        archive,
        waves,
        assume_rate,
        throughput: emulator_calls as f64 / throughput,
        sizes,
    }
}

/// What a later run (the no-op re-run, a plan) cost: calls, wall time, and what it found.
struct LaterRun {
    calls: u64,
    wall: Duration,
    /// Writes (re-run) or steps to change (plan).
    changes: u64,
    ok: bool,
}

async fn noop_rerun(
    ctx: &trailhead_provisioner::log_archive::RunCtx,
    injector: &FaultInjector,
    replay: Option<&Replay>,
) -> LaterRun {
    ctx.calls.reset();
    if let Some(r) = replay {
        r.new_run();
    }
    let before = injector.total().calls;
    let started = Instant::now();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let again = rollout(ctx, &RolloutOptions::default(), &EventSink::none(), rx).await;
    LaterRun {
        wall: started.elapsed(),
        calls: injector.total().calls - before,
        changes: totals(&ctx.calls.snapshot()).1,
        ok: again.as_ref().is_ok_and(|o| o.ok()),
    }
}

/// A plan of the whole org, read-only, through the same wire.
async fn whole_org_plan(
    plan_ctx: &trailhead_provisioner::log_archive::RunCtx,
    injector: &FaultInjector,
    replay: Option<&Replay>,
) -> LaterRun {
    if let Some(r) = replay {
        r.new_run();
    }
    let before = injector.total().calls;
    let started = Instant::now();
    let planned = plan(plan_ctx, &EventSink::none()).await;
    LaterRun {
        wall: started.elapsed(),
        calls: injector.total().calls - before,
        changes: planned.as_ref().map_or(0, |p| {
            p.reports
                .iter()
                .filter(|r| matches!(r.action, Action::Create | Action::Update))
                .count() as u64
        }),
        ok: planned.is_ok(),
    }
}

fn print_throttled(injector: &FaultInjector) {
    let mut by_op: Vec<(String, u64)> = injector
        .counts()
        .into_iter()
        .filter(|(_, c)| c.throttled > 0)
        .map(|(op, c)| (op, c.throttled))
        .collect();
    by_op.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let top: Vec<String> = by_op
        .iter()
        .take(5)
        .map(|(op, n)| format!("{op} {n}"))
        .collect();
    println!(
        "throttled by the profile's buckets: {} call(s), each retried by the SDK (most: {})",
        injector.total().throttled,
        top.join(", ")
    );
}

fn print_failure(
    outcome: &Result<
        trailhead_provisioner::rollout::RolloutOutcome,
        trailhead_provisioner::ProvisionError,
    >,
) {
    match outcome {
        Ok(o) if o.ok() => {}
        Ok(o) => println!(
            "rollout did not succeed: {} failed (first: {}); preflight: {}",
            o.failures.len(),
            o.failures
                .first()
                .map_or(String::new(), |(a, e)| format!("{a}: {e}")),
            o.preflight_problems.join("; ")
        ),
        Err(e) => println!("rollout failed: {e}"),
    }
}

fn print_backend(args: &Args, replay: Option<&Replay>, first: Option<ReplayStats>) {
    println!("backend: {}", backend_label(args, first));
    if let Some(r) = replay {
        let later = r.stats().misses - first.map_or(0, |s| s.misses);
        println!("  misses in the re-run and the plan: {later}");
        for missed in r.missed() {
            println!("  missed: {}", missed.replace('\n', " | "));
        }
    }
}

fn print_later_runs(n: usize, first_calls: u64, rerun: &LaterRun, planned: &LaterRun) {
    println!(
        "no-op re-run: {} calls ({:.0}% of the first run, {:.1} per account), {} writes, {:.2} s{}",
        rerun.calls,
        100.0 * rerun.calls as f64 / first_calls.max(1) as f64,
        rerun.calls as f64 / n as f64,
        rerun.changes,
        rerun.wall.as_secs_f64(),
        if rerun.ok { "" } else { " (the re-run failed)" }
    );
    println!(
        "plan of the whole org: {} calls ({:.1} per account), {} step(s) to change, {:.2} s{}",
        planned.calls,
        planned.calls as f64 / n as f64,
        planned.changes,
        planned.wall.as_secs_f64(),
        if planned.ok { "" } else { " (the plan failed)" }
    );
}

fn print_cost(n: usize, calls: u64, cpu: f64, wall: Duration) {
    println!(
        "cpu/wall = {:.3} ({cpu:.1} s of CPU, this process, over the first run's {:.1} s; {:.2} ms per API call)",
        cpu / wall.as_secs_f64(),
        wall.as_secs_f64(),
        1000.0 * cpu / calls.max(1) as f64
    );
    let moto_pid = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/emulator/pid"),
    )
    .unwrap_or_default();
    println!(
        "peak_rss_mib = {} (this process: trailhead's engine and the benchmark; {:.0} KiB per account); emulator {} MiB",
        peak_kib("self") / 1024,
        peak_kib("self") as f64 / n as f64,
        peak_kib(moto_pid.trim()) / 1024
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = parse_args();
    let (n, latency, concurrency) = (args.accounts, args.latency, args.concurrency);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!(
        "machine: {cores} core(s); accounts {n}; latency {latency:?}; concurrency {concurrency}"
    );

    let clean = emulator();
    let throughput = emulator_throughput(&clean, concurrency).await;
    // The emulator keeps a new account IN_PROGRESS (and unlisted) for a while, as AWS does;
    // seeding is not what is measured, so that wait is off until the benchmark ends.
    let create_wait = emulator_control(&["settings"])["create_account_seconds"]
        .as_f64()
        .unwrap_or(0.0);
    emulator_control(&["settings", "--set", "create_account_seconds=0"]);
    let (org, spec) = seeded(&clean, n, concurrency).await;
    let (slow, injector, replay) = install_wire(&clean, &args, &org);
    let state = tempfile::tempdir()
        .map(|d| d.keep())
        .unwrap_or_else(|_| std::env::temp_dir());
    let ctx = run_ctx(&slow, &spec, true, &state);

    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (sink, phases) = timeline();
    let outcome = rollout(&ctx, &RolloutOptions::default(), &sink, rx).await;
    let wall = started.elapsed();
    drop(sink);
    let phases = phases.await.unwrap_or_default();
    let cpu = cpu_seconds() - cpu_before;
    print_failure(&outcome);
    let first_calls = injector.total().calls;
    let first_stats = replay.as_ref().map(Replay::stats);
    let emulator_calls = first_stats.map_or(first_calls, |s| s.forwarded);
    let bound = compute_bound(
        &args,
        &ctx,
        &org,
        &outcome,
        &injector,
        emulator_calls,
        throughput,
    );

    // The peak so far, after each run: which of them holds the memory.
    let mut peaks = vec![("the rollout", peak_kib("self"))];
    let rerun = noop_rerun(&ctx, &injector, replay.as_ref()).await;
    peaks.push(("the re-run", peak_kib("self")));
    let plan_ctx = run_ctx(&slow, &spec, false, &state);
    let planned = whole_org_plan(&plan_ctx, &injector, replay.as_ref()).await;
    peaks.push(("the plan", peak_kib("self")));

    println!("waves (accounts/concurrency): {}", bound.sizes.join(", "));
    println!("wall time: {:.2} s", wall.as_secs_f64());
    println!(
        "API calls: {first_calls} total, {:.1} per account",
        first_calls as f64 / n as f64
    );
    let total = bound.total();
    match &args.profile {
        Some(_) => println!(
            "bound: {total:.2} s = archive {:.2} s + max(waves {:.2} s, management AssumeRole rate {:.2} s, emulator throughput {:.2} s)",
            bound.archive, bound.waves, bound.assume_rate, bound.throughput
        ),
        None => println!(
            "bound: {total:.2} s = max(chain {:.2} s [{CHAIN_CALLS} dependent calls × {latency:?} per round], throughput {:.2} s)",
            bound.waves, bound.throughput
        ),
    }
    print_backend(&args, replay.as_ref(), first_stats);
    println!("first run: {phases}");
    if let Ok(o) = &outcome {
        println!(
            "workload account, mean per step: {}",
            step_profile(&o.reports, &org)
        );
    }
    print_throttled(&injector);
    print_later_runs(n, first_calls, &rerun, &planned);
    print_cost(n, first_calls, cpu, wall);
    let peaks: Vec<String> = peaks
        .iter()
        .map(|(after, kib)| format!("after {after} {} MiB", kib / 1024))
        .collect();
    println!("peak RSS so far: {}", peaks.join(", "));
    println!("wall/bound = {:.2}", wall.as_secs_f64() / total);
    emulator_control(&[
        "settings",
        "--set",
        &format!("create_account_seconds={create_wait}"),
    ]);
}
