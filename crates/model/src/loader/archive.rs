//! `[log_archive]`: the account, the bucket name template, retention or Object Lock, MFA
//! Delete, and the key.

use super::account_id;
use crate::reader::{Sink, Table};
use crate::rules;
use crate::spec::{ACCESS_LOG_SUFFIX_LEN, expand_template};
use crate::{Diagnostic, Located, LogArchive, LogArchiveAccount, ObjectLock, ObjectLockMode, Org};

pub(super) fn positive_days(sink: &mut Sink, t: &Table, key: &str, default: u32) -> Option<u32> {
    optional_days(sink, t, key).map(|v| v.map_or(default, |d| d.value))
}

/// A day count that may be left out: Some(None) when absent, None when invalid.
pub(super) fn optional_days(sink: &mut Sink, t: &Table, key: &str) -> Option<Option<Located<u32>>> {
    let Some(v) = t.int(sink, key) else {
        return Some(None);
    };
    match u32::try_from(v.value) {
        Ok(n) if n > 0 => Some(Some(Located::new(n, v.span))),
        _ => {
            sink.push(
                Diagnostic::error(
                    v.span.clone(),
                    format!("`{key}` must be a positive number of days"),
                )
                .label("must be ≥ 1")
                .help(format!(
                    "for example `{key} = 365`, or leave it out to keep logs"
                )),
            );
            None
        }
    }
}

/// S3 refuses MFA Delete on a bucket with a lifecycle configuration, and a lifecycle
/// configuration on a bucket with MFA Delete: an expiry beside MFA Delete can never deploy.
pub(super) fn check_mfa_delete_lifecycle(
    sink: &mut Sink,
    t: &Table,
    mfa_delete: Option<&Located<bool>>,
    expiries: [&Option<Located<u32>>; 2],
) -> bool {
    let mut ok = true;
    for (expiry, key) in expiries
        .into_iter()
        .zip(["retention_days", "noncurrent_retention_days"])
    {
        let Some(expiry) = expiry else { continue };
        ok = false;
        let (span, label) = match mfa_delete {
            Some(m) => (m.span.clone(), "MFA Delete is turned on here"),
            None => (t.span(), "MFA Delete is on by default in this table"),
        };
        sink.push(
            Diagnostic::error(
                expiry.span.clone(),
                format!("`{key}` cannot be combined with MFA Delete: S3 refuses MFA Delete on a bucket with a lifecycle configuration, and a lifecycle configuration on a bucket with MFA Delete"),
            )
            .label("an expiry needs a lifecycle rule")
            .related(span, label)
            .help(format!("either remove `{key}` and keep logs without expiry under MFA Delete, or set `mfa_delete = false` and add [log_archive.object_lock] (Object Lock protects versions while lifecycle rules expire them)")),
        );
    }
    ok
}

pub(super) fn read_log_archive(
    root: &Table,
    sink: &mut Sink,
    org: Option<&Org>,
) -> Option<LogArchive> {
    const KEYS: &[&str] = &[
        "account_id",
        "name",
        "email",
        "bucket_name",
        "retention_days",
        "noncurrent_retention_days",
        "access_log_retention_days",
        "mfa_delete",
        "object_lock",
        "kms_alias",
        "security_account_id",
    ];
    let Some(t) = root.table(sink, "log_archive", KEYS) else {
        if root.raw("log_archive").is_none() {
            root.missing(
                sink,
                "log_archive",
                "{ account_id = \"222222222222\" } (a [log_archive] table)",
            );
        }
        return None;
    };
    t.reject_unknown(sink);
    let account = read_archive_account(sink, &t);

    let template = t
        .string(sink, "bucket_name")
        .unwrap_or_else(|| Located::new("{org}-cloudtrail-{account_id}".to_string(), t.span()));
    let template_ok = check_bucket_template(sink, &template, org, &account);

    let retention_days = optional_days(sink, &t, "retention_days");
    let noncurrent = optional_days(sink, &t, "noncurrent_retention_days");
    let access_logs = positive_days(sink, &t, "access_log_retention_days", 90);
    let mfa_delete_key = t.bool(sink, "mfa_delete");

    let kms_alias = t
        .string(sink, "kms_alias")
        .unwrap_or_else(|| Located::new("alias/trailhead-cloudtrail".into(), t.span()));
    let alias_ok = sink.check(
        &kms_alias,
        |a| rules::kms_alias(a),
        "use a name like \"alias/trailhead-cloudtrail\"",
    );

    let security_account = match t.string(sink, "security_account_id") {
        Some(v) => Some(account_id(sink, &v)?.value),
        None => None,
    };

    let object_lock = read_object_lock(sink, &t);
    let object_lock = object_lock?;
    // MFA Delete is the default protection, unless Object Lock is chosen instead.
    let mfa_delete = mfa_delete_key
        .as_ref()
        .map_or(object_lock.is_none(), |v| v.value);
    let (retention_days, noncurrent) = (retention_days?, noncurrent?);
    let lifecycle_ok = !mfa_delete
        || check_mfa_delete_lifecycle(
            sink,
            &t,
            mfa_delete_key.as_ref(),
            [&retention_days, &noncurrent],
        );
    let expiry = |v: Option<Located<u32>>, default: u32| match v {
        Some(v) => Some(v.value),
        None if mfa_delete => None,
        None => Some(default),
    };
    (template_ok && alias_ok && lifecycle_ok).then_some(())?;
    Some(LogArchive {
        account: account?,
        bucket_name_template: template.value,
        retention_days: expiry(retention_days, 365),
        noncurrent_retention_days: expiry(noncurrent, 90),
        access_log_retention_days: access_logs?,
        mfa_delete,
        object_lock,
        kms_alias: kms_alias.value,
        security_account,
    })
}

