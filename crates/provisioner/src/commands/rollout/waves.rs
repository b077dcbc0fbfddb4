//! The rollout itself: preflight, the log archive, then wave by wave, with approvals, a failure
//! tolerance, pause/abort/retry/skip from the view, and resume.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tokio::sync::mpsc;
use trailhead_model::{ResolvedWave, TargetAccount};

use super::gate::{DeliveryCheck, checks_delivery, gate};
use super::lock::Lock;
use super::runs::{caller_arn, journal_path};
use super::scheduler::{WaveInputs, WaveResult, run_wave};
use super::{RolloutOptions, RolloutOutcome};
use crate::commands::plan::{check_selection, replay, selected_waves};
use crate::commands::preflight::preflight;
use crate::core::RunCtx;
use crate::core::counter::totals;
use crate::core::error::ProvisionError;
use crate::core::journal;
use crate::core::journal::Entry;
use crate::core::step::Steps;
use crate::events::{Command, Event, EventSink, WaveInfo, WaveStatus};
use crate::stages::log_archive::{self, LogArchiveOutcome};
use crate::stages::member::controls;

pub(super) enum Flow {
    Continue,
    Abort,
}

/// Waits for approval of the next wave, honouring abort meanwhile; skips asked for while
/// waiting apply to the waves to come.
pub(super) async fn await_approval(
    commands: &mut mpsc::UnboundedReceiver<Command>,
    skip: &mut BTreeSet<String>,
) -> Flow {
    while let Some(c) = commands.recv().await {
        match c {
            Command::ApproveNextWave => return Flow::Continue,
            Command::Abort => return Flow::Abort,
            Command::Skip(id) => {
                skip.insert(id);
            }
            _ => {}
        }
    }
    Flow::Abort
}

pub async fn rollout(
    ctx: &RunCtx,
    opts: &RolloutOptions,
    events: &EventSink,
    mut commands: mpsc::UnboundedReceiver<Command>,
) -> Result<RolloutOutcome, ProvisionError> {
    let run_id = ctx.role.run_id.clone();
    let started = Instant::now();
    let _lock = Lock::acquire(&ctx.state_dir)?;
    // Before the journal's first line: a selection of nothing is not a run.
    check_selection(ctx, &opts.selection).await?;
    let (journal_file, done) = start_journal(ctx, opts).await?;
    let controls = controls(ctx)?;
    let mut outcome = RolloutOutcome {
        run_id: run_id.clone(),
        ..RolloutOutcome::default()
    };

    if !opts.skip_preflight && preflight_stops(ctx, &mut outcome).await? {
        return Ok(outcome);
    }

    let (archive, waves) = archive_stage(ctx, opts, events).await?;
    outcome.reports.extend(archive.reports.clone());
    let (Some(bucket), Some(key)) = (archive.bucket.clone(), archive.key_arn.clone()) else {
        return Err(ProvisionError::Config(
            "the log-archive stage produced no bucket or key".into(),
        ));
    };
    outcome.skipped += archive.skipped.len();
    outcome.skipped_accounts.extend(
        archive
            .skipped
            .iter()
            .map(|s| (s.id.clone(), s.reason.clone())),
    );

    let run = WaveRun {
        opts,
        archive_account: archive.account_id.as_deref(),
        inputs: WaveInputs {
            ctx,
            bucket: &bucket,
            key: &key,
            controls: &controls,
            done: &done,
            events,
            journal_file: &journal_file,
        },
    };
    let mut stop_reason: Option<String> = None;
    // Accounts the view asked to skip, whenever it asked.
    let mut skip: BTreeSet<String> = BTreeSet::new();
    for (index, wave) in waves.iter().enumerate() {
        if stop_reason.is_some() || outcome.aborted {
            outcome.skip_wave(wave, "not started: an earlier wave stopped the run");
            events.send(wave_skipped(wave));
            continue;
        }
        if opts.confirm_waves {
            events.send(Event::WaitingForApproval {
                wave: wave.name.clone(),
            });
            if let Flow::Abort = await_approval(&mut commands, &mut skip).await {
                outcome.aborted = true;
                outcome.skip_wave(wave, "not started: the wave was not approved");
                events.send(wave_skipped(wave));
                continue;
            }
        }
        stop_reason = run
            .wave(index, wave, &mut outcome, &mut commands, &mut skip)
            .await?;
    }
    outcome.stopped_by_tolerance = stop_reason;
    finish(ctx, &mut outcome, started, &journal_file, events)?;
    Ok(outcome)
}

