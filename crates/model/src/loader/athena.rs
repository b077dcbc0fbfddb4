//! `[athena]`: the Glue table, the workgroup and the query limits; every key has a default.

use crate::Diagnostic;
use crate::athena::Athena;
use crate::reader::{Sink, Table};
use crate::spec::{Org, expand_template};

const KEYS: &[&str] = &[
    "database",
    "table",
    "workgroup",
    "bytes_scanned_cutoff_gb",
    "results_retention_days",
    "start_date",
    "local_threshold_mb",
];

/// Glue names: lower-case letters, digits and underscores.
fn glue_name(org: &str) -> String {
    let cleaned: String = org
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("trailhead_{cleaned}")
}

pub(crate) fn read_athena(
    root: &Table,
    sink: &mut Sink,
    org: Option<&Org>,
) -> Option<Option<Athena>> {
    let Some(t) = root.table(sink, "athena", KEYS) else {
        return root.raw("athena").is_none().then_some(None);
    };
    t.reject_unknown(sink);
    let mut ok = true;
    let default_database = org
        .map(|o| glue_name(&expand_template("{org}", &o.name, "", "")))
        .unwrap_or_default();
    let database = glue_name_of(&t, sink, "database", default_database, &mut ok);
    let table = glue_name_of(&t, sink, "table", "cloudtrail".into(), &mut ok);
    let workgroup = match t.string(sink, "workgroup") {
        Some(v) => {
            ok &= sink.check(&v, |s| workgroup_name(s), "for example \"trailhead\"");
            v.value
        }
        None => "trailhead".into(),
    };
    // Athena's smallest cutoff is 10 MB; 100 GB is $0.50 of scanning at $5 per TB.
    let bytes_scanned_cutoff_gb = number(
        &t,
        sink,
        ("bytes_scanned_cutoff_gb", 100, 1..=1_000_000),
        "a query that would scan more is cancelled; 100 (GB) costs at most about $0.50",
        &mut ok,
    );
    let results_retention_days = number(
        &t,
        sink,
        ("results_retention_days", 30, 1..=3650),
        "query results expire after this many days",
        &mut ok,
    );
    let local_threshold_mb = number(
        &t,
        sink,
        ("local_threshold_mb", 2048, 0..=10_000_000),
        "`logs search --engine auto` searches locally below this size",
        &mut ok,
    );
    let start_day = match t.string(sink, "start_date") {
        Some(v) => {
            ok &= sink.check(
                &v,
                |s| start_date(s),
                "the day the archive starts, for example \"2026-01-01\"",
            );
            v.value.replace('-', "/")
        }
        // CloudTrail's first day: nothing can be older, and projection lists nothing up front.
        None => "2013/11/01".into(),
    };
    ok.then_some(Some(Athena {
        database,
        table,
        workgroup,
        bytes_scanned_cutoff_gb,
        results_retention_days,
        start_day,
        local_threshold_mb,
    }))
}

/// A Glue database or table name, or its default.
fn glue_name_of(t: &Table, sink: &mut Sink, key: &str, default: String, ok: &mut bool) -> String {
    let Some(v) = t.string(sink, key) else {
        return default;
    };
    *ok &= sink.check(&v, |s| glue_identifier(s), "for example \"trailhead_acme\"");
    v.value
}

/// A whole number within its range, or its default; `(key, default, range)`.
fn number(
    t: &Table,
    sink: &mut Sink,
    (key, default, range): (&str, u32, std::ops::RangeInclusive<i64>),
    help: &str,
    ok: &mut bool,
) -> u32 {
    let Some(v) = t.int(sink, key) else {
        return default;
    };
    if !range.contains(&v.value) {
        *ok = false;
        sink.push(
            Diagnostic::error(
                v.span.clone(),
                format!(
                    "`{key}` must be between {} and {}",
                    range.start(),
                    range.end()
                ),
            )
            .label("out of range")
            .help(help.to_string()),
        );
        return default;
    }
    u32::try_from(v.value).unwrap_or(default)
}

fn glue_identifier(s: &str) -> Result<(), String> {
    let good = !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if good {
        Ok(())
    } else {
        Err("Glue database and table names take 1 to 255 lower-case letters, digits and underscores".into())
    }
}

fn workgroup_name(s: &str) -> Result<(), String> {
    let good = !s.is_empty()
        && s.chars().count() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if good {
        Ok(())
    } else {
        Err("an Athena workgroup name takes 1 to 128 letters, digits, `.`, `_` and `-`".into())
    }
}

fn start_date(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split('-').collect();
    let valid = matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && m.len() == 2 && d.len() == 2
            && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
            && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
            && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)));
    if valid {
        Ok(())
    } else {
        Err(format!("`{s}` is not a date in the form YYYY-MM-DD"))
    }
}
