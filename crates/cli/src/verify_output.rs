//! The forms a verify report takes: a terminal matrix and JUnit (the HTML page is verify_html).

use std::fmt::Write as _;

use trailhead_provisioner::verify::{Verdict, VerifyReport};

use crate::junit::escape;

pub fn table(r: &VerifyReport, color: bool) -> String {
    let ids = r.control_ids();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "org {}: {} controls, read {} by trailhead {}",
        r.org, r.benchmark, r.generated_at, r.trailhead_version
    );
    let _ = writeln!(out, "controls:");
    for (i, id) in ids.iter().enumerate() {
        let title = r
            .controls
            .iter()
            .find(|c| &c.id == id)
            .map_or("", |c| c.title.as_str());
        let _ = writeln!(out, "  {:>2} {id:<20} {title}", i + 1);
    }
    grid(&mut out, r, &ids, color);
    let _ = writeln!(
        out,
        "\n{} account(s): {} passed, {} failed, {} unknown",
        r.summary.accounts, r.summary.pass, r.summary.fail, r.summary.unknown
    );
    let _ = writeln!(
        out,
        "✓ passed  ✗ failed  ? unknown  (blank: not judged in that account; the control belongs to another)"
    );
    let failures = not_passing(r);
    if !failures.is_empty() {
        let _ = writeln!(out, "not passing:\n{}", failures.join("\n"));
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(out, "skipped (not judged):");
        for s in &r.skipped {
            let _ = writeln!(out, "  {} {}: {}", s.account_id, s.name, s.reason);
        }
    }
    out
}

/// A verdict's mark, in its colour on a terminal.
fn paint(v: Verdict, color: bool) -> String {
    let s = v.symbol();
    if !color {
        return s.to_string();
    }
    let code = match v {
        Verdict::Pass => "32",
        Verdict::Fail => "31",
        Verdict::Unknown => "33",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

/// One row per account, one column per control (numbered as listed above it).
fn grid(out: &mut String, r: &VerifyReport, ids: &[String], color: bool) {
    let _ = write!(out, "\n{:<24} {:<12} ", "account", "id");
    for i in 0..ids.len() {
        let _ = write!(out, "{:>2} ", i + 1);
    }
    out.push('\n');
    for a in &r.accounts {
        let _ = write!(out, "{:<24} {:<12} ", truncate(&a.name, 24), a.account_id);
        for id in ids {
            let cell = a.controls.iter().find(|c| &c.id == id);
            let mark = cell.map_or_else(|| " ".to_string(), |c| paint(c.status, color));
            let _ = write!(out, " {mark} ");
        }
        out.push('\n');
    }
}

/// Every control that did not pass, a line each, with its evidence.
fn not_passing(r: &VerifyReport) -> Vec<String> {
    r.accounts
        .iter()
        .flat_map(|a| {
            a.controls
                .iter()
                .filter(|c| c.status != Verdict::Pass)
                .map(move |c| {
                    format!(
                        "  {} {} {} {}: {}",
                        c.status.symbol(),
                        a.account_id,
                        a.name,
                        c.id,
                        c.evidence
                    )
                })
        })
        .collect()
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

pub fn junit(r: &VerifyReport) -> String {
    let mut cases = String::new();
    for a in &r.accounts {
        for c in &a.controls {
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\">",
                escape(&format!("{} {}", a.account_id, a.name)),
                escape(&c.id)
            );
            match c.status {
                Verdict::Pass => {}
                Verdict::Fail => {
                    let _ = write!(cases, "<failure message=\"{}\"/>", escape(&c.evidence));
                }
                Verdict::Unknown => {
                    let _ = write!(cases, "<skipped message=\"{}\"/>", escape(&c.evidence));
                }
            }
            let _ = writeln!(
                cases,
                "<system-out>{}</system-out></testcase>",
                escape(&c.evidence)
            );
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"trailhead verify\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n{cases}  </testsuite>\n</testsuites>\n",
        r.summary.pass + r.summary.fail + r.summary.unknown,
        r.summary.fail,
        r.summary.unknown
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify_fixture::report;

    #[test]
    fn junit_has_one_case_per_account_and_control() {
        let xml = junit(&report());
        assert_eq!(xml.matches("<testcase").count(), 4);
        assert!(xml.contains("failures=\"1\"") && xml.contains("skipped=\"1\""));
        assert!(xml.contains("<failure message=\"MfaDelete &quot;Disabled&quot;\"/>"));
    }

    #[test]
    fn table_marks_every_cell() {
        let t = table(&report(), false);
        assert!(t.contains("✓") && t.contains("✗") && t.contains("?"));
        assert!(t.contains("2 passed, 1 failed, 1 unknown"));
        assert!(t.contains("S3.20: MfaDelete"));
        assert!(
            t.contains(
                "skipped (not judged):\n  777788889999 old: SUSPENDED: the account is suspended"
            ),
            "{t}"
        );
        assert!(t.contains("S3.20                title of S3.20"), "{t}");
        assert!(
            t.contains("org acme: cis-3.0 controls, read 2026-12-03T15:00:00Z by trailhead 0.1.0")
        );
    }
}
