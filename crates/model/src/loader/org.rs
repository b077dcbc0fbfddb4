//! `[org]` and `[access]`: the organization, its regions (one partition, opted in), and how
//! each account is reached.

use super::account_id;
use crate::reader::{Sink, Table};
use crate::rules;
use crate::{Access, Diagnostic, Located, Org};

pub(super) fn read_org(root: &Table, sink: &mut Sink) -> Option<Org> {
    const KEYS: &[&str] = &["name", "management_account", "home_region", "regions"];
    let Some(t) = root.table(sink, "org", KEYS) else {
        if root.raw("org").is_none() {
            root.missing(sink, "org", "{ name = \"acme\", ... } (a [org] table)");
        }
        return None;
    };
    t.reject_unknown(sink);
    let name = t.required_string(sink, "name", "\"acme\"");
    if let Some(name) = &name {
        sink.check(
            name,
            |n| {
                if n.is_empty() || n.len() > 32 {
                    Err("org name must be 1 to 32 characters".into())
                } else {
                    Ok(())
                }
            },
            "a short name such as \"acme\"; it names buckets and sessions",
        );
    }
    let mgmt = t
        .required_string(sink, "management_account", "\"111111111111\"")
        .and_then(|v| account_id(sink, &v));
    let home = t.required_string(sink, "home_region", "\"eu-west-1\"");
    let home_ok = home.as_ref().is_some_and(|h| check_region(sink, h));
    let mut regions = Vec::new();
    let mut regions_ok = true;
    let listed = t.strings(sink, "regions").unwrap_or_default();
    let home_unlisted = home
        .as_ref()
        .filter(|h| !listed.iter().any(|l| l.value == h.value));
    for r in listed.iter().chain(home_unlisted) {
        warn_opt_in(sink, r);
    }
    for r in &listed {
        regions_ok &= check_region(sink, r);
        if !regions.contains(&r.value) {
            regions.push(r.value.clone());
        }
    }
    let home = home?;
    if home_ok {
        regions_ok &= same_partition(sink, &home.value, &listed);
    }
    if !regions.contains(&home.value) {
        regions.insert(0, home.value.clone());
    }
    (home_ok && regions_ok).then_some(())?;
    Some(Org {
        name: name?.value,
        management_account: mgmt?.value,
        home_region: home.value,
        regions,
    })
}

/// An opt-in Region is disabled in every account until it is enabled there: said now, checked
/// account by account by preflight.
pub(super) fn warn_opt_in(sink: &mut Sink, r: &Located<String>) {
    if rules::OPT_IN_REGIONS.contains(&r.value.as_str()) {
        sink.push(
            Diagnostic::warning(
                r.span.clone(),
                format!("`{}` is an opt-in region, disabled in every account until enabled", r.value),
            )
            .label("opt-in region")
            .help("enable it in every governed account (AWS console › Account › AWS Regions, or `aws account enable-region`) before the rollout; `trailhead preflight` checks each account"),
        );
    }
}

/// A trail and its archive live in one partition: a region of another partition than the home
/// region has no way to deliver to it.
pub(super) fn same_partition(sink: &mut Sink, home: &str, regions: &[Located<String>]) -> bool {
    let want = rules::partition_of(home);
    let mut ok = true;
    for r in regions {
        if rules::region(&r.value).is_ok() && rules::partition_of(&r.value) != want {
            ok = false;
            sink.push(
                Diagnostic::error(
                    r.span.clone(),
                    format!(
                        "`{}` is in the {} partition, the home region `{home}` in {want}",
                        r.value,
                        rules::partition_of(&r.value)
                    ),
                )
                .label("another partition")
                .help("a spec governs one partition: use a separate spec (and organization) for the other"),
            );
        }
    }
    ok
}

pub(super) fn check_region(sink: &mut Sink, r: &Located<String>) -> bool {
    let message = match rules::region(&r.value) {
        Ok(()) => return true,
        Err(m) => m,
    };
    if r.value.contains("-iso") {
        sink.push(
            Diagnostic::error(r.span.clone(), message)
                .label("unsupported partition")
                .help("trailhead supports the aws, aws-cn and aws-us-gov partitions"),
        );
        return false;
    }
    let hint = match rules::did_you_mean(
        &r.value.to_ascii_lowercase(),
        rules::REGIONS.iter().copied(),
    ) {
        Some(s) => format!("did you mean `{s}`?"),
        None => "use a region code such as \"eu-west-1\" or \"us-east-1\"".into(),
    };
    sink.push(
        Diagnostic::error(
            r.span.clone(),
            format!("`{}` is not an AWS region code", r.value),
        )
        .label("unknown region")
        .help(hint),
    );
    false
}

pub(super) fn read_access(root: &Table, sink: &mut Sink) -> Option<Access> {
    const KEYS: &[&str] = &["role_name", "external_id", "session_duration_seconds"];
    let mut access = Access {
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_duration_seconds: 3600,
    };
    let Some(t) = root.table(sink, "access", KEYS) else {
        return root.raw("access").is_none().then_some(access);
    };
    t.reject_unknown(sink);
    let mut ok = true;
    if let Some(v) = t.string(sink, "role_name") {
        ok &= sink.check(
            &v,
            |s| rules::role_name(s),
            "use the role name as IAM shows it",
        );
        access.role_name = v.value;
    }
    if let Some(v) = t.string(sink, "external_id") {
        // Reported without the source line: some teams treat the ExternalId as a secret.
        if let Err(message) = rules::external_id(&v.value) {
            ok = false;
            sink.push(
                Diagnostic::error(v.span.clone(), message)
                    .help("use the ExternalId the role's trust policy requires")
                    .redacted(),
            );
        }
        access.external_id = Some(v.value);
    }
    if let Some(v) = t.int(sink, "session_duration_seconds") {
        ok &= sink.check(
            &v,
            |n| match n {
                900..=3600 => Ok(()),
                3601..=43_200 => Err(format!(
                    "session duration {n}s is more than STS grants a chained role session (3600s)"
                )),
                _ => Err(format!("session duration {n}s is outside what STS accepts")),
            },
            "use 900 to 3600 seconds: trailhead assumes the access role from the caller's own role session (SSO, a pipeline role), and STS caps role chaining at one hour; sessions are refreshed before they expire, so a long rollout needs no more",
        );
        access.session_duration_seconds = u32::try_from(v.value).unwrap_or(3600);
    }
    ok.then_some(access)
}
