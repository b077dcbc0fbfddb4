//! The forms a verify report takes: a terminal matrix, JSON, JUnit and a self-contained HTML page.

use std::fmt::Write as _;

use trailhead_provisioner::verify::{Verdict, VerifyReport};

use crate::junit::escape;

pub fn table(r: &VerifyReport, color: bool) -> String {
    let ids = r.control_ids();
    let paint = |v: Verdict| -> String {
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
    };
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
    let _ = write!(out, "\n{:<24} {:<12} ", "account", "id");
    for i in 0..ids.len() {
        let _ = write!(out, "{:>2} ", i + 1);
    }
    out.push('\n');
    for a in &r.accounts {
        let _ = write!(out, "{:<24} {:<12} ", truncate(&a.name, 24), a.account_id);
        for id in &ids {
            let cell = a.controls.iter().find(|c| &c.id == id);
            let _ = write!(
                out,
                " {} ",
                cell.map_or_else(|| " ".to_string(), |c| paint(c.status))
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n{} account(s): {} passed, {} failed, {} unknown",
        r.summary.accounts, r.summary.pass, r.summary.fail, r.summary.unknown
    );
    let failures: Vec<String> = r
        .accounts
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
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "not passing:\n{}", failures.join("\n"));
    }
    out
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

pub fn html(r: &VerifyReport, org: &str) -> String {
    let ids = r.control_ids();
    let mut head = String::new();
    for id in &ids {
        let info = r.controls.iter().find(|c| &c.id == id);
        let title = info.map_or(id.as_str(), |c| c.title.as_str());
        let _ = write!(
            head,
            "<th title=\"{}\">{} · {}</th>",
            escape(info.map_or("", |c| c.required.as_str())),
            escape(id),
            escape(title)
        );
    }
    let mut rows = String::new();
    for a in &r.accounts {
        let has = |v: Verdict| a.controls.iter().any(|c| c.status == v);
        let class = match (has(Verdict::Fail), has(Verdict::Unknown)) {
            (true, true) => "failing unknown",
            (true, false) => "failing",
            (false, true) => "unknown",
            (false, false) => "passing",
        };
        let _ = write!(
            rows,
            "<tr class=\"{class}\"><th class=\"acct\">{}<br><small>{}</small></th>",
            escape(&a.name),
            escape(&a.account_id)
        );
        for id in &ids {
            match a.controls.iter().find(|c| &c.id == id) {
                Some(c) => {
                    let class = match c.status {
                        Verdict::Pass => "pass",
                        Verdict::Fail => "fail",
                        Verdict::Unknown => "unknown",
                    };
                    let _ = write!(
                        rows,
                        "<td class=\"{class}\" title=\"{}\" data-observed=\"{}\" data-required=\"{}\" data-control=\"{}\" data-account=\"{}\">{}</td>",
                        escape(&c.evidence),
                        escape(&c.observed),
                        escape(&c.required),
                        escape(&c.id),
                        escape(&a.account_id),
                        c.status.symbol()
                    );
                }
                None => rows.push_str("<td class=\"none\"></td>"),
            }
        }
        rows.push_str("</tr>\n");
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>trailhead verify — {org}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #1d2330; }}
h1 {{ font-size: 1.4em; margin: 0 0 .3em; }}
.summary span {{ display: inline-block; margin-right: 1.2em; font-weight: 600; }}
.summary .p {{ color: #1a7f37; }} .summary .f {{ color: #cf222e; }} .summary .u {{ color: #9a6700; }}
table {{ border-collapse: collapse; margin-top: 1em; font-size: 13px; }}
th, td {{ border: 1px solid #d0d7de; padding: 4px 6px; text-align: center; }}
thead th {{ writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; background: #f6f8fa; }}
thead th:first-child {{ writing-mode: horizontal-tb; transform: none; vertical-align: bottom; }}
th.acct {{ text-align: left; white-space: nowrap; background: #f6f8fa; }}
td {{ cursor: pointer; font-weight: 700; min-width: 1.4em; }}
td.pass {{ background: #dafbe1; color: #1a7f37; }}
td.fail {{ background: #ffebe9; color: #cf222e; }}
td.unknown {{ background: #fff8c5; color: #9a6700; }}
td.selected {{ outline: 3px solid #0969da; }}
#evidence {{ margin-top: 1em; padding: .8em; border: 1px solid #d0d7de; background: #f6f8fa; min-height: 2em; white-space: pre-wrap; }}
body.failures-only tbody tr:not(.failing) {{ display: none; }}
body.unknowns-only tbody tr:not(.unknown) {{ display: none; }}
</style></head><body>
<h1>trailhead verify — {org}</h1>
<p class="meta">{benchmark} controls · read {generated} · trailhead {version}</p>
<div class="summary"><span>{accounts} account(s)</span><span class="p">✓ {pass} passed</span><span class="f">✗ {fail} failed</span><span class="u">? {unknown} unknown</span></div>
<label><input type="checkbox" id="failures"> failures only (✗)</label>
<label><input type="checkbox" id="unknowns"> unknowns only (?)</label>
<table><thead><tr><th>account</th>{head}</tr></thead><tbody>
{rows}</tbody></table>
<div id="evidence">Hover a cell for its evidence, or click it to keep it here.</div>
<script>
document.getElementById('failures').addEventListener('change', function (e) {{
  document.body.classList.toggle('failures-only', e.target.checked);
}});
document.getElementById('unknowns').addEventListener('change', function (e) {{
  document.body.classList.toggle('unknowns-only', e.target.checked);
}});
document.querySelectorAll('td[data-observed]').forEach(function (td) {{
  td.addEventListener('click', function () {{
    document.querySelectorAll('td.selected').forEach(function (s) {{ s.classList.remove('selected'); }});
    td.classList.add('selected');
    document.getElementById('evidence').textContent =
      td.dataset.account + ' · ' + td.dataset.control + ' · ' + td.textContent +
      '\nobserved: ' + td.dataset.observed + '\nrequired: ' + td.dataset.required;
  }});
}});
</script>
</body></html>
"#,
        org = escape(org),
        benchmark = escape(&r.benchmark),
        generated = escape(&r.generated_at),
        version = escape(&r.trailhead_version),
        accounts = r.summary.accounts,
        pass = r.summary.pass,
        fail = r.summary.fail,
        unknown = r.summary.unknown,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailhead_provisioner::verify::{AccountReport, ControlResult, Summary};
    use trailhead_provisioner::verify_controls::ControlInfo;

    fn result(id: &str, status: Verdict, observed: &str) -> ControlResult {
        ControlResult {
            id: id.into(),
            status,
            evidence: observed.into(),
            observed: observed.into(),
            required: format!("what {id} needs"),
        }
    }

    fn report() -> VerifyReport {
        VerifyReport {
            org: "acme".into(),
            generated_at: "2026-12-03T15:00:00Z".into(),
            trailhead_version: "0.1.0".into(),
            benchmark: "cis-3.0".into(),
            controls: ["CloudTrail.1", "S3.20", "CloudTrail.Delivery"]
                .iter()
                .map(|id| ControlInfo {
                    id: (*id).into(),
                    title: format!("title of {id}"),
                    required: format!("what {id} needs"),
                })
                .collect(),
            accounts: vec![AccountReport {
                account_id: "111122223333".into(),
                name: "prod <main>".into(),
                controls: vec![
                    result("CloudTrail.1", Verdict::Pass, "multi-region"),
                    result("S3.20", Verdict::Fail, "MfaDelete \"Disabled\""),
                    result("CloudTrail.Delivery", Verdict::Unknown, "no delivery"),
                ],
            }],
            summary: Summary {
                accounts: 1,
                pass: 1,
                fail: 1,
                unknown: 1,
            },
        }
    }

    #[test]
    fn html_is_self_contained_with_evidence_and_a_failure_filter() {
        let html = html(&report(), "acme");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no external assets"
        );
        assert!(!html.contains("<link") && !html.contains(" src="));
        assert!(html.contains("id=\"failures\""));
        assert!(html.contains("class=\"fail\" title=\"MfaDelete &quot;Disabled&quot;\""));
        assert!(html.contains("data-required=\"what S3.20 needs\""));
        assert!(
            html.contains("S3.20 · title of S3.20"),
            "headers carry titles"
        );
        assert!(html.contains("cis-3.0 controls · read 2026-12-03T15:00:00Z · trailhead 0.1.0"));
        assert!(
            html.contains("id=\"unknowns\""),
            "unknowns are their own filter"
        );
        assert!(html.contains("<tr class=\"failing unknown\">"));
        assert!(
            html.contains("tr:not(.failing)"),
            "failures only hides rows without ✗"
        );
        assert!(html.contains("prod &lt;main&gt;"), "names are escaped");
        assert!(html.contains(">✗<") && html.contains(">✓<") && html.contains(">?<"));
    }

    #[test]
    fn junit_has_one_case_per_account_and_control() {
        let xml = junit(&report());
        assert_eq!(xml.matches("<testcase").count(), 3);
        assert!(xml.contains("failures=\"1\"") && xml.contains("skipped=\"1\""));
        assert!(xml.contains("<failure message=\"MfaDelete &quot;Disabled&quot;\"/>"));
    }

    #[test]
    fn table_marks_every_cell() {
        let t = table(&report(), false);
        assert!(t.contains("✓") && t.contains("✗") && t.contains("?"));
        assert!(t.contains("1 passed, 1 failed, 1 unknown"));
        assert!(t.contains("S3.20: MfaDelete"));
        assert!(t.contains("S3.20                title of S3.20"), "{t}");
        assert!(
            t.contains("org acme: cis-3.0 controls, read 2026-12-03T15:00:00Z by trailhead 0.1.0")
        );
    }
}
