//! Turning spec text into an [`OrgSpec`], or into every reason it can't be one.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::reader::{Sink, Table};
use crate::rules;
use crate::spec::{ACCESS_LOG_SUFFIX_LEN, expand_template};
use crate::waves::check_accounts_and_waves;
use crate::{
    Access, Account, AccountId, Alarms, Benchmark, DataEvents, DeliveryNotifications, Diagnostic,
    Diagnostics, Discover, InsightType, Located, LogArchive, LogArchiveAccount, NotificationTopic,
    ObjectLock, ObjectLockMode, Org, OrgSpec, OrganizationTrailMode, ReadWriteType,
    RolloutSettings, Tolerance, Trail, Wave, WaveMember,
};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the org spec {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the org spec {} is invalid ({} error(s))", .0.path, .0.errors().count())]
    Invalid(Diagnostics),
}

/// Reads and validates a spec file. On success the warnings come back alongside the spec.
pub fn load_file(path: &Path) -> Result<(OrgSpec, Diagnostics), LoadError> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: label.clone(),
        source,
    })?;
    match text_of(&bytes) {
        Ok(source) => parse_spec(&label, &source).map_err(LoadError::Invalid),
        Err(found) => {
            let (source, diagnostic) = *found;
            Err(LoadError::Invalid(Diagnostics {
                path: label,
                source,
                items: vec![diagnostic],
            }))
        }
    }
}

/// The file as text, or where it stops being text: a stray byte inside a text file is reported
/// at its own line and column; a file that is not text from its first byte, as such.
fn text_of(bytes: &[u8]) -> Result<String, Box<(String, Diagnostic)>> {
    let bad_utf8 = std::str::from_utf8(bytes).err().map(|e| e.valid_up_to());
    let nul = bytes.iter().position(|b| *b == 0);
    let Some(at) = [bad_utf8, nul].into_iter().flatten().min() else {
        return Ok(String::from_utf8_lossy(bytes).into_owned());
    };
    let shown = String::from_utf8_lossy(bytes).replace('\0', "\u{2400}");
    if at == 0 {
        let d = Diagnostic::error(0..0, "this is not a text file")
            .help("an org spec is a UTF-8 TOML file; see config/org.example.toml");
        return Err(Box::new((String::new(), d)));
    }
    let what = if bytes[at] == 0 {
        "a NUL byte".to_string()
    } else {
        format!("the byte 0x{:02X}, which is not UTF-8", bytes[at])
    };
    // Both stand-ins (U+FFFD, U+2400) are three bytes long in the text shown.
    let d = Diagnostic::error(at..at + 3, format!("{what} in the middle of the spec"))
        .label("here")
        .help("an org spec is UTF-8 text: remove the byte (an editor or a copy from a binary file put it there)");
    Err(Box::new((shown, d)))
}

/// Validates spec text. `path` only labels the diagnostics.
pub fn parse_spec(path: &str, source: &str) -> Result<(OrgSpec, Diagnostics), Diagnostics> {
    let mut sink = Sink::default();
    let spec = read(source, &mut sink);
    let diagnostics = Diagnostics {
        path: path.to_string(),
        source: source.to_string(),
        items: sink.items,
    };
    match spec {
        Some(spec) if !diagnostics.has_errors() => Ok((spec, diagnostics)),
        _ => Err(diagnostics),
    }
}

const ROOT_KEYS: &[&str] = &[
    "org",
    "access",
    "log_archive",
    "trail",
    "alarms",
    "account",
    "discover",
    "wave",
    "rollout",
    "athena",
];

/// Input nested past the parser's recursion limit, reported where the nesting starts (the key
/// whose value it is), not hundreds of lines later where the limit was met.
fn too_deep(source: &str, limit: Range<usize>) -> Diagnostic {
    let start = nesting_start(source, limit.start);
    Diagnostic::error(
        start..start + 1,
        "this value nests arrays or inline tables deeper than a spec can (the TOML parser's recursion limit)",
    )
    .label("the nesting starts here")
    .related(limit, "the limit is met here")
    .help("no setting of a spec nests more than two levels: remove or flatten this value")
}

