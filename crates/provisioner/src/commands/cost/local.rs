//! The local engine: every log file of the window fetched and its records counted here.

use std::io::Read;
use std::sync::Arc;

use tokio::sync::Semaphore;
use trailhead_cost::Tally;
use trailhead_cost::volume::place_of_key;

use crate::commands::archive_scope::ArchiveScope;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::reading::archive::{Window, fetch_object};

/// Log files fetched at once.
const FETCHES_AT_ONCE: usize = 16;

/// Every listed log file (key, size), fetched `FETCHES_AT_ONCE` at a time and counted.
pub(super) async fn tally(
    archive: &AccountSession,
    site: &CallSite,
    scope: &ArchiveScope,
    objects: Vec<(String, i64)>,
) -> Result<Tally, ProvisionError> {
    let s3 = archive.s3();
    let limit = Arc::new(Semaphore::new(FETCHES_AT_ONCE));
    let mut tasks = tokio::task::JoinSet::new();
    for (key, _) in objects {
        let Some(place) = place_of_key(&key) else {
            continue;
        };
        let (s3, site, limit) = (s3.clone(), site.clone(), limit.clone());
        let bucket = scope.bucket.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let bytes = fetch_object(&s3, &site, &bucket, &key).await?.into_bytes();
            Ok::<_, ProvisionError>((key, place, bytes))
        });
    }
    let mut tally = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        let (key, (account, region, day), bytes) =
            joined.map_err(|e| ProvisionError::Config(format!("a fetch task failed: {e}")))??;
        tally.add_file(&account, &region, &day, bytes.len() as u64);
        count_records(&mut tally, &key, &bytes, Some(&scope.window))?;
    }
    Ok(tally)
}

/// The records of one gzipped `{"Records": [...]}` file (those in `window`, when given); the
/// length of the file's JSON uncompressed.
pub(super) fn count_records(
    tally: &mut Tally,
    key: &str,
    gz: &[u8],
    window: Option<&Window>,
) -> Result<usize, ProvisionError> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(gz)
        .read_to_end(&mut text)
        .map_err(|e| ProvisionError::Config(format!("log file {key} is not gzip: {e}")))?;
    let doc: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| ProvisionError::Config(format!("log file {key} is not JSON: {e}")))?;
    let Some(records) = doc.get("Records").and_then(|r| r.as_array()) else {
        return Err(ProvisionError::Config(format!(
            "log file {key} has no Records array"
        )));
    };
    for r in records {
        let at = r["eventTime"].as_str().unwrap_or_default();
        if window.is_none_or(|w| w.contains(at)) {
            tally.add_record(r, r.to_string().len());
        }
    }
    Ok(text.len())
}
