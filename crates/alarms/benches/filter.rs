//! `cargo xtask bench filter [--records N]`: how fast the filter engine evaluates CIS alarms on
//! CloudTrail records, against the cost of parsing the JSON alone.
//!
//! (a) parse: every record parsed into a full JSON tree, one core;
//! (b) eval: parse as the engine does (only the fields the patterns read) and evaluate all 15
//!     CIS v1.4 patterns in one pass over each record, one core;
//! (c) `alarms test` on every core, from CloudTrail log files on disk.
//! The last line is `eval/parse = R`: the rate of (b) over the rate of (a).

use std::hint::black_box;
use std::time::Instant;

use trailhead_alarms::catalog::controls;
use trailhead_alarms::corpus;
use trailhead_alarms::replay::{Alarm, evaluate, projection_for, replay};
use trailhead_model::Benchmark;

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and then a small corpus
    // keeps the benchmark's code path tested without costing minutes.
    let benching = std::env::args().any(|a| a == "--bench");
    let mut records: u64 = if benching { 1_000_000 } else { 2_000 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--records"
            && let Some(n) = args.next().and_then(|n| n.parse().ok())
        {
            records = n;
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} core(s)");

    let started = Instant::now();
    let lines = corpus::ndjson(42, records);
    let bytes: usize = lines.iter().map(String::len).sum();
    println!(
        "corpus: {} records, {:.1} MB, generated in {:.1?}",
        lines.len(),
        bytes as f64 / 1e6,
        started.elapsed()
    );

    let alarms: Vec<Alarm> = controls(Benchmark::Cis14)
        .iter()
        .filter_map(|c| Alarm::from_control(c).ok())
        .collect();
    assert_eq!(alarms.len(), 15, "all 15 CIS v1.4 patterns must parse");

    // (a) JSON parsing alone.
    let t = Instant::now();
    let mut objects = 0u64;
    for line in &lines {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(line) {
            objects += black_box(m.len() as u64).min(1);
        }
    }
    let parse_secs = t.elapsed().as_secs_f64();
    let parse_rate = objects as f64 / parse_secs;
    println!(
        "(a) parse only, 1 core:            {:>12.0} records/s",
        parse_rate
    );

    // (b) parse + evaluate all 15 patterns, one pass per record.
    let projection = projection_for(&alarms);
    let mut hits = vec![false; alarms.len()];
    let mut matched = vec![0u64; alarms.len()];
    let t = Instant::now();
    let mut evaluated = 0u64;
    for line in &lines {
        if evaluate(&alarms, &projection, line, &mut hits).is_some() {
            evaluated += 1;
            for (m, h) in matched.iter_mut().zip(&hits) {
                *m += u64::from(*h);
            }
        }
    }
    let eval_secs = t.elapsed().as_secs_f64();
    let eval_rate = evaluated as f64 / eval_secs;
    println!(
        "(b) parse + 15 patterns, 1 core:   {:>12.0} records/s",
        eval_rate
    );
    for (a, m) in alarms.iter().zip(&matched) {
        println!("      {:<5} {:<24} {m:>9} match(es)", a.id, a.metric_name);
    }

    // (c) alarms test on every core, from files.
    let dir = std::env::temp_dir().join(format!("trailhead-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let per_file = 2_000usize;
    let mut files = Vec::new();
    for (i, chunk) in lines.chunks(per_file).enumerate() {
        let path = dir.join(format!("{i:05}.json"));
        let body = format!("{{\"Records\":[{}]}}", chunk.join(","));
        if std::fs::write(&path, body).is_ok() {
            files.push(path);
        }
    }
    let t = Instant::now();
    let report = replay(&files, &alarms);
    let replay_secs = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    match report {
        Ok(report) => println!(
            "(c) alarms test, {cores} core(s), {} files: {:>12.0} records/s",
            report.files,
            report.records as f64 / replay_secs
        ),
        Err(e) => println!("(c) alarms test failed: {e}"),
    }

    println!("eval/parse = {:.2}", eval_rate / parse_rate);
}