/// The opening bracket, before `offset`, from which arrays and inline tables stay open up to
/// `offset`: where the value that nests too deeply begins. Strings and comments are skipped.
pub(crate) fn nesting_start(source: &str, offset: usize) -> usize {
    let (mut depth, mut start) = (0usize, 0usize);
    let (mut quote, mut escaped, mut comment) = (None::<char>, false, false);
    for (i, c) in source.char_indices().take_while(|(i, _)| *i < offset) {
        if comment {
            comment = c != '\n';
            continue;
        }
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '#' => comment = true,
            '"' | '\'' => quote = Some(c),
            '[' | '{' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    start
}

fn read(source: &str, sink: &mut Sink) -> Option<OrgSpec> {
    if source.trim().is_empty() {
        sink.push(Diagnostic::error(0..0, "the org spec is empty").help(
            "start from config/org.example.toml; at least [org] and [log_archive] are needed",
        ));
        return None;
    }
    let doc = match DeTable::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            // Only the first syntax error: what the parser recovers into after it is mostly noise.
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_string();
            if message.contains("recurs") {
                sink.push(too_deep(source, span));
                return None;
            }
            sink.push(
                Diagnostic::error(span, format!("this is not valid TOML: {message}"))
                    .label("here")
                    .help("fix the TOML syntax first; see config/org.example.toml"),
            );
            return None;
        }
    };
    let root = Table::root(doc.get_ref(), ROOT_KEYS);
    root.reject_unknown(sink);

    let org = read_org(&root, sink);
    let access = read_access(&root, sink);
    let log_archive = read_log_archive(&root, sink, org.as_ref());
    let trail = read_trail(&root, sink, org.as_ref().zip(log_archive.as_ref()));
    let alarms = read_alarms(&root, sink);
    let accounts = read_accounts(&root, sink);
    let discover = read_discover(&root, sink);
    let waves = read_waves(&root, sink);
    let rollout = read_rollout(&root, sink);
    let athena = crate::athena::read_athena(&root, sink, org.as_ref());

    if let (Some(trail), Some(alarms)) = (&trail, &alarms) {
        check_topic_names(sink, trail, alarms);
    }
    // Independent of [org]: a bad region there must not hide a wave member that names nobody.
    if let Some(log_archive) = &log_archive {
        check_accounts_and_waves(sink, log_archive, &accounts, discover.as_ref(), &waves);
    }

    Some(OrgSpec {
        org: org?,
        access: access?,
        log_archive: log_archive?,
        trail: trail?,
        alarms: alarms?,
        accounts,
        discover,
        waves,
        rollout: rollout?,
        athena: athena?,
    })
}

/// A topic in each account for deliveries must not be the alarm topic: two steps would each
/// write their own policy onto it, and never agree.
fn check_topic_names(sink: &mut Sink, trail: &Trail, alarms: &Alarms) {
    let Some(n) = &trail.notifications else {
        return;
    };
    if n.topic == NotificationTopic::Member && n.topic_name.value == alarms.sns_topic_name {
        sink.push(
            Diagnostic::error(
                n.topic_name.span.clone(),
                format!("`{}` is also the alarm topic's name", n.topic_name.value),
            )
            .label("same name as [alarms] sns_topic_name")
            .help("give delivery notifications a topic of their own, for example \"trailhead-cloudtrail-deliveries\""),
        );
    }
}

fn account_id(sink: &mut Sink, v: &Located<String>) -> Option<Located<AccountId>> {
    match AccountId::parse(&v.value) {
        Some(id) => Some(Located::new(id, v.span.clone())),
        None => {
            sink.push(
                Diagnostic::error(
                    v.span.clone(),
                    format!(
                        "`{}` is not an AWS account id: it must be exactly 12 digits",
                        v.value
                    ),
                )
                .label("not 12 digits")
                .help("quote the id as a string and keep leading zeros, e.g. \"012345678901\""),
            );
            None
        }
    }
}

