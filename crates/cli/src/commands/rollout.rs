//! `rollout`, `plan` and `preflight`: the same engine, acting, comparing, or only checking.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use tokio::sync::mpsc;
use trailhead_model::OrgSpec;
use trailhead_provisioner::athena::athena_stage;
use trailhead_provisioner::counter::{CallLog, totals};
use trailhead_provisioner::events::{Command, Event, EventSink};
use trailhead_provisioner::log_archive::{RunCtx, log_archive_stage};
use trailhead_provisioner::plan::{Action, StepReport};
use trailhead_provisioner::preflight::preflight;
use trailhead_provisioner::rollout::{
    PlanOutcome, RolloutOptions, journal_path, last_run_id, plan, rollout,
};
use trailhead_provisioner::session::{AccessRole, new_run_id};

use crate::{ReachArgs, exit, junit, reach, spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    /// The log-archive account only: buckets, key, MFA Delete
    LogArchive,
    /// The log-archive stage, then Athena: results bucket, Glue table, workgroup (needs [athena])
    Athena,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// The interactive view (the default on a terminal)
    Tui,
    /// Human-readable lines (the default in pipelines)
    Plain,
    /// NDJSON: one event per line (see docs/events.md)
    Json,
}

/// The outputs of commands that report and end: no interactive view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportOutput {
    /// Human-readable lines
    Plain,
    /// NDJSON: one object per line (see docs/events.md)
    Json,
}

impl From<ReportOutput> for Output {
    fn from(o: ReportOutput) -> Self {
        match o {
            ReportOutput::Plain => Output::Plain,
            ReportOutput::Json => Output::Json,
        }
    }
}

#[derive(Args, Debug)]
pub struct CommonArgs {
    /// The org spec (TOML)
    #[arg(long, value_name = "FILE")]
    pub org: PathBuf,
    /// Where run journals, pending requests and the lock are kept (one directory per org).
    /// Default: $XDG_STATE_HOME/trailhead, else ~/.local/state/trailhead, whatever the working
    /// directory
    #[arg(long, value_name = "DIR", env = "TRAILHEAD_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// How long to wait for a new account's access role to become assumable, in seconds
    #[arg(long, default_value_t = 600)]
    pub assume_timeout: u64,
}

impl CommonArgs {
    /// The state root: `--state-dir`, else the platform's state directory.
    pub fn state_root(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(default_state_root)
    }

    /// This org's state directory.
    pub fn org_state(&self, spec: &OrgSpec) -> PathBuf {
        self.state_root().join(&spec.org.name)
    }
}

/// XDG's state home on Linux and the BSDs, and the same place elsewhere (there is no other
/// convention a CLI could follow on macOS without surprising someone).
pub fn default_state_root() -> PathBuf {
    let xdg = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state"));
    xdg.or(home)
        .map(|d| d.join("trailhead"))
        .unwrap_or_else(|| PathBuf::from(".trailhead"))
}

/// A word a shell reads back as itself.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The resume command up to the run id: the same spec, state directory and way of reaching AWS.
pub fn resume_prefix(common: &CommonArgs, reach_args: &ReachArgs) -> String {
    let mut words = vec!["trailhead".to_string()];
    words.extend(reach::flags(reach_args).iter().map(|w| shell_word(w)));
    words.extend([
        "rollout".into(),
        "--org".into(),
        shell_word(&common.org.display().to_string()),
    ]);
    if let Some(dir) = &common.state_dir {
        words.extend(["--state-dir".into(), shell_word(&dir.display().to_string())]);
    }
    words.push("--resume".into());
    format!("{} ", words.join(" "))
}

#[derive(Args, Debug)]
pub struct RolloutArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Run only this stage
    #[arg(long, value_enum)]
    pub stage: Option<Stage>,
    /// tui on a terminal, plain otherwise
    #[arg(long, value_enum)]
    pub output: Option<Output>,
    /// Continue a run that was killed or aborted: a run id, or `last`
    #[arg(long, value_name = "RUN_ID")]
    pub resume: Option<String>,
    /// Ask before each wave after the first
    #[arg(long)]
    pub confirm_waves: bool,
    /// Answer yes to every question (pipelines)
    #[arg(long)]
    pub yes: bool,
    /// Also write a JUnit XML summary: one test case per account × step
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Gate: after each wave, wait up to this many seconds for a log file of every account of
    /// it in the archive, read it back and check it holds the account's records; any delivery
    /// error fails the account at once. On AWS the first file arrives 5 to 15 minutes after
    /// StartLogging: give 900 or more. On with 60 s when --emulator is used; 0 turns it off
    #[arg(long, value_name = "SECONDS")]
    pub gate_delivery: Option<u64>,
    /// Which waves the delivery check runs after: `canary` (the first wave only, so that large
    /// rollouts do not wait on every wave) or `all`
    #[arg(long, value_enum, default_value_t = GateWaves::All)]
    pub gate_delivery_waves: GateWaves,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateWaves {
    Canary,
    All,
}

