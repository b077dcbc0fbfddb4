//! What every command that reaches an org shares: the spec and state arguments, the output
//! kinds, the run context, and the resume command a person can paste back.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use trailhead_model::{OrgSpec, Selection};
use trailhead_provisioner::counter::CallLog;
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::session::AccessRole;

use crate::{ReachArgs, exit, reach};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    /// The log-archive account only: buckets, key, MFA Delete
    LogArchive,
    /// The log-archive stage, then Athena: results bucket, Glue table, workgroup (needs [athena])
    Athena,
}

impl From<Stage> for trailhead_provisioner::stage::Stage {
    fn from(s: Stage) -> Self {
        match s {
            Stage::LogArchive => Self::LogArchive,
            Stage::Athena => Self::Athena,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// The interactive view (the default on a terminal)
    Tui,
    /// Human-readable lines (the default in pipelines)
    Plain,
    /// NDJSON: one event per line (see docs/events.md)
    Json,
}

/// The outputs of commands that report and end: no interactive view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportOutput {
    /// Human-readable lines
    Plain,
    /// NDJSON: one object per line (see docs/events.md)
    Json,
}

impl From<ReportOutput> for Output {
    fn from(o: ReportOutput) -> Self {
        match o {
            ReportOutput::Plain => Output::Plain,
            ReportOutput::Json => Output::Json,
        }
    }
}

#[derive(Args, Debug)]
pub struct CommonArgs {
    /// The org spec (TOML)
    #[arg(long, value_name = "FILE")]
    pub org: PathBuf,
    /// Where run journals, pending requests and the lock are kept (one directory per org).
    /// Default: $XDG_STATE_HOME/trailhead, else ~/.local/state/trailhead, whatever the working
    /// directory
    #[arg(long, value_name = "DIR", env = "TRAILHEAD_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// When rollout creates the log-archive account: how long to wait for its access role to
    /// become assumable, in seconds. Commands that only read never create an account
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub assume_timeout: u64,
}

impl CommonArgs {
    /// The state root: `--state-dir`, else the platform's state directory.
    pub fn state_root(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(default_state_root)
    }

    /// This org's state directory.
    pub fn org_state(&self, spec: &OrgSpec) -> PathBuf {
        self.state_root().join(&spec.org.name)
    }
}

/// XDG's state home on Linux and the BSDs, and the same place elsewhere (there is no other
/// convention a CLI could follow on macOS without surprising someone).
pub fn default_state_root() -> PathBuf {
    let xdg = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state"));
    xdg.or(home)
        .map(|d| d.join("trailhead"))
        .unwrap_or_else(|| PathBuf::from(".trailhead"))
}

/// A word a shell reads back as itself.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The resume command up to the run id: the same spec, state directory, part of the org and way
/// of reaching AWS.
pub fn resume_prefix(common: &CommonArgs, reach_args: &ReachArgs, selection: &Selection) -> String {
    let mut words = vec!["trailhead".to_string()];
    words.extend(reach::flags(reach_args).iter().map(|w| shell_word(w)));
    words.extend([
        "rollout".into(),
        "--org".into(),
        shell_word(&common.org.display().to_string()),
    ]);
    if let Some(dir) = &common.state_dir {
        words.extend(["--state-dir".into(), shell_word(&dir.display().to_string())]);
    }
    for account in &selection.accounts {
        words.extend(["--account".into(), shell_word(account)]);
    }
    for wave in &selection.waves {
        words.extend(["--wave".into(), shell_word(wave)]);
    }
    words.push("--resume".into());
    format!("{} ", words.join(" "))
}

/// Connects to AWS (or the emulator) and builds the run context: the one prelude of every
/// command that works on an organization.
pub async fn connect(
    spec: &OrgSpec,
    common: &CommonArgs,
    reach_args: &ReachArgs,
    run_id: &str,
    apply: bool,
) -> Result<RunCtx, String> {
    let conn = reach::connect(reach_args).await?;
    Ok(ctx_for(spec, common, conn, run_id, apply, reach_args))
}

pub fn ctx_for(
    spec: &OrgSpec,
    common: &CommonArgs,
    conn: trailhead_provisioner::Connection,
    run_id: &str,
    apply: bool,
    reach_args: &ReachArgs,
) -> RunCtx {
    RunCtx {
        conn,
        role: AccessRole::of(&spec.access, run_id.to_string()),
        spec: spec.clone(),
        spec_path: common.org.display().to_string(),
        resume_prefix: resume_prefix(common, reach_args, &Selection::default()),
        calls: CallLog::new(),
        apply,
        state_dir: common.org_state(spec),
        assume_timeout: Duration::from_secs(common.assume_timeout),
    }
}

/// `--account` and `--wave`: a part of the organization.
#[derive(Args, Debug, Default, Clone)]
pub struct SelectArgs {
    /// Only this member account, by id or name; repeat for more. The log archive serves every
    /// account whatever is selected (rollout converges it for all; verify and drill only read)
    #[arg(long = "account", value_name = "ID|NAME")]
    pub accounts: Vec<String>,
    /// Only the accounts of this wave (a [[wave]] name, or `remaining`); repeat for more
    #[arg(long = "wave", value_name = "NAME")]
    pub waves: Vec<String>,
}

impl SelectArgs {
    /// The selection, checked against the spec before any call: an unknown account or wave is
    /// a typo, exit 2, with what there is.
    pub fn selection(&self, spec: &OrgSpec) -> Result<Selection, u8> {
        let archive_id = match &spec.log_archive.account {
            trailhead_model::LogArchiveAccount::Existing(id) => id.to_string(),
            _ => String::new(),
        };
        let selection = Selection {
            accounts: super::target::named_accounts(spec, &archive_id, &self.accounts).map_err(
                |e| {
                    eprintln!("error: {e}");
                    exit::BAD_INPUT
                },
            )?,
            waves: self.waves.clone(),
        };
        selection.check_waves(spec).map_err(|e| {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        })?;
        Ok(selection)
    }
}

/// A selection that matches nothing is the user's input, not AWS failing.
pub fn exit_code_of(e: &trailhead_provisioner::ProvisionError) -> u8 {
    match e {
        trailhead_provisioner::ProvisionError::UnknownAccount(_) => exit::BAD_INPUT,
        _ => exit::ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_keeps_the_part_of_the_org_and_the_way_to_aws() {
        let common = CommonArgs {
            org: PathBuf::from("my org.toml"),
            state_dir: Some(PathBuf::from("/var/lib/th")),
            assume_timeout: 600,
        };
        let reach = ReachArgs {
            profile: Some("mgmt".into()),
            region: Some("us-east-1".into()),
            ..ReachArgs::default()
        };
        let selection = Selection {
            accounts: vec!["payments prod".into()],
            waves: vec!["canary".into()],
        };
        assert_eq!(
            resume_prefix(&common, &reach, &selection),
            "trailhead --profile mgmt --region us-east-1 rollout --org 'my org.toml' --state-dir /var/lib/th --account 'payments prod' --wave canary --resume "
        );
    }
}
