//! `trailhead drill`: set off each alarm with a harmless change and follow it to the subscriber.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use trailhead_provisioner::drill::{
    DrillOptions, DrillReport, Outcome, ProgressSink, cleanup_leftovers, drill,
};

use crate::commands::common::{CommonArgs, SelectArgs, connect, exit_code_of};
use crate::commands::drill_progress;
use crate::junit::escape;
use crate::{ReachArgs, exit, reach, spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DrillOutput {
    Table,
    Json,
    Junit,
}

#[derive(clap::Args, Debug)]
pub struct DrillArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Only these controls of what the spec deploys, e.g. `4.4,4.10` (companions `S.2`, `P.13`,
    /// `P.15`; the extended set `E.1`–`E.5` when it is on)
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub alarms: Vec<String>,
    /// How long to follow the events: 90s, 20m, 1h. On AWS, delivery alone takes 5–15 minutes
    #[arg(long, default_value = "20m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// table (for people), json (the whole report) or junit (one case per account × alarm)
    #[arg(long, value_enum, default_value_t = DrillOutput::Table)]
    pub output: DrillOutput,
    /// Write the report here instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also drill Organizations changes, when the management account is drilled: an update of an
    /// OU id that cannot exist, which AWS refuses and CloudTrail records (nothing changes)
    #[arg(long)]
    pub include_org_changes: bool,
    /// Allow drilling the log-archive account (refused by default)
    #[arg(long)]
    pub allow_log_archive: bool,
    /// List what the drill would do in each account, and change nothing
    #[arg(long, conflicts_with = "cleanup")]
    pub dry_run: bool,
    /// Remove what earlier drills left behind (found by their trailhead:drill tag), and drill
    /// nothing
    #[arg(long)]
    pub cleanup: bool,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
    #[command(flatten)]
    pub read: crate::ReadRegion,
}

/// `90`, `90s`, `20m`, `1h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (digits, unit) = s.trim().split_at(
        s.trim()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(s.trim().len()),
    );
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: write 90s, 20m or 1h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{s}`: the unit must be s, m or h")),
    };
    if seconds == 0 {
        return Err("the timeout must be more than zero".into());
    }
    Ok(Duration::from_secs(seconds))
}

pub fn run(args: DrillArgs, reach_args: &ReachArgs) -> u8 {
    let spec = match spec::load(&args.common.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let selection = match args.select.selection(&spec) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // What the spec deploys: its benchmark, the scanner companions, the extended set if on.
    let ids: Vec<&str> = trailhead_alarms::deployed::for_spec(&spec.alarms)
        .iter()
        .map(|c| c.id)
        .collect();
    if let Some(unknown) = args.alarms.iter().find(|a| !ids.contains(&a.as_str())) {
        eprintln!(
            "error: `{unknown}` is not a control this spec deploys; known: {}",
            ids.join(", ")
        );
        return exit::BAD_INPUT;
    }
    let opts = DrillOptions {
        selection,
        only: args.alarms.clone(),
        timeout: args.timeout,
        include_org_changes: args.include_org_changes,
        allow_log_archive: args.allow_log_archive,
        dry_run: args.dry_run,
    };
    let cleanup_only = args.cleanup;
    run_with(
        &spec,
        &args.common,
        reach_args,
        &opts,
        cleanup_only,
        |report| emit(&args, report),
    )
}

/// Connects, then drills with `opts` (or only cleans up) and hands the report to `report_to`,
/// whose answer is the exit code. `rollout --drill` runs it after a rollout.
pub fn run_with(
    spec: &trailhead_model::OrgSpec,
    common: &CommonArgs,
    reach_args: &ReachArgs,
    opts: &DrillOptions,
    cleanup_only: bool,
    report_to: impl FnOnce(&DrillReport) -> u8,
) -> u8 {
    let runtime = match reach::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    runtime.block_on(async {
        let run_id = trailhead_provisioner::session::new_run_id();
        let ctx = match connect(spec, common, reach_args, &run_id, true).await {
            Ok(ctx) => ctx,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        };
        if cleanup_only {
            return cleanup(&ctx, opts).await;
        }
        let (tell, interrupted) = tokio::sync::watch::channel(false);
        tokio::spawn(crate::signals::interrupt_once(tell));
        let (progress, events) = ProgressSink::channel();
        let watcher = tokio::spawn(drill_progress::watch(events));
        let drilled = drill(&ctx, opts, interrupted, &progress).await;
        // The watcher ends when the drill's end of the channel is gone: its last line is out
        // before the report.
        drop(progress);
        let _ = watcher.await;
        match drilled {
            Ok(report) => report_to(&report),
            Err(e) => {
                eprintln!("error: {e}");
                exit_code_of(&e)
            }
        }
    })
}

async fn cleanup(ctx: &trailhead_provisioner::log_archive::RunCtx, opts: &DrillOptions) -> u8 {
    match cleanup_leftovers(ctx, opts).await {
        Ok(accounts) => {
            let mut failed = false;
            for (account, removed, left) in accounts {
                println!(
                    "{account}: removed {} leftover(s){}",
                    removed.len(),
                    if removed.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", removed.join(", "))
                    }
                );
                for l in &left {
                    println!("{account}: could not remove {l}");
                }
                failed |= !left.is_empty();
            }
            if failed { exit::ERROR } else { exit::OK }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_code_of(&e)
        }
    }
}

fn emit(args: &DrillArgs, report: &DrillReport) -> u8 {
    let text = match args.output {
        DrillOutput::Table => table(report),
        DrillOutput::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        DrillOutput::Junit => junit(report),
    };
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return exit::ERROR;
            }
            eprintln!("{}: {}", path.display(), summary_line(report));
        }
        None => print!("{text}"),
    }
    if report.failed() {
        exit::VERIFY_FAILED
    } else {
        exit::OK
    }
}

fn summary_line(r: &DrillReport) -> String {
    let s = &r.summary;
    if r.dry_run {
        return format!(
            "dry run: {} to drill, {} offline, {} not drillable; nothing was changed",
            s.planned, s.offline, s.not_drillable
        );
    }
    format!(
        "{} fired, {} broken, {} offline, {} not drillable",
        s.fired, s.broken, s.offline, s.not_drillable
    )
}

fn outcome_text(a: &trailhead_provisioner::drill::AlarmResult) -> String {
    match (a.outcome, a.broken_link, a.broken_link_name) {
        (Outcome::Broken, Some(k), Some(name)) => format!("broken at link {k} ({name})"),
        (Outcome::Fired, ..) => "fired".into(),
        (Outcome::Offline, ..) => "offline".into(),
        (Outcome::NotDrillable, ..) => "not drillable".into(),
        (Outcome::Planned, ..) => "would drill".into(),
        (Outcome::Broken, ..) => "broken".into(),
    }
}

pub fn table(r: &DrillReport) -> String {
    let mut out = String::new();
    for a in &r.accounts {
        let _ = writeln!(out, "{} ({})", a.name, a.account_id);
        for alarm in &a.alarms {
            let links: Vec<String> = alarm
                .latencies
                .iter()
                .map(|l| format!("{}:{:.0}s", l.link, l.seconds))
                .collect();
            let detail = if alarm.evidence.is_empty() {
                &alarm.action
            } else {
                &alarm.evidence
            };
            let _ = writeln!(
                out,
                "  {:<14} {:<30} {:<35} {}",
                alarm.control,
                outcome_text(alarm),
                links.join(" "),
                detail
            );
        }
        for l in &a.leftovers {
            let _ = writeln!(out, "  left behind: {l} (run `trailhead drill --cleanup`)");
        }
    }
    if !r.dry_run {
        out.push_str(LEGEND);
    }
    let _ = writeln!(out, "{}", summary_line(r));
    out
}

/// What `2:5s` in a row means: the event reached link 2 five seconds after the drill's change.
const LEGEND: &str = "links (K:Ns = reached link K N seconds after the change): \
1 archive: the event in a log file delivered to the archive · 2 log group: in CloudWatch Logs · \
3 metric: the metric filter counted it · 4 alarm: the alarm went to ALARM · \
5 action: the alarm's SNS action ran · 6 subscriber: a confirmed subscriber was notified\n";

pub fn junit(r: &DrillReport) -> String {
    let mut cases = String::new();
    let (mut failures, mut skipped, mut tests) = (0, 0, 0);
    for a in &r.accounts {
        for alarm in &a.alarms {
            tests += 1;
            let body = match alarm.outcome {
                Outcome::Broken => {
                    failures += 1;
                    format!(
                        "<failure message=\"{}\">{}</failure>",
                        escape(&outcome_text(alarm)),
                        escape(&alarm.evidence)
                    )
                }
                Outcome::NotDrillable | Outcome::Planned => {
                    skipped += 1;
                    format!("<skipped message=\"{}\"/>", escape(&alarm.evidence))
                }
                Outcome::Fired | Outcome::Offline => format!(
                    "<system-out>{}: {}</system-out>",
                    outcome_text(alarm),
                    escape(&alarm.evidence)
                ),
            };
            let seconds: f64 = alarm
                .latencies
                .iter()
                .map(|l| l.seconds)
                .fold(0.0, f64::max);
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{}\" name=\"{} {}\" time=\"{seconds:.1}\">{body}</testcase>",
                escape(&a.account_id),
                escape(&alarm.control),
                escape(&alarm.title)
            );
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"trailhead drill {}\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\">\n{cases}  </testsuite>\n</testsuites>\n",
        escape(&r.run_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_minutes_and_hours() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("20m"), Ok(Duration::from_secs(1200)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("soon").is_err());
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;
    use trailhead_provisioner::drill::{AccountDrill, AlarmResult, LinkLatency};

    fn report(dry_run: bool) -> DrillReport {
        let mut r = DrillReport {
            org: "demo".into(),
            run_id: "r1".into(),
            benchmark: "cis-3.0".into(),
            generated_at: "2026-12-07T00:00:00Z".into(),
            dry_run,
            accounts: vec![AccountDrill {
                account_id: "111111111111".into(),
                name: "dev".into(),
                alarms: vec![AlarmResult {
                    control: "4.4".into(),
                    title: "IAM policy changes".into(),
                    alarm: "trailhead-cis-4.4".into(),
                    outcome: Outcome::Fired,
                    action: "created and deleted a policy".into(),
                    broken_link: None,
                    broken_link_name: None,
                    evidence: String::new(),
                    latencies: vec![LinkLatency {
                        link: 1,
                        name: "archive",
                        seconds: 3.0,
                    }],
                }],
                leftovers: Vec::new(),
            }],
            summary: Default::default(),
        };
        r.summarize();
        r
    }

    #[test]
    fn the_link_columns_have_a_legend_unless_nothing_was_drilled() {
        let shown = table(&report(false));
        assert!(shown.contains("1:3s"), "{shown}");
        assert!(
            shown.contains("1 archive: ") && shown.contains("6 subscriber: "),
            "{shown}"
        );
        assert!(!table(&report(true)).contains("6 subscriber: "));
    }
}
