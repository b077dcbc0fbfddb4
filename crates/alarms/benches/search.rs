//! `cargo xtask bench search [--gb G]`: the local search engine against DuckDB on the same
//! gzipped CloudTrail log files, side by side in one run.
//!
//! The corpus is G GB of CloudTrail JSON (default 1), written once as `.json.gz` objects of 2,000
//! records under target/bench-search/ and kept for later runs. Both engines answer one question:
//! how many records match CIS 3.0 4.1 (unauthorized API calls)? Ours decompresses, parses only
//! the fields the pattern reads and evaluates the pattern on every core (what `alarms test` and
//! the local search do); DuckDB runs the pattern's Athena translation over `read_json` of the same
//! files, reading only the same fields, on every core. Both must count the same.
//! The last line is `local/duckdb = R`: our records/s over DuckDB's (above 1: ours is faster).

#![allow(clippy::expect_used)] // a benchmark stops at the first surprise, and says which

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;
use trailhead_alarms::athena::{Schema, translate};
use trailhead_alarms::catalog::controls;
use trailhead_alarms::corpus::{Rng, generate, log_file};
use trailhead_alarms::pattern::{Expr, Pattern};
use trailhead_alarms::replay::{Alarm, replay};
use trailhead_model::Benchmark;

const RECORDS_PER_FILE: u64 = 2_000;
/// Bump when the generator changes, so that a kept corpus is not mistaken for a new one.
const CORPUS_VERSION: u32 = 1;

const DUCKDB: &str = r#"
import json, sys, time
import duckdb
spec = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
columns = ", ".join(f"json_extract_string(r, '$.{k}') AS {k.lower()}" for k in spec["fields"])
glob = spec["glob"].replace("'", "''")
# DuckDB's fastest way through CloudTrail objects that we found: each file read as one JSON
# value, its records unnested, only the pattern's fields extracted (declaring Records as a list
# of STRUCTs in read_json was ten times slower).
con.execute(f"""CREATE VIEW t AS SELECT {columns} FROM (
    SELECT unnest(json_extract(json, '$.Records[*]')) AS r
    FROM read_json_objects('{glob}', maximum_object_size=268435456))""")
started = time.perf_counter()
total, matched = con.execute(f"SELECT count(*), count_if({spec['condition']}) FROM t").fetchone()
print(json.dumps({"seconds": time.perf_counter() - started, "records": total, "matched": matched}))
"#;

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs a small corpus instead, so
    // that the benchmark's code path stays tested without costing minutes.
    let benching = std::env::args().any(|a| a == "--bench");
    let mut gb: f64 = if benching { 1.0 } else { 0.005 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--gb"
            && let Some(n) = args.next().and_then(|n| n.parse().ok())
        {
            gb = n;
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} core(s)");

    let dir = corpus_dir(gb);
    let (files, raw_bytes, gz_bytes) = ensure_corpus(&dir, gb);
    println!(
        "corpus: {} file(s), {:.1} MB of JSON, {:.1} MB gzipped, in {}",
        files.len(),
        raw_bytes as f64 / 1e6,
        gz_bytes as f64 / 1e6,
        dir.display()
    );

    let control = controls(Benchmark::Cis30)
        .into_iter()
        .find(|c| c.id == "4.1")
        .expect("CIS 3.0 4.1 exists");
    let alarm = Alarm::from_control(&control).expect("the catalog pattern parses");
    println!("pattern: CIS 3.0 4.1 {}", control.pattern);

    let started = Instant::now();
    let report = replay(&files, std::slice::from_ref(&alarm)).expect("replay");
    let local_secs = started.elapsed().as_secs_f64();
    let local_rate = report.records as f64 / local_secs;
    println!(
        "local:  {} records, {} matched, {local_secs:.2} s: {:.0} records/s, {:.0} MB/s of JSON ({:.0} MB/s gzipped)",
        report.records,
        report.alarms[0].matched,
        local_rate,
        raw_bytes as f64 / 1e6 / local_secs,
        gz_bytes as f64 / 1e6 / local_secs
    );

    let (duck_secs, duck_records, duck_matched) = duckdb(&dir, &alarm.pattern);
    let duck_rate = duck_records as f64 / duck_secs;
    println!(
        "duckdb: {duck_records} records, {duck_matched} matched, {duck_secs:.2} s: {duck_rate:.0} records/s, {:.0} MB/s of JSON ({:.0} MB/s gzipped)",
        raw_bytes as f64 / 1e6 / duck_secs,
        gz_bytes as f64 / 1e6 / duck_secs
    );
    assert_eq!(
        duck_records, report.records,
        "the engines read different records"
    );
    assert_eq!(
        duck_matched, report.alarms[0].matched,
        "the engines disagree"
    );
    println!("local/duckdb = {:.2}", local_rate / duck_rate);
}

