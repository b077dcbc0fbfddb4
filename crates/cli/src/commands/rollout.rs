//! `rollout`: preflight, the log archive, then every account wave by wave, shown live (the
//! view), as lines, or as NDJSON; resumable, and stoppable at any point.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::{mpsc, watch};
use trailhead_model::{OrgSpec, Selection};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::events::{Command, Event, EventSink};
use trailhead_provisioner::rollout::{RolloutOptions, journal_path, last_run_id, rollout};
use trailhead_provisioner::session::new_run_id;
use trailhead_provisioner::stage::run_stage;

use super::approval::{before_first_write, load_saved, should_ask};
use super::common::{CommonArgs, Output, SelectArgs, Stage, connect, exit_code_of, resume_prefix};
use super::lines::PlainLines;
use super::plan::print_report;
use crate::{ReachArgs, exit, junit, reach, spec};

#[derive(Args, Debug)]
pub struct RolloutArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Run only this stage
    #[arg(long, value_enum)]
    pub stage: Option<Stage>,
    /// Apply exactly this saved plan (`plan --out FILE`): refused when the spec or the live
    /// state moved since it was made; its accounts and waves are the run's
    #[arg(long, value_name = "FILE", conflicts_with_all = ["resume", "accounts", "waves", "stage"])]
    pub plan: Option<PathBuf>,
    /// tui on a terminal, plain otherwise
    #[arg(long, value_enum)]
    pub output: Option<Output>,
    /// Continue a run that was killed or aborted: a run id, or `last`
    #[arg(long, value_name = "RUN_ID")]
    pub resume: Option<String>,
    /// Ask before each wave, the first included
    #[arg(long)]
    pub confirm_waves: bool,
    /// Answer yes to every question: the plan shown before the first write (asked only on a
    /// terminal) and each wave's approval
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
    /// After a successful rollout, drill the accounts of this wave (e.g. `canary`; repeat for
    /// more): each alarm set off with a harmless change and followed to its subscriber, as
    /// `trailhead drill --wave` does. Exit 4 when an alarm is broken
    #[arg(long = "drill", value_name = "WAVE")]
    pub drill: Vec<String>,
    /// How long the drill after the rollout follows the events (90s, 20m, 1h)
    #[arg(long, default_value = "20m", value_parser = crate::commands::drill::parse_duration, value_name = "DURATION")]
    pub drill_timeout: Duration,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
    #[command(flatten)]
    pub read: crate::ReadRegion,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateWaves {
    Canary,
    All,
}

/// Seconds the delivery check waits by default against the emulator (it delivers every few
/// seconds); on AWS it is off unless asked for, since a file takes minutes.
const EMULATOR_GATE_DELIVERY_SECONDS: u64 = 60;

fn rollout_options(
    args: &RolloutArgs,
    reach_args: &ReachArgs,
    selection: &Selection,
) -> RolloutOptions {
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
        selection: selection.clone(),
    }
}

/// The run id: a new one, or the one `--resume` names (`last`: the newest in the state dir).
fn run_id_for(args: &RolloutArgs, spec: &OrgSpec) -> Result<String, u8> {
    let state_dir = args.common.org_state(spec);
    match args.resume.as_deref() {
        Some("last") => last_run_id(&state_dir).ok_or_else(|| {
            eprintln!(
                "error: no earlier run of org {} in {} to resume (is --state-dir the one the run used?)",
                spec.org.name,
                state_dir.display()
            );
            exit::BAD_INPUT
        }),
        Some(id) if !journal_path(&state_dir, id).exists() => {
            eprintln!(
                "error: no run `{id}` in {}; the recent runs:",
                state_dir.display()
            );
            super::runs::print_runs(&state_dir, 10);
            Err(exit::BAD_INPUT)
        }
        Some(id) => Ok(id.to_string()),
        None => Ok(new_run_id()),
    }
}

