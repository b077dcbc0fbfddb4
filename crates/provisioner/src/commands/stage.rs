//! `--stage`: one stage of a run alone (`plan --stage`, `rollout --stage`, `logs athena setup`).

use trailhead_policies::DeputyMode;

use crate::core::RunCtx;
use crate::core::error::ProvisionError;
use crate::core::step::Steps;
use crate::core::targets::SkippedAccount;
use crate::events::EventSink;
use crate::plan::StepReport;
use crate::stages::{athena, log_archive};

/// A stage that can run alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The log-archive account: its buckets, key and MFA Delete.
    LogArchive,
    /// The log-archive stage, then Athena's results bucket, Glue table and workgroup.
    Athena,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::LogArchive => "log-archive",
            Stage::Athena => "athena",
        }
    }
}

/// What one stage did (or, in a plan, would do).
#[derive(Debug, Clone)]
pub struct StageOutcome {
    pub reports: Vec<StepReport>,
    /// Accounts of the organization left alone, with the reason.
    pub skipped: Vec<SkippedAccount>,
    /// The archive bucket, once its account exists.
    pub bucket: Option<String>,
    /// How the archive's policies bind the service principals.
    pub mode: DeputyMode,
}

/// Runs `stage` alone: `ctx.apply` decides plan or apply; every step is reported through
/// `events` as it runs.
pub async fn run_stage(
    ctx: &RunCtx,
    stage: Stage,
    events: &EventSink,
) -> Result<StageOutcome, ProvisionError> {
    let steps = Steps::new(events, None);
    let (archive, more) = match stage {
        Stage::LogArchive => {
            let scope = log_archive::scope(ctx, steps).await?;
            (log_archive::converge(ctx, steps, scope).await?, Vec::new())
        }
        Stage::Athena => athena::run_athena_stage(ctx, steps).await?,
    };
    let mut reports = archive.reports;
    reports.extend(more);
    Ok(StageOutcome {
        reports,
        skipped: archive.skipped,
        bucket: archive.bucket,
        mode: archive.mode,
    })
}
