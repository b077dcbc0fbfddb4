#![allow(clippy::expect_used)] // a benchmark stops at the first surprise
//! `cargo xtask bench rollout --accounts N --latency-ms L [--concurrency C]`: a rollout of N
//! accounts in the emulator, every call delayed by L, against the fastest it could be.
//!
//! The bound is the larger of (a) the longest chain of dependent calls per account × L, summed
//! over the waves given each wave's concurrency, and (b) all calls ÷ the emulator's throughput,
//! measured in this run. The last line is `wall/bound = R`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trailhead_e2e::faults::{FaultConfig, FaultInjector};
use trailhead_e2e::{REGION, emulator, run_ctx, seed};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::events::EventSink;
use trailhead_provisioner::rollout::{RolloutOptions, rollout};

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
    let slow = clean.clone().wrap_http_client(move |inner| {
        let injector = FaultInjector::new(
            inner,
            FaultConfig {
                latency,
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
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = rollout(&ctx, &RolloutOptions::default(), &EventSink::none(), rx).await;
    let wall = started.elapsed();
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
        chain_secs += rounds as f64 * CHAIN_CALLS as f64 * latency.as_secs_f64();
        sizes.push(format!("{} {size}/{conc}", w.name.value));
    }
    let throughput_secs = first_calls as f64 / throughput;
    let bound = chain_secs.max(throughput_secs);

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
    println!(
        "bound: {bound:.2} s = max(chain {chain_secs:.2} s [{CHAIN_CALLS} dependent calls × {latency:?} per round], throughput {throughput_secs:.2} s)"
    );
    println!(
        "no-op re-run: {noop_calls} calls ({:.0}% of the first run), {noop_writes} writes, {:.2} s",
        100.0 * noop_calls as f64 / first_calls.max(1) as f64,
        noop_wall.as_secs_f64()
    );
    let moto_pid = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/emulator/pid"),
    )
    .unwrap_or_default();
    println!(
        "peak memory: trailhead {} MiB, emulator {} MiB",
        peak_kib("self") / 1024,
        peak_kib(moto_pid.trim()) / 1024
    );
    println!("wall/bound = {:.2}", wall.as_secs_f64() / bound);
}
