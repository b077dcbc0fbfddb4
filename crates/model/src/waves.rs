//! Wave membership: the static checks on the spec, and the resolution of waves onto the
//! accounts a run actually targets.

use std::collections::HashMap;
use std::ops::Range;

use crate::reader::Sink;
use crate::rules::did_you_mean;
use crate::{
    Account, AccountId, Diagnostic, Discover, Located, LogArchive, LogArchiveAccount, OrgSpec,
    Tolerance, Wave, WaveMember,
};

/// An account a run will configure, once ids are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetAccount {
    pub id: AccountId,
    pub name: String,
    /// OU name or id as the spec or discovery knows it.
    pub ous: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedWave {
    pub name: String,
    pub accounts: Vec<TargetAccount>,
    pub max_concurrency: u32,
    pub failure_tolerance: Tolerance,
}

/// Name of the wave that holds accounts no `[[wave]]` names.
pub const REMAINING_WAVE: &str = "remaining";

fn member_matches(member: &WaveMember, target: &TargetAccount) -> bool {
    match member {
        WaveMember::AccountId(id) => *id == target.id,
        WaveMember::AccountName(name) => *name == target.name,
        WaveMember::Ou(ou) => target.ous.iter().any(|o| o == ou),
    }
}

/// Places every target in exactly one wave, in spec order. Targets that no wave names run last,
/// in a wave of their own; with no `[[wave]]` at all, everything runs in that one wave.
pub fn resolve_waves(spec: &OrgSpec, targets: &[TargetAccount]) -> Vec<ResolvedWave> {
    let mut placed = vec![false; targets.len()];
    let mut waves = Vec::new();
    for wave in &spec.waves {
        let mut accounts = Vec::new();
        for (i, target) in targets.iter().enumerate() {
            if !placed[i]
                && wave
                    .members
                    .iter()
                    .any(|m| member_matches(&m.value, target))
            {
                placed[i] = true;
                accounts.push(target.clone());
            }
        }
        waves.push(ResolvedWave {
            name: wave.name.value.clone(),
            accounts,
            max_concurrency: wave.max_concurrency.min(spec.rollout.max_concurrency),
            failure_tolerance: wave.failure_tolerance,
        });
    }
    let rest: Vec<TargetAccount> = targets
        .iter()
        .zip(&placed)
        .filter(|(_, p)| !**p)
        .map(|(t, _)| t.clone())
        .collect();
    if !rest.is_empty() {
        waves.push(ResolvedWave {
            name: REMAINING_WAVE.into(),
            accounts: rest,
            max_concurrency: spec.rollout.max_concurrency,
            failure_tolerance: Tolerance::Count(0),
        });
    }
    waves
}

/// What the spec itself says about an account, before any lookup.
struct Known<'a> {
    id: Option<&'a AccountId>,
    name: Option<&'a str>,
    ou: Option<&'a str>,
}

pub(crate) fn check_accounts_and_waves(
    sink: &mut Sink,
    log_archive: &LogArchive,
    accounts: &[Account],
    discover: Option<&Discover>,
    waves: &[Wave],
) {
    check_duplicates(sink, accounts);
    let known = known_accounts(log_archive, accounts);
    let discovering = discover.is_some_and(|d| !d.ous.is_empty());

    // For each statically known account, the first wave member that claimed it.
    let mut claimed: HashMap<usize, (&str, Range<usize>)> = HashMap::new();
    let mut wave_names: HashMap<&str, Range<usize>> = HashMap::new();
    for wave in waves {
        if let Some(first) = wave_names.insert(&wave.name.value, wave.name.span.clone()) {
            sink.push(
                Diagnostic::error(
                    wave.name.span.clone(),
                    format!("wave name `{}` is used twice", wave.name.value),
                )
                .label("second wave with this name")
                .related(first, "first used here")
                .help("give every wave its own name; resume and reports refer to waves by name"),
            );
        }
        if wave.members.is_empty() {
            sink.push(
                Diagnostic::error(wave.members_span.clone(), format!("wave `{}` has no members", wave.name.value))
                    .label("empty wave")
                    .help("list account ids, account names or \"ou:<name>\" in `members`, or remove the wave"),
            );
            continue;
        }
        for member in &wave.members {
            let hits = member_hits(&known, &member.value);
            if hits.is_empty() && !(discovering && matches!(member.value, WaveMember::Ou(_))) {
                sink.push(unmatched(&known, member));
            }
            for hit in hits {
                match claimed.get(&hit) {
                    Some((first_wave, span)) if *first_wave != wave.name.value => {
                        sink.push(placed_twice(&wave.name.value, first_wave, span, member));
                    }
                    Some(_) => {}
                    None => {
                        claimed.insert(hit, (&wave.name.value, member.span.clone()));
                    }
                }
            }
        }
    }
}

