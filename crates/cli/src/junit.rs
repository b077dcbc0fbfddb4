//! A JUnit XML summary of a rollout: one test case per account × step, so that pipelines show
//! failures the way they show test failures. A failed account is one failed case, named after
//! the step that failed; a skipped account is one `<skipped/>` case. The suite's counts are the
//! cases', so that they always agree with what is listed.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use trailhead_provisioner::rollout::RolloutOutcome;

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub fn render(outcome: &RolloutOutcome, elapsed: Duration) -> String {
    let mut cases = String::new();
    for r in &outcome.reports {
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"><system-out>{}</system-out></testcase>",
            escape(&r.account),
            escape(&r.step),
            r.duration.as_secs_f64(),
            escape(&r.action.to_string())
        );
    }
    for (account, error) in &outcome.failures {
        let step = outcome
            .failed_steps
            .get(account)
            .map_or("account", String::as_str);
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{}\" name=\"{}\"><failure message=\"{}\"/></testcase>",
            escape(account),
            escape(step),
            escape(error)
        );
    }
    for (account, why) in &outcome.skipped_accounts {
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{}\" name=\"rollout\"><skipped message=\"{}\"/></testcase>",
            escape(account),
            escape(why)
        );
    }
    let tests = outcome.reports.len() + outcome.failures.len() + outcome.skipped_accounts.len();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"trailhead rollout {}\" tests=\"{tests}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n{cases}  </testsuite>\n</testsuites>\n",
        escape(&outcome.run_id),
        outcome.failures.len(),
        outcome.skipped_accounts.len(),
        elapsed.as_secs_f64()
    )
}

pub fn write(path: &Path, outcome: &RolloutOutcome, elapsed: Duration) -> std::io::Result<()> {
    std::fs::write(path, render(outcome, elapsed))
}

#[cfg(test)]
mod tests {
    use trailhead_provisioner::plan::{Action, StepReport};

    use super::*;

    fn count(xml: &str, needle: &str) -> usize {
        xml.matches(needle).count()
    }

    fn attr(xml: &str, name: &str) -> usize {
        let start = xml.find(&format!(" {name}=\"")).map(|i| i + name.len() + 3);
        start
            .and_then(|i| xml[i..].split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn every_step_failure_and_skip_is_a_case_and_the_counts_agree() {
        let step = |account: &str, name: &str| StepReport {
            account: account.into(),
            region: "eu-west-1".into(),
            step: name.into(),
            action: Action::Create,
            changes: Vec::new(),
            notes: Vec::new(),
            duration: Duration::from_millis(20),
            api_calls: 2,
            retries: 0,
        };
        let mut outcome = RolloutOutcome {
            run_id: "r1".into(),
            reports: vec![
                step("111111111111", "trail"),
                step("111111111111", "alarms"),
            ],
            failures: vec![("222222222222".into(), "AccessDenied <on> logs".into())],
            skipped_accounts: vec![
                ("333333333333".into(), "SUSPENDED".into()),
                (
                    "444444444444".into(),
                    "not started: the run was stopped".into(),
                ),
            ],
            ..RolloutOutcome::default()
        };
        outcome
            .failed_steps
            .insert("222222222222".into(), "log group".into());
        let xml = render(&outcome, Duration::from_secs(3));
        assert_eq!(attr(&xml, "tests"), count(&xml, "<testcase "));
        assert_eq!(attr(&xml, "tests"), 5);
        assert_eq!(attr(&xml, "failures"), count(&xml, "<failure "));
        assert_eq!(attr(&xml, "skipped"), count(&xml, "<skipped "));
        assert_eq!(attr(&xml, "skipped"), 2);
        assert!(xml.contains("classname=\"222222222222\" name=\"log group\"><failure message=\"AccessDenied &lt;on&gt; logs\""));
        assert!(xml.contains(
            "classname=\"333333333333\" name=\"rollout\"><skipped message=\"SUSPENDED\"/>"
        ));
    }
}
