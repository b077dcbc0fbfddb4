//! `plan --output markdown`: the plan as a pull-request comment or a `$GITHUB_STEP_SUMMARY`,
//! the way Terraform plans are posted: a headline, a table of the steps that would change, their
//! notes (what a change costs, what a person must do), and the accounts skipped or failed.

use std::io::Write;

use trailhead_provisioner::plan::{Action, StepReport};
use trailhead_provisioner::rollout::PlanOutcome;

/// The plan's totals, for the headline.
pub struct Totals {
    pub changes: usize,
    pub pending: usize,
    pub accounts: usize,
    pub calls: u64,
    pub writes: u64,
    pub seconds: f64,
}

/// A table cell: no line breaks, and `|` escaped so that it stays one cell.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

fn changes_cell(r: &StepReport) -> String {
    let lines: Vec<String> = r
        .changes
        .iter()
        .map(|c| format!("`{}`: {} → {}", cell(&c.field), cell(&c.from), cell(&c.to)))
        .collect();
    lines.join("<br>")
}

pub fn render(
    out: &mut impl Write,
    org: &str,
    outcome: &PlanOutcome,
    label: &dyn Fn(&str) -> String,
    t: &Totals,
) {
    let _ = writeln!(out, "### trailhead plan: org `{}`\n", cell(org));
    let verdict = match (t.changes, outcome.failures.len()) {
        (0, 0) => format!("**No changes.** {} account(s) match the spec.", t.accounts),
        (n, 0) => format!("**{n} step(s) would change** in {} account(s).", t.accounts),
        (n, f) => format!("**{n} step(s) would change; {f} account(s) could not be planned.**"),
    };
    let _ = writeln!(
        out,
        "{verdict} {} pending · {} read call(s), {} write(s), {:.1} s\n",
        t.pending, t.calls, t.writes, t.seconds
    );
    let shown: Vec<&StepReport> = outcome
        .reports
        .iter()
        .filter(|r| r.action != Action::NoOp)
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(out, "| account | region | step | action | changes |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for r in &shown {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&label(&r.account)),
                cell(&r.region),
                cell(&r.step),
                r.action,
                changes_cell(r)
            );
        }
    }
    let notes: Vec<String> = outcome
        .reports
        .iter()
        .flat_map(|r| {
            r.notes.iter().map(move |n| {
                format!(
                    "- {} · {}: {}",
                    label(&r.account),
                    r.step,
                    n.replace('\n', " ")
                )
            })
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>{} note(s)</summary>\n",
            notes.len()
        );
        for n in notes {
            let _ = writeln!(out, "{n}");
        }
        let _ = writeln!(out, "\n</details>");
    }
    for s in &outcome.skipped {
        let _ = writeln!(out, "\n- skipped: {} ({}): {}", s.id, s.name, s.reason);
    }
    for (account, error) in &outcome.failures {
        let _ = writeln!(
            out,
            "\n- **failed**: {}: {}",
            label(account),
            error.replace('\n', " ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailhead_provisioner::plan::Change;

    fn report(step: &str, action: Action, changes: Vec<Change>, notes: Vec<String>) -> StepReport {
        StepReport {
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            step: step.into(),
            action,
            changes,
            notes,
            duration: std::time::Duration::ZERO,
            api_calls: 0,
            retries: 0,
        }
    }

    #[test]
    fn the_changed_steps_are_a_table_and_the_notes_are_folded() {
        let outcome = PlanOutcome {
            reports: vec![
                report(
                    "trail",
                    Action::Update,
                    vec![Change {
                        field: "event_selectors".into(),
                        from: "a | b".into(),
                        to: "c\nd".into(),
                    }],
                    vec!["cost: turning data events on adds about $1.00 a month".into()],
                ),
                report("log group", Action::NoOp, Vec::new(), Vec::new()),
            ],
            ..PlanOutcome::default()
        };
        let totals = Totals {
            changes: 1,
            pending: 0,
            accounts: 1,
            calls: 12,
            writes: 0,
            seconds: 1.5,
        };
        let mut out = Vec::new();
        render(
            &mut out,
            "acme",
            &outcome,
            &|a| format!("{a} (dev)"),
            &totals,
        );
        let text = String::from_utf8(out).expect("utf-8");
        assert!(
            text.contains("**1 step(s) would change** in 1 account(s)."),
            "{text}"
        );
        assert!(text.contains("| 111111111111 (dev) | eu-west-1 | trail | update | `event_selectors`: a \\| b → c d |"), "{text}");
        assert!(
            !text.contains("log group"),
            "unchanged steps are left out: {text}"
        );
        assert!(
            text.contains("<details><summary>1 note(s)</summary>"),
            "{text}"
        );
        assert!(
            text.contains("trail: cost: turning data events on"),
            "{text}"
        );
    }
}
