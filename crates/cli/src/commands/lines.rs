//! The plain output of a rollout: one line per event that a person reading a pipeline log needs.

use trailhead_provisioner::events::Event;

/// One line per event, for people reading a pipeline log.
pub fn plain_line(e: &Event) -> Option<String> {
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
            interrupted,
        } => {
            let ended = if *interrupted {
                "was interrupted after"
            } else {
                "finished in"
            };
            let mut s = format!(
                "run {run_id} {ended} {:.1} s: {succeeded} succeeded, {failed} failed, {skipped} skipped; {api_calls} API call(s), {writes} write(s), {retries} retr(ies), {throttled} throttled",
                *duration_ms as f64 / 1000.0
            );
            if let Some(cmd) = resume_command {
                s.push_str(&format!("\nresume with: {cmd}"));
            }
            s
        }
    })
}
