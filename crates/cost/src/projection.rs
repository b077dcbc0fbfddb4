//! The monthly cost of what a spec deploys, component by component, from a month of volumes.
//! Each line is one formula of docs/cost.md: a volume, a unit price from the table, a figure.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::prices::PriceTable;
use crate::volume::Volume;

/// AWS prices a month as 730 hours.
pub const MONTH_DAYS: f64 = 730.0 / 24.0;
const GB: f64 = 1_000_000_000.0;
const TB: f64 = 1_000_000_000_000.0;
/// What one S3 server access log record weighs, about (one line per request to the archive).
const ACCESS_LOG_RECORD_BYTES: f64 = 400.0;

/// What the spec deploys, as far as the bill is concerned.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Deployment {
    /// Accounts with a trail of trailhead's.
    pub accounts: u64,
    pub regions: u64,
    /// Accounts whose trailhead trail is a second copy of their management events (an
    /// organization trail made outside trailhead records them too).
    pub second_copy_accounts: BTreeSet<String>,
    pub data_events: bool,
    pub insights_call_rate: bool,
    pub insights_error_rate: bool,
    pub log_file_validation: bool,
    /// Days the archive keeps a log file; None: kept for good (MFA Delete).
    pub archive_retention_days: Option<u32>,
    pub log_group_retention_days: u32,
    pub alarms_per_account: u64,
    /// Customer managed keys: the archive's, and one per account for the log group when set.
    pub kms_keys: u64,
}

/// One line of the projection.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub component: &'static str,
    pub item: String,
    pub volume: f64,
    pub unit: &'static str,
    /// USD per `per` units.
    pub unit_price: f64,
    pub per: f64,
    pub source: &'static str,
    pub monthly_usd: f64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Projection {
    pub lines: Vec<Line>,
    pub total_usd: f64,
    /// What one Athena query costs (not in the monthly total: it depends on how often one runs).
    pub per_query: Vec<Line>,
    pub prices: PriceTable,
}

