use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use trailhead_alarms::catalog::{self, Control};
use trailhead_alarms::deployed;
use trailhead_alarms::pattern::{Event, parse};
use trailhead_alarms::replay::{Alarm, collect_files, replay};
use trailhead_model::Benchmark;

use crate::exit;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListOutput {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum AlarmsCommand {
    /// Print the catalog: control ids, titles, metric names and exact patterns
    List {
        /// One benchmark only: cis-1.2, cis-1.4, cis-3.0 or securityhub; or `extended`, the
        /// opt-in detections beyond CIS (`[alarms] extended = true`)
        #[arg(long, value_parser = parse_benchmark)]
        benchmark: Option<Benchmark>,
        /// table (for people) or json (the catalog, every field)
        #[arg(long, value_enum, default_value_t = ListOutput::Table)]
        output: ListOutput,
    },
    /// Evaluate a filter pattern on log events read from stdin, one per line; prints true/false
    Match {
        /// A CloudWatch Logs filter pattern
        #[arg(long)]
        pattern: String,
    },
    /// Count what each alarm of the spec's benchmark would have caught over a window of the
    /// archive, across the org: one Athena query, or the objects replayed here
    Backtest(Box<super::backtest::BacktestArgs>),
    /// Replay CloudTrail log files (.json, .json.gz, NDJSON; directories are walked) through a
    /// benchmark's alarms and report what would have alarmed
    Test {
        /// Whose alarms: cis-1.2, cis-1.4, cis-3.0 or securityhub
        #[arg(long, value_parser = parse_benchmark, default_value = "cis-3.0")]
        benchmark: Benchmark,
        /// table (counts and examples) or json (the whole report)
        #[arg(long, value_enum, default_value_t = ListOutput::Table)]
        output: ListOutput,
        /// Log files or directories of them
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
}

/// A benchmark, or `extended`: the opt-in set beyond CIS can be listed and replayed like one.
pub fn parse_benchmark(s: &str) -> Result<Benchmark, String> {
    if s == Benchmark::Extended.id() {
        return Ok(Benchmark::Extended);
    }
    Benchmark::parse(s).ok_or_else(|| {
        let ids: Vec<&str> = Benchmark::ALL.iter().map(|b| b.id()).collect();
        format!(
            "unknown benchmark `{s}`; known: {}, extended",
            ids.join(", ")
        )
    })
}

impl AlarmsCommand {
    /// The connection flags given after the command (only backtest connects).
    pub fn reach(&self) -> Option<&crate::ReachArgs> {
        match self {
            AlarmsCommand::Backtest(args) => Some(&args.reach),
            _ => None,
        }
    }
}

pub fn run(cmd: AlarmsCommand, before: &crate::ReachBefore) -> u8 {
    match cmd {
        AlarmsCommand::Backtest(args) => {
            let reach = args.reach.with(before);
            super::backtest::run(*args, &reach)
        }
        AlarmsCommand::List { benchmark, output } => list(benchmark, output),
        AlarmsCommand::Match { pattern } => match_stdin(&pattern),
        AlarmsCommand::Test {
            benchmark,
            output,
            paths,
        } => test(benchmark, output, &paths),
    }
}

fn list(benchmark: Option<Benchmark>, output: ListOutput) -> u8 {
    // What a rollout deploys: the benchmark's controls, then its scanner companions (P.*),
    // whose warning says why they are there.
    let controls: Vec<Control> = match benchmark {
        Some(b) => deployed::selected(b, &[]),
        None => Benchmark::ALL
            .into_iter()
            .chain([Benchmark::Extended])
            .flat_map(|b| deployed::selected(b, &[]))
            .collect(),
    };
    match output {
        ListOutput::Json => match serde_json::to_string_pretty(&controls) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        },
        ListOutput::Table => {
            println!(
                "{:<12} {:<14} {:<24} TITLE",
                "BENCHMARK", "CONTROL", "METRIC"
            );
            for c in &controls {
                println!(
                    "{:<12} {:<14} {:<24} {}",
                    c.benchmark.id(),
                    c.id,
                    c.metric_name,
                    c.title
                );
                println!("    pattern: {}", c.pattern);
                if let Some(w) = c.warning {
                    println!("    warning: {w}");
                }
            }
            println!(
                "\nMetric namespace: {}. Alarms: Sum over 300 s, ≥ 1, one period, missing data not breaching.",
                catalog::METRIC_NAMESPACE
            );
        }
    }
    exit::OK
}

fn match_stdin(pattern: &str) -> u8 {
    let parsed = match parse(pattern) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: invalid filter pattern at column {}: {}",
                e.column, e.message
            );
            eprintln!("  {pattern}");
            eprintln!("  {}^", " ".repeat(e.column.saturating_sub(1)));
            return exit::BAD_INPUT;
        }
    };
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let Ok(line) = line else {
            eprintln!("error: stdin is not UTF-8 text");
            return exit::BAD_INPUT;
        };
        let verdict = parsed.matches(&Event::new(&line));
        if let Err(e) = writeln!(out, "{verdict}") {
            return crate::pipes::exit_code_of_write_error(&e);
        }
    }
    match out.flush() {
        Ok(()) => exit::OK,
        Err(e) => crate::pipes::exit_code_of_write_error(&e),
    }
}

fn test(benchmark: Benchmark, output: ListOutput, paths: &[PathBuf]) -> u8 {
    let alarms: Result<Vec<Alarm>, _> = catalog::controls(benchmark)
        .iter()
        .map(Alarm::from_control)
        .collect();
    let report = alarms.and_then(|alarms| {
        let files = collect_files(paths)?;
        let started = std::time::Instant::now();
        let report = replay(&files, &alarms)?;
        eprintln!(
            "replayed {} record(s) from {} file(s) in {:.2?} on {} thread(s)",
            report.records,
            report.files,
            started.elapsed(),
            rayon_threads()
        );
        Ok(report)
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    match output {
        ListOutput::Json => match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        },
        ListOutput::Table => {
            println!("What would have alarmed ({benchmark}):");
            for a in &report.alarms {
                println!(
                    "{:<14} {:<24} {:>8} match(es)",
                    a.id, a.metric_name, a.matched
                );
                for e in &a.examples {
                    println!(
                        "    {}  {:<28} {}  account {}",
                        e.event_time, e.event_name, e.principal, e.account
                    );
                }
            }
            if report.unreadable > 0 {
                println!(
                    "{} line(s) or file(s) were not CloudTrail JSON",
                    report.unreadable
                );
            }
        }
    }
    exit::OK
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
