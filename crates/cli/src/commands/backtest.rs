//! `alarms backtest`: what each alarm of the spec's benchmark would have counted over a window of
//! the archive: one Athena query for the whole org, or the objects fetched and replayed here.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use trailhead_alarms::athena::{Schema, translate};
use trailhead_alarms::catalog::{self, Control};
use trailhead_alarms::pattern::parse;
use trailhead_alarms::replay::{Alarm, replay_where};
use trailhead_provisioner::archive::download_window;
use trailhead_provisioner::athena::QueryTarget;
use trailhead_provisioner::counter::CallLog;
use trailhead_provisioner::error::CallSite;
use trailhead_provisioner::session::AccountSession;

use super::search::show_progress;
use super::target::{ArchiveTarget, EventRegions};
use crate::{ReachArgs, exit, reach};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BacktestEngine {
    /// Athena when the spec has an `[athena]` table, else local
    Auto,
    /// Fetch the window's objects and replay them here
    Local,
    /// One query in the spec's Athena workgroup, every alarm counted in one pass
    Athena,
}

#[derive(Args, Debug)]
pub struct BacktestArgs {
    /// The org spec (TOML)
    #[arg(long, value_name = "FILE")]
    pub org: PathBuf,
    /// Only this account's logs (repeatable); default: every account of the spec, the
    /// log-archive, audit and management accounts included
    #[arg(long = "account", value_name = "ID|NAME")]
    pub accounts: Vec<String>,
    #[command(flatten)]
    pub regions: EventRegions,
    /// Start of the window: 2026-11-01T10:00:00Z, 2026-11-01, or 90m / 24h / 7d ago
    #[arg(long, default_value = "90d")]
    pub since: String,
    /// End of the window, same forms; default: now
    #[arg(long)]
    pub until: Option<String>,
    /// Where the counting runs
    #[arg(long, value_enum, default_value_t = BacktestEngine::Auto)]
    pub engine: BacktestEngine,
    /// Print the Athena SQL and run nothing
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
}

pub fn run(args: BacktestArgs, reach_args: &ReachArgs) -> u8 {
    let regions = match args.regions.checked() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let target = match ArchiveTarget::resolve(
        &args.org,
        &args.accounts,
        regions,
        &args.since,
        args.until.as_deref(),
    ) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let controls = catalog::for_spec(&target.spec.alarms);
    // Auto: one Athena query when the spec has a table for it, else the objects replayed here.
    let athena = match args.engine {
        BacktestEngine::Athena => true,
        BacktestEngine::Local => false,
        BacktestEngine::Auto => target.spec.athena.is_some(),
    };
    if args.engine == BacktestEngine::Auto && !args.explain {
        let (engine, why) = if athena {
            ("athena", "the spec has an [athena] table")
        } else {
            ("local", "the spec has no [athena] table")
        };
        eprintln!("auto: {why}: counting with the {engine} engine");
    }
    let result = if args.explain || athena {
        let sql = match backtest_sql(&target, &controls) {
            Ok(sql) => sql,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_INPUT;
            }
        };
        if args.explain {
            println!("{sql};");
            return exit::OK;
        }
        athena_counts(&target, &sql, reach_args)
    } else {
        local_counts(&target, &controls, reach_args)
    };
    match result {
        Ok(counts) => {
            print_counts(&target, &controls, &counts);
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

fn backtest_sql(target: &ArchiveTarget, controls: &[Control]) -> Result<String, String> {
    let site = target.athena_site()?;
    let mut alarms = Vec::new();
    for c in controls {
        let pattern = parse(c.pattern).map_err(|e| format!("{}: {}", c.id, e.message))?;
        let condition = translate(&pattern, Schema::CloudTrail)
            .map_err(|r| format!("control {} has no faithful Athena translation: {r}", c.id))?;
        alarms.push((c.id.to_string(), condition));
    }
    let scope = target.window.scope(&target.accounts, &target.regions);
    Ok(site.table.backtest_query(&scope, &alarms))
}

fn athena_counts(
    target: &ArchiveTarget,
    sql: &str,
    reach_args: &ReachArgs,
) -> Result<Vec<u64>, String> {
    let site = target.athena_site()?;
    let home = target.spec.org.home_region.clone();
    reach::runtime()?.block_on(async {
        let conn = reach::connect(reach_args).await?;
        let querier = AccountSession::reach(
            &conn,
            &site.query_account,
            &home,
            &target.role(),
            &CallLog::new(),
        )
        .await;
        let athena = querier.athena();
        let call_site = CallSite::new(&site.query_account, &home, "alarms backtest (athena)");
        let query = QueryTarget {
            athena: &athena,
            site: &call_site,
            workgroup: &site.settings.workgroup,
            database: &site.table.database,
            poll: Duration::from_millis(500),
        };
        let done = query
            .run(sql, &mut show_progress)
            .await
            .map_err(|e| e.to_string())?;
        super::search::end_progress();
        let mut row = Vec::new();
        query
            .rows(&done.id, &mut |r| row = r)
            .await
            .map_err(|e| e.to_string())?;
        row.iter()
            .map(|v| {
                v.as_deref().unwrap_or("0").parse::<u64>().map_err(|_| {
                    format!(
                        "Athena answered a count that is not a number: {}",
                        v.as_deref().unwrap_or("")
                    )
                })
            })
            .collect()
    })
}

fn local_counts(
    target: &ArchiveTarget,
    controls: &[Control],
    reach_args: &ReachArgs,
) -> Result<Vec<u64>, String> {
    let alarms: Vec<Alarm> = controls
        .iter()
        .map(Alarm::from_control)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a scratch directory: {e}"))?;
    let home = target.spec.org.home_region.clone();
    let files = reach::runtime()?.block_on(async {
        let conn = reach::connect(reach_args).await?;
        let archive = AccountSession::reach(
            &conn,
            &target.archive_id,
            &home,
            &target.role(),
            &CallLog::new(),
        )
        .await;
        download_window(
            &archive,
            &target.bucket,
            &target.accounts,
            &target.regions,
            &target.window,
            dir.path(),
            16,
        )
        .await
        .map_err(|e| e.to_string())
    })?;
    let window = &target.window;
    let report = replay_where(&files, &alarms, &|record| {
        record["eventTime"]
            .as_str()
            .is_some_and(|t| window.contains(t))
    })
    .map_err(|e| e.to_string())?;
    eprintln!(
        "backtest: {} record(s) in {} object(s), replayed here",
        report.records, report.files
    );
    Ok(report.alarms.iter().map(|a| a.matched).collect())
}

fn print_counts(target: &ArchiveTarget, controls: &[Control], counts: &[u64]) {
    println!(
        "What would have alarmed ({}, {} account(s), {} .. {}):",
        target.spec.alarms.benchmark,
        target.accounts.len(),
        target.window.since,
        target.window.until
    );
    for (c, n) in controls.iter().zip(counts) {
        println!("{:<10} {:<40} {:>10}", c.id, c.metric_name, n);
    }
}
