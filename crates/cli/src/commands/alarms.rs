use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use trailhead_alarms::catalog::{self, Control};
use trailhead_alarms::deployed;
use trailhead_alarms::pattern::{Event, parse};
use trailhead_alarms::replay::{Alarm, collect_files, replay};
use trailhead_alarms::standards::{Assessment, CheckedBy, checked_by};
use trailhead_model::{AlarmVariant, Benchmark};

use crate::exit;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListOutput {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum AlarmsCommand {
    /// Print the catalog: control ids, titles, metric names and exact patterns, and under each
    /// control who checks it (its CIS item's Level and status, the Security Hub control and its
    /// standards, Prowler's check and compliance files) and whether the deployed string passes
    List {
        /// One benchmark only: cis-5.0 (the default of new specs), cis-6.0, cis-7.0, cis-3.0,
        /// cis-1.4, cis-1.2 or securityhub; or `extended`, the opt-in detections beyond CIS
        /// (`[alarms] extended = true`)
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
        /// Whose alarms: cis-5.0, cis-6.0, cis-7.0, cis-3.0, cis-1.4, cis-1.2, securityhub or
        /// extended
        #[arg(long, value_parser = parse_benchmark, default_value = "cis-5.0")]
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

/// A control as `alarms list --output json` prints it: the catalog's fields and who checks it.
fn listed(control: &Control) -> Result<serde_json::Value, serde_json::Error> {
    let mut value = serde_json::to_value(control)?;
    if let Some(fields) = value.as_object_mut() {
        fields.insert(
            "checked_by".to_string(),
            serde_json::to_value(checked_by(control))?,
        );
    }
    Ok(value)
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
        ListOutput::Json => {
            let listed: Result<Vec<serde_json::Value>, _> = controls.iter().map(listed).collect();
            match listed.and_then(|l| serde_json::to_string_pretty(&l)) {
                Ok(text) => println!("{text}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::ERROR;
                }
            }
        }
        ListOutput::Table => list_table(&controls),
    }
    exit::OK
}

fn list_table(controls: &[Control]) {
    println!(
        "{:<12} {:<14} {:<24} TITLE",
        "BENCHMARK", "CONTROL", "METRIC"
    );
    for c in controls {
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
        for line in checked_by_lines(&checked_by(c)) {
            println!("    {line}");
        }
    }
    println!(
        "\nMetric namespace: {}. Alarms: Sum over 300 s, ≥ 1, one period, missing data not breaching.",
        catalog::METRIC_NAMESPACE
    );
    println!("\nVariants ([alarms] variants = [\"…\"], in place of the benchmark's pattern):");
    for v in AlarmVariant::ALL.into_iter().map(catalog::variant) {
        println!("  {:<18} {}", v.id, v.note);
        println!("    pattern: {}", v.pattern);
        println!("    source: {}", v.source);
    }
    println!("{WHICH_BENCHMARK}");
}

const WHICH_BENCHMARK: &str = "
Which benchmark:
  cis-5.0      the default: Security Hub's current CIS standard (v5.0.0); 4.10 watches ModifySecurityGroupRules too
  cis-6.0/7.0  the same patterns, numbered 5.n: for audits and Prowler scans against those versions
  securityhub  Security Hub's CIS v1.2.0 / v1.4.0 standards, the only ones CloudWatch.1–14 belong to
  cis-3.0, cis-1.4, cis-1.2  to match an older audit or deployment; `validate` warns and says what changed
Whatever the benchmark, Security Hub also scores CloudWatch.15 (an alarm action), .16 (log group kept a
year) and .17 (alarm actions enabled) under every standard that includes them: `trailhead verify` judges them.";

/// The "who checks it" lines of a control in `alarms list`.
fn checked_by_lines(by: &CheckedBy) -> Vec<String> {
    let verdict = |passes: bool| if passes { "passes" } else { "fails" };
    let mut lines = Vec::new();
    if let Some(cis) = &by.cis {
        let level = cis
            .level
            .map_or("Level not in our sources".to_string(), |l| {
                format!("Level {l}")
            });
        let assessment = match cis.assessment {
            Some(Assessment::Automated) => ", Automated",
            Some(Assessment::Manual) => ", Manual",
            None => "",
        };
        lines.push(format!(
            "cis: {} {} ({level}{assessment})",
            cis.version, cis.id
        ));
    }
    if let Some(sh) = &by.security_hub {
        lines.push(format!(
            "security hub: {} in {} ({} with this string)",
            sh.control,
            sh.standards.join(", "),
            verdict(sh.passes)
        ));
    }
    if let Some(p) = &by.prowler {
        lines.push(format!(
            "prowler: {} in {} ({} with this string)",
            p.check,
            p.compliance.join(", "),
            verdict(p.passes)
        ));
    }
    lines
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