fn corpus_dir(gb: f64) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/bench-search")
        .join(format!("v{CORPUS_VERSION}-{gb}gb"))
}

/// Writes the corpus unless a complete one is there; (files, JSON bytes, gzipped bytes).
fn ensure_corpus(dir: &Path, gb: f64) -> (Vec<PathBuf>, u64, u64) {
    let done = dir.join("complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("corpus directory");
        let started = Instant::now();
        // About 900 bytes a record: files until the JSON reaches the size asked for.
        let target = (gb * 1e9) as u64;
        let per_file = RECORDS_PER_FILE * 900;
        let count = target.div_ceil(per_file).max(1);
        let raw: u64 = (0..count).into_par_iter().map(|n| write_file(dir, n)).sum();
        std::fs::write(&done, raw.to_string()).expect("marker");
        println!("corpus: generated in {:.1?}", started.elapsed());
    }
    let raw: u64 = std::fs::read_to_string(&done)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "gz"))
        .collect();
    files.sort();
    let gz = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    (files, raw, gz)
}

fn write_file(dir: &Path, n: u64) -> u64 {
    let mut rng = Rng::new(0x5eed ^ (n + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let records: Vec<_> = (0..RECORDS_PER_FILE)
        .map(|i| generate(&mut rng, n * RECORDS_PER_FILE + i))
        .collect();
    let text = log_file(&records);
    let path = dir.join(format!("{n:06}.json.gz"));
    let file = std::fs::File::create(&path).expect("corpus file");
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    gz.write_all(text.as_bytes()).expect("write corpus");
    gz.finish().expect("finish corpus");
    text.len() as u64
}

/// The top-level record fields a JSON pattern reads.
fn fields(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Or(items) | Expr::And(items) => items.iter().for_each(|e| fields(e, out)),
        Expr::Group(inner) => fields(inner, out),
        Expr::Test(selector, _) => {
            if let Some(key) = selector.root_key()
                && !out.iter().any(|k| k == key)
            {
                out.push(key.to_string());
            }
        }
    }
}

fn duckdb(dir: &Path, pattern: &Pattern) -> (f64, u64, u64) {
    let Pattern::Json(expr) = pattern else {
        panic!("the benchmark's pattern is a JSON pattern");
    };
    let mut keys = Vec::new();
    fields(expr, &mut keys);
    let condition = translate(pattern, Schema::CloudTrail).expect("the pattern translates");
    let spec = serde_json::json!({
        "glob": format!("{}/*.json.gz", dir.display()),
        "fields": keys,
        "condition": condition,
    });
    let spec_path = dir.join("duckdb-query.json");
    std::fs::write(&spec_path, spec.to_string()).expect("query spec");
    let python = std::env::var_os("TRAILHEAD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/emulator/venv/bin/python")
        });
    let out = Command::new(&python)
        .arg("-c")
        .arg(DUCKDB)
        .arg(&spec_path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; `cargo xtask bench search` installs DuckDB",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "DuckDB failed (`cargo xtask bench search` installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let answer: serde_json::Value = serde_json::from_str(last).expect("DuckDB's answer");
    (
        answer["seconds"].as_f64().unwrap_or(f64::NAN),
        answer["records"].as_u64().unwrap_or(0),
        answer["matched"].as_u64().unwrap_or(0),
    )
}
