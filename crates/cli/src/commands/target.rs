//! What a command over the archive reads: the spec, the window, the accounts and regions, the
//! bucket; resolved from the arguments before any call.

use std::path::Path;

use trailhead_model::{LogArchiveAccount, OrgSpec};

use crate::{exit, spec};
use trailhead_provisioner::archive::{Window, parse_time};

/// Where the events were recorded: a filter over the archive's per-region folders, named apart
/// from the API region that `--region` means in every other command.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct EventRegions {
    /// Only events recorded in this region (repeatable; the archive's `…/<region>/` folders).
    /// Not the API region of other commands' --region. Default: every region, not only the
    /// spec's (global events land in us-east-1): those holding logs in the window, or every
    /// region of the partition for Athena
    #[arg(long = "event-region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// `--region` means the API region elsewhere: here it is refused with the right name.
    #[arg(long = "region", value_name = "REGION", hide = true)]
    pub misused: Option<String>,
}

impl EventRegions {
    /// The regions, or exit 2 when `--region` was given for a filter.
    pub fn checked(&self) -> Result<&[String], u8> {
        match &self.misused {
            Some(region) => {
                eprintln!(
                    "error: `--region` is the API region in other commands; to read only the events recorded in a region, pass --event-region {region}"
                );
                Err(exit::BAD_INPUT)
            }
            None => Ok(&self.regions),
        }
    }
}

pub use trailhead_provisioner::search::ArchiveScope;

/// Accounts default to every account of the spec (the log-archive and management accounts
/// included); regions to none, which means every region, not only the governed ones: a
/// multi-region trail records every enabled region, and global services' events (IAM, STS,
/// Organizations…) land under us-east-1. Errors are printed; the exit code comes back.
/// The part of the archive a command reads, from its `--org`, `--account`, event-region flags
/// and window: what `alarms backtest` and `cost` share.
pub fn scope_of(
    org: &Path,
    accounts: &[String],
    regions: &EventRegions,
    since: &str,
    until: Option<&str>,
) -> Result<ArchiveScope, u8> {
    resolve_scope(org, accounts, regions.checked()?, since, until)
}

pub fn resolve_scope(
    org: &Path,
    accounts: &[String],
    regions: &[String],
    since: &str,
    until: Option<&str>,
) -> Result<ArchiveScope, u8> {
    let spec = spec::load(org)?;
    let window = window_of(since, until).map_err(|e| {
        eprintln!("error: {e}");
        exit::BAD_INPUT
    })?;
    let LogArchiveAccount::Existing(archive_id) = &spec.log_archive.account else {
        eprintln!(
            "error: the log-archive account has no id in the spec yet; run `trailhead rollout` to create it, then set log_archive.account_id"
        );
        return Err(exit::BAD_INPUT);
    };
    let archive_id = archive_id.to_string();
    let accounts = if accounts.is_empty() {
        known_accounts(&spec, &archive_id)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    } else {
        named_accounts(&spec, &archive_id, accounts).map_err(|e| {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        })?
    };
    let regions = regions.to_vec();
    Ok(ArchiveScope {
        bucket: spec.log_archive.bucket_name(&spec.org, &archive_id),
        spec,
        window,
        archive_id,
        accounts,
        regions,
    })
}

/// Every account whose logs the archive holds, as (id, name), each once: the spec's accounts,
/// the log-archive and audit accounts, and the management account (root use and Organizations
/// changes happen there).
pub fn known_accounts(spec: &OrgSpec, archive_id: &str) -> Vec<(String, String)> {
    let mut known: Vec<(String, String)> = spec
        .accounts
        .iter()
        .filter_map(|a| a.id.as_ref().map(|i| (i.value.to_string(), a.label())))
        .collect();
    let mut add = |id: String, name: &str| {
        if !known.iter().any(|(k, _)| *k == id) {
            known.push((id, name.to_string()));
        }
    };
    add(archive_id.to_string(), "log-archive");
    if let Some(audit) = &spec.log_archive.security_account {
        add(audit.to_string(), "audit");
    }
    add(spec.org.management_account.to_string(), "management");
    known
}

/// Each `--account` as an id: an id or a name of an account of the spec (the log-archive and
/// audit accounts included). An id the spec does not list is taken only when the spec discovers
/// accounts from OUs; anything else is a typo, refused with the accounts there are.
pub fn named_accounts(
    spec: &OrgSpec,
    archive_id: &str,
    given: &[String],
) -> Result<Vec<String>, String> {
    let known = known_accounts(spec, archive_id);
    let is_id = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    given
        .iter()
        .map(|g| {
            if let Some((id, _)) = known.iter().find(|(id, name)| id == g || name == g) {
                return Ok(id.clone());
            }
            if is_id(g) && spec.discover.is_some() {
                return Ok(g.clone());
            }
            let list: Vec<String> = known
                .iter()
                .take(20)
                .map(|(id, name)| format!("{id} ({name})"))
                .collect();
            let more = known.len().saturating_sub(20);
            Err(format!(
                "no account `{g}` in the spec; known: {}{}",
                list.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ))
        })
        .collect()
}

/// `--since` and `--until` (default: now), in whole seconds; since after until is refused.
pub fn window_of(since: &str, until: Option<&str>) -> Result<Window, String> {
    let now = jiff::Timestamp::now();
    let since = parse_time(since, now)?;
    let until = until.map(|u| parse_time(u, now)).unwrap_or(Ok(now))?;
    if since > until {
        return Err("--since is after --until".into());
    }
    Ok(Window { since, until }.whole_seconds())
}