/// The accounts and waves to run, and the check before the first write: a saved plan must
/// still be current, and a person at a terminal is asked.
fn selection_and_approval(
    args: &RolloutArgs,
    spec: &OrgSpec,
    reach_args: &ReachArgs,
) -> Result<Selection, u8> {
    let saved = match &args.plan {
        Some(path) => Some(load_saved(path, spec, &args.common.org)?),
        None => None,
    };
    let selection = match &saved {
        Some(plan) => plan.selection(),
        None => args.select.selection(spec)?,
    };
    if saved.is_some() || should_ask(args.yes, false) {
        before_first_write(
            spec,
            &args.common,
            reach_args,
            args.stage,
            &selection,
            saved.as_ref(),
        )?;
    }
    Ok(selection)
}

pub fn rollout_cmd(args: RolloutArgs, reach_args: &ReachArgs) -> u8 {
    let spec = match spec::load(&args.common.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let run_id = match run_id_for(&args, &spec) {
        Ok(id) => id,
        Err(code) => return code,
    };
    let selection = match selection_and_approval(&args, &spec, reach_args) {
        Ok(s) => s,
        Err(code) => return code,
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
    let drill_waves = Selection {
        accounts: Vec::new(),
        waves: args.drill.clone(),
    };
    if let Err(e) = drill_waves.check_waves(&spec) {
        eprintln!("error: --drill: {e}");
        return exit::BAD_INPUT;
    }
    let code = if output == Output::Tui {
        rollout_tui(&spec, &args, reach_args, run_id, selection)
    } else {
        rollout_plain(&spec, &args, reach_args, &run_id, &selection, output)
    };
    drill_after(code, &spec, &args, reach_args, drill_waves, output)
}

/// `--drill WAVE`: the drill of those waves once the rollout succeeded.
fn drill_after(
    code: u8,
    spec: &OrgSpec,
    args: &RolloutArgs,
    reach_args: &ReachArgs,
    waves: Selection,
    output: Output,
) -> u8 {
    if code != exit::OK || waves.waves.is_empty() {
        return code;
    }
    eprintln!(
        "drilling wave(s) {}: each alarm set off and followed to its subscriber",
        waves.waves.join(", ")
    );
    let opts = trailhead_provisioner::drill::DrillOptions {
        selection: waves,
        only: Vec::new(),
        timeout: args.drill_timeout,
        include_org_changes: false,
        allow_log_archive: false,
        dry_run: false,
    };
    crate::commands::drill::run_with(spec, &args.common, reach_args, &opts, false, |report| {
        if output == Output::Json {
            println!(
                "{}",
                serde_json::json!({"event": "drill_finished", "report": report})
            );
        } else {
            print!("{}", crate::commands::drill::table(report));
        }
        if report.failed() {
            exit::VERIFY_FAILED
        } else {
            exit::OK
        }
    })
}

fn rollout_plain(
    spec: &OrgSpec,
    args: &RolloutArgs,
    reach_args: &ReachArgs,
    run_id: &str,
    selection: &Selection,
    output: Output,
) -> u8 {
    let started = Instant::now();
    let result = reach::runtime().map_err(Failure::from).and_then(|rt| {
        rt.block_on(async {
            let mut ctx = connect(spec, &args.common, reach_args, run_id, true).await?;
            ctx.resume_prefix = resume_prefix(&args.common, reach_args, selection);
            let (events, rx) = EventSink::channel();
            let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
            let opts = RolloutOptions {
                // The plain printer asks itself, so that --yes still approves each wave.
                confirm_waves: args.confirm_waves,
                ..rollout_options(args, reach_args, selection)
            };
            let (interrupted_tx, interrupted) = watch::channel(false);
            let interrupts = cmd_tx.clone();
            tokio::spawn(async move {
                crate::signals::abort_on_signals(interrupts, interrupted_tx).await;
            });
            let printer = tokio::spawn(print_events(
                rx,
                output,
                args.confirm_waves && !args.yes,
                cmd_tx.clone(),
                interrupted,
            ));
            let outcome = rollout(&ctx, &opts, &events, cmd_rx).await;
            drop(events);
            let _ = printer.await;
            drop(cmd_tx);
            outcome.map_err(Failure::of)
        })
    });
    finish(result, args, started)
}

/// Prints each event as a line or NDJSON, and answers each wave's approval: yes with `--yes`,
/// else what the person types; a signal while waiting stops the run at once.
async fn print_events(
    mut rx: mpsc::UnboundedReceiver<Event>,
    output: Output,
    confirm: bool,
    approve: mpsc::UnboundedSender<Command>,
    mut interrupted: watch::Receiver<bool>,
) {
    let mut out = std::io::stdout();
    let mut lines = PlainLines::default();
    while let Some(e) = rx.recv().await {
        if output == Output::Json {
            let _ = writeln!(out, "{}", serde_json::to_string(&e).unwrap_or_default());
        } else if let Some(line) = lines.line(&e) {
            let _ = writeln!(out, "{line}");
        }
        let Event::WaitingForApproval { wave } = &e else {
            continue;
        };
        let answer = if confirm {
            tokio::select! {
                yes = ask_line(format!("start wave {wave}? [y/N] ")) => yes,
                _ = interrupted.wait_for(|stop| *stop) => false,
            }
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

/// A yes/no question on stderr, answered on stdin. The read runs on its own thread, not the
/// runtime's blocking pool, so that a run stopped meanwhile exits without waiting for a line.
async fn ask_line(question: String) -> bool {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        eprint!("{question}");
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let _ = tx.send(matches!(line.trim(), "y" | "Y" | "yes"));
    });
    rx.await.unwrap_or(false)
}

/// The rollout behind the interactive view: the rollout runs as a task, the view in front.
fn rollout_tui(
    spec: &OrgSpec,
    args: &RolloutArgs,
    reach_args: &ReachArgs,
    run_id: String,
    selection: Selection,
) -> u8 {
    let started = Instant::now();
    let result = reach::runtime().map_err(Failure::from).and_then(|rt| {
        rt.block_on(async {
            let mut ctx = connect(spec, &args.common, reach_args, &run_id, true).await?;
            ctx.resume_prefix = resume_prefix(&args.common, reach_args, &selection);
            let (events, rx) = EventSink::channel();
            let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
            let opts = rollout_options(args, reach_args, &selection);
            let (interrupted_tx, _) = watch::channel(false);
            let interrupts = cmd_tx.clone();
            tokio::spawn(async move {
                crate::signals::abort_on_signals(interrupts, interrupted_tx).await;
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
                .map_err(Failure::of)?;
            drop(cmd_tx);
            print!("{}", trailhead_tui::summary(&shown));
            Ok(outcome)
        })
    });
    finish(result, args, started)
}

/// Why a run could not start or finish, and the exit code that says so.
struct Failure {
    message: String,
    code: u8,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            message,
            code: exit::ERROR,
        }
    }
}

impl Failure {
    fn of(e: trailhead_provisioner::ProvisionError) -> Self {
        Failure {
            message: e.to_string(),
            code: exit_code_of(&e),
        }
    }
}

fn finish(
    result: Result<trailhead_provisioner::rollout::RolloutOutcome, Failure>,
    args: &RolloutArgs,
    started: Instant,
) -> u8 {
    let outcome = match result {
        Ok(o) => o,
        Err(Failure { message, code }) => {
            // A pipeline reading NDJSON learns of the failure on stdout too.
            if args.output == Some(Output::Json) {
                println!(
                    "{}",
                    serde_json::json!({"event": "run_failed", "message": message})
                );
            }
            eprintln!("error: {message}");
            return code;
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
            let ctx = connect(spec, &args.common, reach_args, run_id, true).await?;
            let stage = args.stage.unwrap_or(Stage::LogArchive).into();
            let o = run_stage(&ctx, stage, &EventSink::none())
                .await
                .map_err(|e| e.to_string())?;
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
            crate::Command::Rollout(args) => {
                let reach = args.reach.reading(&args.read, &cli.before);
                rollout_options(&args, &reach, &Selection::default())
            }
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
