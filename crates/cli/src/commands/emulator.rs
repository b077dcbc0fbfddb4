use std::path::PathBuf;

use clap::Subcommand;
use trailhead_provisioner::seed::{SeedRequest, seed_org};

use crate::emulator::Emulator;
use crate::{ReachArgs, exit, reach};

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
    /// Create an organization in the emulator and write the matching spec
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
        #[arg(long, default_value = "eu-west-1")]
        region: String,
        /// Where to write the spec
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

pub fn run(cmd: EmulatorCommand, reach_args: &ReachArgs) -> u8 {
    match cmd {
        EmulatorCommand::Start { port } => {
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
        EmulatorCommand::Stop => {
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
        EmulatorCommand::Status => {
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
        EmulatorCommand::Seed {
            accounts,
            prefix,
            org_name,
            region,
            out,
        } => {
            let mut args = reach_args.clone();
            if args.endpoint_url.is_none() {
                // Seeding real Organizations would create real accounts: only the emulator.
                args.emulator = true;
            }
            let result = reach::runtime().and_then(|rt| {
                rt.block_on(async {
                    let conn = reach::connection(&args)?;
                    let req = SeedRequest {
                        prefix,
                        members: accounts,
                        region: region.clone(),
                    };
                    seed_org(&conn, &req).await.map_err(|e| e.to_string())
                })
            });
            match result {
                Ok(org) => {
                    let spec = org.spec_toml(&org_name, &region);
                    if let Some(parent) = out.parent() {
                        let _ = std::fs::create_dir_all(parent);
                    }
                    if let Err(e) = std::fs::write(&out, spec) {
                        eprintln!("error: cannot write {}: {e}", out.display());
                        return exit::ERROR;
                    }
                    println!(
                        "organization {} with {} accounts; spec written to {}",
                        org.org_id,
                        org.all_accounts().count(),
                        out.display()
                    );
                    exit::OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::ERROR
                }
            }
        }
    }
}
