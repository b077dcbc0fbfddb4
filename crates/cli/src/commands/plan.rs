//! `plan`: what a rollout would change, field by field, in the order it would reach it.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use trailhead_model::{OrgSpec, Selection};
use trailhead_provisioner::RunCtx;
use trailhead_provisioner::counter::{CallLog, totals};
use trailhead_provisioner::error::ProvisionError;
use trailhead_provisioner::events::EventSink;
use trailhead_provisioner::plan::{Action, StepReport};
use trailhead_provisioner::rollout::{PlanOutcome, plan_selected};
use trailhead_provisioner::saved_plan::SavedPlan;
use trailhead_provisioner::session::new_run_id;
use trailhead_provisioner::stage::run_stage;

use super::common::{CommonArgs, Output, SelectArgs, Stage, connect, exit_code_of, shell_word};
use crate::{ReachArgs, exit, reach, spec};

/// How `plan` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanOutput {
    /// Human-readable lines
    Plain,
    /// NDJSON: one object per line (see docs/events.md)
    Json,
    /// A summary for a pull-request comment or $GITHUB_STEP_SUMMARY: the changed steps as a
    /// table, their notes folded
    Markdown,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Only this stage
    #[arg(long, value_enum)]
    pub stage: Option<Stage>,
    /// plain (a table), json (NDJSON step reports, then a summary) or markdown (for a pull
    /// request)
    #[arg(long, value_enum, default_value_t = PlanOutput::Plain)]
    pub output: PlanOutput,
    /// Also list the steps that would change nothing
    #[arg(short, long)]
    pub verbose: bool,
    /// Save the plan (the spec's hash and each account's live-state fingerprint) for
    /// `rollout --plan FILE`, which applies exactly it or refuses
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
    #[command(flatten)]
    pub read: crate::ReadRegion,
}

/// A read-only plan of a stage (or everything), narrowed to the selection.
pub async fn fresh_plan(
    ctx: &RunCtx,
    stage: Option<Stage>,
    selection: &Selection,
) -> Result<PlanOutcome, ProvisionError> {
    match stage {
        Some(stage) => run_stage(ctx, stage.into(), &EventSink::none())
            .await
            .map(|o| PlanOutcome {
                reports: o.reports,
                skipped: o.skipped,
                ..PlanOutcome::default()
            }),
        None => plan_selected(ctx, &EventSink::none(), selection).await,
    }
}

pub fn plan_cmd(args: PlanArgs, reach_args: &ReachArgs) -> u8 {
    let output = match args.output {
        PlanOutput::Json => Output::Json,
        PlanOutput::Plain | PlanOutput::Markdown => Output::Plain,
    };
    let spec = match spec::load(&args.common.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let selection = match args.select.selection(&spec) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let started = Instant::now();
    let run_id = new_run_id();
    let result = reach::runtime()
        .map_err(|e| (e, exit::ERROR))
        .and_then(|rt| {
            rt.block_on(async {
                let ctx = connect(&spec, &args.common, reach_args, &run_id, false)
                    .await
                    .map_err(|e| (e, exit::ERROR))?;
                let outcome = fresh_plan(&ctx, args.stage, &selection).await;
                outcome
                    .map(|r| (r, ctx.calls.clone()))
                    .map_err(|e| (e.to_string(), exit_code_of(&e)))
            })
        });
    let (outcome, calls) = match result {
        Ok(r) => r,
        Err((e, code)) => {
            eprintln!("error: {e}");
            return code;
        }
    };
    let mut out = std::io::stdout().lock();
    let summary = Summary::of(&outcome, &calls, started);
    if args.output == PlanOutput::Markdown {
        let names = account_names(&spec);
        let label = |account: &str| match names.get(account) {
            Some(name) => format!("{account} ({name})"),
            None => account.to_string(),
        };
        super::plan_markdown::render(
            &mut out,
            &spec.org.name,
            &outcome,
            &label,
            &summary.totals(),
        );
    } else {
        print_rows(&mut out, &spec, &outcome, output, args.verbose);
        summary.print(&mut out, output, &outcome);
    }
    if let Some(path) = &args.out {
        if let Err(e) = save(path, &spec, &args.common.org, &selection, &outcome) {
            eprintln!("error: cannot save the plan to {}: {e}", path.display());
            return exit::ERROR;
        }
        eprintln!(
            "plan saved to {}; apply exactly it with: trailhead rollout --org {} --plan {}",
            path.display(),
            shell_word(&args.common.org.display().to_string()),
            shell_word(&path.display().to_string())
        );
    }
    summary.exit_code(&outcome)
}

/// Writes the plan file whole or not at all (a half-written plan must not be applied).
fn save(
    path: &Path,
    spec: &OrgSpec,
    spec_path: &Path,
    selection: &Selection,
    outcome: &PlanOutcome,
) -> std::io::Result<()> {
    let bytes = std::fs::read(spec_path)?;
    let plan = SavedPlan::new(
        &spec.org.name,
        &spec_path.display().to_string(),
        &bytes,
        selection,
        &outcome.reports,
        crate::VERSION,
    );
    let json = serde_json::to_vec_pretty(&plan).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)
}

