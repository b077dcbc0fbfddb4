//! `runs list`: the runs an org's state directory remembers, newest first, and how to resume the
//! unfinished ones.

use std::path::Path;

use clap::Subcommand;
use trailhead_provisioner::rollout::list_runs;

use super::common::CommonArgs;
use crate::{exit, spec};

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// The runs of this org's state directory, newest first, with their status
    List(CommonArgs),
}

pub fn run(cmd: RunsCommand) -> u8 {
    match cmd {
        RunsCommand::List(common) => {
            let spec = match spec::load(&common.org) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let dir = common.org_state(&spec);
            if list_runs(&dir).is_empty() {
                println!("no runs in {}", dir.display());
            } else {
                print_runs(&dir, usize::MAX);
            }
            exit::OK
        }
    }
}

/// The newest `limit` runs of `dir`, one line each.
pub fn print_runs(dir: &Path, limit: usize) {
    let runs = list_runs(dir);
    println!(
        "{:<26} {:<22} {:>8} {:>7}",
        "RUN", "STATUS", "ACCOUNTS", "FAILED"
    );
    for r in runs.iter().take(limit) {
        let status = r
            .finished
            .clone()
            .unwrap_or_else(|| "unfinished (resumable)".into());
        println!(
            "{:<26} {:<22} {:>8} {:>7}",
            r.run_id, status, r.accounts, r.failed
        );
    }
    if runs.len() > limit {
        println!(
            "… and {} older run(s): trailhead runs list",
            runs.len() - limit
        );
    }
}