/// The log-archive account: an existing `account_id`, or `name` + `email` to create it.
pub(super) fn read_archive_account(sink: &mut Sink, t: &Table) -> Option<LogArchiveAccount> {
    let id = t.string(sink, "account_id");
    let name = t.string(sink, "name");
    let email = t.string(sink, "email");
    match (id, name, email) {
        (Some(id), None, None) => {
            account_id(sink, &id).map(|id| LogArchiveAccount::Existing(id.value))
        }
        (None, Some(name), Some(email)) => {
            let ok = sink.check(
                &email,
                |e| rules::email(e).and(rules::new_account_email(e)),
                "use the address Organizations should register for the new account",
            ) & sink.check(
                &name,
                |n| rules::new_account_name(n),
                "use 1 to 50 printable ASCII characters, e.g. \"log-archive\"",
            );
            ok.then_some(LogArchiveAccount::Create {
                name: name.value,
                email: email.value,
            })
        }
        (Some(id), _, _) => {
            sink.push(
                Diagnostic::error(
                    id.span.clone(),
                    "give either `account_id` or `name` + `email`, not both",
                )
                .label("an existing account")
                .help("keep `account_id` to use an existing account, or remove it to create one"),
            );
            None
        }
        (None, _, _) => {
            t.missing(
                sink,
                "account_id",
                "\"222222222222\" (or `name` and `email` to create the account)",
            );
            None
        }
    }
}

/// `[log_archive.object_lock]`: Some(None) when absent, None when invalid.
pub(super) fn read_object_lock(sink: &mut Sink, t: &Table) -> Option<Option<ObjectLock>> {
    match t.table(sink, "object_lock", &["mode", "days"]) {
        Some(ol) => {
            ol.reject_unknown(sink);
            let mode = ol.required_string(sink, "mode", "\"GOVERNANCE\"").and_then(|m| {
                match m.value.as_str() {
                    "GOVERNANCE" => Some(ObjectLockMode::Governance),
                    "COMPLIANCE" => Some(ObjectLockMode::Compliance),
                    other => {
                        sink.push(
                            Diagnostic::error(m.span.clone(), format!("`{other}` is not an Object Lock mode"))
                                .label("unknown mode")
                                .help("use \"GOVERNANCE\" (privileged users can shorten it) or \"COMPLIANCE\" (nobody can, not even root)"),
                        );
                        None
                    }
                }
            });
            let days = match ol.int(sink, "days") {
                None => {
                    ol.missing(sink, "days", "365");
                    None
                }
                Some(d) if d.value <= 0 || d.value > 36_500 => {
                    sink.push(
                        Diagnostic::error(
                            d.span.clone(),
                            format!("Object Lock days must be 1 to 36500, got {}", d.value),
                        )
                        .label("not a valid retention")
                        .help("Object Lock keeps every object version at least this many days"),
                    );
                    None
                }
                Some(d) => u32::try_from(d.value).ok(),
            };
            Some(Some(ObjectLock {
                mode: mode?,
                days: days?,
            }))
        }
        None if t.raw("object_lock").is_some() => None,
        None => Some(None),
    }
}

/// Checks the template, then the name it expands to. An account that is yet to be created has
/// no id, so a 12-digit stand-in checks the length the real id will have.
pub(super) fn check_bucket_template(
    sink: &mut Sink,
    template: &Located<String>,
    org: Option<&Org>,
    account: &Option<LogArchiveAccount>,
) -> bool {
    let mut rest = template.value.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            sink.push(
                Diagnostic::error(
                    template.span.clone(),
                    "unclosed `{` in the bucket name template",
                )
                .label("here")
                .help("placeholders are {org}, {account_id} and {region}"),
            );
            return false;
        };
        let name = &after[..close];
        if !matches!(name, "org" | "account_id" | "region") {
            sink.push(
                Diagnostic::error(
                    template.span.clone(),
                    format!("unknown placeholder `{{{name}}}` in the bucket name template"),
                )
                .label("unknown placeholder")
                .help("placeholders are {org}, {account_id} and {region}"),
            );
            return false;
        }
        rest = &after[close + 1..];
    }
    let Some(org) = org else { return true };
    let id = match account {
        Some(LogArchiveAccount::Existing(id)) => id.as_str().to_string(),
        _ => "000000000000".to_string(),
    };
    let expanded = expand_template(&template.value, &org.name, &id, &org.home_region);
    let result = rules::bucket_name(&expanded).and_then(|()| {
        if expanded.len() + ACCESS_LOG_SUFFIX_LEN > 63 {
            Err(format!(
                "bucket name `{expanded}` leaves no room for its access-log bucket `{expanded}-access-logs` (63 characters at most)"
            ))
        } else {
            Ok(())
        }
    });
    match result {
        Ok(()) => true,
        Err(message) => {
            sink.push(
                Diagnostic::error(template.span.clone(), message)
                    .label("after expansion")
                    .help("keep the expanded name 3 to 51 characters of lowercase letters, digits and `-`"),
            );
            false
        }
    }
}
