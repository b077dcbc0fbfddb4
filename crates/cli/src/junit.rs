//! A JUnit XML summary of a rollout: one test case per account × step, so that pipelines show
//! failures the way they show test failures.

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
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{}\" name=\"account\"><failure message=\"{}\"/></testcase>",
            escape(account),
            escape(error)
        );
    }
    let tests = outcome.reports.len() + outcome.failures.len();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"trailhead rollout {}\" tests=\"{tests}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n{cases}  </testsuite>\n</testsuites>\n",
        escape(&outcome.run_id),
        outcome.failures.len(),
        outcome.skipped,
        elapsed.as_secs_f64()
    )
}

pub fn write(path: &Path, outcome: &RolloutOutcome, elapsed: Duration) -> std::io::Result<()> {
    std::fs::write(path, render(outcome, elapsed))
}
