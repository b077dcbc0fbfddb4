//! `runs list`: the runs an org's state directory remembers, newest first, and how to resume the
//! unfinished ones.

use std::path::Path;

use clap::Subcommand;
use trailhead_provisioner::rollout::{RunSummary, list_runs};

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

/// One run: when it started, how long it ran, how it ended, and who ran it.
fn run_line(r: &RunSummary) -> String {
    let status = r
        .finished
        .clone()
        .unwrap_or_else(|| "unfinished (resumable)".into());
    let started = r.started_at.map_or_else(
        || "-".to_string(),
        |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
    );
    let took = r.duration.map_or_else(|| "-".to_string(), took);
    let by = if r.callers.is_empty() {
        "-".to_string()
    } else {
        r.callers.join(", ")
    };
    format!(
        "{:<26} {started:<17} {took:>8} {status:<22} {:>8} {:>6}  {by}",
        r.run_id, r.accounts, r.failed
    )
}

/// `42s`, `3m05s`, `1h02m`.
fn took(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s / 60) % 60),
    }
}

/// The newest `limit` runs of `dir`, one line each.
pub fn print_runs(dir: &Path, limit: usize) {
    let runs = list_runs(dir);
    println!(
        "{:<26} {:<17} {:>8} {:<22} {:>8} {:>6}  BY",
        "RUN", "STARTED (UTC)", "TOOK", "STATUS", "ACCOUNTS", "FAILED"
    );
    for r in runs.iter().take(limit) {
        println!("{}", run_line(r));
    }
    if runs.len() > limit {
        println!(
            "… and {} older run(s): trailhead runs list",
            runs.len() - limit
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_line_says_when_how_long_how_it_ended_and_who() {
        let r = RunSummary {
            run_id: "20261207T153840Z-aa83".into(),
            finished: Some("succeeded".into()),
            accounts: 16,
            failed: 0,
            started_at: "2026-12-07T15:38:40Z".parse().ok(),
            duration: Some(std::time::Duration::from_secs(185)),
            callers: vec!["arn:aws:sts::123456789012:assumed-role/Admin/jo".into()],
        };
        assert_eq!(
            run_line(&r),
            "20261207T153840Z-aa83      2026-12-07 15:38:40    3m05s succeeded                    16      0  arn:aws:sts::123456789012:assumed-role/Admin/jo"
        );
        assert_eq!(took(std::time::Duration::from_secs(42)), "42s");
        assert_eq!(took(std::time::Duration::from_secs(3725)), "1h02m");
    }
}
