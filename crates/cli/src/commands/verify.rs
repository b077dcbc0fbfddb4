use std::path::PathBuf;

use clap::ValueEnum;
use trailhead_alarms::scanners::Scanner;
use trailhead_provisioner::verify::verify_scanner;
use trailhead_provisioner::verify::verify_selected;

use crate::commands::common::{CommonArgs, SelectArgs, connect, exit_code_of};
use crate::{ReachArgs, exit, reach, spec, verify_output};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyOutput {
    Table,
    Json,
    Junit,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScannerArg {
    Cis,
    Securityhub,
    Prowler,
}

impl ScannerArg {
    fn scanner(self) -> Scanner {
        match self {
            ScannerArg::Cis => Scanner::Cis,
            ScannerArg::Securityhub => Scanner::SecurityHub,
            ScannerArg::Prowler => Scanner::Prowler,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// table (a matrix for people), json, junit (one case per account × control) or html
    #[arg(long, value_enum, default_value_t = VerifyOutput::Table)]
    pub output: VerifyOutput,
    /// Write the report here instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Judge only the monitoring alarms, by the published rule of this scanner: cis (the audit's
    /// exact strings), securityhub (CloudWatch.1–14's exact strings) or prowler (its
    /// cloudwatch_* checks: every clause in one filter, and an alarm on its metric)
    #[arg(long, value_enum, value_name = "SCANNER")]
    pub scanner: Option<ScannerArg>,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
    #[command(flatten)]
    pub read: crate::ReadRegion,
}

pub fn run(args: VerifyArgs, reach_args: &ReachArgs) -> u8 {
    let spec = match spec::load(&args.common.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let selection = match args.select.selection(&spec) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let result = reach::runtime()
        .map_err(|e| (e, exit::ERROR))
        .and_then(|rt| {
            rt.block_on(async {
                let run_id = trailhead_provisioner::session::new_run_id();
                let ctx = connect(&spec, &args.common, reach_args, &run_id, false)
                    .await
                    .map_err(|e| (e, exit::ERROR))?;
                let report = match args.scanner {
                    Some(s) => verify_scanner(&ctx, &selection, s.scanner()).await,
                    None => verify_selected(&ctx, &selection).await,
                };
                report.map_err(|e| (e.to_string(), exit_code_of(&e)))
            })
        });
    let report = match result {
        Ok(r) => r,
        Err((e, code)) => {
            eprintln!("error: {e}");
            return code;
        }
    };
    let text = match args.output {
        VerifyOutput::Table => verify_output::table(&report, args.out.is_none() && spec::color()),
        VerifyOutput::Json => serde_json::to_string_pretty(&report).unwrap_or_default(),
        VerifyOutput::Junit => verify_output::junit(&report),
        VerifyOutput::Html => crate::verify_html::html(&report, &spec.org.name),
    };
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return exit::ERROR;
            }
            eprintln!(
                "{}: {} passed, {} failed, {} unknown",
                path.display(),
                report.summary.pass,
                report.summary.fail,
                report.summary.unknown
            );
        }
        None => print!("{text}"),
    }
    if report.summary.fail > 0 {
        exit::VERIFY_FAILED
    } else {
        exit::OK
    }
}
