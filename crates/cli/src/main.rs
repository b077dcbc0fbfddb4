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
#[cfg(test)]
mod verify_fixture;
mod verify_html;
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
    before: ReachBefore,
    #[command(subcommand)]
    command: Command,
}

/// How trailhead reaches AWS. Without these, the standard credential chain and region apply.
/// Only the commands that call AWS take them.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection")]
pub struct ReachArgs {
    /// Send every call to this endpoint (any AWS-compatible API)
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Also trust the CA certificates in this PEM file
    #[arg(long, env = "AWS_CA_BUNDLE", value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// Use the embedded emulator: start it if needed, then use its URL and test credentials
    #[arg(long, conflicts_with = "endpoint_url")]
    pub emulator: bool,
    /// Use this profile of ~/.aws/config and ~/.aws/credentials (SSO, credential_process and
    /// role profiles included), as the aws CLI does (ignored with --emulator)
    #[arg(long, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// `--region` of the commands that read organization-wide state ([`ReadRegion`]).
    #[arg(skip)]
    pub region: Option<String>,
    /// Log every AWS call on stderr: service, operation, account, region, HTTP status, latency,
    /// attempt and throttling (never a credential). RUST_LOG refines it
    #[arg(long)]
    pub debug: bool,
}

/// `--region`, on the commands that read organization-wide state.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection")]
pub struct ReadRegion {
    /// Read organization-wide state (STS, Organizations, organization trails) in this region
    /// instead of the spec's home region, as the aws CLI's --region. AWS_REGION is not read:
    /// the spec's home region is the default, and its regions still place every resource
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// The connection flags written before the command (`trailhead --emulator rollout …`, as
/// scripts and printed resume commands do). Accepted, and hidden: the help of each command that
/// connects lists them.
#[derive(Args, Debug, Clone, Default)]
pub struct ReachBefore {
    #[arg(long, hide = true, value_name = "URL")]
    endpoint_url: Option<String>,
    #[arg(long, hide = true, value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
    #[arg(long, hide = true, conflicts_with = "endpoint_url")]
    emulator: bool,
    #[arg(long, hide = true, value_name = "NAME")]
    profile: Option<String>,
    #[arg(long, hide = true, value_name = "REGION")]
    region: Option<String>,
    #[arg(long, hide = true)]
    debug: bool,
}

impl ReachArgs {
    /// These flags, reading organization-wide state in `--region` when one was given.
    pub fn reading(&self, read: &ReadRegion, before: &ReachBefore) -> ReachArgs {
        let mut merged = self.with(before);
        merged.region = read.region.clone().or(merged.region);
        merged
    }

