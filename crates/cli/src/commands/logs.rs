use super::target::EventRegions;
use std::path::PathBuf;

use clap::Subcommand;
use trailhead_model::LogArchiveAccount;
use trailhead_provisioner::archive::{Window, parse_time};
use trailhead_provisioner::counter::CallLog;
use trailhead_provisioner::session::{AccessRole, AccountSession, new_run_id};

use crate::{ReachArgs, ReachBefore, exit, reach, spec};

#[derive(Subcommand, Debug)]
pub enum LogsCommand {
    /// Prove the archived logs of an account whole and unaltered: the digest chain's signatures
    /// and links, and the SHA-256 of every log file (as `aws cloudtrail validate-logs`)
    Validate {
        /// The org spec (TOML)
        #[arg(long, value_name = "FILE")]
        org: PathBuf,
        /// The account whose trail's logs are checked, by id or name
        #[arg(long, value_name = "ID|NAME")]
        account: String,
        // Each region's digests are checked against the public keys of that region.
        #[command(flatten)]
        regions: EventRegions,
        /// Start of the window: 2026-11-01T10:00:00Z, 2026-11-01, or 90m / 24h / 7d ago
        #[arg(long, default_value = "24h")]
        since: String,
        /// End of the window, same forms; default: now
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// Search the archived CloudTrail logs with a filter pattern; matching records go to stdout
    /// as NDJSON, progress to stderr. Locally (list, fetch, scan) or with Athena
    Search(super::search::SearchArgs),
    /// Query the archive with Athena: the Glue table and the workgroup
    #[command(subcommand)]
    Athena(super::athena::AthenaCommand),
}

impl LogsCommand {
    /// The connection flags given after the command.
    pub fn reach(&self) -> Option<&ReachArgs> {
        match self {
            LogsCommand::Validate { reach, .. } => Some(reach),
            LogsCommand::Search(args) => Some(&args.reach),
            LogsCommand::Athena(cmd) => cmd.reach(),
        }
    }
}

pub fn run(cmd: LogsCommand, before: &ReachBefore) -> u8 {
    match cmd {
        LogsCommand::Validate {
            org,
            account,
            regions,
            since,
            until,
            reach,
        } => match regions.checked() {
            Err(code) => code,
            Ok(regions) => validate_cmd(
                &org,
                &account,
                regions.to_vec(),
                &since,
                until.as_deref(),
                &reach.with(before),
            ),
        },
        LogsCommand::Search(args) => {
            let reach = args.reach.with(before);
            super::search::run(args, &reach)
        }
        LogsCommand::Athena(cmd) => super::athena::run(cmd, before),
    }
}

pub fn window_of(since: &str, until: Option<&str>) -> Result<Window, String> {
    let now = jiff::Timestamp::now();
    let since = parse_time(since, now)?;
    let until = until.map(|u| parse_time(u, now)).unwrap_or(Ok(now))?;
    if since > until {
        return Err("--since is after --until".into());
    }
    Ok(Window { since, until }.whole_seconds())
}

fn validate_cmd(
    org: &std::path::Path,
    account: &str,
    regions: Vec<String>,
    since: &str,
    until: Option<&str>,
    reach_args: &ReachArgs,
) -> u8 {
    use trailhead_provisioner::archive::regions_in_archive;
    use trailhead_provisioner::integrity::{
        IntegrityReport, KeySource, Kind, ValidateRequest, validate,
    };
    let spec = match spec::load(org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let window = match window_of(since, until) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let LogArchiveAccount::Existing(archive_id) = &spec.log_archive.account else {
        eprintln!("error: the log-archive account has no id in the spec yet");
        return exit::BAD_INPUT;
    };
    let named = super::target::named_accounts(&spec, archive_id.as_str(), &[account.to_string()]);
    let account = match named.as_deref() {
        Ok([id]) => id.as_str(),
        Ok(_) => return exit::BAD_INPUT,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let home = spec.org.home_region.clone();
    let bucket = spec.log_archive.bucket_name(&spec.org, archive_id.as_str());
    let role = AccessRole::of(&spec.access, new_run_id());
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connect(reach_args).await?;
            let calls = CallLog::new();
            let archive =
                AccountSession::reach(&conn, archive_id.as_str(), &home, &role, &calls).await;
            let site = trailhead_provisioner::error::CallSite::new(
                archive_id.as_str(),
                &home,
                "logs validate",
            );
            let s3 = archive.s3();
            let regions = if regions.is_empty() {
                regions_in_archive(&s3, &site, &bucket, account, "CloudTrail-Digest")
                    .await
                    .map_err(|e| e.to_string())?
            } else {
                regions
            };
            let trail_account = AccountSession::reach(&conn, account, &home, &role, &calls).await;
            let mut report = IntegrityReport::default();
            for region in &regions {
                // CloudTrail signs each region's digests with that region's key, and serves
                // the key in that region alone: ask there.
                let keys = KeySource::CloudTrail(&trail_account.in_region(region))
                    .keys(&window)
                    .await
                    .map_err(|e| e.to_string())?;
                let req = ValidateRequest {
                    bucket: &bucket,
                    account,
                    regions: std::slice::from_ref(region),
                    trail_name: &spec.trail.name,
                    home_region: &home,
                    window: &window,
                };
                let found = validate(&s3, &site, &req, &keys)
                    .await
                    .map_err(|e| e.to_string())?;
                report.findings.extend(found.findings);
            }
            Ok::<_, String>(report)
        })
    });
    match result {
        Ok(report) => {
            for f in &report.findings {
                let mark = if matches!(f.kind, Kind::DigestValid | Kind::LogValid) {
                    "valid  "
                } else {
                    "INVALID"
                };
                println!("{mark} {} {}: {}", f.kind, f.key, f.detail);
            }
            println!(
                "{} digest(s) valid, {} invalid, {} missing, {} gap(s); {} log file(s) valid, {} modified, {} missing, {} unsigned",
                report.count(Kind::DigestValid),
                report.count(Kind::DigestInvalid),
                report.count(Kind::DigestMissing),
                report.count(Kind::ChainGap),
                report.count(Kind::LogValid),
                report.count(Kind::LogModified),
                report.count(Kind::LogMissing),
                report.count(Kind::LogUnsigned)
            );
            if report.findings.is_empty() {
                println!(
                    "no digest files in the window: nothing was proven (is log file validation on, and has an hour passed?)"
                );
            }
            if report.ok() && !report.findings.is_empty() {
                exit::OK
            } else {
                exit::ERROR
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}
