use super::target::{EventRegions, window_of};
use std::path::PathBuf;

use clap::Subcommand;
use trailhead_model::LogArchiveAccount;

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

fn validate_cmd(
    org: &std::path::Path,
    account: &str,
    regions: Vec<String>,
    since: &str,
    until: Option<&str>,
    reach_args: &ReachArgs,
) -> u8 {
    use trailhead_provisioner::integrity::{ArchiveValidation, validate_archive};
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
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connect(reach_args).await?;
            let request = ArchiveValidation {
                spec: &spec,
                archive_id: archive_id.as_str(),
                account,
                regions,
                window: &window,
            };
            validate_archive(&conn, request)
                .await
                .map_err(|e| e.to_string())
        })
    });
    match result {
        Ok(report) => print_integrity(&report),
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

/// The findings, a line each, then the counts; exit 0 only when something was proven and
/// nothing failed.
fn print_integrity(report: &trailhead_provisioner::integrity::IntegrityReport) -> u8 {
    use trailhead_provisioner::integrity::Kind;
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
