//! Replaying CloudTrail log files through alarms: "what would have alarmed". Files are CloudTrail
//! objects (`{"Records":[…]}`, optionally gzipped) or NDJSON, one record per line; directories
//! are walked. Work is spread over every core.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::catalog::Control;
use crate::pattern::{Event, Pattern, PatternError, parse};
use crate::projection::Projection;

/// Examples kept per alarm.
const EXAMPLES: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("control {id}: its pattern does not parse: {source}")]
    Pattern {
        id: String,
        #[source]
        source: PatternError,
    },
}

/// A parsed alarm, ready to evaluate.
pub struct Alarm {
    pub id: String,
    pub metric_name: String,
    pub pattern: Pattern,
}

impl Alarm {
    pub fn from_control(c: &Control) -> Result<Self, ReplayError> {
        Ok(Alarm {
            id: c.id.to_string(),
            metric_name: c.metric_name.to_string(),
            pattern: parse(c.pattern).map_err(|source| ReplayError::Pattern {
                id: c.id.to_string(),
                source,
            })?,
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Example {
    pub event_time: String,
    pub event_name: String,
    pub principal: String,
    pub account: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlarmHits {
    pub id: String,
    pub metric_name: String,
    pub matched: u64,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    pub files: usize,
    pub records: u64,
    /// Lines or files that were not CloudTrail JSON.
    pub unreadable: u64,
    pub alarms: Vec<AlarmHits>,
}

/// Files under `paths`, directories walked, sorted for stable output.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReplayError> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).map_err(|source| ReplayError::Io {
            path: p.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(&p).map_err(|source| ReplayError::Io {
                path: p.display().to_string(),
                source,
            })?;
            for entry in entries.flatten() {
                stack.push(entry.path());
            }
        } else {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// The text of a file, gunzipped when it is gzip (by magic bytes, whatever its name).
pub fn read_text(path: &Path) -> Result<String, ReplayError> {
    let io = |source| ReplayError::Io {
        path: path.display().to_string(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    decode(&bytes).map_err(io)
}

pub fn decode(bytes: &[u8]) -> Result<String, std::io::Error> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes).read_to_string(&mut text)?;
        Ok(text)
    } else {
        String::from_utf8(bytes.to_vec())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

/// The raw records of one file's text: a CloudTrail object's `Records`, or NDJSON lines.
/// Returns them, unparsed, with how many lines were not JSON objects.
pub fn raw_records(text: &str) -> (Vec<&str>, u64) {
    #[derive(serde::Deserialize)]
    struct LogFile<'a> {
        #[serde(rename = "Records", borrow)]
        records: Vec<&'a serde_json::value::RawValue>,
    }
    let trimmed = text.trim();
    // An NDJSON file fails this at its first line's end, which costs one record's parse.
    if trimmed.starts_with('{')
        && let Ok(file) = serde_json::from_str::<LogFile<'_>>(trimmed)
    {
        return (file.records.into_iter().map(|r| r.get()).collect(), 0);
    }
    let mut out = Vec::new();
    let mut bad = 0;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with('{') {
            out.push(line);
        } else {
            bad += 1;
        }
    }
    (out, bad)
}

pub fn example(record: &Value) -> Example {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let identity = &record["userIdentity"];
    let principal = identity["arn"]
        .as_str()
        .or_else(|| identity["principalId"].as_str())
        .or_else(|| identity["invokedBy"].as_str())
        .unwrap_or_default()
        .to_string();
    Example {
        event_time: s(&record["eventTime"]),
        event_name: s(&record["eventName"]),
        principal,
        account: record["recipientAccountId"]
            .as_str()
            .or_else(|| identity["accountId"].as_str())
            .unwrap_or_default()
            .to_string(),
    }
}

/// Which alarms match one raw record; returns the parsed (projected) record for examples.
pub fn evaluate(
    alarms: &[Alarm],
    projection: &Projection,
    raw: &str,
    hits: &mut [bool],
) -> Option<Value> {
    let json = projection.parse(raw)?;
    let event = Event::from_json(raw, json);
    for (alarm, hit) in alarms.iter().zip(hits.iter_mut()) {
        *hit = alarm.pattern.matches(&event);
    }
    event.json
}

/// The projection alarms need, widened by the fields examples show.
pub fn projection_for(alarms: &[Alarm]) -> Projection {
    Projection::for_patterns(alarms.iter().map(|a| &a.pattern)).with(&[
        "eventTime",
        "eventName",
        "userIdentity",
        "recipientAccountId",
    ])
}

pub fn replay(files: &[PathBuf], alarms: &[Alarm]) -> Result<ReplayReport, ReplayError> {
    replay_where(files, alarms, &|_| true)
}

/// [`replay`], counting only the records `keep` accepts (a time window, say); the record it is
/// given is projected to the alarms' fields and `eventTime`.
pub fn replay_where(
    files: &[PathBuf],
    alarms: &[Alarm],
    keep: &(dyn Fn(&Value) -> bool + Sync),
) -> Result<ReplayReport, ReplayError> {
    let total = AtomicU64::new(0);
    let unreadable = AtomicU64::new(0);
    let projection = projection_for(alarms);
    let per_file: Vec<(Vec<u64>, Vec<Vec<Example>>)> = files
        .par_iter()
        .map(|path| {
            let Ok(text) = read_text(path) else {
                unreadable.fetch_add(1, Ordering::Relaxed);
                return (vec![0; alarms.len()], vec![Vec::new(); alarms.len()]);
            };
            let (records, bad) = raw_records(&text);
            unreadable.fetch_add(bad, Ordering::Relaxed);
            total.fetch_add(records.len() as u64, Ordering::Relaxed);
            records
                .into_par_iter()
                .fold(
                    || {
                        (
                            vec![0u64; alarms.len()],
                            vec![Vec::new(); alarms.len()],
                            vec![false; alarms.len()],
                        )
                    },
                    |(mut counts, mut examples, mut hits), raw| {
                        let Some(record) = evaluate(alarms, &projection, raw, &mut hits) else {
                            unreadable.fetch_add(1, Ordering::Relaxed);
                            return (counts, examples, hits);
                        };
                        if !keep(&record) {
                            return (counts, examples, hits);
                        }
                        for (i, hit) in hits.iter().enumerate() {
                            if *hit {
                                counts[i] += 1;
                                keep_example(&mut examples[i], example(&record));
                            }
                        }
                        (counts, examples, hits)
                    },
                )
                .map(|(c, e, _)| (c, e))
                .reduce(
                    || (vec![0; alarms.len()], vec![Vec::new(); alarms.len()]),
                    merge,
                )
        })
        .collect();
    let (counts, examples) = per_file.into_iter().fold(
        (vec![0; alarms.len()], vec![Vec::new(); alarms.len()]),
        merge,
    );
    Ok(ReplayReport {
        files: files.len(),
        records: total.into_inner(),
        unreadable: unreadable.into_inner(),
        alarms: alarms
            .iter()
            .zip(counts)
            .zip(examples)
            .map(|((a, matched), examples)| AlarmHits {
                id: a.id.clone(),
                metric_name: a.metric_name.clone(),
                matched,
                examples,
            })
            .collect(),
    })
}

/// Keeps the earliest few examples, so that output does not depend on thread timing.
fn keep_example(kept: &mut Vec<Example>, e: Example) {
    kept.push(e);
    kept.sort();
    kept.truncate(EXAMPLES);
}

type Partial = (Vec<u64>, Vec<Vec<Example>>);

fn merge(mut a: Partial, b: Partial) -> Partial {
    for (x, y) in a.0.iter_mut().zip(b.0) {
        *x += y;
    }
    for (x, y) in a.1.iter_mut().zip(b.1) {
        for e in y {
            keep_example(x, e);
        }
    }
    a
}
