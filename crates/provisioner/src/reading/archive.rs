//! Reading the log archive: the CloudTrail objects of a time window, fetched in parallel,
//! decompressed, and searched with a filter pattern, without CloudWatch Logs.

use std::ops::ControlFlow;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use tokio::sync::Semaphore;
use trailhead_alarms::athena::table::Scope;
use trailhead_alarms::pattern::{Event, Pattern};
use trailhead_alarms::projection::Projection;
use trailhead_alarms::replay::{decode, raw_records};

use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;

#[derive(Debug, Clone)]
pub struct Window {
    pub since: Timestamp,
    pub until: Timestamp,
}

impl Window {
    /// UTC days touched by the window, oldest first.
    pub fn days(&self) -> Vec<Date> {
        let first = TimeZone::UTC.to_datetime(self.since).date();
        let last = TimeZone::UTC.to_datetime(self.until).date();
        let mut days = Vec::new();
        let mut d = first;
        while d <= last && days.len() < 3660 {
            days.push(d);
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
        days
    }

    /// The window cut to whole seconds, as CloudTrail's event times are: every engine then
    /// compares the same text.
    pub fn whole_seconds(&self) -> Window {
        let floor = |t: Timestamp| Timestamp::from_second(t.as_second()).unwrap_or(t);
        Window {
            since: floor(self.since),
            until: floor(self.until),
        }
    }

    /// What an Athena query over this window may read.
    pub fn scope(&self, accounts: &[String], regions: &[String]) -> Scope {
        let days = self.days();
        let day = |d: Option<&Date>| {
            d.map(|d| format!("{:04}/{:02}/{:02}", d.year(), d.month(), d.day()))
                .unwrap_or_default()
        };
        let second = |t: Timestamp| {
            TimeZone::UTC
                .to_datetime(t)
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        };
        Scope {
            accounts: accounts.to_vec(),
            regions: regions.to_vec(),
            first_day: day(days.first()),
            last_day: day(days.last()),
            since: second(self.since),
            until: second(self.until),
        }
    }

    pub fn contains(&self, event_time: &str) -> bool {
        event_time
            .parse::<Timestamp>()
            .is_ok_and(|t| t >= self.since && t <= self.until)
    }
}

/// `2026-11-01T10:00:00Z`, `2026-11-01` (midnight UTC), or a span back from now: `90m`, `24h`, `7d`.
pub fn parse_time(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = s.parse::<Date>() {
        return TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .map_err(|e| e.to_string());
    }
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| {
        format!("`{s}` is not a time: use 2026-11-01T10:00:00Z, 2026-11-01, or 90m / 24h / 7d")
    })?;
    let seconds = match unit {
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("`{s}`: the unit must be m, h or d")),
    };
    now.checked_sub(jiff::SignedDuration::from_secs(seconds))
        .map_err(|e| e.to_string())
}

/// The prefix CloudTrail writes one account's logs of one region and day under.
pub fn day_prefix(account: &str, region: &str, day: Date) -> String {
    format!(
        "AWSLogs/{account}/CloudTrail/{region}/{:04}/{:02}/{:02}/",
        day.year(),
        day.month(),
        day.day()
    )
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SearchProgress {
    pub listed: usize,
    pub fetched: usize,
    pub records: u64,
    pub matched: u64,
}

/// The regions under which an account has objects of `kind` (`CloudTrail` for log files,
/// `CloudTrail-Digest` for digests) in the archive, whatever the spec governs: a multi-region
/// trail records every enabled region, and global services' events land under `us-east-1`.
pub async fn regions_in_archive(
    s3: &aws_sdk_s3::Client,
    site: &CallSite,
    bucket: &str,
    account: &str,
    kind: &str,
) -> Result<Vec<String>, ProvisionError> {
    let prefix = format!("AWSLogs/{account}/{kind}/");
    let mut regions = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(&prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.error("ListObjectsV2", e))?;
        regions.extend(page.common_prefixes().iter().filter_map(|p| {
            let region = p.prefix()?.strip_prefix(&prefix)?.trim_end_matches('/');
            (!region.is_empty()).then(|| region.to_string())
        }));
    }
    regions.sort();
    Ok(regions)
}