impl Projection {
    /// Each component's monthly figure, largest first.
    pub fn components(&self) -> Vec<(&'static str, f64)> {
        let mut by: BTreeMap<&'static str, f64> = BTreeMap::new();
        for l in &self.lines {
            *by.entry(l.component).or_default() += l.monthly_usd;
        }
        let mut out: Vec<(&'static str, f64)> = by.into_iter().collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

struct Lines<'a> {
    prices: &'a PriceTable,
    out: Vec<Line>,
}

impl Lines<'_> {
    fn add(&mut self, component: &'static str, item: &str, id: &str, volume: f64) -> &mut Line {
        let p = self.prices.get(id);
        // `+ 0.0` turns the -0.0 of an empty sum into 0.0, which prints without a sign.
        let volume = volume + 0.0;
        self.out.push(Line {
            component,
            item: item.to_string(),
            volume,
            unit: p.unit,
            unit_price: p.usd,
            per: p.per,
            source: p.source,
            monthly_usd: p.of(volume) + 0.0,
            note: None,
        });
        let last = self.out.len() - 1;
        &mut self.out[last]
    }
}

/// The monthly projection of `d` over a month of `monthly` volumes per account.
pub fn project(
    d: &Deployment,
    monthly: &BTreeMap<String, Volume>,
    prices: &PriceTable,
) -> Projection {
    let mut total = Volume::default();
    for v in monthly.values() {
        total += *v;
    }
    let mut lines = Lines {
        prices,
        out: Vec::new(),
    };
    cloudtrail(&mut lines, d, monthly, &total);
    s3(&mut lines, d, &total);
    kms(&mut lines, d, &total);
    logs(&mut lines, d, &total);
    let alarms = (d.accounts * d.alarms_per_account) as f64;
    lines.add("CloudWatch", "metric alarms", "cloudwatch.alarm", alarms);
    lines
        .add("SNS", "alarm notifications by email", "sns.email", 0.0)
        .note = Some("not measured: one email per alarm state change per subscriber; the first 1,000 a month are free".into());
    let per_query = athena(prices, d, &total);
    let total_usd = lines.out.iter().map(|l| l.monthly_usd).sum();
    Projection {
        lines: lines.out,
        total_usd,
        per_query,
        prices: prices.clone(),
    }
}

fn cloudtrail(
    lines: &mut Lines,
    d: &Deployment,
    monthly: &BTreeMap<String, Volume>,
    total: &Volume,
) {
    let second: f64 = monthly
        .iter()
        .filter(|(a, _)| d.second_copy_accounts.contains(*a))
        .map(|(_, v)| v.management())
        .sum();
    lines
        .add(
            "CloudTrail",
            "management events, second copy",
            "cloudtrail.management_copy",
            second,
        )
        .note = Some(format!(
        "where an organization trail made outside trailhead records them too; the first copy ({:.0} events a month here) is free in each region",
        total.management()
    ));
    let data = if d.data_events {
        total.data_events
    } else {
        0.0
    };
    lines.add("CloudTrail", "data events", "cloudtrail.data_events", data);
    let analyzed = insights_analyzed(d, total);
    lines.add(
        "CloudTrail",
        "Insights: events analyzed",
        "cloudtrail.insights",
        analyzed,
    );
}

/// Insights analyzes write management events for the API call rate, and every management event
/// for the API error rate (a write event twice when both are on).
pub fn insights_analyzed(d: &Deployment, v: &Volume) -> f64 {
    let call_rate = if d.insights_call_rate {
        v.management_write
    } else {
        0.0
    };
    let error_rate = if d.insights_error_rate {
        v.management()
    } else {
        0.0
    };
    call_rate + error_rate
}

/// Digest files: one an hour per account and region when validation is on.
fn digest_files(d: &Deployment) -> f64 {
    if d.log_file_validation {
        (d.accounts * d.regions) as f64 * 730.0
    } else {
        0.0
    }
}

fn s3(lines: &mut Lines, d: &Deployment, total: &Volume) {
    let gb_month = total.bytes / GB;
    let (stored, note) = match d.archive_retention_days {
        Some(days) => (
            gb_month * f64::from(days) / MONTH_DAYS,
            format!("steady state: {days} days of log files kept"),
        ),
        None => (
            gb_month * 12.0,
            format!(
                "after a year: kept for good (MFA Delete), it grows by {gb_month:.3} GB every month"
            ),
        ),
    };
    lines
        .add("S3", "archive storage", "s3.storage", stored)
        .note = Some(note);
    let puts = total.files + digest_files(d);
    lines.add(
        "S3",
        "archive PUT requests (log and digest files)",
        "s3.put",
        puts,
    );
    let access_gb = puts * ACCESS_LOG_RECORD_BYTES / GB * 12.0;
    lines
        .add(
            "S3",
            "server access logs of the archive",
            "s3.storage",
            access_gb,
        )
        .note = Some("about 400 bytes per request, after a year".into());
}

fn kms(lines: &mut Lines, d: &Deployment, total: &Volume) {
    lines.add("KMS", "customer managed keys", "kms.key", d.kms_keys as f64);
    lines
        .add("KMS", "requests (a data key per log file)", "kms.requests", total.files)
        .note = Some("an upper bound: the archive bucket's S3 Bucket Key cuts S3's own SSE-KMS requests, and whether CloudTrail's writes go through it is not documented, so it is not subtracted; reading the archive (search, validate) adds a Decrypt per file read; 20,000 requests a month are free per account".into());
}

fn logs(lines: &mut Lines, d: &Deployment, total: &Volume) {
    lines.add(
        "CloudWatch Logs",
        "ingestion",
        "logs.ingestion",
        total.raw_bytes / GB,
    );
    let stored = total.bytes / GB * f64::from(d.log_group_retention_days) / MONTH_DAYS;
    lines
        .add(
            "CloudWatch Logs",
            "storage at the retention",
            "logs.storage",
            stored,
        )
        .note = Some(format!(
        "{} days kept; compressed about as the archive's gzip files",
        d.log_group_retention_days
    ));
}

fn athena(prices: &PriceTable, d: &Deployment, total: &Volume) -> Vec<Line> {
    let mut lines = Lines {
        prices,
        out: Vec::new(),
    };
    let per_day = total.bytes / MONTH_DAYS;
    lines
        .add("Athena", "a search over 7 days of the whole org", "athena.scan", per_day * 7.0 / TB)
        .note = Some("partition projection narrows a query to its accounts, regions and days; 10 MB minimum per query".into());
    let one = if d.accounts > 0 {
        per_day / d.accounts as f64
    } else {
        0.0
    };
    lines.add(
        "Athena",
        "a search over 1 day of one account",
        "athena.scan",
        one / TB,
    );
    lines.out
}

/// What each account's own volume costs a month (its events, files and bytes, and its
/// alarms), largest first: the top accounts of a projection.
pub fn by_account(
    d: &Deployment,
    monthly: &BTreeMap<String, Volume>,
    prices: &PriceTable,
) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = monthly
        .iter()
        .map(|(account, v)| {
            let one = Deployment {
                accounts: 1,
                kms_keys: 0,
                ..d.clone()
            };
            let single = BTreeMap::from([(account.clone(), *v)]);
            let p = project(&one, &single, prices);
            let digests = prices.get("s3.put").of(digest_files(&one));
            (account.clone(), p.total_usd - digests)
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(read: f64, write: f64, data: f64) -> Volume {
        Volume {
            management_read: read,
            management_write: write,
            data_events: data,
            ..Volume::default()
        }
    }

    fn line<'a>(p: &'a Projection, item: &str) -> &'a Line {
        p.lines
            .iter()
            .find(|l| l.item.starts_with(item))
            .unwrap_or_else(|| panic!("no line {item}"))
    }

