//! `logs athena setup`: the Glue table over the archive and the Athena workgroup, converged.

use std::io::Write;

use clap::{Args, Subcommand};
use trailhead_model::LogArchiveAccount;
use trailhead_provisioner::athena::AthenaSite;
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::events::EventSink;
use trailhead_provisioner::plan::Action;
use trailhead_provisioner::session::new_run_id;
use trailhead_provisioner::stage::run_stage;

use super::common::{CommonArgs, ReportOutput, connect};
use super::plan::print_report;
use crate::{ReachArgs, ReachBefore, exit, reach, spec};

#[derive(Subcommand, Debug)]
pub enum AthenaCommand {
    /// Create or converge what Athena needs: the results bucket (log-archive account), the key
    /// and bucket grants, the Glue database and CloudTrail table with partition projection, and
    /// the workgroup (audit account). A second run writes nothing
    Setup(SetupArgs),
}

#[derive(Args, Debug)]
pub struct SetupArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print the table's CREATE statement (for running by hand) and make no call
    #[arg(long)]
    pub print: bool,
    /// plain (a table) or json (NDJSON step reports)
    #[arg(long, value_enum, default_value_t = ReportOutput::Plain)]
    pub output: ReportOutput,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
    #[command(flatten)]
    pub read: crate::ReadRegion,
}

impl AthenaCommand {
    /// The connection flags given after the command.
    pub fn reach(&self) -> Option<&ReachArgs> {
        match self {
            AthenaCommand::Setup(args) => Some(&args.reach),
        }
    }
}

pub fn run(cmd: AthenaCommand, before: &ReachBefore) -> u8 {
    match cmd {
        AthenaCommand::Setup(args) => {
            let reach = args.reach.reading(&args.read, before);
            setup(args, &reach)
        }
    }
}

fn setup(args: SetupArgs, reach_args: &ReachArgs) -> u8 {
    let spec = match spec::load(&args.common.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.print {
        let LogArchiveAccount::Existing(la) = &spec.log_archive.account else {
            eprintln!(
                "error: the table's location needs the log-archive account id: set log_archive.account_id (a rollout prints it)"
            );
            return exit::BAD_INPUT;
        };
        return match AthenaSite::of(&spec, la.as_str()) {
            Ok(site) => {
                println!("{}", site.table.ddl());
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::BAD_INPUT
            }
        };
    }
    if spec.athena.is_none() {
        eprintln!(
            "error: the spec has no [athena] table: add `[athena]` (every key has a default; see docs/athena.md)"
        );
        return exit::BAD_INPUT;
    }
    let run_id = new_run_id();
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let ctx = connect(&spec, &args.common, reach_args, &run_id, true).await?;
            let stage = trailhead_provisioner::stage::Stage::Athena;
            let o = run_stage(&ctx, stage, &EventSink::none())
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((o.reports, ctx.calls.clone()))
        })
    });
    let (reports, calls) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let mut out = std::io::stdout().lock();
    for r in &reports {
        print_report(&mut out, r, args.output.into());
    }
    let (calls, writes, retries, _) = totals(&calls.snapshot());
    if args.output != ReportOutput::Json {
        let changed = reports
            .iter()
            .filter(|r| matches!(r.action, Action::Create | Action::Update))
            .count();
        let _ = writeln!(
            out,
            "athena setup {run_id}: {} step(s), {changed} changed; {calls} API call(s), {writes} write(s), {retries} retr(ies)",
            reports.len()
        );
        let _ = writeln!(
            out,
            "search with: trailhead logs search --org {} --engine athena --pattern '{{ $.eventName = \"StopLogging\" }}' --since 7d",
            args.common.org.display()
        );
    }
    exit::OK
}
