//! A search run by Athena: the query names the matching records (object and event id), and the
//! records themselves are read from those objects only, so that the output is byte for byte what
//! the local engine prints.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use trailhead_alarms::replay::raw_records;

use super::query::{QueryProgress, QueryTarget};
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::reading::archive::fetch_log;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AthenaSearchSummary {
    pub query: Option<QueryProgress>,
    pub rows: u64,
    pub objects: usize,
    pub matched: u64,
}

#[derive(Deserialize)]
struct EventId {
    #[serde(rename = "eventID")]
    event_id: Option<String>,
}

/// The matching objects in first-seen order (the query orders by event time), each with the
/// event ids wanted from it.
fn group_hits(bucket: &str, rows: Vec<Vec<Option<String>>>) -> Vec<(String, HashSet<String>)> {
    let prefix = format!("s3://{bucket}/");
    let mut order: Vec<String> = Vec::new();
    let mut wanted: HashMap<String, HashSet<String>> = HashMap::new();
    for row in rows {
        let (Some(Some(path)), Some(Some(id))) = (row.first(), row.get(1)) else {
            continue;
        };
        let Some(key) = path.strip_prefix(&prefix) else {
            continue;
        };
        if !wanted.contains_key(key) {
            order.push(key.to_string());
        }
        wanted
            .entry(key.to_string())
            .or_default()
            .insert(id.clone());
    }
    order
        .into_iter()
        .map(|k| {
            let ids = wanted.remove(&k).unwrap_or_default();
            (k, ids)
        })
        .collect()
}

/// Runs `sql` (a search query: object, eventid), then streams the named records.
pub async fn athena_search(
    target: &QueryTarget<'_>,
    archive: &AccountSession,
    bucket: &str,
    sql: &str,
    on_progress: &mut dyn FnMut(&QueryProgress),
    on_match: &mut dyn FnMut(&str) -> std::ops::ControlFlow<()>,
) -> Result<AthenaSearchSummary, ProvisionError> {
    let progress = target.run(sql, on_progress).await?;
    let mut rows = Vec::new();
    let count = target.rows(&progress.id, &mut |row| rows.push(row)).await?;
    let hits = group_hits(bucket, rows);
    let s3 = archive.s3();
    let site = CallSite::new(&archive.account_id, &archive.region, "logs search");
    let mut summary = AthenaSearchSummary {
        query: Some(progress),
        rows: count,
        objects: hits.len(),
        matched: 0,
    };
    for (key, ids) in hits {
        let text = fetch_log(&s3, &site, bucket, &key).await?;
        let (records, _) = raw_records(&text);
        for raw in records {
            let id = serde_json::from_str::<EventId>(raw)
                .ok()
                .and_then(|e| e.event_id);
            if id.is_some_and(|id| ids.contains(&id)) {
                summary.matched += 1;
                if on_match(raw).is_break() {
                    return Ok(summary);
                }
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_are_grouped_by_object_in_query_order() {
        let row = |p: &str, id: &str| vec![Some(p.to_string()), Some(id.to_string())];
        let grouped = group_hits(
            "b",
            vec![
                row("s3://b/AWSLogs/2.json.gz", "x"),
                row("s3://b/AWSLogs/1.json.gz", "y"),
                row("s3://b/AWSLogs/2.json.gz", "z"),
                row("s3://other/AWSLogs/3.json.gz", "w"),
                vec![None, None],
            ],
        );
        let keys: Vec<&str> = grouped.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["AWSLogs/2.json.gz", "AWSLogs/1.json.gz"]);
        assert_eq!(grouped[0].1.len(), 2);
    }
}
