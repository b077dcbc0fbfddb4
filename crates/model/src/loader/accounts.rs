//! `[[accounts]]`, `[discover]`, `[[waves]]` and `[rollout]`: who is governed, in which wave,
//! with what tolerance.

use toml::de::DeValue;

use super::account_id;
use crate::reader::{Sink, Table};
use crate::rules;
use crate::{Account, Diagnostic, Discover, Located, RolloutSettings, Tolerance, Wave, WaveMember};

pub(super) fn read_accounts(root: &Table, sink: &mut Sink) -> Vec<Account> {
    const KEYS: &[&str] = &["id", "name", "email", "ou"];
    let mut out = Vec::new();
    for t in root.tables(sink, "account", KEYS) {
        t.reject_unknown(sink);
        let id = t.string(sink, "id").and_then(|v| account_id(sink, &v));
        let name = t.string(sink, "name");
        let email = t.string(sink, "email");
        if let Some(e) = &email {
            sink.check(
                e,
                |s| rules::email(s),
                "the account's root email address, as Organizations lists it",
            );
        }
        let ou = t.string(sink, "ou");
        if t.raw("id").is_none() && (name.is_none() || email.is_none()) {
            t.missing(
                sink,
                "id",
                "\"444444444444\" (or both `name` and `email` to look the account up)",
            );
        }
        out.push(Account {
            id,
            name,
            email,
            ou,
            span: t.span(),
        });
    }
    out
}

pub(super) fn read_discover(root: &Table, sink: &mut Sink) -> Option<Discover> {
    let t = root.table(sink, "discover", &["ous"])?;
    t.reject_unknown(sink);
    let ous = t.strings(sink, "ous").unwrap_or_default();
    for ou in &ous {
        sink.check(
            ou,
            |s| rules::ou_id(s),
            "discovery takes OU ids as Organizations shows them",
        );
    }
    Some(Discover { ous })
}

pub(super) fn read_waves(root: &Table, sink: &mut Sink) -> Vec<Wave> {
    const KEYS: &[&str] = &["name", "members", "max_concurrency", "failure_tolerance"];
    let mut out = Vec::new();
    for t in root.tables(sink, "wave", KEYS) {
        t.reject_unknown(sink);
        let Some(name) = t.required_string(sink, "name", "\"canary\"") else {
            continue;
        };
        let members = match t.strings(sink, "members") {
            None => {
                t.missing(
                    sink,
                    "members",
                    "[\"444444444444\", \"payments-prod\", \"ou:Workloads\"]",
                );
                Vec::new()
            }
            Some(list) => list
                .into_iter()
                .filter_map(|m| wave_member(sink, m))
                .collect(),
        };
        if name.value == crate::REMAINING_WAVE {
            sink.push(
                Diagnostic::error(name.span.clone(), "`remaining` is the name of the automatic last wave")
                    .label("reserved")
                    .help("the accounts no wave names run in a wave called `remaining`; give this wave another name"),
            );
        }
        let max_concurrency = match t.int(sink, "max_concurrency") {
            None => 1,
            Some(v) if v.value >= 1 => u32::try_from(v.value).unwrap_or(u32::MAX),
            Some(v) => {
                sink.push(
                    Diagnostic::error(v.span, "`max_concurrency` must be at least 1")
                        .label("nothing would ever run")
                        .help("use 1 for a canary wave, more for larger waves"),
                );
                1
            }
        };
        let failure_tolerance = read_tolerance(sink, &t);
        out.push(Wave {
            members_span: t.raw("members").map_or(t.span(), |v| v.span()),
            name,
            members,
            max_concurrency,
            failure_tolerance,
            span: t.span(),
        });
    }
    out
}

pub(super) fn wave_member(sink: &mut Sink, m: Located<String>) -> Option<Located<WaveMember>> {
    let member = if let Some(ou) = m.value.strip_prefix("ou:") {
        WaveMember::Ou(ou.to_string())
    } else if !m.value.is_empty() && m.value.bytes().all(|b| b.is_ascii_digit()) {
        WaveMember::AccountId(account_id(sink, &m)?.value)
    } else {
        WaveMember::AccountName(m.value.clone())
    };
    Some(Located::new(member, m.span))
}

pub(super) fn read_tolerance(sink: &mut Sink, t: &Table) -> Tolerance {
    let Some(v) = t.raw("failure_tolerance") else {
        return Tolerance::Count(0);
    };
    let bad = |sink: &mut Sink, msg: String| {
        sink.push(
            Diagnostic::error(v.span(), msg)
                .label("invalid tolerance")
                .help(
                    "a count of failed accounts (e.g. 1) or a percent of the wave (e.g. \"10%\")",
                ),
        );
        Tolerance::Count(0)
    };
    match v.get_ref() {
        DeValue::Integer(i) => match i.as_str().parse::<u32>() {
            Ok(n) => Tolerance::Count(n),
            Err(_) => bad(
                sink,
                format!(
                    "failure tolerance `{}` must be a count of 0 or more",
                    i.as_str()
                ),
            ),
        },
        DeValue::String(s) => match s.strip_suffix('%').map(|p| p.trim().parse::<u32>()) {
            Some(Ok(p)) if p <= 100 => Tolerance::Percent(p),
            Some(Ok(p)) => bad(sink, format!("failure tolerance {p}% is above 100%")),
            _ => bad(
                sink,
                format!("failure tolerance `{s}` is neither a count nor a percent"),
            ),
        },
        _ => bad(
            sink,
            "failure tolerance must be a count or a percent string".into(),
        ),
    }
}

pub(super) fn read_rollout(root: &Table, sink: &mut Sink) -> Option<RolloutSettings> {
    let mut settings = RolloutSettings {
        max_concurrency: 16,
        include_management_account: true,
    };
    let Some(t) = root.table(
        sink,
        "rollout",
        &["max_concurrency", "include_management_account"],
    ) else {
        return root.raw("rollout").is_none().then_some(settings);
    };
    t.reject_unknown(sink);
    if let Some(v) = t.int(sink, "max_concurrency") {
        if v.value < 1 {
            sink.push(
                Diagnostic::error(v.span, "`max_concurrency` must be at least 1")
                    .label("nothing would ever run")
                    .help("the global cap on accounts in flight; 16 is a safe start"),
            );
            return None;
        }
        settings.max_concurrency = u32::try_from(v.value).unwrap_or(u32::MAX);
    }
    if let Some(v) = t.bool(sink, "include_management_account") {
        settings.include_management_account = v.value;
    }
    Some(settings)
}