    #[test]
    fn the_cloudtrail_pricing_pages_example_second_copy_and_data_events() {
        // 150,000 management events delivered to two trails, 2M data events to one: $3 + $2.
        let d = Deployment {
            accounts: 1,
            second_copy_accounts: ["a".to_string()].into(),
            data_events: true,
            ..Deployment::default()
        };
        let monthly = BTreeMap::from([("a".to_string(), volume(100_000.0, 50_000.0, 2_000_000.0))]);
        let p = project(&d, &monthly, &PriceTable::pinned("us-east-1"));
        assert!((line(&p, "management events, second").monthly_usd - 3.0).abs() < 1e-9);
        assert!((line(&p, "data events").monthly_usd - 2.0).abs() < 1e-9);
        // Without a second copy, and without data events on, neither is charged.
        let alone = Deployment {
            accounts: 1,
            ..Deployment::default()
        };
        let p = project(&alone, &monthly, &PriceTable::pinned("us-east-1"));
        assert_eq!(line(&p, "management events, second").monthly_usd, 0.0);
        assert_eq!(line(&p, "data events").monthly_usd, 0.0);
    }

    #[test]
    fn the_insights_costs_pages_example() {
        // 300,000 management events, 270,000 read and 30,000 write, both Insights types: the
        // writes are analyzed twice, 330,000 events, $1.155 at $0.35 per 100,000.
        let d = Deployment {
            accounts: 1,
            insights_call_rate: true,
            insights_error_rate: true,
            ..Deployment::default()
        };
        let v = volume(270_000.0, 30_000.0, 0.0);
        assert_eq!(insights_analyzed(&d, &v), 330_000.0);
        let p = project(
            &d,
            &BTreeMap::from([("a".to_string(), v)]),
            &PriceTable::pinned("us-east-1"),
        );
        assert!((line(&p, "Insights").monthly_usd - 1.155).abs() < 1e-9);
        let call_rate_only = Deployment {
            insights_error_rate: false,
            ..d
        };
        assert_eq!(insights_analyzed(&call_rate_only, &v), 30_000.0);
    }

    #[test]
    fn storage_logs_keys_and_alarms_follow_their_formulas() {
        let d = Deployment {
            accounts: 10,
            regions: 2,
            log_file_validation: true,
            archive_retention_days: Some(365),
            log_group_retention_days: 365,
            alarms_per_account: 19,
            kms_keys: 1,
            ..Deployment::default()
        };
        let v = Volume {
            files: 10_000.0,
            bytes: 10.0 * GB,
            raw_bytes: 80.0 * GB,
            ..Volume::default()
        };
        let p = project(
            &d,
            &BTreeMap::from([("a".to_string(), v)]),
            &PriceTable::pinned("us-east-1"),
        );
        // 10 GB a month kept 365 days: 120 GB stored, $2.76 at $0.023.
        let stored = line(&p, "archive storage");
        assert!((stored.volume - 120.0).abs() < 1e-9, "{}", stored.volume);
        assert!((stored.monthly_usd - 2.76).abs() < 1e-9);
        // 10,000 log files and 10 × 2 × 730 digests: 24,600 PUTs, $0.123.
        assert!((line(&p, "archive PUT").monthly_usd - 0.123).abs() < 1e-9);
        assert!((line(&p, "ingestion").monthly_usd - 40.0).abs() < 1e-9);
        assert!((line(&p, "storage at the retention").monthly_usd - 3.6).abs() < 1e-9);
        assert!((line(&p, "metric alarms").monthly_usd - 19.0).abs() < 1e-9);
        assert!((line(&p, "customer managed keys").monthly_usd - 1.0).abs() < 1e-9);
        assert!((line(&p, "requests").monthly_usd - 0.03).abs() < 1e-9);
        assert_eq!(p.components()[0].0, "CloudWatch Logs");
        let sum: f64 = p.lines.iter().map(|l| l.monthly_usd).sum();
        assert!((p.total_usd - sum).abs() < 1e-9);
        // Kept for good: a year's worth, with the growth said.
        let forever = Deployment {
            archive_retention_days: None,
            ..d
        };
        let p = project(
            &forever,
            &BTreeMap::from([("a".to_string(), v)]),
            &PriceTable::pinned("us-east-1"),
        );
        let stored = line(&p, "archive storage");
        assert!((stored.volume - 120.0).abs() < 1e-9);
        assert!(
            stored
                .note
                .as_deref()
                .is_some_and(|n| n.contains("grows by 10.000 GB"))
        );
    }

    #[test]
    fn every_price_the_projection_uses_is_pinned() {
        let p = project(
            &Deployment::default(),
            &BTreeMap::new(),
            &PriceTable::pinned("us-east-1"),
        );
        for l in p.lines.iter().chain(&p.per_query) {
            assert!(!l.source.is_empty() && l.per > 0.0, "{}", l.item);
        }
    }

    #[test]
    fn top_accounts_are_ranked_by_their_own_volume() {
        let d = Deployment {
            accounts: 2,
            data_events: true,
            ..Deployment::default()
        };
        let monthly = BTreeMap::from([
            ("small".to_string(), volume(0.0, 0.0, 100_000.0)),
            ("big".to_string(), volume(0.0, 0.0, 1_000_000.0)),
        ]);
        let ranked = by_account(&d, &monthly, &PriceTable::pinned("us-east-1"));
        assert_eq!(ranked[0].0, "big");
        assert!((ranked[0].1 - 1.0).abs() < 1e-9, "{}", ranked[0].1);
        assert!((ranked[1].1 - 0.1).abs() < 1e-9);
    }
}
