//! The verify report as one self-contained HTML page for an auditor: what each control came to
//! across the org, every failure with its evidence written out (nothing hides in a tooltip), a
//! matrix that fits a laptop screen, the accounts that were not judged and why, and a print
//! stylesheet so that the paper copy says the same.

use std::fmt::Write as _;

use trailhead_provisioner::verify::{AccountReport, ControlResult, Verdict, VerifyReport};

use crate::junit::escape;

pub fn html(r: &VerifyReport, org: &str) -> String {
    let ids = r.control_ids();
    let failed = findings(r, &ids, Verdict::Fail);
    let unknown = findings(r, &ids, Verdict::Unknown);
    format!(
        r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>trailhead verify — {org}</title>
<style>{STYLE}</style></head><body>
<header>
<h1>trailhead verify — {org}</h1>
<p class="meta">{benchmark} controls · read {generated} · trailhead {version}</p>
<div class="summary" id="summary"><span>{accounts} account(s) judged</span><span class="p">✓ {pass} passed</span><span class="f">✗ {fail} failed</span><span class="u">? {unknown_n} unknown</span><span class="s">{skipped_n} account(s) skipped</span></div>
<nav><a href="#controls">Controls</a> · <a href="#failed">Failures ({fail})</a> · <a href="#unknown">Unknown ({unknown_n})</a> · <a href="#matrix">Matrix</a> · <a href="#skipped">Skipped accounts ({skipped_n})</a></nav>
</header>
<section id="controls"><h2>Controls</h2>
{controls}</section>
<section id="failed"><h2>Failures ({fail})</h2>
{failed}</section>
<section id="unknown"><h2>Unknown ({unknown_n})</h2>
<p class="note">Unknown: the account could not be read for this control, or the emulator cannot hold what it needs. It is not a pass.</p>
{unknown}</section>
<section id="matrix"><h2>Matrix</h2>
{matrix}</section>
<section id="skipped"><h2>Skipped accounts ({skipped_n})</h2>
{skipped}</section>
<script>
document.getElementById('failing-only').addEventListener('change', function (e) {{
  document.body.classList.toggle('failing-only', e.target.checked);
}});
</script>
</body></html>
"##,
        org = escape(org),
        benchmark = escape(&r.benchmark),
        generated = escape(&r.generated_at),
        version = escape(&r.trailhead_version),
        accounts = r.summary.accounts,
        pass = r.summary.pass,
        fail = r.summary.fail,
        unknown_n = r.summary.unknown,
        skipped_n = r.skipped.len(),
        controls = controls(r, &ids),
        matrix = matrix(r, &ids),
        skipped = skipped(r),
    )
}

fn title_of<'a>(r: &'a VerifyReport, id: &str) -> (&'a str, &'a str) {
    r.controls
        .iter()
        .find(|c| c.id == id)
        .map_or(("", ""), |c| (c.title.as_str(), c.required.as_str()))
}

fn cell<'a>(a: &'a AccountReport, id: &str) -> Option<&'a ControlResult> {
    a.controls.iter().find(|c| c.id == id)
}

/// One row per control: its number in the matrix, what it requires, and its counts.
fn controls(r: &VerifyReport, ids: &[String]) -> String {
    let mut rows = String::new();
    for (i, id) in ids.iter().enumerate() {
        let (title, required) = title_of(r, id);
        let count = |v: Verdict| {
            r.accounts
                .iter()
                .filter(|a| cell(a, id).is_some_and(|c| c.status == v))
                .count()
        };
        let (pass, fail, unknown) = (
            count(Verdict::Pass),
            count(Verdict::Fail),
            count(Verdict::Unknown),
        );
        let not_judged = r.accounts.len() - pass - fail - unknown;
        let class = if fail > 0 { " class=\"has-fail\"" } else { "" };
        // A zero is grey: the eye goes to the counts that are not.
        let n = |count: usize, tone: &str| {
            let tone = if count == 0 { "zero" } else { tone };
            format!("<td class=\"n {tone}\">{count}</td>")
        };
        let _ = writeln!(
            rows,
            "<tr{class}><td class=\"num\">{i}</td><td class=\"id\">{id}</td><td>{title}<div class=\"req\">requires: {required}</div></td>{}{}{}{}</tr>",
            n(pass, "p"),
            n(fail, "f"),
            n(unknown, "u"),
            n(not_judged, "nj"),
            i = i + 1,
            id = escape(id),
            title = escape(title),
            required = escape(required),
        );
    }
    format!(
        "<table class=\"controls\"><thead><tr><th>#</th><th>control</th><th>title and requirement</th><th>✓ passed</th><th>✗ failed</th><th>? unknown</th><th>— not judged</th></tr></thead><tbody>\n{rows}</tbody></table>\n"
    )
}