/// Runs preflight into `outcome`; whether a blocking problem stops the run before any write.
async fn preflight_stops(
    ctx: &RunCtx,
    outcome: &mut RolloutOutcome,
) -> Result<bool, ProvisionError> {
    let (blocking, warnings): (Vec<_>, Vec<_>) =
        preflight(ctx).await?.into_iter().partition(|p| p.blocking);
    outcome.preflight_warnings = warnings.into_iter().map(|p| p.message).collect();
    outcome.preflight_problems = blocking.into_iter().map(|p| p.message).collect();
    Ok(!outcome.preflight_problems.is_empty())
}

/// The log-archive stage, which also names the waves. Its first part (the organization, the
/// log-archive account, the accounts governed) runs before the waves are known, so that
/// `run_started` can name them and still be the first event: those steps are reported right
/// after it. Every later step of the stage is reported live. Then the accounts left alone.
async fn archive_stage(
    ctx: &RunCtx,
    opts: &RolloutOptions,
    events: &EventSink,
) -> Result<(LogArchiveOutcome, Vec<ResolvedWave>), ProvisionError> {
    let held = EventSink::none();
    let scope = log_archive::scope(ctx, Steps::new(&held, None)).await?;
    let waves = selected_waves(ctx, &scope.targets, &opts.selection)?;
    events.send(run_started(ctx, opts, &waves));
    replay(&scope.reports, events);
    let archive = log_archive::converge(ctx, Steps::new(events, None), scope).await?;
    for s in &archive.skipped {
        events.send(Event::AccountSkipped {
            account: s.id.clone(),
            name: s.name.clone(),
            reason: s.reason.clone(),
        });
    }
    Ok((archive, waves))
}

/// Appends this start (or resume) to the run's journal; returns the journal's path and the
/// accounts an earlier start of the same run already converged.
async fn start_journal(
    ctx: &RunCtx,
    opts: &RolloutOptions,
) -> Result<(PathBuf, BTreeSet<String>), ProvisionError> {
    let run_id = &ctx.role.run_id;
    let journal_file = journal_path(&ctx.state_dir, run_id);
    let previous: Vec<Entry> = journal::read_all(&journal_file)?;
    if opts.resume && previous.is_empty() {
        return Err(ProvisionError::Config(format!(
            "no journal for run {run_id} in {}",
            ctx.state_dir.display()
        )));
    }
    let done: BTreeSet<String> = previous
        .iter()
        .filter_map(|e| match e {
            Entry::Account { account, status } if status == "succeeded" => Some(account.clone()),
            _ => None,
        })
        .collect();
    // Every start and resume: `runs list` says when a run began, how long it took, who ran it.
    journal::append(
        &journal_file,
        &Entry::Run {
            run_id: run_id.clone(),
            org: ctx.spec.org.name.clone(),
            at: Some(jiff::Timestamp::now().to_string()),
            caller: caller_arn(ctx).await,
        },
    )?;
    Ok((journal_file, done))
}

fn run_started(ctx: &RunCtx, opts: &RolloutOptions, waves: &[ResolvedWave]) -> Event {
    Event::RunStarted {
        run_id: ctx.role.run_id.clone(),
        org: ctx.spec.org.name.clone(),
        mode: if opts.resume {
            "resume".into()
        } else {
            "rollout".into()
        },
        accounts: waves.iter().map(|w| w.accounts.len()).sum(),
        waves: waves
            .iter()
            .map(|w| WaveInfo {
                name: w.name.clone(),
                accounts: w
                    .accounts
                    .iter()
                    .map(|a| (a.id.to_string(), a.name.clone()))
                    .collect(),
                max_concurrency: w.max_concurrency,
            })
            .collect(),
    }
}

fn wave_skipped(wave: &ResolvedWave) -> Event {
    Event::WaveFinished {
        wave: wave.name.clone(),
        status: WaveStatus::Skipped,
        succeeded: 0,
        failed: 0,
        skipped: wave.accounts.len(),
    }
}

/// What every wave of one rollout shares.
struct WaveRun<'a> {
    opts: &'a RolloutOptions,
    archive_account: Option<&'a str>,
    inputs: WaveInputs<'a>,
}