fn read_org(root: &Table, sink: &mut Sink) -> Option<Org> {
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
fn warn_opt_in(sink: &mut Sink, r: &Located<String>) {
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
fn same_partition(sink: &mut Sink, home: &str, regions: &[Located<String>]) -> bool {
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

fn check_region(sink: &mut Sink, r: &Located<String>) -> bool {
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

fn read_access(root: &Table, sink: &mut Sink) -> Option<Access> {
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

fn positive_days(sink: &mut Sink, t: &Table, key: &str, default: u32) -> Option<u32> {
    optional_days(sink, t, key).map(|v| v.map_or(default, |d| d.value))
}

/// A day count that may be left out: Some(None) when absent, None when invalid.
fn optional_days(sink: &mut Sink, t: &Table, key: &str) -> Option<Option<Located<u32>>> {
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
fn check_mfa_delete_lifecycle(
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

fn read_log_archive(root: &Table, sink: &mut Sink, org: Option<&Org>) -> Option<LogArchive> {
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
fn read_archive_account(sink: &mut Sink, t: &Table) -> Option<LogArchiveAccount> {
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
fn read_object_lock(sink: &mut Sink, t: &Table) -> Option<Option<ObjectLock>> {
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
fn check_bucket_template(
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

fn read_trail(
    root: &Table,
    sink: &mut Sink,
    archive: Option<(&Org, &LogArchive)>,
) -> Option<Trail> {
    const KEYS: &[&str] = &[
        "name",
        "multi_region",
        "include_global_service_events",
        "log_file_validation",
        "management_events",
        "log_group_name",
        "cloudwatch_logs_retention_days",
        "data_events",
        "insights",
        "encrypt_log_group",
        "log_group_kms_alias",
        "organization_trail",
        "notifications",
    ];
    let mut trail = Trail {
        name: "trailhead".into(),
        multi_region: true,
        include_global_service_events: true,
        log_file_validation: true,
        management_events: ReadWriteType::All,
        log_group_name: "/trailhead/cloudtrail".into(),
        cloudwatch_logs_retention_days: 365,
        log_group_kms_alias: Some(DEFAULT_LOG_GROUP_KMS_ALIAS.into()),
        data_events: DataEvents::default(),
        insights: Vec::new(),
        organization_trail: OrganizationTrailMode::default(),
        notifications: None,
    };
    let Some(t) = root.table(sink, "trail", KEYS) else {
        return root.raw("trail").is_none().then_some(trail);
    };
    t.reject_unknown(sink);
    let mut ok = true;
    if let Some(v) = t.string(sink, "name") {
        ok &= sink.check(
            &v,
            |s| rules::trail_name(s),
            "3 to 128 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit",
        );
        trail.name = v.value;
    }
    for (key, slot) in [
        ("multi_region", &mut trail.multi_region),
        (
            "include_global_service_events",
            &mut trail.include_global_service_events,
        ),
        ("log_file_validation", &mut trail.log_file_validation),
    ] {
        if let Some(v) = t.bool(sink, key) {
            *slot = v.value;
            if !v.value {
                warn_short_of_benchmark(sink, key, v.span);
            }
        }
    }
    if let Some(v) = t.string(sink, "management_events") {
        match read_write_type(sink, &v, "CIS and Security Hub CloudTrail.1 require it") {
            Some(kind) => {
                trail.management_events = kind;
                if kind != ReadWriteType::All {
                    warn_short_of_benchmark(sink, "management_events", v.span);
                }
            }
            None => ok = false,
        }
    }
    if let Some(v) = t.string(sink, "log_group_name") {
        ok &= sink.check(
            &v,
            |s| rules::log_group_name(s),
            "for example \"/trailhead/cloudtrail\"",
        );
        trail.log_group_name = v.value;
    }
    if let Some(v) = t.int(sink, "cloudwatch_logs_retention_days") {
        ok &= sink.check(
            &v,
            |n| rules::log_retention(*n),
            &format!("use one of {:?}", rules::LOG_RETENTION_DAYS),
        );
        trail.cloudwatch_logs_retention_days = i32::try_from(v.value).unwrap_or(365);
    }
    match read_log_group_key(sink, &t, archive.map(|(_, la)| la.kms_alias.as_str())) {
        Some(alias) => trail.log_group_kms_alias = alias,
        None => ok = false,
    }
    if let Some(v) = t.string(sink, "organization_trail") {
        match OrganizationTrailMode::parse(&v.value) {
            Some(mode) => trail.organization_trail = mode,
            None => {
                ok = false;
                sink.push(
                    Diagnostic::error(v.span, format!("`{}` is not a choice for an existing organization trail", v.value))
                        .label("unknown value")
                        .help("use \"keep-per-account\" (per-account trails anyway: their CIS alarms need a log group in each account) or \"skip-covered\" (leave out the accounts an organization trail records)"),
                );
            }
        }
    }
    match read_notifications(sink, &t, archive.map(|(_, la)| la)) {
        Some(n) => trail.notifications = n,
        None => ok = false,
    }
    match read_data_events(sink, &t, archive) {
        Some(events) => trail.data_events = events,
        None => ok = false,
    }
    match read_insights(sink, &t, trail.management_events) {
        Some(insights) => trail.insights = insights,
        None => ok = false,
    }
    ok.then_some(trail)
}

/// `[trail.notifications]`: CloudTrail's SNS notice of each delivered log file.
fn read_notifications(
    sink: &mut Sink,
    t: &Table,
    archive: Option<&LogArchive>,
) -> Option<Option<DeliveryNotifications>> {
    let Some(n) = t.table(sink, "notifications", &["topic", "topic_name"]) else {
        return t.raw("notifications").is_none().then_some(None);
    };
    n.reject_unknown(sink);
    let mut ok = true;
    let topic = match n.string(sink, "topic") {
        None => NotificationTopic::Member,
        Some(v) => match v.value.as_str() {
            "member" => NotificationTopic::Member,
            "audit" => {
                if archive.is_some_and(|la| la.security_account.is_none()) {
                    ok = false;
                    sink.push(
                        Diagnostic::error(v.span, "a central topic in the audit account needs the audit account")
                            .label("no audit account named")
                            .help("set `security_account_id` in [log_archive], or use `topic = \"member\"` (a topic in each account)"),
                    );
                }
                NotificationTopic::Audit
            }
            other => {
                ok = false;
                sink.push(
                    Diagnostic::error(v.span, format!("`{other}` is not a notification topic choice"))
                        .label("unknown value")
                        .help("use \"member\" (a topic in each account) or \"audit\" (one topic in the audit account)"),
                );
                NotificationTopic::Member
            }
        },
    };
    let topic_name = n
        .string(sink, "topic_name")
        .unwrap_or_else(|| Located::new("trailhead-cloudtrail-deliveries".to_string(), n.span()));
    ok &= sink.check(
        &topic_name,
        |s| rules::sns_topic_name(s),
        "for example \"trailhead-cloudtrail-deliveries\"",
    );
    ok.then_some(Some(DeliveryNotifications { topic, topic_name }))
}

const DEFAULT_LOG_GROUP_KMS_ALIAS: &str = "alias/trailhead-cloudwatch-logs";

/// `encrypt_log_group` (default on) and the alias of the key in each account.
fn read_log_group_key(
    sink: &mut Sink,
    t: &Table,
    archive_alias: Option<&str>,
) -> Option<Option<String>> {
    let encrypt = t.bool(sink, "encrypt_log_group");
    let alias = t.string(sink, "log_group_kms_alias");
    if encrypt.as_ref().is_some_and(|e| !e.value) {
        if let Some(a) = alias {
            sink.push(
                Diagnostic::error(
                    a.span,
                    "`log_group_kms_alias` is set but `encrypt_log_group = false`",
                )
                .label("no key is made without encryption")
                .help("remove `log_group_kms_alias`, or set `encrypt_log_group = true`"),
            );
            return None;
        }
        return Some(None);
    }
    let Some(alias) = alias else {
        return Some(Some(DEFAULT_LOG_GROUP_KMS_ALIAS.into()));
    };
    let mut ok = sink.check(
        &alias,
        |a| rules::kms_alias(a),
        "use a name like \"alias/trailhead-cloudwatch-logs\"",
    );
    if archive_alias == Some(alias.value.as_str()) {
        ok = false;
        sink.push(
            Diagnostic::error(alias.span.clone(), format!("`{}` is also the archive key's alias", alias.value))
                .label("same alias as [log_archive] kms_alias")
                .help("in the log-archive account both keys would answer to one alias; choose another name"),
        );
    }
    ok.then_some(Some(alias.value))
}

/// A setting the spec may choose but every benchmark fails: said at once, not first in verify.
fn warn_short_of_benchmark(sink: &mut Sink, key: &str, span: std::ops::Range<usize>) {
    let (what, control) = match key {
        "multi_region" => (
            "a single-region trail misses every other region's activity",
            "CIS 3.1 / Security Hub CloudTrail.1 want a multi-region trail",
        ),
        "log_file_validation" => (
            "without log file validation, a modified or deleted log cannot be proven",
            "CIS 3.2 / Security Hub CloudTrail.4 want it on",
        ),
        "include_global_service_events" => (
            "IAM, STS and CloudFront events are global: this trail would not record them",
            "CIS 3.1 wants them recorded",
        ),
        _ => (
            "a trail that records only read or only write management events",
            "CIS 3.1 / Security Hub CloudTrail.1 want All",
        ),
    };
    sink.push(
        Diagnostic::warning(span, what)
            .label("falls short of the benchmark")
            .help(format!(
                "{control}; verify will fail this control (validate --strict makes this an error)"
            )),
    );
}

fn read_write_type(sink: &mut Sink, v: &Located<String>, why_all: &str) -> Option<ReadWriteType> {
    let kind = ReadWriteType::parse(&v.value);
    if kind.is_none() {
        sink.push(
            Diagnostic::error(
                v.span.clone(),
                format!("`{}` is not a CloudTrail ReadWriteType", v.value),
            )
            .label("unknown value")
            .help(format!(
                "use \"All\" ({why_all}), \"ReadOnly\" or \"WriteOnly\""
            )),
        );
    }
    kind
}

/// `[trail.data_events]`: S3 object and Lambda events, recorded through advanced selectors.
fn read_data_events(
    sink: &mut Sink,
    t: &Table,
    archive: Option<(&Org, &LogArchive)>,
) -> Option<DataEvents> {
    let mut events = DataEvents::default();
    let Some(d) = t.table(sink, "data_events", &["s3", "s3_bucket_arns", "lambda"]) else {
        return t.raw("data_events").is_none().then_some(events);
    };
    d.reject_unknown(sink);
    let mut ok = true;
    if let Some(v) = d.string(sink, "s3") {
        events.s3 = read_write_type(sink, &v, "CIS object-level logging for read and write");
        ok &= events.s3.is_some();
    }
    if let Some(v) = d.bool(sink, "lambda") {
        events.lambda = v.value;
    }
    let Some(arns) = d.strings(sink, "s3_bucket_arns") else {
        return ok.then_some(events);
    };
    if events.s3.is_none() && d.raw("s3").is_none() {
        sink.push(
            Diagnostic::error(d.span(), "`s3_bucket_arns` is set but `s3` is not")
                .label("no S3 data events are recorded without `s3`")
                .help("add `s3 = \"WriteOnly\"` (or \"ReadOnly\", \"All\") to [trail.data_events], or remove `s3_bucket_arns`"),
        );
        ok = false;
    }
    if arns.len() > rules::MAX_DATA_EVENT_ARNS {
        sink.push(
            Diagnostic::error(arns[0].span.clone(), format!("{} bucket ARN prefixes listed; at most {} fit beside the other selector values", arns.len(), rules::MAX_DATA_EVENT_ARNS))
                .label("too many")
                .help("a trail holds at most 500 values across all its advanced event selectors; list shorter, shared prefixes"),
        );
        ok = false;
    }
    let archive_arn = archive.map(|(org, la)| rules::archive_object_arn_prefix(org, la));
    for arn in &arns {
        ok &= sink.check(
            arn,
            |a| rules::s3_data_event_arn(a),
            "for example \"arn:aws:s3:::payments-data/\" (a bucket and a slash) or \"arn:aws:s3:::payments-data/invoices/\"",
        );
        if let Some(archive_arn) = &archive_arn {
            ok &= sink.check(
                arn,
                |a| rules::outside_archive(a, archive_arn),
                "the archive bucket is always left out of data events: every log delivery would be a data event about itself, a loop that grows without end; list a narrower prefix",
            );
        }
    }
    events.s3_bucket_arns = arns.into_iter().map(|a| a.value).collect();
    ok.then_some(events)
}

/// `insights = ["ApiCallRateInsight", "ApiErrorRateInsight"]`, each needing the management
/// events it analyses.
fn read_insights(
    sink: &mut Sink,
    t: &Table,
    management: ReadWriteType,
) -> Option<Vec<InsightType>> {
    let mut out = Vec::new();
    let Some(list) = t.strings(sink, "insights") else {
        return t.raw("insights").is_none().then_some(out);
    };
    let mut ok = true;
    for v in list {
        let Some(kind) = InsightType::parse(&v.value) else {
            ok = false;
            sink.push(
                Diagnostic::error(
                    v.span,
                    format!("`{}` is not a CloudTrail Insights type", v.value),
                )
                .label("unknown Insights type")
                .help("use \"ApiCallRateInsight\" and/or \"ApiErrorRateInsight\""),
            );
            continue;
        };
        if out.contains(&kind) {
            ok = false;
            sink.push(
                Diagnostic::error(v.span, format!("`{}` is listed twice", v.value))
                    .label("duplicate")
                    .help("list each Insights type once"),
            );
            continue;
        }
        if kind == InsightType::ApiCallRate && management == ReadWriteType::ReadOnly {
            ok = false;
            sink.push(
                Diagnostic::error(v.span, "ApiCallRateInsight analyses write management events, but this trail records only read events")
                    .label("needs write management events")
                    .help("set `management_events = \"All\"` (or \"WriteOnly\"), or use only \"ApiErrorRateInsight\""),
            );
            continue;
        }
        out.push(kind);
    }
    ok.then_some(out)
}

fn read_alarms(root: &Table, sink: &mut Sink) -> Option<Alarms> {
    const KEYS: &[&str] = &[
        "benchmark",
        "exclude",
        "sns_topic_name",
        "emails",
        "extended",
    ];
    let mut alarms = Alarms {
        benchmark: Benchmark::Cis30,
        exclude: Vec::new(),
        sns_topic_name: "trailhead-cis-alarms".into(),
        emails: Vec::new(),
        extended: false,
    };
    let Some(t) = root.table(sink, "alarms", KEYS) else {
        return root.raw("alarms").is_none().then_some(alarms);
    };
    t.reject_unknown(sink);
    let mut ok = true;
    if let Some(v) = t.string(sink, "benchmark") {
        match Benchmark::parse(&v.value) {
            Some(b) => {
                alarms.benchmark = b;
                if b == Benchmark::Cis14 {
                    sink.push(
                        Diagnostic::warning(v.span.clone(), "CIS v1.3–v1.5's 4.1 pattern ORs two `!=` terms, so it matches nearly every event: its alarm fires constantly")
                            .label("a noisy alarm")
                            .help("prefer \"cis-3.0\" (or \"securityhub\"), or exclude \"4.1\""),
                    );
                }
            }
            None => {
                ok = false;
                let ids: Vec<&str> = Benchmark::ALL.iter().map(|b| b.id()).collect();
                let mut d = Diagnostic::error(v.span, format!("unknown benchmark `{}`", v.value))
                    .label("unknown benchmark");
                d = match rules::did_you_mean(&v.value, ids.iter().copied()) {
                    _ if v.value == Benchmark::Extended.id() => d.help(format!(
                        "the extended set is deployed beside a benchmark: keep `benchmark` one of {} and set `extended = true`",
                        ids.join(", ")
                    )),
                    Some(s) => d.help(format!("did you mean `{s}`? (known: {})", ids.join(", "))),
                    None => d.help(format!("known benchmarks: {}", ids.join(", "))),
                };
                sink.push(d);
            }
        }
    }
    if ok && let Some(list) = t.strings(sink, "exclude") {
        let ids = alarms.benchmark.control_ids();
        for id in list {
            if ids.contains(&id.value) {
                alarms.exclude.push(id.value);
                continue;
            }
            ok = false;
            let mut d = Diagnostic::error(
                id.span,
                format!("`{}` is not a control of {}", id.value, alarms.benchmark),
            )
            .label("unknown control id");
            d = match rules::did_you_mean(&id.value, ids.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!(
                    "{} has controls {} to {}",
                    alarms.benchmark,
                    ids[0],
                    ids[ids.len() - 1]
                )),
            };
            sink.push(d);
        }
    }
    if let Some(v) = t.bool(sink, "extended") {
        alarms.extended = v.value;
    }
    if let Some(v) = t.string(sink, "sns_topic_name") {
        ok &= sink.check(
            &v,
            |s| rules::sns_topic_name(s),
            "for example \"trailhead-cis-alarms\"",
        );
        alarms.sns_topic_name = v.value;
    }
    if let Some(list) = t.strings(sink, "emails") {
        for e in list {
            ok &= sink.check(
                &e,
                |s| rules::email(s),
                "each entry is one address that receives the alarm notifications",
            );
            alarms.emails.push(e.value);
        }
    }
    ok.then_some(alarms)
}

fn read_accounts(root: &Table, sink: &mut Sink) -> Vec<Account> {
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

fn read_discover(root: &Table, sink: &mut Sink) -> Option<Discover> {
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

fn read_waves(root: &Table, sink: &mut Sink) -> Vec<Wave> {
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

fn wave_member(sink: &mut Sink, m: Located<String>) -> Option<Located<WaveMember>> {
    let member = if let Some(ou) = m.value.strip_prefix("ou:") {
        WaveMember::Ou(ou.to_string())
    } else if !m.value.is_empty() && m.value.bytes().all(|b| b.is_ascii_digit()) {
        WaveMember::AccountId(account_id(sink, &m)?.value)
    } else {
        WaveMember::AccountName(m.value.clone())
    };
    Some(Located::new(member, m.span))
}

fn read_tolerance(sink: &mut Sink, t: &Table) -> Tolerance {
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

fn read_rollout(root: &Table, sink: &mut Sink) -> Option<RolloutSettings> {
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
