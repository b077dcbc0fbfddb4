//! `rollout` and `plan`: the same engine, acting or only comparing.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use trailhead_provisioner::counter::{CallLog, totals};
use trailhead_provisioner::log_archive::{RunCtx, log_archive_stage};
use trailhead_provisioner::plan::{Action, StepReport};
use trailhead_provisioner::session::{AccessRole, new_run_id};

use crate::{ReachArgs, exit, reach, spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    /// The log-archive account: buckets, key, MFA Delete
    LogArchive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Human-readable lines
    Plain,
    /// One JSON object per line
    Json,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The org spec (TOML)
    #[arg(long, value_name = "FILE")]
    pub org: PathBuf,
    /// Run only this stage
    #[arg(long, value_enum)]
    pub stage: Option<Stage>,
    #[arg(long, value_enum, default_value_t = Output::Plain)]
    pub output: Output,
    /// Where run journals and pending requests are kept
    #[arg(long, value_name = "DIR", default_value = ".trailhead")]
    pub state_dir: PathBuf,
    /// How long to wait for a new account's access role to become assumable, in seconds
    #[arg(long, default_value_t = 600)]
    pub assume_timeout: u64,
}

pub fn run(args: RunArgs, reach_args: &ReachArgs, apply: bool) -> u8 {
    let spec = match spec::load(&args.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.stage.is_none() {
        eprintln!(
            "error: this version runs the log-archive stage only; pass --stage log-archive (the per-account trail rollout is not built yet)"
        );
        return exit::BAD_INPUT;
    }
    let run_id = new_run_id();
    let calls = CallLog::new();
    let started = Instant::now();
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connection(reach_args)?;
            let ctx = RunCtx {
                conn,
                role: AccessRole {
                    role_name: spec.access.role_name.clone(),
                    external_id: spec.access.external_id.clone(),
                    session_duration: Duration::from_secs(u64::from(
                        spec.access.session_duration_seconds,
                    )),
                    run_id: run_id.clone(),
                },
                spec: spec.clone(),
                spec_path: args.org.display().to_string(),
                calls: calls.clone(),
                apply,
                state_dir: args.state_dir.join(&spec.org.name),
                assume_timeout: Duration::from_secs(args.assume_timeout),
            };
            log_archive_stage(&ctx).await.map_err(|e| e.to_string())
        })
    });
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let mut out = std::io::stdout().lock();
    for r in &outcome.reports {
        print_report(&mut out, r, args.output);
    }
    let (calls_made, writes, retries, throttled) = totals(&calls.snapshot());
    let pending_changes = outcome
        .reports
        .iter()
        .any(|r| matches!(r.action, Action::Create | Action::Update));
    let verb = if apply { "rollout" } else { "plan" };
    match args.output {
        Output::Plain => {
            let _ = writeln!(
                out,
                "{verb} {run_id}: {} step(s) in {:.1?}; {calls_made} API call(s), {writes} write(s), {retries} retr(ies), {throttled} throttled",
                outcome.reports.len(),
                started.elapsed()
            );
            if let Some(bucket) = &outcome.bucket {
                let _ = writeln!(
                    out,
                    "archive bucket: {bucket}; confused-deputy mode: {:?}",
                    outcome.mode
                );
            }
        }
        Output::Json => {
            let summary = serde_json::json!({
                "event": "run_finished", "run_id": run_id, "mode": if apply { "rollout" } else { "plan" },
                "calls": calls_made, "writes": writes, "retries": retries, "throttled": throttled,
                "duration_ms": started.elapsed().as_millis() as u64,
            });
            let _ = writeln!(out, "{summary}");
        }
    }
    if !apply && pending_changes {
        return exit::CHANGES_PENDING;
    }
    exit::OK
}

fn print_report(out: &mut impl Write, r: &StepReport, output: Output) {
    match output {
        Output::Json => {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["event"] = serde_json::json!("step_finished");
            let _ = writeln!(out, "{v}");
        }
        Output::Plain => {
            let _ = writeln!(
                out,
                "{:<14} {:<10} {:<20} {:<8} {:>6.0?}",
                r.account,
                r.region,
                r.step,
                r.action.to_string(),
                r.duration
            );
            for c in &r.changes {
                let _ = writeln!(out, "    {c}");
            }
            for n in &r.notes {
                let _ = writeln!(out, "    note: {n}");
            }
        }
    }
}