/// Seconds the delivery check waits by default against the emulator (it delivers every few
/// seconds); on AWS it is off unless asked for, since a file takes minutes.
const EMULATOR_GATE_DELIVERY_SECONDS: u64 = 60;

fn rollout_options(args: &RolloutArgs, reach_args: &ReachArgs) -> RolloutOptions {
    let seconds = args
        .gate_delivery
        .or(reach_args
            .emulator
            .then_some(EMULATOR_GATE_DELIVERY_SECONDS))
        .filter(|s| *s > 0);
    RolloutOptions {
        resume: args.resume.is_some(),
        confirm_waves: args.confirm_waves && !args.yes,
        skip_preflight: false,
        gate_delivery: seconds.map(Duration::from_secs),
        gate_delivery_canary_only: args.gate_delivery_waves == GateWaves::Canary,
    }
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Only this stage
    #[arg(long, value_enum)]
    pub stage: Option<Stage>,
    /// plain (a table) or json (NDJSON step reports)
    #[arg(long, value_enum, default_value_t = ReportOutput::Plain)]
    pub output: ReportOutput,
    /// Also list the steps that would change nothing
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn ctx_for(
    spec: &OrgSpec,
    common: &CommonArgs,
    conn: trailhead_provisioner::Connection,
    run_id: &str,
    apply: bool,
    reach_args: &ReachArgs,
) -> RunCtx {
    RunCtx {
        conn,
        role: AccessRole {
            role_name: spec.access.role_name.clone(),
            external_id: spec.access.external_id.clone(),
            session_duration: Duration::from_secs(u64::from(spec.access.session_duration_seconds)),
            run_id: run_id.to_string(),
        },
        spec: spec.clone(),
        spec_path: common.org.display().to_string(),
        resume_prefix: resume_prefix(common, reach_args),
        calls: CallLog::new(),
        apply,
        state_dir: common.org_state(spec),
        assume_timeout: Duration::from_secs(common.assume_timeout),
    }
}

#[derive(Args, Debug)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// plain (one line per problem) or json (one object per problem, then a summary)
    #[arg(long, value_enum, default_value_t = ReportOutput::Plain)]
    pub output: ReportOutput,
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
            let conn = reach::connect(reach_args).await?;
            let ctx = ctx_for(&spec, common, conn, &new_run_id(), false, reach_args);
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

pub fn plan_cmd(args: PlanArgs, reach_args: &ReachArgs) -> u8 {
    let output = Output::from(args.output);
    let spec = match spec::load(&args.common.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let run_id = new_run_id();
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connect(reach_args).await?;
            let ctx = ctx_for(&spec, &args.common, conn, &run_id, false, reach_args);
            let reports = match args.stage {
                Some(Stage::LogArchive) => log_archive_stage(&ctx).await.map(|o| PlanOutcome {
                    reports: o.reports,
                    failures: Vec::new(),
                    skipped: o.skipped,
                }),
                Some(Stage::Athena) => athena_stage(&ctx).await.map(|(o, athena)| PlanOutcome {
                    reports: o.reports.into_iter().chain(athena).collect(),
                    failures: Vec::new(),
                    skipped: o.skipped,
                }),
                None => plan(&ctx, &EventSink::none()).await,
            };
            reports
                .map(|r| (r, ctx.calls.clone()))
                .map_err(|e| e.to_string())
        })
    });
    let (outcome, calls) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let mut reports = outcome.reports;
    reports.sort_by(|a, b| (&a.account, &a.step).cmp(&(&b.account, &b.step)));
    let mut out = std::io::stdout().lock();
    let names = account_names(&spec);
    let label = |account: &str| match names.get(account) {
        Some(name) => format!("{account} ({name})"),
        None => account.to_string(),
    };
    let shown: Vec<&StepReport> = reports
        .iter()
        .filter(|r| r.action != Action::NoOp || output == Output::Json || args.verbose)
        .collect();
    let hidden = reports.len() - shown.len();
    let width = shown
        .iter()
        .map(|r| label(&r.account).chars().count())
        .max()
        .unwrap_or(14);
    for r in shown {
        print_report_as(
            &mut out,
            r,
            output,
            &format!("{:<width$}", label(&r.account)),
        );
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
    let changes = reports
        .iter()
        .filter(|r| matches!(r.action, Action::Create | Action::Update))
        .count();
    let (calls, writes, _, _) = totals(&calls.snapshot());
    let pending = reports
        .iter()
        .filter(|r| r.action == Action::Pending)
        .count();
    if output != Output::Json {
        if changes == 0 && outcome.failures.is_empty() {
            let accounts: std::collections::BTreeSet<&str> =
                reports.iter().map(|r| r.account.as_str()).collect();
            let waiting = if pending > 0 {
                format!(" {pending} step(s) wait on a person: see the pending lines above.")
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "No changes. {} account(s) match the spec.{waiting}",
                accounts.len()
            );
        }
        let _ = writeln!(
            out,
            "plan: {} step(s), {changes} with changes, {pending} pending{}; {calls} read call(s), {writes} write(s)",
            reports.len(),
            if hidden > 0 {
                format!(", {hidden} unchanged not shown (-v shows them)")
            } else {
                String::new()
            }
        );
    }
    if !outcome.failures.is_empty() {
        eprintln!(
            "error: {} account(s) could not be planned; see the FAILED lines",
            outcome.failures.len()
        );
        exit::ERROR
    } else if changes > 0 {
        exit::CHANGES_PENDING
    } else {
        exit::OK
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

/// One line per event, for people reading a pipeline log.
fn plain_line(e: &Event) -> Option<String> {
    Some(match e {
        Event::RunStarted {
            run_id,
            org,
            accounts,
            waves,
            ..
        } => {
            format!(
                "run {run_id}: org {org}, {accounts} account(s) in {} wave(s)",
                waves.len()
            )
        }
        Event::AccountSkipped {
            account,
            name,
            reason,
        } => format!("   {account} ({name}): skipped: {reason}"),
        Event::WaveStarted { wave, accounts } => format!("== wave {wave}: {accounts} account(s)"),
        Event::WaitingForApproval { wave } => format!("== wave {wave} is waiting for approval"),
        Event::AccountStarted { .. } | Event::StepStarted { .. } | Event::GateStarted { .. } => {
            return None;
        }
        Event::StepFinished {
            account,
            step,
            action,
            changes,
            notes,
            duration_ms,
            ..
        } => {
            let mut line = format!("   {account} {step}: {action} ({duration_ms} ms)");
            for c in changes {
                line.push_str(&format!("\n      {c}"));
            }
            for n in notes {
                line.push_str(&format!("\n      note: {n}"));
            }
            line
        }
        Event::StepFailed {
            account,
            region,
            step,
            operation,
            error_code,
            message,
            ..
        } => {
            format!(
                "   ✗ {account} {region} {step}: {operation} failed with {error_code}: {message}"
            )
        }
        Event::AccountFinished {
            account,
            status,
            duration_ms,
            retries,
            ..
        } => {
            format!("   {account}: {status} in {duration_ms} ms, {retries} retr(ies)")
        }
        Event::GateFinished {
            wave,
            passed,
            problems,
        } => {
            if *passed {
                format!("   gate of {wave}: passed")
            } else {
                format!("   gate of {wave}: FAILED: {}", problems.join("; "))
            }
        }
        Event::WaveFinished {
            wave,
            status,
            succeeded,
            failed,
            skipped,
        } => {
            format!("== wave {wave}: {status} ({succeeded} ok, {failed} failed, {skipped} skipped)")
        }
        Event::RunFinished {
            run_id,
            succeeded,
            failed,
            skipped,
            api_calls,
            writes,
            retries,
            throttled,
            duration_ms,
            resume_command,
        } => {
            let mut s = format!(
                "run {run_id} finished in {:.1} s: {succeeded} succeeded, {failed} failed, {skipped} skipped; {api_calls} API call(s), {writes} write(s), {retries} retr(ies), {throttled} throttled",
                *duration_ms as f64 / 1000.0
            );
            if let Some(cmd) = resume_command {
                s.push_str(&format!("\nresume with: {cmd}"));
            }
            s
        }
    })
}

pub fn rollout_cmd(args: RolloutArgs, reach_args: &ReachArgs) -> u8 {
    let spec = match spec::load(&args.common.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let state_dir = args.common.org_state(&spec);
    let run_id = match args.resume.as_deref() {
        Some("last") => match last_run_id(&state_dir) {
            Some(id) => id,
            None => {
                eprintln!(
                    "error: no earlier run of org {} in {} to resume (is --state-dir the one the run used?)",
                    spec.org.name,
                    state_dir.display()
                );
                return exit::BAD_INPUT;
            }
        },
        Some(id) if !journal_path(&state_dir, id).exists() => {
            eprintln!(
                "error: no run `{id}` in {}; the recent runs:",
                state_dir.display()
            );
            super::runs::print_runs(&state_dir, 10);
            return exit::BAD_INPUT;
        }
        Some(id) => id.to_string(),
        None => new_run_id(),
    };
    let output = args.output.unwrap_or(if std::io::stdout().is_terminal() {
        Output::Tui
    } else {
        Output::Plain
    });
    if args.stage.is_some() {
        let output = if output == Output::Tui {
            Output::Plain
        } else {
            output
        };
        return log_archive_only(&spec, &args, reach_args, &run_id, output);
    }
    if output == Output::Tui {
        return rollout_tui(spec, args, reach_args, run_id);
    }
    let started = Instant::now();
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connect(reach_args).await?;
            let ctx = ctx_for(&spec, &args.common, conn, &run_id, true, reach_args);
            let (events, mut rx) = EventSink::channel();
            let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
            let opts = RolloutOptions {
                // The plain printer asks itself, so that --yes still approves each wave.
                confirm_waves: args.confirm_waves,
                ..rollout_options(&args, reach_args)
            };
            let interrupts = cmd_tx.clone();
            tokio::spawn(async move {
                crate::signals::abort_on_signals(interrupts).await;
            });
            let confirm = args.confirm_waves && !args.yes;
            let approve = cmd_tx.clone();
            let printer = tokio::spawn(async move {
                let mut out = std::io::stdout();
                while let Some(e) = rx.recv().await {
                    match output {
                        Output::Json => {
                            let _ =
                                writeln!(out, "{}", serde_json::to_string(&e).unwrap_or_default());
                        }
                        _ => {
                            if let Some(line) = plain_line(&e) {
                                let _ = writeln!(out, "{line}");
                            }
                        }
                    }
                    if let Event::WaitingForApproval { wave } = &e {
                        let answer = if confirm {
                            let wave = wave.clone();
                            tokio::task::spawn_blocking(move || {
                                eprint!("start wave {wave}? [y/N] ");
                                let mut line = String::new();
                                let _ = std::io::stdin().read_line(&mut line);
                                matches!(line.trim(), "y" | "Y" | "yes")
                            })
                            .await
                            .unwrap_or(false)
                        } else {
                            true
                        };
                        let _ = approve.send(if answer {
                            Command::ApproveNextWave
                        } else {
                            Command::Abort
                        });
                    }
                }
            });
            let outcome = rollout(&ctx, &opts, &events, cmd_rx).await;
            drop(events);
            let _ = printer.await;
            drop(cmd_tx);
            outcome.map_err(|e| e.to_string())
        })
    });
    finish(result, &args, started)
}

