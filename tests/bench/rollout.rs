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
//! emulator's throughput, measured in this run. It also prints trailhead's CPU over wall time
//! and its peak RSS. The last line is `wall/bound = R`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trailhead_e2e::aws_profile::AwsProfile;
use trailhead_e2e::faults::{FaultConfig, FaultInjector};
use trailhead_e2e::{REGION, emulator, emulator_control, run_ctx, seed};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::events::EventSink;
use trailhead_provisioner::rollout::{RolloutOptions, rollout};

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

/// The critical path of one new account under the profile: the trail waits for its role
/// (created, granted, propagated), the alarms and filters for their rates.
fn profile_account_path(p: &AwsProfile, iam_delay: f64, alarms: usize) -> (f64, f64, f64) {
    let median = |op: &str| p.limits(op).median.as_secs_f64();
    let chain = [
        "sts:AssumeRole",
        "iam:GetRole",
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "cloudtrail:DescribeTrails",
        "cloudtrail:CreateTrail",
        "cloudtrail:StartLogging",
    ]
    .iter()
    .map(|op| median(op))
    .sum::<f64>()
        + iam_delay;
    let rated = |op: &str| {
        let l = p.limits(op);
        (alarms as f64 - l.burst).max(0.0) / l.rate + l.median.as_secs_f64()
    };
    (
        chain,
        rated("monitoring:PutMetricAlarm"),
        rated("logs:PutMetricFilter"),
    )
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

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n = arg("--accounts", 100).max(3) as usize;
    let latency = Duration::from_millis(arg("--latency-ms", 50));
    let profile = match arg_text("--profile").as_deref() {
        None => None,
        Some("aws") => Some(AwsProfile),
        Some(other) => {
            eprintln!("unknown --profile {other}: the one profile is `aws`");
            std::process::exit(2);
        }
    };
    let concurrency = arg("--concurrency", 16) as usize;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!(
        "machine: {cores} core(s); accounts {n}; latency {latency:?}; concurrency {concurrency}"
    );

    let clean = emulator();
    // (b): the emulator's own throughput, measured now, without added latency, for the calls a
    // rollout makes most: metric alarm and filter writes, and reads.
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

    let org = seed(&clean, "bench", n - 2).await;
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
    let holder = Arc::new(Mutex::new(None));
    let h = holder.clone();
    let wire_profile = profile.clone();
    let slow = clean.clone().wrap_http_client(move |inner| {
        let injector = FaultInjector::new(
            inner,
            FaultConfig {
                latency,
                profile: wire_profile.clone(),
                ..FaultConfig::default()
            },
        );
        let shared = injector.shared();
        if let Ok(mut g) = h.lock() {
            *g = Some(injector);
        }
        shared
    });
    let Some(injector) = holder.lock().ok().and_then(|g| g.clone()) else {
        eprintln!("the latency injector was not installed");
        return;
    };
    let state = tempfile::tempdir()
        .map(|d| d.keep())
        .unwrap_or_else(|_| std::env::temp_dir());
    let ctx = run_ctx(&slow, &spec, true, &state);

    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = rollout(&ctx, &RolloutOptions::default(), &EventSink::none(), rx).await;
    let wall = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    match &outcome {
        Ok(o) if o.ok() => {}
        Ok(o) => println!(
            "rollout did not succeed: {:?} {:?}",
            o.failures, o.preflight_problems
        ),
        Err(e) => println!("rollout failed: {e}"),
    }
    let first_calls = injector.total().calls;

    // (a): the dependent chain per account, per wave, at each wave's concurrency.
    let iam_delay = emulator_control(&["settings"])["iam_delay"]
        .as_f64()
        .unwrap_or(0.0);
    let alarms = trailhead_provisioner::rollout::controls(&ctx).map_or(15, |c| c.len());
    let per_account = match &profile {
        Some(p) => {
            let (chain, alarm_s, filter_s) = profile_account_path(p, iam_delay, alarms);
            println!(
                "per account: trail chain {chain:.2} s (with IAM propagation {iam_delay:.1} s), {alarms} alarms {alarm_s:.2} s, filters {filter_s:.2} s"
            );
            chain.max(alarm_s).max(filter_s)
        }
        None => CHAIN_CALLS as f64 * latency.as_secs_f64(),
    };
    let mut chain_secs = 0.0;
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
        let conc = (w.max_concurrency as usize).min(concurrency).max(1);
        let rounds = size.div_ceil(conc);
        chain_secs += rounds as f64 * per_account;
        sizes.push(format!("{} {size}/{conc}", w.name.value));
    }
    let throughput_secs = first_calls as f64 / throughput;
    // With the profile: the management account's AssumeRole bucket, and the log-archive stage,
    // whose calls run one after another before any wave.
    let (sts_secs, archive_secs) = match (&profile, &outcome) {
        (Some(p), Ok(o)) => {
            let assume = p.limits("sts:AssumeRole");
            let archive_calls: u64 = o
                .reports
                .iter()
                .filter(|r| ARCHIVE_STEPS.contains(&r.step.as_str()))
                .map(|r| r.api_calls)
                .sum();
            (
                n as f64 / assume.rate,
                archive_calls as f64 * p.limits("s3:PUT").median.as_secs_f64(),
            )
        }
        _ => (0.0, 0.0),
    };
    let bound = archive_secs + chain_secs.max(throughput_secs).max(sts_secs);

    ctx.calls.reset();
    let before = injector.total().calls;
    let started = Instant::now();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let again = rollout(&ctx, &RolloutOptions::default(), &EventSink::none(), rx).await;
    let noop_wall = started.elapsed();
    let noop_calls = injector.total().calls - before;
    let noop_writes = totals(&ctx.calls.snapshot()).1;
    if !again.as_ref().is_ok_and(|o| o.ok()) {
        println!("the no-op re-run did not succeed");
    }

    println!("waves (accounts/concurrency): {}", sizes.join(", "));
    println!("wall time: {:.2} s", wall.as_secs_f64());
    println!(
        "API calls: {first_calls} total, {:.1} per account",
        first_calls as f64 / n as f64
    );
    match &profile {
        Some(_) => println!(
            "bound: {bound:.2} s = archive {archive_secs:.2} s + max(waves {chain_secs:.2} s, management AssumeRole rate {sts_secs:.2} s, emulator throughput {throughput_secs:.2} s)"
        ),
        None => println!(
            "bound: {bound:.2} s = max(chain {chain_secs:.2} s [{CHAIN_CALLS} dependent calls × {latency:?} per round], throughput {throughput_secs:.2} s)"
        ),
    }
    println!(
        "backend: the emulator (moto){}",
        if profile.is_some() {
            ", under the AWS profile"
        } else {
            ", every call delayed by --latency-ms"
        }
    );
    let throttled = injector.total().throttled;
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
        "throttled by the profile's buckets: {throttled} call(s), each retried by the SDK (most: {})",
        top.join(", ")
    );
    println!(
        "no-op re-run: {noop_calls} calls ({:.0}% of the first run, {:.1} per account), {noop_writes} writes, {:.2} s",
        100.0 * noop_calls as f64 / first_calls.max(1) as f64,
        noop_calls as f64 / n as f64,
        noop_wall.as_secs_f64()
    );
    println!(
        "cpu/wall = {:.3} ({cpu:.1} s of CPU, this process, over the first run's {:.1} s; {:.2} ms per API call)",
        cpu / wall.as_secs_f64(),
        wall.as_secs_f64(),
        1000.0 * cpu / first_calls.max(1) as f64
    );
    let moto_pid = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/emulator/pid"),
    )
    .unwrap_or_default();
    println!(
        "peak_rss_mib = {} (this process: trailhead's engine and the benchmark); emulator {} MiB",
        peak_kib("self") / 1024,
        peak_kib(moto_pid.trim()) / 1024
    );
    println!("wall/bound = {:.2}", wall.as_secs_f64() / bound);
}