/// The rows: every step with a change (all with -v or JSON), skipped and failed accounts.
fn print_rows(
    out: &mut impl Write,
    spec: &OrgSpec,
    outcome: &PlanOutcome,
    output: Output,
    verbose: bool,
) {
    let names = account_names(spec);
    let label = |account: &str| match names.get(account) {
        Some(name) => format!("{account} ({name})"),
        None => account.to_string(),
    };
    let shown: Vec<&StepReport> = outcome
        .reports
        .iter()
        .filter(|r| r.action != Action::NoOp || output == Output::Json || verbose)
        .collect();
    let width = shown
        .iter()
        .map(|r| label(&r.account).chars().count())
        .max()
        .unwrap_or(14);
    for r in shown {
        print_report_as(out, r, output, &format!("{:<width$}", label(&r.account)));
    }
    for s in &outcome.skipped {
        if output == Output::Json {
            let v = serde_json::json!({"event": "account_skipped", "account": s.id, "name": s.name, "reason": s.reason});
            let _ = writeln!(out, "{v}");
        } else {
            let _ = writeln!(out, "{:<14} skipped: {} ({})", s.id, s.reason, s.name);
        }
    }
    for (account, error) in &outcome.failures {
        if output == Output::Json {
            let v = serde_json::json!({"event": "account_failed", "account": account, "message": error});
            let _ = writeln!(out, "{v}");
        } else {
            let _ = writeln!(out, "{account:<14} FAILED: {error}");
        }
    }
}

/// The plan's totals: its last line, or its last NDJSON record.
struct Summary {
    steps: usize,
    changes: usize,
    pending: usize,
    hidden: usize,
    accounts: usize,
    calls: u64,
    writes: u64,
    duration_ms: u64,
}

impl Summary {
    fn of(outcome: &PlanOutcome, calls: &CallLog, started: Instant) -> Self {
        let count =
            |f: &dyn Fn(Action) -> bool| outcome.reports.iter().filter(|r| f(r.action)).count();
        let (calls, writes, _, _) = totals(&calls.snapshot());
        let accounts: BTreeSet<&str> = outcome.reports.iter().map(|r| r.account.as_str()).collect();
        Summary {
            steps: outcome.reports.len(),
            changes: count(&|a| matches!(a, Action::Create | Action::Update)),
            pending: count(&|a| a == Action::Pending),
            hidden: count(&|a| a == Action::NoOp),
            accounts: accounts.len(),
            calls,
            writes,
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }

    fn print(&self, out: &mut impl Write, output: Output, outcome: &PlanOutcome) {
        let failed = outcome.failures.len();
        if output == Output::Json {
            let v = serde_json::json!({
                "event": "plan_finished", "steps": self.steps, "changes": self.changes,
                "pending": self.pending, "accounts": self.accounts, "failed": failed,
                "skipped": outcome.skipped.len(), "api_calls": self.calls, "writes": self.writes,
                "duration_ms": self.duration_ms,
            });
            let _ = writeln!(out, "{v}");
            return;
        }
        if self.changes == 0 && failed == 0 {
            let waiting = if self.pending > 0 {
                format!(
                    " {} step(s) wait on a person: see the pending lines above.",
                    self.pending
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "No changes. {} account(s) match the spec.{waiting}",
                self.accounts
            );
        }
        let hidden = if self.hidden > 0 {
            format!(", {} unchanged not shown (-v shows them)", self.hidden)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "plan: {} step(s), {} with changes, {} pending{hidden}; {} read call(s), {} write(s) in {:.1} s",
            self.steps,
            self.changes,
            self.pending,
            self.calls,
            self.writes,
            self.duration_ms as f64 / 1000.0
        );
    }

    fn totals(&self) -> super::plan_markdown::Totals {
        super::plan_markdown::Totals {
            changes: self.changes,
            pending: self.pending,
            accounts: self.accounts,
            calls: self.calls,
            writes: self.writes,
            seconds: self.duration_ms as f64 / 1000.0,
        }
    }

    fn exit_code(&self, outcome: &PlanOutcome) -> u8 {
        if !outcome.failures.is_empty() {
            eprintln!(
                "error: {} account(s) could not be planned; see the FAILED lines",
                outcome.failures.len()
            );
            exit::ERROR
        } else if self.changes > 0 {
            exit::CHANGES_PENDING
        } else {
            exit::OK
        }
    }
}

/// Account id → the name the spec gives it, for rows a person reads.
fn account_names(spec: &OrgSpec) -> std::collections::HashMap<String, String> {
    let mut names: std::collections::HashMap<String, String> = spec
        .accounts
        .iter()
        .filter_map(|a| {
            let name = a.name.as_ref()?;
            Some((a.id.as_ref()?.value.to_string(), name.value.clone()))
        })
        .collect();
    if let trailhead_model::LogArchiveAccount::Existing(id) = &spec.log_archive.account {
        names
            .entry(id.to_string())
            .or_insert_with(|| "log-archive".into());
    }
    if let Some(id) = &spec.log_archive.security_account {
        names
            .entry(id.to_string())
            .or_insert_with(|| "audit".into());
    }
    names
        .entry(spec.org.management_account.to_string())
        .or_insert_with(|| "management".into());
    names
}

pub fn print_report(out: &mut impl Write, r: &StepReport, output: Output) {
    print_report_as(out, r, output, &r.account);
}

fn print_report_as(out: &mut impl Write, r: &StepReport, output: Output, label: &str) {
    if output == Output::Json {
        let mut v = serde_json::to_value(r).unwrap_or_default();
        v["event"] = serde_json::json!("step_planned");
        let _ = writeln!(out, "{v}");
        return;
    }
    let _ = writeln!(
        out,
        "{:<14} {:<10} {:<20} {}",
        label, r.region, r.step, r.action
    );
    for c in &r.changes {
        let _ = writeln!(out, "    {c}");
    }
    for n in &r.notes {
        let _ = writeln!(out, "    note: {n}");
    }
}
