//! The `trailhead` command line. It parses arguments, loads the spec, calls the libraries and
//! turns their typed results into output and exit codes. No AWS logic lives here.

mod commands;
mod emulator;
mod exit;
mod junit;
mod reach;
mod signals;
mod spec;
mod verify_output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Bootstrap and verify org-wide audit logging: CloudTrail, a hardened log archive, CIS alarms.
#[derive(Parser, Debug)]
#[command(name = "trailhead", version, about, long_about = None, after_help = exit::HELP)]
struct Cli {
    #[command(flatten)]
    reach: ReachArgs,
    #[command(subcommand)]
    command: Command,
}

/// How trailhead reaches AWS. Without these, the standard credential chain and region apply.
#[derive(Args, Debug, Clone)]
struct ReachArgs {
    /// Send every call to this endpoint (any AWS-compatible API)
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    endpoint_url: Option<String>,
    /// Also trust the CA certificates in this PEM file
    #[arg(long, global = true, env = "AWS_CA_BUNDLE", value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
    /// Use the embedded emulator: start it if needed, then use its URL and test credentials
    #[arg(long, global = true, conflicts_with = "endpoint_url")]
    emulator: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check an org spec completely, without any network call
    Validate {
        /// The org spec (TOML)
        #[arg(long, value_name = "FILE")]
        org: PathBuf,
    },
    /// Converge the organization to the spec: preflight, the log archive, then every account in
    /// waves (trail, CloudWatch Logs, alarm topic, CIS metric filters and alarms)
    Rollout(commands::rollout::RolloutArgs),
    /// Show what a rollout would change, field by field; writes nothing (exit 3: changes pending)
    Plan(commands::rollout::PlanArgs),
    /// Check everything that can fail before the first write: roles, regions, quotas, name
    /// clashes, accounts in the organization. Writes nothing.
    Preflight(commands::rollout::CommonArgs),
    /// Judge every account against the CIS / Security Hub controls, with evidence, and report
    /// drift (exit 4 when a control fails)
    Verify(commands::verify::VerifyArgs),
    /// Turn on MFA Delete on the archive bucket, with the log-archive root user's MFA device
    MfaDelete(commands::mfa_delete::MfaDeleteArgs),
    /// Print the least-privilege IAM policies the caller and the access role need for this spec
    Permissions(commands::permissions::PermissionsArgs),
    /// The CIS / Security Hub alarm catalog and the filter-pattern engine
    #[command(subcommand)]
    Alarms(commands::alarms::AlarmsCommand),
    /// Work with the archived CloudTrail logs
    #[command(subcommand)]
    Logs(commands::logs::LogsCommand),
    /// Start, stop or inspect the embedded AWS emulator (moto)
    #[command(subcommand)]
    Emulator(commands::emulator::EmulatorCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Validate { org } => commands::validate::run(&org),
        Command::Rollout(args) => commands::rollout::rollout_cmd(args, &cli.reach),
        Command::Plan(args) => commands::rollout::plan_cmd(args, &cli.reach),
        Command::Preflight(args) => commands::rollout::preflight_cmd(args, &cli.reach),
        Command::Verify(args) => commands::verify::run(args, &cli.reach),
        Command::MfaDelete(args) => commands::mfa_delete::run(args, &cli.reach),
        Command::Permissions(args) => commands::permissions::run(args),
        Command::Alarms(cmd) => commands::alarms::run(cmd, &cli.reach),
        Command::Logs(cmd) => commands::logs::run(cmd, &cli.reach),
        Command::Emulator(cmd) => commands::emulator::run(cmd, &cli.reach),
    };
    ExitCode::from(code)
}
