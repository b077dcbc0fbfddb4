//! `preflight`: everything that can fail before the first write, checked and reported.

use clap::Args;
use trailhead_provisioner::preflight::preflight;
use trailhead_provisioner::session::new_run_id;

use super::common::{CommonArgs, Output, ReportOutput, connect};
use crate::{ReachArgs, exit, reach, spec};

#[derive(Args, Debug)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// plain (one line per problem) or json (one object per problem, then a summary)
    #[arg(long, value_enum, default_value_t = ReportOutput::Plain)]
    pub output: ReportOutput,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
    #[command(flatten)]
    pub read: crate::ReadRegion,
}

pub fn preflight_cmd(args: PreflightArgs, reach_args: &ReachArgs) -> u8 {
    let output = Output::from(args.output);
    let common = &args.common;
    let spec = match spec::load(&common.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let ctx = connect(&spec, common, reach_args, &new_run_id(), false).await?;
            preflight(&ctx).await.map_err(|e| e.to_string())
        })
    });
    let problems = match result {
        Ok(p) => p,
        Err(e) => {
            if output == Output::Json {
                println!(
                    "{}",
                    serde_json::json!({"event": "preflight_failed", "message": e})
                );
            }
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let blocking = problems.iter().filter(|p| p.blocking).count();
    if output == Output::Json {
        for p in &problems {
            println!(
                "{}",
                serde_json::json!({"event": "preflight_problem", "blocking": p.blocking, "message": p.message})
            );
        }
        println!(
            "{}",
            serde_json::json!({"event": "preflight_finished", "blocking": blocking, "warnings": problems.len() - blocking})
        );
    } else if problems.is_empty() {
        println!("preflight: no problems; the rollout can start");
    } else {
        for p in &problems {
            let kind = if p.blocking { "blocking" } else { "warning" };
            eprintln!("{kind}: {p}");
        }
        eprintln!(
            "preflight: {blocking} blocking problem(s), {} warning(s) (an account that would fail alone, or something to know); nothing was written",
            problems.len() - blocking
        );
    }
    if blocking > 0 { exit::ERROR } else { exit::OK }
}
