//! `verify --output html` on a live org, read as an auditor reads it: every section, every ✗ in
//! the matrix linked to its evidence written out on the page, and the suspended account listed
//! as skipped with its reason (in JSON too).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use crate::common::trailhead;

use serde_json::Value;
use trailhead_e2e::{REGION, emulator, roll, run_ctx, seed_planted};
use trailhead_provisioner::rollout::RolloutOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_has_its_sections_evidence_inline_and_skipped_accounts() {
    let conn = emulator();
    let org = seed_planted(&conn, "report", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let spec_text = org.spec_toml("report", REGION);
    let spec = dir.path().join("org.toml");
    std::fs::write(&spec, &spec_text).unwrap();
    // The planted account without an access role fails its rollout; the others converge.
    let ctx = run_ctx(&conn, &spec_text, true, dir.path());
    roll(&ctx, &RolloutOptions::default()).await;
    let (suspended, why) = org
        .planted
        .iter()
        .find(|(_, why)| why.contains("SUSPENDED"))
        .expect("a suspended planted account");
    let spec_arg = spec.to_str().unwrap();
    let html_path = dir.path().join("report.html");
    let (code, _, err) = trailhead(&[
        "--emulator",
        "verify",
        "--org",
        spec_arg,
        "--output",
        "html",
        "--out",
        html_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 4, "the account without a role fails: {err}");
    let page = std::fs::read_to_string(&html_path).unwrap();

    for section in ["controls", "failed", "unknown", "matrix", "skipped"] {
        assert!(
            page.contains(&format!("<section id=\"{section}\">")),
            "{section}"
        );
    }
    assert!(page.contains("@media print") && !page.contains("writing-mode"));
    // Every ✗ or ? of the matrix reaches a row of evidence on the page.
    let links: Vec<&str> = page
        .split("<a href=\"#f-")
        .skip(1)
        .map(|l| l.split('"').next().unwrap())
        .collect();
    assert!(!links.is_empty(), "the broken account has failures");
    for id in &links {
        assert!(page.contains(&format!("<tr id=\"f-{id}\">")), "f-{id}");
    }
    // The account without a role could not be read: its cells are written out with why, not
    // left to a tooltip.
    let broken = org
        .planted
        .iter()
        .find(|(_, w)| !w.contains("SUSPENDED"))
        .map(|(a, _)| a.id.clone())
        .unwrap();
    let row = format!("<tr id=\"f-{broken}-");
    let at = page.find(&row).expect("the unreadable account's evidence");
    let evidence = &page[at..at + page[at..].find("</tr>").unwrap()];
    assert!(
        evidence.contains("<td>") && evidence.len() > row.len() + 80,
        "{evidence}"
    );
    // The suspended account: skipped, with the reason.
    let skipped = &page[page.find("<section id=\"skipped\">").unwrap()..];
    assert!(
        skipped.contains(&format!("<small>{}</small></td><td>", suspended.id))
            && skipped.contains("SUSPENDED"),
        "{why}: {skipped}"
    );
    assert!(!page.contains(&format!(
        "<tr class=\"clean\"><th scope=\"row\">{}",
        suspended.name
    )));

    let (_, out, _) = trailhead(&[
        "--emulator",
        "verify",
        "--org",
        spec_arg,
        "--output",
        "json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let listed = report["skipped"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|s| s["account_id"] == suspended.id.as_str()
                && s["reason"].as_str().unwrap().contains("SUSPENDED")),
        "{listed:?}"
    );
}