/// Every cell of `verdict`, grouped by control, with its evidence, what was read and what is
/// required written out.
fn findings(r: &VerifyReport, ids: &[String], verdict: Verdict) -> String {
    let mut out = String::new();
    for id in ids {
        let hits: Vec<(&AccountReport, &ControlResult)> = r
            .accounts
            .iter()
            .filter_map(|a| cell(a, id).filter(|c| c.status == verdict).map(|c| (a, c)))
            .collect();
        let Some((_, first)) = hits.first() else {
            continue;
        };
        let (title, _) = title_of(r, id);
        let _ = writeln!(
            out,
            "<div class=\"finding\"><h3>{} {} · {} <small>({} account(s))</small></h3><p class=\"req\">requires: {}</p>",
            verdict.symbol(),
            escape(id),
            escape(title),
            hits.len(),
            escape(&first.required)
        );
        out.push_str("<table class=\"findings\"><thead><tr><th>account</th><th>evidence</th></tr></thead><tbody>\n");
        for (a, c) in &hits {
            // What was read, when the evidence does not already say it.
            let observed = if c.evidence.contains(&c.observed) {
                String::new()
            } else {
                format!("<div class=\"obs\">observed: {}</div>", escape(&c.observed))
            };
            let _ = writeln!(
                out,
                "<tr id=\"{}\"><td class=\"acct\">{}<br><small>{}</small></td><td>{}{observed}</td></tr>",
                anchor(&a.account_id, id),
                escape(&a.name),
                escape(&a.account_id),
                escape(&c.evidence),
            );
        }
        out.push_str("</tbody></table></div>\n");
    }
    if out.is_empty() {
        let none = match verdict {
            Verdict::Fail => "None: no judged control failed in any account.",
            _ => "None: every judged control could be read.",
        };
        out = format!("<p class=\"none\">{none}</p>\n");
    }
    out
}

fn anchor(account: &str, control: &str) -> String {
    escape(&format!("f-{account}-{control}"))
}

/// Accounts as rows, controls as numbered columns (the Controls table names them); a failed or
/// unknown cell links to its evidence.
fn matrix(r: &VerifyReport, ids: &[String]) -> String {
    let mut head = String::new();
    for (i, id) in ids.iter().enumerate() {
        let (title, _) = title_of(r, id);
        let _ = write!(
            head,
            "<th scope=\"col\" title=\"{} · {}\">{}</th>",
            escape(id),
            escape(title),
            i + 1
        );
    }
    let mut rows = String::new();
    for a in &r.accounts {
        let failing = a.controls.iter().any(|c| c.status == Verdict::Fail);
        let class = if failing { "failing" } else { "clean" };
        let _ = write!(
            rows,
            "<tr class=\"{class}\"><th scope=\"row\">{}<br><small>{}</small></th>",
            escape(&a.name),
            escape(&a.account_id)
        );
        for id in ids {
            let _ = write!(rows, "{}", matrix_cell(a, id));
        }
        rows.push_str("</tr>\n");
    }
    format!(
        "<p class=\"legend\">✓ passed · ✗ failed · ? unknown · — not judged in this account (the control belongs to another account: the archive's bucket and key to the log-archive account). Columns are the numbers of the Controls table; a ✗ or ? links to its evidence.</p>\n<label class=\"screen\"><input type=\"checkbox\" id=\"failing-only\"> only accounts with a failure</label>\n<div class=\"scroll\"><table class=\"matrix\"><thead><tr><th class=\"corner\">account</th>{head}</tr></thead><tbody>\n{rows}</tbody></table></div>\n"
    )
}

fn matrix_cell(a: &AccountReport, id: &str) -> String {
    let Some(c) = cell(a, id) else {
        return "<td class=\"none\">—</td>".into();
    };
    let class = match c.status {
        Verdict::Pass => return "<td class=\"pass\">✓</td>".into(),
        Verdict::Fail => "fail",
        Verdict::Unknown => "unknown",
    };
    format!(
        "<td class=\"{class}\"><a href=\"#{}\" title=\"{}\">{}</a></td>",
        anchor(&a.account_id, id),
        escape(&c.evidence),
        c.status.symbol()
    )
}

fn skipped(r: &VerifyReport) -> String {
    if r.skipped.is_empty() {
        return "<p class=\"none\">None: every selected account was judged.</p>\n".into();
    }
    let mut rows = String::new();
    for s in &r.skipped {
        let _ = writeln!(
            rows,
            "<tr><td class=\"acct\">{}<br><small>{}</small></td><td>{}</td></tr>",
            escape(&s.name),
            escape(&s.account_id),
            escape(&s.reason)
        );
    }
    format!(
        "<table class=\"findings\"><thead><tr><th>account</th><th>why it was not judged</th></tr></thead><tbody>\n{rows}</tbody></table>\n"
    )
}

