//! `[trail]`: the trail, its CloudWatch Logs group and key, delivery notifications, data
//! events and Insights.

use crate::reader::{Sink, Table};
use crate::rules;
use crate::{
    DataEvents, DeliveryNotifications, Diagnostic, InsightType, Located, LogArchive,
    NotificationTopic, Org, OrganizationTrailMode, ReadWriteType, Trail,
};

pub(super) fn read_trail(
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
    let mut trail = default_trail();
    let Some(t) = root.table(sink, "trail", KEYS) else {
        return root.raw("trail").is_none().then_some(trail);
    };
    t.reject_unknown(sink);
    let mut ok = read_recording(sink, &t, &mut trail);
    ok &= read_log_group(sink, &t, &mut trail, archive.map(|(_, la)| la));
    ok &= read_organization_trail(sink, &t, &mut trail);
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

/// The trail a spec without `[trail]` gets: everything the benchmarks ask for.
fn default_trail() -> Trail {
    Trail {
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
    }
}

/// The name and what the trail records: regions, global events, validation, management events.
fn read_recording(sink: &mut Sink, t: &Table, trail: &mut Trail) -> bool {
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
    ok
}

/// The CloudWatch Logs group the trail delivers to: its name, retention and key.
fn read_log_group(
    sink: &mut Sink,
    t: &Table,
    trail: &mut Trail,
    archive: Option<&LogArchive>,
) -> bool {
    let mut ok = true;
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
    match read_log_group_key(sink, t, archive.map(|la| la.kms_alias.as_str())) {
        Some(alias) => trail.log_group_kms_alias = alias,
        None => ok = false,
    }
    ok
}

/// What to do where an organization trail already records the accounts.
fn read_organization_trail(sink: &mut Sink, t: &Table, trail: &mut Trail) -> bool {
    let Some(v) = t.string(sink, "organization_trail") else {
        return true;
    };
    match OrganizationTrailMode::parse(&v.value) {
        Some(mode) => {
            trail.organization_trail = mode;
            true
        }
        None => {
            sink.push(
                Diagnostic::error(v.span, format!("`{}` is not a choice for an existing organization trail", v.value))
                    .label("unknown value")
                    .help("use \"keep-per-account\" (per-account trails anyway: their CIS alarms need a log group in each account) or \"skip-covered\" (leave out the accounts an organization trail records)"),
            );
            false
        }
    }
}

/// `[trail.notifications]`: CloudTrail's SNS notice of each delivered log file.
pub(super) fn read_notifications(
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

pub(super) const DEFAULT_LOG_GROUP_KMS_ALIAS: &str = "alias/trailhead-cloudwatch-logs";

/// `encrypt_log_group` (default on) and the alias of the key in each account.
pub(super) fn read_log_group_key(
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
pub(super) fn warn_short_of_benchmark(sink: &mut Sink, key: &str, span: std::ops::Range<usize>) {
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

pub(super) fn read_write_type(
    sink: &mut Sink,
    v: &Located<String>,
    why_all: &str,
) -> Option<ReadWriteType> {
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
pub(super) fn read_data_events(
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
pub(super) fn read_insights(
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
