//! Whether CloudTrail really delivered an account's events: a log file of the account in the
//! archive (newer than a given time, for the wave gate), read back and decrypted through S3,
//! holding a record whose `recipientAccountId` is the account. GetTrailStatus's
//! LatestDeliveryTime alone proves nothing: an endpoint can report it without a file.

use aws_sdk_s3::Client;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::core::error::{CallSite, ProvisionError};
use crate::reading::archive::day_prefix;

/// A log file of the account, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub key: String,
    /// Records of the file that belong to the account.
    pub own_records: usize,
    pub records: usize,
}

/// The newest log file of `account` in `region` (today's and yesterday's prefixes, UTC), last
/// modified at or after `since` when given; None when there is none yet.
pub async fn newest_log_file(
    s3: &Client,
    site: &CallSite,
    bucket: &str,
    account: &str,
    region: &str,
    since: Option<Timestamp>,
) -> Result<Option<Delivered>, ProvisionError> {
    let today = TimeZone::UTC.to_datetime(Timestamp::now()).date();
    let days = [today, today.yesterday().unwrap_or(today)];
    for day in days {
        let Some(key) =
            newest_key(s3, site, bucket, &day_prefix(account, region, day), since).await?
        else {
            continue;
        };
        return read_log_file(s3, site, bucket, &key, account)
            .await
            .map(Some);
    }
    Ok(None)
}

async fn newest_key(
    s3: &Client,
    site: &CallSite,
    bucket: &str,
    prefix: &str,
    since: Option<Timestamp>,
) -> Result<Option<String>, ProvisionError> {
    let mut newest: Option<(i64, String)> = None;
    let mut token = None;
    loop {
        let out = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| site.error("ListObjectsV2", e))?;
        for o in out.contents() {
            let modified = o.last_modified().map(|t| t.secs()).unwrap_or(0);
            let fresh = since.is_none_or(|s| modified >= s.as_second());
            let newer = newest.as_ref().is_none_or(|(t, _)| modified >= *t);
            if let (true, true, Some(key)) = (fresh, newer, o.key()) {
                newest = Some((modified, key.to_string()));
            }
        }
        token = out.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return Ok(newest.map(|(_, k)| k));
        }
    }
}

async fn read_log_file(
    s3: &Client,
    site: &CallSite,
    bucket: &str,
    key: &str,
    account: &str,
) -> Result<Delivered, ProvisionError> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| site.error("GetObject", e))?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| ProvisionError::Config(format!("reading s3://{bucket}/{key}: {e}")))?
        .into_bytes();
    let text = trailhead_alarms::replay::decode(&bytes)
        .map_err(|e| ProvisionError::Config(format!("s3://{bucket}/{key} is not gzip: {e}")))?;
    let (records, own_records) = count_records(&text, account);
    Ok(Delivered {
        key: key.to_string(),
        own_records,
        records,
    })
}

/// (records, records whose recipientAccountId is `account`) of a `{"Records": [...]}` file.
pub fn count_records(text: &str, account: &str) -> (usize, usize) {
    let doc: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    let records = doc["Records"].as_array().cloned().unwrap_or_default();
    let own = records
        .iter()
        .filter(|r| r["recipientAccountId"].as_str() == Some(account))
        .count();
    (records.len(), own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_the_accounts_own_records() {
        let text = r#"{"Records":[{"recipientAccountId":"111111111111"},{"recipientAccountId":"222222222222"},{}]}"#;
        assert_eq!(count_records(text, "111111111111"), (3, 1));
        assert_eq!(count_records(text, "333333333333"), (3, 0));
        assert_eq!(count_records("not json", "111111111111"), (0, 0));
    }
}