/// Every log object (key, size) of these accounts and regions on the window's days. No regions:
/// every region each account has logs under ([`regions_in_archive`]).
pub async fn list_window(
    s3: &aws_sdk_s3::Client,
    site: &CallSite,
    bucket: &str,
    accounts: &[String],
    regions: &[String],
    window: &Window,
) -> Result<Vec<(String, i64)>, ProvisionError> {
    let mut objects = Vec::new();
    for account in accounts {
        let found;
        let regions = if regions.is_empty() {
            found = regions_in_archive(s3, site, bucket, account, "CloudTrail").await?;
            &found
        } else {
            regions
        };
        for region in regions {
            for day in window.days() {
                let prefix = day_prefix(account, region, day);
                let mut pages = s3
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(&prefix)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| site.error("ListObjectsV2", e))?;
                    objects.extend(
                        page.contents().iter().filter_map(|o| {
                            o.key().map(|k| (k.to_string(), o.size().unwrap_or(0)))
                        }),
                    );
                }
            }
        }
    }
    Ok(objects)
}

/// Every object under `prefix`, with its last-modified time (epoch seconds).
pub async fn list_window_prefix(
    s3: &aws_sdk_s3::Client,
    site: &CallSite,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<(String, i64)>, ProvisionError> {
    let mut objects = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.error("ListObjectsV2", e))?;
        objects.extend(page.contents().iter().filter_map(|o| {
            let modified = o.last_modified().map(|t| t.secs()).unwrap_or(0);
            o.key().map(|k| (k.to_string(), modified))
        }));
    }
    Ok(objects)
}

/// One object's bytes.
pub async fn fetch_object(
    s3: &aws_sdk_s3::Client,
    site: &CallSite,
    bucket: &str,
    key: &str,
) -> Result<aws_smithy_types::byte_stream::AggregatedBytes, ProvisionError> {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| site.error("GetObject", e))?;
    object
        .body
        .collect()
        .await
        .map_err(|e| ProvisionError::Config(format!("reading s3://{bucket}/{key}: {e}")))
}

/// One CloudTrail log object's text, decompressed.
pub async fn fetch_log(
    s3: &aws_sdk_s3::Client,
    site: &CallSite,
    bucket: &str,
    key: &str,
) -> Result<String, ProvisionError> {
    let bytes = fetch_object(s3, site, bucket, key).await?;
    decode(&bytes.into_bytes()).map_err(|e| {
        ProvisionError::Config(format!("s3://{bucket}/{key} is not a CloudTrail log: {e}"))
    })
}

/// Fetches every log object of the window into `dir` (one file per object), `concurrency` at
/// a time; returns the files written.
pub async fn download_window(
    archive: &AccountSession,
    bucket: &str,
    accounts: &[String],
    regions: &[String],
    window: &Window,
    dir: &std::path::Path,
    concurrency: usize,
) -> Result<Vec<std::path::PathBuf>, ProvisionError> {
    let s3 = archive.s3();
    let site = CallSite::new(&archive.account_id, &archive.region, "alarms backtest");
    let objects = list_window(&s3, &site, bucket, accounts, regions, window).await?;
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (n, (key, _)) in objects.into_iter().enumerate() {
        let (s3, site, limit) = (s3.clone(), site.clone(), limit.clone());
        let bucket = bucket.to_string();
        let path = dir.join(format!("{n:08}.json.gz"));
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let bytes = fetch_object(&s3, &site, &bucket, &key).await?;
            tokio::fs::write(&path, bytes.into_bytes())
                .await
                .map_err(|source| ProvisionError::Io {
                    action: "write",
                    path: path.display().to_string(),
                    source,
                })?;
            Ok::<_, ProvisionError>(path)
        });
    }
    let mut files = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        files.push(
            joined.map_err(|e| ProvisionError::Config(format!("a fetch task failed: {e}")))??,
        );
    }
    files.sort();
    Ok(files)
}