impl WaveRun<'_> {
    /// Runs one wave and its gate, adds them to `outcome`, and journals the wave; returns why
    /// the run stops after it, if it does.
    async fn wave(
        &self,
        index: usize,
        wave: &ResolvedWave,
        outcome: &mut RolloutOutcome,
        commands: &mut mpsc::UnboundedReceiver<Command>,
        skip: &mut BTreeSet<String>,
    ) -> Result<Option<String>, ProvisionError> {
        let wave_started = jiff::Timestamp::now();
        let result = run_wave(&self.inputs, wave, commands, skip).await?;
        outcome.absorb(&result);
        let allowed = wave.failure_tolerance.allowed_failures(wave.accounts.len());
        let stop = if result.failed.len() > allowed {
            Some(format!(
                "wave {} had {} failed account(s), more than its tolerance of {allowed}",
                wave.name,
                result.failed.len()
            ))
        } else if !result.aborted {
            self.gate_wave(index, wave, &result, wave_started).await
        } else {
            None
        };
        let status = if stop.is_some() {
            WaveStatus::Failed
        } else {
            WaveStatus::Passed
        };
        journal::append(
            self.inputs.journal_file,
            &Entry::Wave {
                wave: wave.name.clone(),
                status: status.to_string().to_lowercase(),
            },
        )?;
        self.inputs.events.send(Event::WaveFinished {
            wave: wave.name.clone(),
            status,
            succeeded: result.succeeded,
            failed: result.failed.len(),
            skipped: result.skipped,
        });
        Ok(stop)
    }

    /// The gate of a wave that stayed within its tolerance; why it failed, if it did.
    async fn gate_wave(
        &self,
        index: usize,
        wave: &ResolvedWave,
        result: &WaveResult,
        wave_started: jiff::Timestamp,
    ) -> Option<String> {
        let opts = self.opts;
        self.inputs.events.send(Event::GateStarted {
            wave: wave.name.clone(),
        });
        let ok_accounts: Vec<TargetAccount> = wave
            .accounts
            .iter()
            .filter(|a| result.ok_accounts.contains(&a.id.to_string()))
            .cloned()
            .collect();
        let check = opts
            .gate_delivery
            .filter(|_| checks_delivery(index, opts.gate_delivery_canary_only))
            .zip(self.archive_account)
            .map(|(limit, archive_account)| DeliveryCheck {
                limit,
                // S3 keeps whole seconds: a file written in the wave's first second counts.
                since: wave_started
                    .checked_sub(jiff::SignedDuration::from_secs(1))
                    .unwrap_or(wave_started),
                bucket: self.inputs.bucket.to_string(),
                archive_account: archive_account.to_string(),
            });
        let inputs = &self.inputs;
        let problems = gate(inputs.ctx, &ok_accounts, inputs.controls, check).await;
        self.inputs.events.send(Event::GateFinished {
            wave: wave.name.clone(),
            passed: problems.is_empty(),
            problems: problems.clone(),
        });
        (!problems.is_empty()).then(|| {
            format!(
                "wave {} failed its gate: {}",
                wave.name,
                problems.join("; ")
            )
        })
    }
}

/// Journals how the run finished and sends its last event.
fn finish(
    ctx: &RunCtx,
    outcome: &mut RolloutOutcome,
    started: Instant,
    journal_file: &Path,
    events: &EventSink,
) -> Result<(), ProvisionError> {
    let (calls, writes, retries, throttled) = totals(&ctx.calls.snapshot());
    let status = if outcome.ok() {
        "succeeded"
    } else if outcome.aborted {
        "aborted"
    } else {
        "failed"
    };
    journal::append(
        journal_file,
        &Entry::Finished {
            status: status.into(),
            at: Some(jiff::Timestamp::now().to_string()),
        },
    )?;
    let run_id = &outcome.run_id;
    events.send(Event::RunFinished {
        run_id: run_id.clone(),
        succeeded: outcome.succeeded,
        failed: outcome.failed,
        skipped: outcome.skipped,
        api_calls: calls,
        writes,
        retries,
        throttled,
        duration_ms: started.elapsed().as_millis() as u64,
        resume_command: (!outcome.ok()).then(|| format!("{}{run_id}", ctx.resume_prefix)),
        interrupted: outcome.aborted,
    });
    Ok(())
}