/// The rollout behind the interactive view: the rollout runs as a task, the view in front.
fn rollout_tui(spec: OrgSpec, args: RolloutArgs, reach_args: &ReachArgs, run_id: String) -> u8 {
    let started = Instant::now();
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connect(reach_args).await?;
            let ctx = ctx_for(&spec, &args.common, conn, &run_id, true, reach_args);
            let (events, rx) = EventSink::channel();
            let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
            let opts = rollout_options(&args, reach_args);
            let interrupts = cmd_tx.clone();
            tokio::spawn(async move {
                crate::signals::abort_on_signals(interrupts).await;
            });
            let task = tokio::spawn(async move {
                let outcome = rollout(&ctx, &opts, &events, cmd_rx).await;
                drop(events);
                outcome
            });
            let mut view = trailhead_tui::ViewState::new(&spec.org.name, &run_id);
            view.color = std::env::var_os("NO_COLOR").is_none();
            view.confirm_waves = args.confirm_waves && !args.yes;
            let shown = trailhead_tui::run(rx, cmd_tx.clone(), view)
                .await
                .map_err(|e| format!("the terminal view failed: {e}"))?;
            if !task.is_finished() {
                eprintln!("waiting for in-flight steps to finish…");
            }
            let outcome = task
                .await
                .map_err(|e| format!("the rollout task failed: {e}"))?
                .map_err(|e| e.to_string())?;
            drop(cmd_tx);
            print!("{}", trailhead_tui::summary(&shown));
            Ok(outcome)
        })
    });
    finish(result, &args, started)
}

