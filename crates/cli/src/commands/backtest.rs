//! `alarms backtest`: what each alarm of the spec's benchmark would have counted over a window of
//! the archive: one Athena query for the whole org, or the objects fetched and replayed here.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use trailhead_alarms::catalog::Control;
use trailhead_alarms::deployed;
use trailhead_provisioner::backtest::{athena_counts, backtest_query, local_counts};

use super::search::show_progress;
use super::target::{ArchiveScope, EventRegions, scope_of};
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
    let target = match scope_of(
        &args.org,
        &args.accounts,
        &args.regions,
        &args.since,
        args.until.as_deref(),
    ) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let controls = deployed::for_spec(&target.spec.alarms);
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
    let sql = if args.explain || athena {
        match backtest_query(&target, &controls) {
            Ok(sql) => Some(sql),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_INPUT;
            }
        }
    } else {
        None
    };
    if let (true, Some(sql)) = (args.explain, &sql) {
        println!("{sql};");
        return exit::OK;
    }
    match counts(&target, &controls, sql.as_deref(), reach_args) {
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

/// Each control's count: from `sql` in Athena, or (without it) replayed here.
fn counts(
    target: &ArchiveScope,
    controls: &[Control],
    sql: Option<&str>,
    reach_args: &ReachArgs,
) -> Result<Vec<u64>, String> {
    reach::runtime()?.block_on(async {
        let conn = reach::connect(reach_args).await?;
        let Some(sql) = sql else {
            let scratch =
                tempfile::tempdir().map_err(|e| format!("cannot make a scratch directory: {e}"))?;
            let local = local_counts(&conn, target, controls, scratch.path())
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "backtest: {} record(s) in {} object(s), replayed here",
                local.records, local.files
            );
            return Ok(local.counts);
        };
        let counted = athena_counts(&conn, target, sql, &mut show_progress).await;
        super::search::end_progress();
        counted.map_err(|e| e.to_string())
    })
}

fn print_counts(target: &ArchiveScope, controls: &[Control], counts: &[u64]) {
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
