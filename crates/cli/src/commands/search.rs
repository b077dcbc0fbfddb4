//! `logs search`: one filter pattern, run locally (list, fetch, scan) or in Athena, with the same
//! NDJSON out.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;
use trailhead_model::rules::regions_of_partition;

use clap::{Args, ValueEnum};
use trailhead_alarms::athena::table::Table;
use trailhead_alarms::athena::{Schema, translate};
use trailhead_alarms::pattern::{Pattern, parse};
use trailhead_provisioner::archive::{
    SearchProgress, SearchRequest, day_prefix, list_window, search,
};
use trailhead_provisioner::athena::AthenaSite;
use trailhead_provisioner::athena::athena_search;
use trailhead_provisioner::athena::{QueryProgress, QueryTarget};
use trailhead_provisioner::counter::CallLog;
use trailhead_provisioner::error::CallSite;
use trailhead_provisioner::session::AccountSession;

use super::target::{ArchiveTarget, EventRegions};
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
    target: ArchiveTarget,
    pattern: Pattern,
}

impl std::ops::Deref for Plan {
    type Target = ArchiveTarget;

    fn deref(&self) -> &ArchiveTarget {
        &self.target
    }
}

fn resolve(args: &SearchArgs) -> Result<Plan, u8> {
    let target = ArchiveTarget::resolve(
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
    Ok(Plan { target, pattern })
}

impl Plan {
    /// The query, or why the pattern has no faithful SQL.
    fn athena_query(&self, table: &Table, source: &str) -> Result<String, String> {
        let condition = translate(&self.pattern, Schema::CloudTrail).map_err(|r| {
            let at = r
                .column_in(source)
                .map_or(String::new(), |c| format!(" at column {c}"));
            format!("the pattern has no faithful Athena translation{at}: {r} (see docs/athena.md for the supported subset; --engine local runs it)")
        })?;
        Ok(table.search_query(
            &self.window.scope(&self.accounts, &self.regions),
            &condition,
        ))
    }
}

pub fn run(args: SearchArgs, reach_args: &ReachArgs) -> u8 {
    let plan = match resolve(&args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if args.explain || args.engine == Engine::Athena {
        let query = plan.athena_site().and_then(|site| {
            plan.athena_query(&site.table, &args.pattern)
                .map(|q| (site, q))
        });
        let (site, sql) = match query {
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
        return finish(run_athena(&plan, &site, &sql, reach_args));
    }
    finish(run_auto_or_local(&plan, &args, reach_args))
}

fn finish(result: Result<(), String>) -> u8 {
    match result {
        Ok(()) => exit::OK,
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

fn run_auto_or_local(plan: &Plan, args: &SearchArgs, reach_args: &ReachArgs) -> Result<(), String> {
    let home = plan.spec.org.home_region.clone();
    let runtime = reach::runtime()?;
    runtime.block_on(async {
        let conn = reach::connect(reach_args).await?;
        let role = plan.role();
        let archive =
            AccountSession::reach(&conn, &plan.archive_id, &home, &role, &CallLog::new()).await;
        if args.engine == Engine::Auto
            && let Some(athena) = &plan.spec.athena
        {
            let site = CallSite::new(&plan.archive_id, &home, "logs search");
            let objects = list_window(
                &archive.s3(),
                &site,
                &plan.bucket,
                &plan.accounts,
                &plan.regions,
                &plan.window,
            )
            .await
            .map_err(|e| e.to_string())?;
            let bytes: i64 = objects.iter().map(|(_, size)| size).sum();
            let threshold = i64::from(athena.local_threshold_mb) * 1_000_000;
            let mb = bytes as f64 / 1e6;
            if bytes > threshold {
                let site = plan.athena_site()?;
                match plan.athena_query(&site.table, &args.pattern) {
                    Ok(sql) => {
                        eprintln!(
                            "auto: {mb:.1} MB in {} object(s), above {} MB: searching with Athena",
                            objects.len(),
                            athena.local_threshold_mb
                        );
                        return athena_in(plan, &site, &sql, &conn, &archive).await;
                    }
                    Err(e) => eprintln!("auto: {mb:.1} MB, but searching locally: {e}"),
                }
            } else {
                eprintln!(
                    "auto: {mb:.1} MB in {} object(s), within {} MB: searching locally",
                    objects.len(),
                    athena.local_threshold_mb
                );
            }
        }
        local(plan, args, &archive).await
    })
}

async fn local(plan: &Plan, args: &SearchArgs, archive: &AccountSession) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    let mut on_match = |raw: &str| write_record(&mut stdout, raw);
    let terminal = std::io::stderr().is_terminal();
    let mut last = None;
    let mut on_progress = |p: SearchProgress| {
        let line = format!(
            "search: {}/{} object(s), {} record(s), {} match(es)",
            p.fetched, p.listed, p.records, p.matched
        );
        // A terminal sees one line rewritten; a log gets the final line alone.
        if terminal {
            eprint!("\r{line}");
        }
        last = Some(line);
    };
    let req = SearchRequest {
        bucket: &plan.bucket,
        accounts: &plan.accounts,
        regions: &plan.regions,
        window: &plan.window,
        pattern: &plan.pattern,
        concurrency: args.concurrency,
    };
    let done = search(archive, &req, &mut on_match, &mut on_progress)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    match (terminal, last) {
        (true, _) => eprintln!(),
        (false, Some(line)) => eprintln!("{line}"),
        (false, None) => {}
    }
    done
}

/// Writes one record; stops the search once nobody reads stdout any more (`| head -1`).
fn write_record(stdout: &mut impl Write, raw: &str) -> ControlFlow<()> {
    match writeln!(stdout, "{raw}") {
        Ok(()) => ControlFlow::Continue(()),
        Err(_) => ControlFlow::Break(()),
    }
}

fn run_athena(
    plan: &Plan,
    site: &AthenaSite,
    sql: &str,
    reach_args: &ReachArgs,
) -> Result<(), String> {
    let home = plan.spec.org.home_region.clone();
    reach::runtime()?.block_on(async {
        let conn = reach::connect(reach_args).await?;
        let archive = AccountSession::reach(
            &conn,
            &plan.archive_id,
            &home,
            &plan.role(),
            &CallLog::new(),
        )
        .await;
        athena_in(plan, site, sql, &conn, &archive).await
    })
}

async fn athena_in(
    plan: &Plan,
    site: &AthenaSite,
    sql: &str,
    conn: &trailhead_provisioner::Connection,
    archive: &AccountSession,
) -> Result<(), String> {
    let home = &plan.spec.org.home_region;
    let role = plan.role();
    let querier =
        AccountSession::reach(conn, &site.query_account, home, &role, &CallLog::new()).await;
    let athena = querier.athena();
    let call_site = CallSite::new(&site.query_account, home, "logs search (athena)");
    let target = QueryTarget {
        athena: &athena,
        site: &call_site,
        workgroup: &site.settings.workgroup,
        database: &site.table.database,
        poll: Duration::from_millis(500),
    };
    let mut stdout = std::io::stdout().lock();
    let mut on_match = |raw: &str| write_record(&mut stdout, raw);
    let summary = athena_search(
        &target,
        archive,
        &plan.bucket,
        sql,
        &mut show_progress,
        &mut on_match,
    )
    .await
    .map_err(|e| e.to_string())?;
    end_progress();
    eprintln!(
        "athena: {} row(s) named {} object(s); {} record(s) written",
        summary.rows, summary.objects, summary.matched
    );
    Ok(())
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