fn finish(
    result: Result<trailhead_provisioner::rollout::RolloutOutcome, String>,
    args: &RolloutArgs,
    started: Instant,
) -> u8 {
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            // A pipeline reading NDJSON learns of the failure on stdout too.
            if args.output == Some(Output::Json) {
                println!(
                    "{}",
                    serde_json::json!({"event": "run_failed", "message": e})
                );
            }
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    for w in &outcome.preflight_warnings {
        eprintln!("preflight warning: {w}");
    }
    if !outcome.preflight_problems.is_empty() {
        for p in &outcome.preflight_problems {
            eprintln!("preflight problem: {p}");
        }
        eprintln!(
            "preflight found {} problem(s); nothing was written",
            outcome.preflight_problems.len()
        );
        return exit::ERROR;
    }
    if let Some(path) = &args.junit
        && let Err(e) = junit::write(path, &outcome, started.elapsed())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return exit::ERROR;
    }
    if let Some(reason) = &outcome.stopped_by_tolerance {
        eprintln!("stopped: {reason}; later waves were skipped");
    }
    for (account, error) in &outcome.failures {
        eprintln!("failed: {account}: {error}");
    }
    if outcome.ok() { exit::OK } else { exit::ERROR }
}

fn log_archive_only(
    spec: &OrgSpec,
    args: &RolloutArgs,
    reach_args: &ReachArgs,
    run_id: &str,
    output: Output,
) -> u8 {
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connect(reach_args).await?;
            let ctx = ctx_for(spec, &args.common, conn, run_id, true, reach_args);
            let o = if args.stage == Some(Stage::Athena) {
                let (mut o, athena) = athena_stage(&ctx).await.map_err(|e| e.to_string())?;
                o.reports.extend(athena);
                o
            } else {
                log_archive_stage(&ctx).await.map_err(|e| e.to_string())?
            };
            Ok((o, ctx.calls.clone()))
        })
    });
    let (outcome, calls) = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let mut out = std::io::stdout().lock();
    for r in &outcome.reports {
        print_report(&mut out, r, output);
    }
    let (calls, writes, retries, throttled) = totals(&calls.snapshot());
    if output != Output::Json {
        let _ = writeln!(
            out,
            "rollout {run_id} ({} stage): {} step(s); {calls} API call(s), {writes} write(s), {retries} retr(ies), {throttled} throttled",
            if args.stage == Some(Stage::Athena) {
                "athena"
            } else {
                "log-archive"
            },
            outcome.reports.len()
        );
        if let Some(bucket) = &outcome.bucket {
            let _ = writeln!(out, "archive bucket: {bucket}; {}", outcome.mode.explain());
        }
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn options(argv: &[&str]) -> RolloutOptions {
        let cli = crate::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"));
        match cli.command {
            crate::Command::Rollout(args) => rollout_options(&args, &cli.reach),
            _ => panic!("not a rollout"),
        }
    }

    #[test]
    fn the_delivery_check_is_on_with_the_emulator_and_off_on_aws_unless_asked() {
        let emulated = options(&["trailhead", "--emulator", "rollout", "--org", "o.toml"]);
        assert_eq!(
            emulated.gate_delivery,
            Some(Duration::from_secs(EMULATOR_GATE_DELIVERY_SECONDS))
        );
        assert!(!emulated.gate_delivery_canary_only);
        let aws = options(&["trailhead", "rollout", "--org", "o.toml"]);
        assert_eq!(aws.gate_delivery, None);
        let asked = options(&[
            "trailhead",
            "rollout",
            "--org",
            "o.toml",
            "--gate-delivery",
            "900",
            "--gate-delivery-waves",
            "canary",
        ]);
        assert_eq!(asked.gate_delivery, Some(Duration::from_secs(900)));
        assert!(asked.gate_delivery_canary_only);
        let off = options(&[
            "trailhead",
            "--emulator",
            "rollout",
            "--org",
            "o.toml",
            "--gate-delivery",
            "0",
        ]);
        assert_eq!(off.gate_delivery, None);
    }
}