/// What to search: which accounts' logs of which regions, in which window, for what.
pub struct SearchRequest<'a> {
    pub bucket: &'a str,
    pub accounts: &'a [String],
    /// None given: every region that holds logs.
    pub regions: &'a [String],
    pub window: &'a Window,
    pub pattern: &'a Pattern,
    /// Objects fetched at once.
    pub concurrency: usize,
}

/// Lists, fetches and searches; `on_match` gets each matching record's JSON text and may stop
/// the search (its reader went away: `| head -1`), and `on_progress` is told after every object.
/// Stopping drops the fetches still under way.
pub async fn search(
    archive: &AccountSession,
    req: &SearchRequest<'_>,
    on_match: &mut dyn FnMut(&str) -> ControlFlow<()>,
    on_progress: &mut dyn FnMut(SearchProgress),
) -> Result<SearchProgress, ProvisionError> {
    let SearchRequest {
        bucket,
        accounts,
        regions,
        window,
        pattern,
        concurrency,
    } = *req;
    let s3 = archive.s3();
    let site = CallSite::new(&archive.account_id, &archive.region, "logs search");
    let keys: Vec<String> = list_window(&s3, &site, bucket, accounts, regions, window)
        .await?
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let mut progress = SearchProgress {
        listed: keys.len(),
        ..SearchProgress::default()
    };
    on_progress(progress);

    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for key in keys {
        let s3 = s3.clone();
        let bucket = bucket.to_string();
        let site = site.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            fetch_log(&s3, &site, &bucket, &key).await
        });
    }
    let everything = Projection::everything();
    while let Some(joined) = tasks.join_next().await {
        let text =
            joined.map_err(|e| ProvisionError::Config(format!("a fetch task failed: {e}")))??;
        let (records, _) = raw_records(&text);
        progress.fetched += 1;
        for raw in records {
            progress.records += 1;
            let Some(json) = everything.parse(raw) else {
                continue;
            };
            let in_window = json["eventTime"]
                .as_str()
                .is_some_and(|t| window.contains(t));
            if in_window && pattern.matches(&Event::from_json(raw, json)) {
                progress.matched += 1;
                if on_match(raw).is_break() {
                    on_progress(progress);
                    return Ok(progress);
                }
            }
        }
        on_progress(progress);
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_whole_days() {
        let w = Window {
            since: "2026-10-31T23:00:00Z"
                .parse()
                .unwrap_or(Timestamp::UNIX_EPOCH),
            until: "2026-11-02T01:00:00Z"
                .parse()
                .unwrap_or(Timestamp::UNIX_EPOCH),
        };
        let days: Vec<String> = w.days().iter().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2026-10-31", "2026-11-01", "2026-11-02"]);
        assert!(w.contains("2026-11-01T12:00:00Z"));
        assert!(!w.contains("2026-11-02T01:00:01Z"));
        assert_eq!(
            day_prefix("111122223333", "eu-west-1", w.days()[1]),
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/01/"
        );
    }

    #[test]
    fn times_absolute_and_relative() {
        let now: Timestamp = "2026-11-27T12:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(
            parse_time("24h", now).map(|t| t.to_string()),
            Ok("2026-11-26T12:00:00Z".into())
        );
        assert_eq!(
            parse_time("2026-11-01", now).map(|t| t.to_string()),
            Ok("2026-11-01T00:00:00Z".into())
        );
        assert!(parse_time("yesterday", now).is_err());
    }

    #[test]
    fn an_athena_scope_names_days_and_whole_seconds() {
        let w = Window {
            since: "2026-10-31T23:00:00.75Z"
                .parse()
                .unwrap_or(Timestamp::UNIX_EPOCH),
            until: "2026-11-02T01:00:00Z"
                .parse()
                .unwrap_or(Timestamp::UNIX_EPOCH),
        }
        .whole_seconds();
        let scope = w.scope(&["111122223333".into()], &["eu-west-1".into()]);
        assert_eq!(scope.first_day, "2026/10/31");
        assert_eq!(scope.last_day, "2026/11/02");
        assert_eq!(scope.since, "2026-10-31T23:00:00Z");
        assert_eq!(scope.until, "2026-11-02T01:00:00Z");
    }
}
