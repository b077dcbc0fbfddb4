//! `cargo xtask report-check`: the verify HTML report's structure, and where Chromium is
//! installed, its rendering to PNG and PDF.

use crate::demo::demo;
use crate::{root, trailhead};
use std::path::Path;
use std::process::Command;

/// The demo's verify report: written, checked for the sections an auditor reads, then (where
/// Debian's Chromium is installed) rendered as a laptop screen sees it and as it prints.
pub(crate) fn report_check() -> Result<(), String> {
    let target = root().join("target");
    let spec = target.join("demo").join("org.toml");
    if !spec.exists() {
        demo(6)?;
    }
    let html = target.join("verify-report.html");
    let spec_arg = spec.display().to_string();
    let state_arg = target.join("demo").join("state").display().to_string();
    let html_arg = html.display().to_string();
    // Exit 4 (a control failed: MFA Delete on the emulator) still writes the report.
    let code = trailhead(&[
        "--emulator",
        "verify",
        "--org",
        &spec_arg,
        "--state-dir",
        &state_arg,
        "--output",
        "html",
        "--out",
        &html_arg,
    ])?;
    if code != 0 && code != 4 {
        return Err(format!("verify failed (exit {code})"));
    }
    let page = std::fs::read_to_string(&html).map_err(|e| format!("{}: {e}", html.display()))?;
    report_structure(&page)?;
    println!(
        "{}: every section present, every ✗ and ? links to its evidence",
        html.display()
    );
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        println!("Chromium is not installed (`apt-get install chromium`): no screenshot taken");
        return Ok(());
    };
    for (flag, file, least) in [
        ("--screenshot", "verify-report.png", 10_000),
        ("--print-to-pdf", "verify-report.pdf", 5_000),
    ] {
        let out = target.join(file);
        let _ = std::fs::remove_file(&out);
        headless(chromium, &format!("{flag}={}", out.display()), &html)?;
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        if size < least {
            return Err(format!("no usable {file} ({size} bytes)"));
        }
        println!("rendered {} ({size} bytes)", out.display());
    }
    Ok(())
}

/// What an auditor needs on the page: the sections, and a target for every link from the matrix.
pub(crate) fn report_structure(page: &str) -> Result<(), String> {
    for section in ["controls", "failed", "unknown", "matrix", "skipped"] {
        if !page.contains(&format!("<section id=\"{section}\">")) {
            return Err(format!("the report has no {section} section"));
        }
    }
    for link in page.split("<a href=\"#f-").skip(1) {
        let id = link.split('"').next().unwrap_or_default();
        if !page.contains(&format!("<tr id=\"f-{id}\">")) {
            return Err(format!("the matrix links to f-{id}, which the page lacks"));
        }
    }
    if page.contains("writing-mode") {
        return Err("the report rotates its headers again".into());
    }
    Ok(())
}

pub(crate) fn headless(chromium: &str, output: &str, html: &Path) -> Result<(), String> {
    let profile = root().join("target").join("chromium-profile");
    let status = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--no-pdf-header-footer",
            "--window-size=1440,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(output)
        .arg(format!("file://{}", html.display()))
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {chromium}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{chromium} {output} failed ({status})"))
    }
}