/// The accounts a wave may name without discovery: the spec's, and the log-archive account.
fn known_accounts<'a>(log_archive: &'a LogArchive, accounts: &'a [Account]) -> Vec<Known<'a>> {
    let mut known: Vec<Known> = accounts
        .iter()
        .map(|a| Known {
            id: a.id.as_ref().map(|i| &i.value),
            name: a.name.as_ref().map(|n| n.value.as_str()),
            ou: a.ou.as_ref().map(|o| o.value.as_str()),
        })
        .collect();
    match &log_archive.account {
        LogArchiveAccount::Existing(id) => {
            if !known.iter().any(|k| k.id == Some(id)) {
                known.push(Known {
                    id: Some(id),
                    name: None,
                    ou: None,
                });
            }
        }
        LogArchiveAccount::Create { name, .. } => {
            if !known.iter().any(|k| k.name == Some(name.as_str())) {
                known.push(Known {
                    id: None,
                    name: Some(name),
                    ou: None,
                });
            }
        }
    }
    known
}

/// The known accounts a wave member names, by index.
fn member_hits(known: &[Known], member: &WaveMember) -> Vec<usize> {
    known
        .iter()
        .enumerate()
        .filter(|(_, k)| match member {
            WaveMember::AccountId(id) => k.id == Some(id),
            WaveMember::AccountName(n) => k.name == Some(n.as_str()),
            WaveMember::Ou(ou) => k.ou == Some(ou.as_str()),
        })
        .map(|(i, _)| i)
        .collect()
}

/// A member that names no account, with the likeliest fix.
fn unmatched(known: &[Known], member: &Located<WaveMember>) -> Diagnostic {
    let names: Vec<&str> = known.iter().filter_map(|k| k.name).collect();
    let d = Diagnostic::error(
        member.span.clone(),
        format!(
            "wave member `{}` matches no account in the spec",
            member.value
        ),
    )
    .label("matches nothing");
    match &member.value {
        WaveMember::AccountName(n) => match did_you_mean(n, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help("members are account ids, account names from [[account]], or \"ou:<ou>\""),
        },
        WaveMember::Ou(_) => d.help("no [[account]] has this `ou`; add it to [discover] ous to take accounts from Organizations"),
        WaveMember::AccountId(_) => d.help("add the account as an [[account]] entry, or fix the id"),
    }
}

fn placed_twice(
    wave: &str,
    first_wave: &str,
    first: &Range<usize>,
    member: &Located<WaveMember>,
) -> Diagnostic {
    Diagnostic::error(
        member.span.clone(),
        format!("this puts an account in wave `{wave}` that is already in wave `{first_wave}`"),
    )
    .label("second wave for this account")
    .related(first.clone(), "first placed here")
    .help("an account belongs to one wave; remove it from one of them")
}

fn check_duplicates(sink: &mut Sink, accounts: &[Account]) {
    let mut ids: HashMap<&str, Range<usize>> = HashMap::new();
    let mut names: HashMap<&str, Range<usize>> = HashMap::new();
    let mut emails: HashMap<String, Range<usize>> = HashMap::new();
    for a in accounts {
        if let Some(id) = &a.id
            && let Some(first) = ids.insert(id.value.as_str(), id.span.clone())
        {
            sink.push(dup("account id", id.value.as_str(), id.span.clone(), first));
        }
        if let Some(n) = &a.name
            && let Some(first) = names.insert(&n.value, n.span.clone())
        {
            sink.push(dup("account name", &n.value, n.span.clone(), first));
        }
        // Organizations compares emails without regard to case.
        if let Some(e) = &a.email
            && let Some(first) = emails.insert(e.value.to_ascii_lowercase(), e.span.clone())
        {
            sink.push(dup("account email", &e.value, e.span.clone(), first));
        }
    }
}

fn dup(what: &str, value: &str, span: Range<usize>, first: Range<usize>) -> Diagnostic {
    Diagnostic::error(span, format!("duplicate {what} `{value}`"))
        .label("duplicate")
        .related(first, "first listed here")
        .help("list each account once")
}
