//! `logs search`: one filter pattern, run locally (list, fetch, scan) or in Athena, with the same
//! NDJSON out.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;

use trailhead_model::rules::regions_of_partition;

use clap::{Args, ValueEnum};
use trailhead_alarms::pattern::{Pattern, parse};
use trailhead_provisioner::archive::{SearchProgress, day_prefix};
use trailhead_provisioner::athena::QueryProgress;
use trailhead_provisioner::search::{
    ArchiveScope, SearchDone, SearchEngine, SearchJob, SearchSink, search_archive,
};

use super::target::{EventRegions, resolve_scope};
use crate::{ReachArgs, exit, reach};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// List, fetch and scan the objects on this machine
    Local,
    /// One query in the spec's Athena workgroup (see `logs athena setup`)
    Athena,
    /// Athena when the window holds more than [athena] local_threshold_mb of objects (estimated
    /// from a listing), local otherwise or without [athena]
    Auto,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// The org spec (TOML)
    #[arg(long, value_name = "FILE")]
    pub org: PathBuf,
    /// A CloudWatch Logs filter pattern, e.g. '{ $.eventName = "StopLogging" }'
    #[arg(long)]
    pub pattern: String,
    /// Only this account's logs (repeatable); default: every account of the spec, the
    /// log-archive, audit and management accounts included
    #[arg(long = "account", value_name = "ID|NAME")]
    pub accounts: Vec<String>,
    #[command(flatten)]
    pub regions: EventRegions,
    /// Start of the window: 2026-11-01T10:00:00Z, 2026-11-01, or 90m / 24h / 7d ago
    #[arg(long, default_value = "24h")]
    pub since: String,
    /// End of the window, same forms; default: now
    #[arg(long)]
    pub until: Option<String>,
    /// Objects fetched at once (local engine)
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Where the search runs
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,
    /// Print the Athena SQL and the partitions it would read, and run nothing
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
}

/// A search: where it reads, and the pattern.
struct Plan {
    scope: ArchiveScope,
    pattern: Pattern,
}

impl std::ops::Deref for Plan {
    type Target = ArchiveScope;

    fn deref(&self) -> &ArchiveScope {
        &self.scope
    }
}

fn resolve(args: &SearchArgs) -> Result<Plan, u8> {
    let scope = resolve_scope(
        &args.org,
        &args.accounts,
        args.regions.checked()?,
        &args.since,
        args.until.as_deref(),
    )?;
    let pattern = parse(&args.pattern).map_err(|e| {
        eprintln!(
            "error: invalid filter pattern at column {}: {}",
            e.column, e.message
        );
        exit::BAD_INPUT
    })?;
    Ok(Plan { scope, pattern })
}

pub fn run(args: SearchArgs, reach_args: &ReachArgs) -> u8 {
    let plan = match resolve(&args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let engine = if args.explain || args.engine == Engine::Athena {
        let sql = match plan.search_query(&plan.pattern, &args.pattern) {
            Ok(q) => q,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_INPUT;
            }
        };
        if args.explain {
            explain(&plan, &sql);
            return exit::OK;
        }
        SearchEngine::Athena(sql)
    } else if args.engine == Engine::Local {
        SearchEngine::Local
    } else {
        SearchEngine::Auto
    };
    let job = SearchJob {
        scope: &plan.scope,
        pattern: &plan.pattern,
        source: &args.pattern,
        engine,
        concurrency: args.concurrency,
    };
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connect(reach_args).await?;
            let mut sink = Lines::new();
            let done = search_archive(&conn, &job, &mut sink).await;
            sink.end();
            done.map_err(|e| e.to_string())
        })
    });
    match result {
        Ok(SearchDone::Local(_)) => exit::OK,
        Ok(SearchDone::Athena(summary)) => {
            eprintln!(
                "athena: {} row(s) named {} object(s); {} record(s) written",
                summary.rows, summary.objects, summary.matched
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

fn explain(plan: &Plan, sql: &str) {
    let days = plan.window.days();
    println!("{sql};");
    // No --event-region: the table's projection enumerates every region of the partition.
    let regions = if plan.regions.is_empty() {
        let every = regions_of_partition(&plan.spec.org.home_region);
        println!(
            "-- regions: every region of the partition ({}), not only the governed ones: global events land in us-east-1; --event-region narrows",
            every.len()
        );
        every
    } else {
        plan.regions.clone()
    };
    println!(
        "-- partitions: {} account(s) x {} region(s) x {} day(s) = {} prefix(es) of s3://{}/",
        plan.accounts.len(),
        regions.len(),
        days.len(),
        plan.accounts.len() * regions.len() * days.len(),
        plan.bucket
    );
    for account in &plan.accounts {
        for region in &regions {
            if let (Some(first), Some(last)) = (days.first(), days.last()) {
                println!(
                    "--   {} .. {}",
                    day_prefix(account, region, *first),
                    day_prefix(account, region, *last)
                );
            }
        }
    }
}

/// The records on stdout, progress and notes on stderr: one line rewritten on a terminal, the
/// final line alone in a log.
struct Lines {
    stdout: std::io::StdoutLock<'static>,
    terminal: bool,
    last: Option<String>,
}

impl Lines {
    fn new() -> Self {
        Lines {
            stdout: std::io::stdout().lock(),
            terminal: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    /// Ends the progress: a terminal's rewritten line, or the last line for a log.
    fn end(&mut self) {
        match (self.terminal, self.last.take()) {
            (true, Some(_)) => eprintln!(),
            (false, Some(line)) => eprintln!("{line}"),
            _ => {}
        }
    }
}

impl SearchSink for Lines {
    /// Writes one record; stops the search once nobody reads stdout any more (`| head -1`).
    fn record(&mut self, raw: &str) -> ControlFlow<()> {
        match writeln!(self.stdout, "{raw}") {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }

    fn local_progress(&mut self, p: SearchProgress) {
        let line = format!(
            "search: {}/{} object(s), {} record(s), {} match(es)",
            p.fetched, p.listed, p.records, p.matched
        );
        if self.terminal {
            eprint!("\r{line}");
        }
        self.last = Some(line);
    }

    fn query_progress(&mut self, p: &QueryProgress) {
        show_progress(p);
        // A terminal's rewritten line is ended by `end`; a log has whole lines already.
        if self.terminal {
            self.last = Some(String::new());
        }
    }

    fn note(&mut self, line: String) {
        eprintln!("{line}");
    }
}

/// Ends a terminal's progress line (a log has whole lines already).
pub fn end_progress() {
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
}

/// State, bytes scanned and the cost so far: one line of a terminal rewritten, or a line each
/// time the state changes when stderr is a log.
pub fn show_progress(p: &QueryProgress) {
    static LAST_STATE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
    let line = format!(
        "athena: query {} {}, {:.1} MB scanned (~${:.4}), {:.1} s",
        p.id,
        p.state,
        p.bytes_scanned as f64 / 1e6,
        p.cost_usd(),
        p.elapsed.as_secs_f64()
    );
    if std::io::stderr().is_terminal() {
        eprint!("\r{line}");
        return;
    }
    let mut last = LAST_STATE.lock().unwrap_or_else(|e| e.into_inner());
    let state = p.state.to_string();
    if *last != state {
        eprintln!("{line}");
        *last = state;
    }
}
