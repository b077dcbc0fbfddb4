//! `trailhead mfa-delete`: the one step no role can do. Run with the log-archive account's root
//! credentials; the MFA code is read without echo, sent once, and never stored or printed.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::Args;

use trailhead_provisioner::log_archive::{MfaDeleteRequest, mfa_delete};

use crate::{ReachArgs, exit, reach, spec};

#[derive(Args, Debug)]
pub struct MfaDeleteArgs {
    /// The org spec (TOML)
    #[arg(long, value_name = "FILE")]
    org: PathBuf,
    /// AWS profile holding the log-archive account's root access keys (with --emulator: unused,
    /// the emulator's root user of the log-archive account signs instead)
    #[arg(long, value_name = "PROFILE", default_value = "log-archive-root")]
    root_profile: String,
    /// ARN of the root user's MFA device
    #[arg(long, value_name = "ARN")]
    mfa_serial: String,
    /// Read the code from stdin instead of the terminal (for a hardware-token helper)
    #[arg(long)]
    code_stdin: bool,
    #[command(flatten)]
    pub reach: crate::ReachArgs,
}

fn read_code(serial: &str, from_stdin: bool) -> Result<String, String> {
    let code = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the MFA code: {e}"))?;
        line
    } else {
        trailhead_tui::prompt::masked_digits(&format!("MFA code for {serial}"), 6)
            .map_err(|e| format!("cannot read the MFA code: {e}"))?
            .ok_or_else(|| "cancelled".to_string())?
    };
    let code = code.trim().to_string();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the MFA code must be 6 digits".into());
    }
    Ok(code)
}

pub fn run(args: MfaDeleteArgs, reach_args: &ReachArgs) -> u8 {
    let spec = match spec::load(&args.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = match read_code(&args.mfa_serial, args.code_stdin) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let home = spec.org.home_region.clone();
    let result = reach::runtime().and_then(|rt| {
        rt.block_on(async {
            let conn = reach::connection(reach_args)?;
            let mut config = conn.base_config(&home).await;
            if conn.emulator_credentials {
                // The emulator's root users sign with `AKIAROOT<account>`: the request path,
                // the root-only rule and the MFA check are exercised as on AWS.
                let trailhead_model::LogArchiveAccount::Existing(id) = &spec.log_archive.account
                else {
                    return Err("the log-archive account has no id in the spec yet: run the rollout first, then put its account_id in the spec".to_string());
                };
                config =
                    trailhead_emulator_support::seed::emulator_root_config(&conn, id.as_str(), &home)
                        .await;
            } else {
                // The root user's keys, from their own profile: never the caller's usual identity.
                let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(&args.root_profile)
                    .build();
                config = config
                    .to_builder()
                    .credentials_provider(
                        aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                    )
                    .build();
            }
            let whose = format!("profile {}", args.root_profile);
            let request = MfaDeleteRequest {
                spec: &spec,
                root: &config,
                whose: &whose,
                serial: &args.mfa_serial,
                code: &code,
            };
            let done = mfa_delete(&conn, &request)
                .await
                .map_err(|e| e.to_string())?;
            Ok((done.bucket, done.enabled))
        })
    });
    match result {
        Ok((bucket, true)) => {
            println!("MFA Delete is enabled on {bucket} (read back from S3)");
            exit::OK
        }
        Ok((bucket, false)) => {
            println!(
                "MFA Delete is NOT enabled on {bucket}: the call was accepted but the bucket reads back without it"
            );
            exit::ERROR
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}