const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #1d2330; font-size: 14px; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.2em; margin: 1.6em 0 .5em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
h3 { font-size: 1em; margin: 1.2em 0 .2em; }
.meta, .legend, .note, .req, small { color: #57606a; }
.req { font-size: 12px; margin: .2em 0; }
.summary span { display: inline-block; margin: .3em 1.2em .3em 0; font-weight: 600; font-size: 1.1em; }
.p { color: #1a7f37; } .zero { color: #afb8c1; } .f { color: #cf222e; } .u { color: #9a6700; } .s { color: #57606a; }
nav { margin: .6em 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; text-align: left; }
thead th { background: #f6f8fa; }
table.controls td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.controls td.num, table.controls td.id { white-space: nowrap; }
tr.has-fail td.id { color: #cf222e; font-weight: 600; }
table.findings { width: 100%; }
table.findings td.acct { white-space: nowrap; width: 14em; }
table.findings td { word-break: break-word; }
.obs { color: #57606a; font-size: 12px; margin-top: .3em; }
tr:target { outline: 3px solid #0969da; }
.scroll { overflow: auto; max-height: 80vh; border: 1px solid #d0d7de; }
table.matrix { font-size: 13px; }
table.matrix th, table.matrix td { text-align: center; padding: 3px 5px; min-width: 1.6em; }
table.matrix thead th { position: sticky; top: 0; z-index: 2; }
table.matrix tbody th { position: sticky; left: 0; z-index: 1; background: #f6f8fa; text-align: left; white-space: nowrap; }
table.matrix thead th.corner { left: 0; z-index: 3; text-align: left; }
td.pass { background: #dafbe1; color: #1a7f37; }
td.fail { background: #ffebe9; }
td.unknown { background: #fff8c5; }
td.fail a { color: #cf222e; font-weight: 700; text-decoration: none; }
td.unknown a { color: #9a6700; font-weight: 700; text-decoration: none; }
td.none { color: #8c959f; }
body.failing-only table.matrix tbody tr.clean { display: none; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; font-size: 10pt; }
  nav, label.screen, script { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .scroll { overflow: visible; max-height: none; border: none; }
  table.matrix thead th, table.matrix tbody th { position: static; }
  table.matrix { font-size: 8pt; }
  thead { display: table-header-group; }
  tr, .finding h3 { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  body.failing-only table.matrix tbody tr.clean { display: table-row; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    use crate::verify_fixture::report;

    #[test]
    fn the_page_is_self_contained_with_every_section() {
        let html = html(&report(), "acme");
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!html.contains("<link") && !html.contains(" src="));
        for section in ["controls", "failed", "unknown", "matrix", "skipped"] {
            assert!(
                html.contains(&format!("<section id=\"{section}\">")),
                "{section}"
            );
        }
        assert!(html.contains("@media print"));
        assert!(html.contains("cis-3.0 controls · read 2026-12-03T15:00:00Z · trailhead 0.1.0"));
        assert!(html.contains("prod &lt;main&gt;"), "names are escaped");
        assert!(!html.contains("writing-mode"), "no rotated headers");
    }

    #[test]
    fn each_control_is_summarized_and_numbered_as_in_the_matrix() {
        let html = html(&report(), "acme");
        // S3.20: one failure, one account where it is not judged.
        assert!(html.contains(
            "<tr class=\"has-fail\"><td class=\"num\">2</td><td class=\"id\">S3.20</td><td>title of S3.20<div class=\"req\">requires: what S3.20 needs</div></td><td class=\"n zero\">0</td><td class=\"n f\">1</td><td class=\"n zero\">0</td><td class=\"n nj\">1</td></tr>"
        ));
        assert!(html.contains("<th scope=\"col\" title=\"S3.20 · title of S3.20\">2</th>"));
    }

    #[test]
    fn failures_are_listed_with_their_evidence_inline_and_linked_from_the_matrix() {
        let html = html(&report(), "acme");
        let failed = &html[html.find("<section id=\"failed\">").unwrap()
            ..html.find("<section id=\"unknown\">").unwrap()];
        assert!(failed.contains("✗ S3.20 · title of S3.20 <small>(1 account(s))</small>"));
        assert!(failed.contains(
            "<tr id=\"f-111122223333-S3.20\"><td class=\"acct\">prod &lt;main&gt;<br><small>111122223333</small></td><td>MfaDelete &quot;Disabled&quot;<div class=\"obs\">observed: read for S3.20</div></td></tr>"
        ));
        assert!(!failed.contains("CloudTrail.Delivery"), "unknowns apart");
        assert!(html.contains("<td class=\"fail\"><a href=\"#f-111122223333-S3.20\""));
        assert!(
            html.contains("<td class=\"none\">—</td>"),
            "blank cells say so"
        );
        assert!(
            html.contains("— not judged in this account"),
            "and the legend why"
        );
    }

    #[test]
    fn skipped_accounts_are_listed_with_the_reason() {
        let page = html(&report(), "acme");
        assert!(page.contains("1 account(s) skipped"));
        assert!(page.contains(
            "<td class=\"acct\">old<br><small>777788889999</small></td><td>SUSPENDED: the account is suspended</td>"
        ));
        let mut clean = report();
        clean.skipped.clear();
        assert!(html_has_none(&html(&clean, "acme")));
    }

    fn html_has_none(html: &str) -> bool {
        html.contains("None: every selected account was judged.")
    }
}
