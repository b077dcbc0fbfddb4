use std::path::{Path, PathBuf};

use clap::Subcommand;
use trailhead_emulator_support::seed::{SeedRequest, seed_org};

use crate::emulator::Emulator;
use crate::{ReachArgs, ReachBefore, exit, reach};

#[derive(Subcommand, Debug)]
pub enum EmulatorCommand {
    /// Install moto into a venv (once) and start it on 127.0.0.1; does nothing if it runs
    Start {
        /// Port to serve on [default: 4599, or TRAILHEAD_EMULATOR_PORT]
        #[arg(long)]
        port: Option<u16>,
    },
    /// Stop the emulator that `start` started (and nothing else)
    Stop,
    /// Say whether the emulator runs; the last line is its endpoint URL
    Status,
    /// Create an organization in the emulator and write the matching spec (it records S3
    /// object writes as data events, as the demo shows)
    Seed {
        /// Member accounts besides the log-archive and audit accounts
        #[arg(long, default_value_t = 12)]
        accounts: usize,
        /// Prefix of account names and emails; the same prefix finds the same accounts again
        #[arg(long, default_value = "demo")]
        prefix: String,
        /// Org name in the spec
        #[arg(long, default_value = "demo")]
        org_name: String,
        /// The home region of the organization and of the spec written
        #[arg(long, default_value = "eu-west-1")]
        region: String,
        /// Where to write the spec
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Leave out the planted accounts (a SUSPENDED one, and one without the access role)
        #[arg(long)]
        no_planted: bool,
        /// Another emulator than the embedded one (--endpoint-url, --ca-bundle); never AWS
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// The current code of an account root user's virtual MFA device in the emulator, printed
    /// as `<serial> <code>` (emulator test devices only; AWS codes never pass through trailhead)
    MfaCode {
        /// The account whose root user's device is read
        #[arg(long, value_name = "ID")]
        account: String,
    },
    /// Confirm the pending email subscriptions of a topic in the emulator, as a recipient would
    /// by following the link in the mail
    ConfirmSubscriptions {
        /// The topic; every topic of the emulator when left out
        #[arg(long, value_name = "ARN")]
        topic: Option<String>,
    },
    /// Add CloudTrail records to an account, for activity the emulator cannot produce itself (a
    /// console sign-in without MFA, root activity); missing fields get CloudTrail's defaults
    Inject {
        /// The account the records happened in
        #[arg(long, value_name = "ID")]
        account: String,
        /// The region the records happened in
        #[arg(long, default_value = "eu-west-1")]
        region: String,
        /// A JSON list of records, e.g. '[{"eventName":"ConsoleLogin","userIdentity":{"type":"Root"}}]'
        #[arg(long, value_name = "JSON")]
        records: String,
    },
    /// What the confirmed email subscriptions of a topic received (every topic's without
    /// `--topic`), one JSON object per line
    Notifications {
        /// Only this topic's notifications
        #[arg(long, value_name = "ARN")]
        topic: Option<String>,
    },
    /// Give an account planted without the access role that role, as its owner would fix it:
    /// signed as the account's root user, with the trust and policies it was created with
    GrantAccess {
        /// The account that lacks the access role
        #[arg(long, value_name = "ID")]
        account: String,
        /// The access role to create (the spec's `[access] role_name`)
        #[arg(long, default_value = "OrganizationAccountAccessRole")]
        role: String,
        /// The region to sign in (IAM is global)
        #[arg(long, default_value = "eu-west-1")]
        region: String,
        /// Another emulator than the embedded one (--endpoint-url, --ca-bundle); never AWS
        #[command(flatten)]
        reach: ReachArgs,
    },
}

impl EmulatorCommand {
    /// The connection flags given after the command (seed and grant-access connect).
    pub fn reach(&self) -> Option<&ReachArgs> {
        match self {
            EmulatorCommand::Seed { reach, .. } | EmulatorCommand::GrantAccess { reach, .. } => {
                Some(reach)
            }
            _ => None,
        }
    }
}

pub fn run(cmd: EmulatorCommand, before: &ReachBefore) -> u8 {
    match cmd {
        EmulatorCommand::Start { port } => start(port),
        EmulatorCommand::Stop => stop(),
        EmulatorCommand::Status => status(),
        EmulatorCommand::Seed {
            accounts,
            prefix,
            org_name,
            region,
            out,
            no_planted,
            reach,
        } => {
            let req = SeedRequest {
                prefix,
                members: accounts,
                region: region.clone(),
                plant_unreachable: !no_planted,
                include_management: true,
            };
            seed(&reach.with(before), &req, &org_name, &out)
        }
        EmulatorCommand::MfaCode { account } => mfa_code(&account),
        EmulatorCommand::Inject {
            account,
            region,
            records,
        } => inject(&account, &region, &records),
        EmulatorCommand::Notifications { topic } => notifications(topic.as_deref()),
        EmulatorCommand::GrantAccess {
            account,
            role,
            region,
            reach,
        } => grant_access(&reach.with(before), &account, &role, &region),
        EmulatorCommand::ConfirmSubscriptions { topic } => confirm_subscriptions(topic.as_deref()),
    }
}

/// The current code of an account's root MFA device, as `serial code`.
fn mfa_code(account: &str) -> u8 {
    control(&["mfa-code", "--account", account], |answer| {
        let field = |k: &str| answer.get(k).and_then(|v| v.as_str()).map(str::to_string);
        match (field("serial"), field("code")) {
            (Some(serial), Some(code)) => Ok(format!("{serial} {code}")),
            _ => Err("the emulator's answer has no serial and code".to_string()),
        }
    })
}

/// Records added to an account's trail, as if CloudTrail had recorded them.
fn inject(account: &str, region: &str, records: &str) -> u8 {
    let args = [
        "inject",
        "--account",
        account,
        "--region",
        region,
        "--records",
        records,
    ];
    control(&args, |answer| {
        let n = answer.get("recorded").and_then(|v| v.as_u64()).unwrap_or(0);
        Ok(format!("{n} record(s) added to {account}"))
    })
}

/// The notifications SNS delivered (to one topic, or all), one JSON object a line.
fn notifications(topic: Option<&str>) -> u8 {
    let mut args = vec!["notifications"];
    if let Some(t) = topic {
        args.extend(["--topic", t]);
    }
    control(&args, |answer| {
        let sent = answer
            .get("notifications")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        Ok(sent
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join("\n"))
    })
}

/// Confirms the pending email subscriptions (of one topic, or all), as recipients would.
fn confirm_subscriptions(topic: Option<&str>) -> u8 {
    let mut args = vec!["sns-confirm"];
    if let Some(t) = topic {
        args.extend(["--topic", t]);
    }
    control(&args, |answer| {
        let n = answer
            .get("confirmed")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        Ok(format!("{n} subscription(s) confirmed"))
    })
}

fn start(port: Option<u16>) -> u8 {
    let emulator = Emulator::locate(port);
    match emulator.start(&mut |line| eprintln!("emulator: {line}")) {
        Ok(started) => {
            eprintln!(
                "emulator: {} (CA: {}, log: {})",
                if started {
                    "started"
                } else {
                    "already running"
                },
                emulator.ca_path().display(),
                emulator.log_path().display()
            );
            println!("{}", emulator.endpoint());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

fn stop() -> u8 {
    let emulator = Emulator::locate(None);
    match emulator.stop() {
        Ok(true) => {
            println!("emulator stopped");
            exit::OK
        }
        Ok(false) => {
            println!("emulator was not running");
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

fn status() -> u8 {
    let emulator = Emulator::locate(None);
    if emulator.is_running() {
        println!(
            "running (pid {}), CA {}",
            emulator.running_pid().unwrap_or_default(),
            emulator.ca_path().display()
        );
        println!("{}", emulator.endpoint());
        exit::OK
    } else {
        println!("not running; `cargo xtask emulator start` starts it at");
        println!("{}", emulator.endpoint());
        exit::ERROR
    }
}

/// The reach arguments of a command that only makes sense on an emulator (it creates accounts,
/// or signs with the emulator's root credentials): the embedded one unless another endpoint is
/// named, never AWS.
fn emulator_only(reach_args: &ReachArgs) -> ReachArgs {
    let mut args = reach_args.clone();
    if args.endpoint_url.is_none() {
        args.emulator = true;
    }
    args
}

fn grant_access(reach_args: &ReachArgs, account: &str, role: &str, region: &str) -> u8 {
    let args = emulator_only(reach_args);
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connection(&args)?;
            trailhead_emulator_support::seed::grant_access(&conn, account, role, region)
                .await
                .map_err(|e| e.to_string())
        })
    });
    match result {
        Ok(created) => {
            let what = if created { "created" } else { "already there" };
            println!("{account}: access role {role} {what}");
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

/// What the seeded spec turns on beyond the defaults, so that the demo shows it: S3 object
/// writes recorded as data events (the archive's own buckets left out).
const DEMO_TRAIL_OPTIONS: &str = "\n[trail.data_events]\ns3 = \"WriteOnly\"\n";

/// Creates the demo (or a test's) organization in the emulator and writes its spec to `out`.
fn seed(reach_args: &ReachArgs, req: &SeedRequest, org_name: &str, out: &Path) -> u8 {
    // Seeding real Organizations would create real accounts: only an emulator.
    let args = emulator_only(reach_args);
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connection(&args)?;
            seed_org(&conn, req).await.map_err(|e| e.to_string())
        })
    });
    match result {
        Ok(org) => {
            let spec = org.spec_toml_with(org_name, &req.region, DEMO_TRAIL_OPTIONS);
            if let Some(parent) = out.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            if let Err(e) = std::fs::write(out, spec) {
                eprintln!("error: cannot write {}: {e}", out.display());
                return exit::ERROR;
            }
            println!(
                "organization {} with {} accounts; spec written to {}",
                org.org_id,
                org.all_accounts().count(),
                out.display()
            );
            println!("log-archive: {}", org.log_archive.id);
            for (a, why) in &org.planted {
                println!("planted: {} ({}): a run {why}", a.id, a.name);
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

/// Calls the emulator's control API through its own client (the venv's Python), and prints what
/// `show` makes of the JSON answer.
fn control(args: &[&str], show: impl FnOnce(&serde_json::Value) -> Result<String, String>) -> u8 {
    let emulator = Emulator::locate(None);
    if !emulator.is_running() {
        eprintln!("error: the emulator is not running; start it with `cargo xtask emulator start`");
        return exit::ERROR;
    }
    let mut command = match emulator.python_command() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let output = command
        .args(["-m", "trailhead_emulator.client", "--endpoint"])
        .arg(emulator.endpoint())
        .arg("--ca")
        .arg(emulator.ca_path())
        .args(args)
        .output();
    let answer = match output {
        Ok(o) if o.status.success() => serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .map_err(|e| format!("the emulator's answer is not JSON: {e}")),
        Ok(o) => Err(format!(
            "the emulator's control client failed: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Err(e) => Err(format!("cannot run the emulator's Python: {e}")),
    };
    match answer.and_then(|a| show(&a)) {
        Ok(line) => {
            println!("{line}");
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}
