//! The `trailhead` command line. It parses arguments, loads the spec, calls the libraries and
//! turns their typed results into output and exit codes. No AWS logic lives here.

mod commands;
mod emulator;
mod exit;
mod junit;
mod pipes;
mod reach;
mod signals;
mod spec;
mod verify_output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

/// The version and the git commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("TRAILHEAD_GIT_COMMIT"),
    ")"
);

/// Bootstrap and verify org-wide audit logging: CloudTrail, a hardened log archive, CIS alarms.
#[derive(Parser, Debug)]
#[command(name = "trailhead", version = VERSION, about, long_about = None, after_help = exit::HELP)]
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
    /// Use this profile of ~/.aws/config and ~/.aws/credentials (SSO, credential_process and
    /// role profiles included), as the aws CLI does
    /// (ignored with --emulator)
    #[arg(long, global = true, env = "AWS_PROFILE", value_name = "NAME")]
    profile: Option<String>,
    /// Log every AWS call on stderr: service, operation, account, region, HTTP status, latency,
    /// attempt and throttling (never a credential). RUST_LOG refines it
    #[arg(long, global = true)]
    debug: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check an org spec completely, without any network call
    Validate {
        /// The org spec (TOML)
        #[arg(long, value_name = "FILE")]
        org: PathBuf,
        /// Treat warnings (settings that fall short of the benchmark) as errors: exit 2
        #[arg(long)]
        strict: bool,
    },
    /// Converge the organization to the spec: preflight, the log archive, then every account in
    /// waves (trail, CloudWatch Logs, alarm topic, CIS metric filters and alarms)
    Rollout(commands::rollout::RolloutArgs),
    /// Show what a rollout would change, field by field; writes nothing (exit 3: changes pending)
    Plan(commands::plan::PlanArgs),
    /// Check everything that can fail before the first write: roles, regions, quotas, name
    /// clashes, accounts in the organization. Writes nothing.
    Preflight(commands::preflight::PreflightArgs),
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
    /// The runs remembered in the state directory, to resume or audit
    #[command(subcommand)]
    Runs(commands::runs::RunsCommand),
    /// Start, stop or inspect the embedded AWS emulator (moto)
    #[command(subcommand)]
    Emulator(commands::emulator::EmulatorCommand),
    /// Print a shell completion script: `trailhead completions bash > /etc/bash_completion.d/trailhead`
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `trailhead man > trailhead.1 && man ./trailhead.1`
    Man,
}

fn main() -> ExitCode {
    pipes::exit_quietly_on_broken_pipe();
    let cli = Cli::parse();
    if cli.reach.debug {
        debug_log();
    }
    let code = match cli.command {
        Command::Validate { org, strict } => commands::validate::run(&org, strict),
        Command::Rollout(args) => commands::rollout::rollout_cmd(args, &cli.reach),
        Command::Plan(args) => commands::plan::plan_cmd(args, &cli.reach),
        Command::Preflight(args) => commands::preflight::preflight_cmd(args, &cli.reach),
        Command::Verify(args) => commands::verify::run(args, &cli.reach),
        Command::MfaDelete(args) => commands::mfa_delete::run(args, &cli.reach),
        Command::Permissions(args) => commands::permissions::run(args),
        Command::Alarms(cmd) => commands::alarms::run(cmd, &cli.reach),
        Command::Logs(cmd) => commands::logs::run(cmd, &cli.reach),
        Command::Emulator(cmd) => commands::emulator::run(cmd, &cli.reach),
        Command::Runs(cmd) => commands::runs::run(cmd),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "trailhead", &mut script);
            write_stdout(&script)
        }
        Command::Man => {
            let mut page = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                Ok(()) => write_stdout(&page),
                Err(e) => {
                    eprintln!("error: cannot render the man page: {e}");
                    exit::ERROR
                }
            }
        }
    };
    ExitCode::from(code)
}

/// Writes generated text to stdout; a reader that went away ends it quietly.
fn write_stdout(bytes: &[u8]) -> u8 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(e) => pipes::exit_code_of_write_error(&e),
    }
}

/// `--debug`: the provisioner's per-call events, as lines on stderr.
fn debug_log() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("trailhead::aws=debug"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(spec::color())
        .with_target(false)
        .init();
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every option of every command says what it is for in `--help`.
    #[test]
    fn every_option_has_a_description() {
        let mut missing = Vec::new();
        let mut stack = vec![(String::from("trailhead"), Cli::command())];
        while let Some((path, cmd)) = stack.pop() {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                stack.push((format!("{path} {}", sub.get_name()), sub.clone()));
            }
        }
        assert!(
            missing.is_empty(),
            "options without a description:\n{}",
            missing.join("\n")
        );
    }
}
