//! What stands between a rollout and its first write: a saved plan checked against the spec and
//! the live state it was made from, or, on a terminal, a person's yes after the plan's summary.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::path::Path;

use trailhead_model::{OrgSpec, Selection};
use trailhead_provisioner::plan::Action;
use trailhead_provisioner::rollout::PlanOutcome;
use trailhead_provisioner::saved_plan::SavedPlan;
use trailhead_provisioner::session::new_run_id;

use super::common::{CommonArgs, Stage, connect, exit_code_of};
use super::plan::fresh_plan;
use crate::{ReachArgs, exit, reach};

/// Reads a saved plan and checks it against the spec file as it is now, before any call.
pub fn load_saved(path: &Path, spec: &OrgSpec, spec_path: &Path) -> Result<SavedPlan, u8> {
    let refuse = |what: String| {
        eprintln!("error: {what}");
        exit::BAD_INPUT
    };
    let text = std::fs::read(path)
        .map_err(|e| refuse(format!("cannot read the plan {}: {e}", path.display())))?;
    let plan: SavedPlan = serde_json::from_slice(&text).map_err(|e| {
        refuse(format!(
            "{} is not a plan written by `trailhead plan --out`: {e}",
            path.display()
        ))
    })?;
    let spec_bytes = std::fs::read(spec_path)
        .map_err(|e| refuse(format!("cannot read {}: {e}", spec_path.display())))?;
    plan.check_spec(&spec.org.name, &spec_bytes)
        .map_err(|e| refuse(format!("{}: {e}", path.display())))?;
    Ok(plan)
}

/// Whether to ask before the first write: on a terminal, unless `--yes` or a saved plan (which
/// was the review).
pub fn should_ask(yes: bool, saved: bool) -> bool {
    !yes && !saved && std::io::stdin().is_terminal()
}

/// Re-plans read-only, then either checks the saved plan against it or asks. `Err` carries the
/// exit code: the plan is stale, the person said no, or the plan could not be read.
pub fn before_first_write(
    spec: &OrgSpec,
    common: &CommonArgs,
    reach_args: &ReachArgs,
    stage: Option<Stage>,
    selection: &Selection,
    saved: Option<&SavedPlan>,
) -> Result<(), u8> {
    let fresh = reach::runtime()
        .map_err(|e| (e, exit::ERROR))
        .and_then(|rt| {
            rt.block_on(async {
                let ctx = connect(spec, common, reach_args, &new_run_id(), false)
                    .await
                    .map_err(|e| (e, exit::ERROR))?;
                fresh_plan(&ctx, stage, selection)
                    .await
                    .map_err(|e| (e.to_string(), exit_code_of(&e)))
            })
        })
        .map_err(|(e, code)| {
            eprintln!("error: cannot plan before the rollout: {e}");
            code
        })?;
    if let Some(saved) = saved {
        saved.check_live(&fresh.reports).map_err(|e| {
            eprintln!("error: {e}; nothing was written");
            exit::ERROR
        })?;
        eprintln!(
            "the saved plan is current: applying its {} change(s)",
            saved.changes()
        );
        return Ok(());
    }
    ask(&fresh)
}

/// The plan's summary on stderr, then `[y/N]` on stdin. No changes: nothing to ask.
fn ask(fresh: &PlanOutcome) -> Result<(), u8> {
    let mut per_account: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &fresh.reports {
        if matches!(r.action, Action::Create | Action::Update) {
            *per_account.entry(r.account.as_str()).or_default() += 1;
        }
    }
    let changes: usize = per_account.values().sum();
    if changes == 0 {
        eprintln!("plan: no changes; the rollout only checks and gates");
        return Ok(());
    }
    eprintln!(
        "plan: {changes} change(s) in {} account(s) (`trailhead plan -v` lists them):",
        per_account.len()
    );
    for (account, n) in per_account.iter().take(10) {
        eprintln!("  {account}: {n} change(s)");
    }
    if per_account.len() > 10 {
        eprintln!("  … and {} more account(s)", per_account.len() - 10);
    }
    eprint!("apply them? [y/N] ");
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    if matches!(line.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        eprintln!("nothing was written (answer y, or pass --yes, to apply)");
        Err(exit::ERROR)
    }
}