    /// These flags with any given before the command.
    pub fn with(&self, before: &ReachBefore) -> ReachArgs {
        let emulator = self.emulator || before.emulator;
        ReachArgs {
            // The emulator has its own endpoint, whatever AWS_ENDPOINT_URL says.
            endpoint_url: before
                .endpoint_url
                .clone()
                .or(self.endpoint_url.clone())
                .filter(|_| !emulator),
            ca_bundle: before.ca_bundle.clone().or(self.ca_bundle.clone()),
            emulator,
            profile: before.profile.clone().or(self.profile.clone()),
            region: before.region.clone().or(self.region.clone()),
            debug: self.debug || before.debug,
        }
    }
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
    /// Set off each alarm with a harmless change (undone at once) and follow it through the
    /// archive, the log group, the metric, the alarm, its action and the subscriber (exit 4 when
    /// an alarm is broken)
    Drill(commands::drill::DrillArgs),
    /// Turn on MFA Delete on the archive bucket, with the log-archive root user's MFA device
    MfaDelete(commands::mfa_delete::MfaDeleteArgs),
    /// What the audit trail costs a month: the archive's own event volumes over a window,
    /// priced component by component (CloudTrail, S3, KMS, CloudWatch Logs, alarms, SNS,
    /// Athena) from a pinned table of AWS's published prices
    Cost(Box<commands::cost::CostArgs>),
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
    let before = &cli.before;
    if before.debug || command_debug(&cli.command) {
        debug_log();
    }
    let code = match cli.command {
        Command::Validate { org, strict } => commands::validate::run(&org, strict),
        Command::Rollout(args) => {
            let reach = args.reach.reading(&args.read, before);
            commands::rollout::rollout_cmd(args, &reach)
        }
        Command::Plan(args) => {
            let reach = args.reach.reading(&args.read, before);
            commands::plan::plan_cmd(args, &reach)
        }
        Command::Preflight(args) => {
            let reach = args.reach.reading(&args.read, before);
            commands::preflight::preflight_cmd(args, &reach)
        }
        Command::Verify(args) => {
            let reach = args.reach.reading(&args.read, before);
            commands::verify::run(args, &reach)
        }
        Command::Drill(args) => {
            let reach = args.reach.reading(&args.read, before);
            commands::drill::run(args, &reach)
        }
        Command::MfaDelete(args) => {
            let reach = args.reach.with(before);
            commands::mfa_delete::run(args, &reach)
        }
        Command::Cost(args) => {
            let reach = args.reach.with(before);
            commands::cost::run(*args, &reach)
        }
        Command::Permissions(args) => commands::permissions::run(args),
        Command::Alarms(cmd) => commands::alarms::run(cmd, before),
        Command::Logs(cmd) => commands::logs::run(cmd, before),
        Command::Emulator(cmd) => commands::emulator::run(cmd, before),
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

/// `--debug` given after a command that connects.
fn command_debug(command: &Command) -> bool {
    match command {
        Command::Rollout(a) => a.reach.debug,
        Command::Plan(a) => a.reach.debug,
        Command::Preflight(a) => a.reach.debug,
        Command::Verify(a) => a.reach.debug,
        Command::Drill(a) => a.reach.debug,
        Command::MfaDelete(a) => a.reach.debug,
        Command::Cost(a) => a.reach.debug,
        Command::Logs(cmd) => cmd.reach().is_some_and(|r| r.debug),
        Command::Alarms(cmd) => cmd.reach().is_some_and(|r| r.debug),
        Command::Emulator(cmd) => cmd.reach().is_some_and(|r| r.debug),
        _ => false,
    }
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
    use std::collections::BTreeMap;

    use clap::CommandFactory;

    use super::Cli;

    fn every_command() -> Vec<(String, clap::Command)> {
        let mut all = Vec::new();
        let mut stack = vec![(String::from("trailhead"), Cli::command())];
        while let Some((path, cmd)) = stack.pop() {
            for sub in cmd.get_subcommands() {
                stack.push((format!("{path} {}", sub.get_name()), sub.clone()));
            }
            all.push((path, cmd));
        }
        all
    }

    /// An option spelled the same in two commands shows the same value name in both.
    #[test]
    fn value_names_are_consistent() {
        let mut seen: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        // The emulator's helpers take account ids only: the emulator knows no spec and no names.
        let spec_commands = every_command()
            .into_iter()
            .filter(|(path, _)| !path.starts_with("trailhead emulator"));
        for (path, cmd) in spec_commands {
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                let (Some(long), Some(names)) = (arg.get_long(), arg.get_value_names()) else {
                    continue;
                };
                let shown = names
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                seen.entry(long.to_string())
                    .or_default()
                    .entry(shown)
                    .or_default()
                    .push(path.clone());
            }
        }
        let clashes: Vec<String> = seen
            .iter()
            .filter(|(_, names)| names.len() > 1)
            .map(|(long, names)| format!("--{long}: {names:?}"))
            .collect();
        assert!(clashes.is_empty(), "{}", clashes.join("\n"));
    }

    /// Connection flags are offered only by commands that call AWS.
    #[test]
    fn only_commands_that_connect_offer_connection_flags() {
        let offline = [
            "trailhead validate",
            "trailhead permissions",
            "trailhead runs list",
            "trailhead alarms list",
            "trailhead alarms test",
            "trailhead completions",
            "trailhead emulator start",
        ];
        let connecting = [
            "trailhead rollout",
            "trailhead plan",
            "trailhead verify",
            "trailhead logs search",
            "trailhead alarms backtest",
        ];
        for (path, cmd) in every_command() {
            let offers = cmd
                .get_arguments()
                .any(|a| a.get_long() == Some("emulator") && !a.is_hide_set());
            if offline.contains(&path.as_str()) {
                assert!(!offers, "{path} offers --emulator");
            }
            if connecting.contains(&path.as_str()) {
                assert!(offers, "{path} does not offer --emulator");
            }
        }
    }

    /// Every option of every command says what it is for in `--help`.
    #[test]
    fn every_option_has_a_description() {
        let mut missing = Vec::new();
        let mut stack = vec![(String::from("trailhead"), Cli::command())];
        while let Some((path, cmd)) = stack.pop() {
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
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
