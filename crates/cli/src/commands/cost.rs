//! `cost`: what the audit trail costs a month, projected from the archive's own volumes.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use trailhead_provisioner::cost::{CostEngine, CostReport, archive_cost};

use super::target::{EventRegions, scope_of};
use crate::{ReachArgs, exit, reach};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CostOutput {
    /// Lines for people
    Table,
    /// The whole report: every component with its volume, unit price, source and figure
    Json,
    /// A table for a pull request or $GITHUB_STEP_SUMMARY
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CostEngineArg {
    /// Athena when the spec has an `[athena]` table and the window's files weigh more than its
    /// local_threshold_mb (as `logs search` decides), else local
    Auto,
    /// Fetch every log file of the window and count its records here
    Local,
    /// One query in the spec's Athena workgroup; file sizes from the listing
    Athena,
}

#[derive(Args, Debug)]
pub struct CostArgs {
    /// The org spec (TOML)
    #[arg(long, value_name = "FILE")]
    pub org: PathBuf,
    /// Only this account's logs (repeatable); default: every account of the spec, the
    /// log-archive, audit and management accounts included
    #[arg(long = "account", value_name = "ID|NAME")]
    pub accounts: Vec<String>,
    #[command(flatten)]
    pub regions: EventRegions,
    /// Start of the measured window: 2026-11-01T10:00:00Z, 2026-11-01, or 24h / 7d ago; the
    /// window's volumes are scaled to a month (730 hours)
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// End of the window, same forms; default: now
    #[arg(long)]
    pub until: Option<String>,
    /// How the report is printed
    #[arg(long, value_enum, default_value_t = CostOutput::Table)]
    pub output: CostOutput,
    /// Where the records are counted
    #[arg(long, value_enum, default_value_t = CostEngineArg::Auto)]
    pub engine: CostEngineArg,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
}

pub fn run(args: CostArgs, reach_args: &ReachArgs) -> u8 {
    let scope = match scope_of(
        &args.org,
        &args.accounts,
        &args.regions,
        &args.since,
        args.until.as_deref(),
    ) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let report = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connect(reach_args).await?;
            let engine = match args.engine {
                CostEngineArg::Auto => CostEngine::Auto,
                CostEngineArg::Local => CostEngine::Local,
                CostEngineArg::Athena => CostEngine::Athena,
            };
            archive_cost(&conn, &scope, engine)
                .await
                .map_err(|e| e.to_string())
        })
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let text = match args.output {
        CostOutput::Table => table(&report, &scope.spec.org.name),
        CostOutput::Markdown => markdown(&report, &scope.spec.org.name),
        CostOutput::Json => match serde_json::to_string_pretty(&report) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        },
    };
    println!("{text}");
    exit::OK
}

fn usd(v: f64) -> String {
    let v = v + 0.0;
    if v != 0.0 && v.abs() < 0.01 {
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}

/// A unit price as the pages write it: $0.023, $0.005, $2.00.
fn unit_price(v: f64) -> String {
    let text = format!("{v:.4}");
    let trimmed = text.trim_end_matches('0');
    let decimals = trimmed.split('.').nth(1).map_or(0, str::len);
    if decimals < 2 {
        format!("${v:.2}")
    } else {
        format!("${trimmed}")
    }
}

/// "per 100,000 events", "per GB-month".
fn per(n: f64, unit: &str) -> String {
    if n == 1.0 {
        format!("per {unit}")
    } else {
        format!("per {} {unit}", count(n))
    }
}

fn count(v: f64) -> String {
    let n = v.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A volume: whole counts with thousands separators, small quantities (GB, TB) with decimals.
fn amount(v: f64) -> String {
    if v >= 1000.0 || v.fract() == 0.0 {
        count(v)
    } else {
        let text = format!("{v:.6}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn headline(r: &CostReport, org: &str) -> Vec<String> {
    let m = &r.measured;
    let p = &r.projection.prices;
    let mut lines = vec![
        format!(
            "org {org}: {} account(s) delivered logs, {} .. {} ({:.1} days; {} engine, {})",
            r.by_account.len(),
            r.since,
            r.until,
            r.window_days,
            r.engine,
            r.engine_note
        ),
        format!(
            "measured: {} events ({} a day): management {} read, {} write; data {}; Insights {}; {} log files, {} bytes",
            count(m.events()),
            count(r.per_day.events()),
            count(m.management_read),
            count(m.management_write),
            count(m.data_events),
            count(m.insights_events),
            count(m.files),
            count(m.bytes)
        ),
        format!(
            "prices: {} list prices ({}), pinned {} from each service's pricing page",
            p.region, p.partition, p.pinned_on
        ),
    ];
    if let Some(note) = &p.note {
        lines.push(format!("        {note}"));
    }
    lines
}

fn table(r: &CostReport, org: &str) -> String {
    let mut out = headline(r, org).join("\n");
    let _ = writeln!(
        out,
        "\n\n{:<16} {:<62} {:>16} {:>12}",
        "COMPONENT", "ITEM", "VOLUME/MONTH", "MONTHLY"
    );
    for l in &r.projection.lines {
        let _ = writeln!(
            out,
            "{:<16} {:<62} {:>16} {:>12}",
            l.component,
            l.item,
            amount(l.volume),
            usd(l.monthly_usd)
        );
        let _ = writeln!(
            out,
            "{:<16}   {} {}",
            "",
            unit_price(l.unit_price),
            per(l.per, l.unit)
        );
        if let Some(note) = &l.note {
            let _ = writeln!(out, "{:<16}   {note}", "");
        }
    }
    let _ = writeln!(
        out,
        "{:<16} {:<62} {:>16} {:>12}",
        "TOTAL",
        "a month",
        "",
        usd(r.projection.total_usd)
    );
    let total = r.projection.total_usd.max(f64::MIN_POSITIVE);
    let parts: Vec<String> = r
        .projection
        .components()
        .iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(c, v)| format!("{c} {} ({:.0}%)", usd(*v), v / total * 100.0))
        .collect();
    let _ = writeln!(out, "\ndominant: {}", parts.join(", "));
    let _ = writeln!(out, "top accounts (their own volume, a month):");
    for (account, v) in r.top_accounts.iter().take(5) {
        let _ = writeln!(out, "  {account}  {}", usd(*v));
    }
    let _ = writeln!(out, "Athena, per query (not in the total):");
    for l in &r.projection.per_query {
        let gb = l.volume * 1000.0;
        let _ = writeln!(
            out,
            "  {}: {gb:.3} GB scanned, {}",
            l.item,
            usd(l.monthly_usd)
        );
    }
    out.trim_end().to_string()
}

fn markdown(r: &CostReport, org: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### What the audit trail costs a month\n");
    for line in headline(r, org) {
        let _ = writeln!(out, "{}  ", line.trim());
    }
    let _ = writeln!(
        out,
        "\n| component | item | volume / month | unit price | monthly |\n|---|---|---:|---|---:|"
    );
    for l in &r.projection.lines {
        let _ = writeln!(
            out,
            "| {} | {} | {} | [{} {}]({}) | {} |",
            l.component,
            l.item,
            amount(l.volume),
            unit_price(l.unit_price),
            per(l.per, l.unit),
            l.source,
            usd(l.monthly_usd)
        );
    }
    let _ = writeln!(
        out,
        "| **total** | | | | **{}** |",
        usd(r.projection.total_usd)
    );
    out.trim_end().to_string()
}
