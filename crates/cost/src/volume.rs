//! What the archive holds, counted per account, region and day: management events read and
//! written, data events, Insights events, the log files and their bytes.

use std::collections::BTreeMap;
use std::ops::AddAssign;

use serde::Serialize;
use serde_json::Value;

/// Counts over some period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Volume {
    pub management_read: f64,
    pub management_write: f64,
    pub data_events: f64,
    pub insights_events: f64,
    /// Records of other categories (network activity events).
    pub other_events: f64,
    /// Log files delivered, and their bytes as stored (gzip).
    pub files: f64,
    pub bytes: f64,
    /// The records' JSON, uncompressed: what CloudWatch Logs ingests.
    pub raw_bytes: f64,
}

impl Volume {
    pub fn management(&self) -> f64 {
        self.management_read + self.management_write
    }

    pub fn events(&self) -> f64 {
        self.management() + self.data_events + self.insights_events + self.other_events
    }

    /// The same volume over `to_days` instead of `from_days` (a window scaled to a month).
    pub fn scaled(&self, from_days: f64, to_days: f64) -> Volume {
        let k = if from_days > 0.0 {
            to_days / from_days
        } else {
            0.0
        };
        Volume {
            management_read: self.management_read * k,
            management_write: self.management_write * k,
            data_events: self.data_events * k,
            insights_events: self.insights_events * k,
            other_events: self.other_events * k,
            files: self.files * k,
            bytes: self.bytes * k,
            raw_bytes: self.raw_bytes * k,
        }
    }
}

impl AddAssign for Volume {
    fn add_assign(&mut self, o: Volume) {
        self.management_read += o.management_read;
        self.management_write += o.management_write;
        self.data_events += o.data_events;
        self.insights_events += o.insights_events;
        self.other_events += o.other_events;
        self.files += o.files;
        self.bytes += o.bytes;
        self.raw_bytes += o.raw_bytes;
    }
}

/// (account, region, day `YYYY-MM-DD`)
pub type Cell = (String, String, String);

/// Volumes per account, region and day.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub cells: BTreeMap<Cell, Volume>,
}

fn text<'a>(record: &'a Value, field: &str) -> Option<&'a str> {
    record.get(field).and_then(Value::as_str)
}

impl Tally {
    /// One CloudTrail record, in its recipient account, region and day. `raw_len` is the length
    /// of its JSON as delivered. Records without the fields that place them are counted under
    /// "unknown", never dropped.
    pub fn add_record(&mut self, record: &Value, raw_len: usize) {
        let account = text(record, "recipientAccountId").unwrap_or("unknown");
        let region = text(record, "awsRegion").unwrap_or("unknown");
        let day = text(record, "eventTime")
            .and_then(|t| t.get(..10))
            .unwrap_or("unknown");
        let cell = (account.to_string(), region.to_string(), day.to_string());
        let v = self.cells.entry(cell).or_default();
        v.raw_bytes += raw_len as f64;
        // Records from before eventCategory existed are management events.
        match text(record, "eventCategory").unwrap_or("Management") {
            "Management" => {
                // readOnly is absent on some write events: counted as writes.
                if record.get("readOnly").and_then(Value::as_bool) == Some(true) {
                    v.management_read += 1.0;
                } else {
                    v.management_write += 1.0;
                }
            }
            "Data" => v.data_events += 1.0,
            "Insight" => v.insights_events += 1.0,
            _ => v.other_events += 1.0,
        }
    }

    /// One log file of `bytes` as stored, placed by its key's account, region and day.
    pub fn add_file(&mut self, account: &str, region: &str, day: &str, bytes: u64) {
        let cell = (account.to_string(), region.to_string(), day.to_string());
        let v = self.cells.entry(cell).or_default();
        v.files += 1.0;
        v.bytes += bytes as f64;
    }

    /// Counts made elsewhere (an Athena query) for one cell; files and bytes are added apart.
    pub fn add_counts(&mut self, cell: Cell, counts: Volume) {
        *self.cells.entry(cell).or_default() += counts;
    }

    /// Where the records were counted without their text (Athena): their uncompressed size
    /// from the stored bytes and a measured compression ratio.
    pub fn estimate_raw_bytes(&mut self, ratio: f64) {
        for v in self.cells.values_mut() {
            v.raw_bytes = v.bytes * ratio;
        }
    }

    /// Every account's volume, the regions and days added up.
    pub fn by_account(&self) -> BTreeMap<String, Volume> {
        let mut out: BTreeMap<String, Volume> = BTreeMap::new();
        for ((account, _, _), v) in &self.cells {
            *out.entry(account.clone()).or_default() += *v;
        }
        out
    }

    /// Every region's volume.
    pub fn by_region(&self) -> BTreeMap<String, Volume> {
        let mut out: BTreeMap<String, Volume> = BTreeMap::new();
        for ((_, region, _), v) in &self.cells {
            *out.entry(region.clone()).or_default() += *v;
        }
        out
    }

    pub fn total(&self) -> Volume {
        let mut out = Volume::default();
        for v in self.cells.values() {
            out += *v;
        }
        out
    }
}

/// (account, region, day) of a CloudTrail log file's key:
/// `[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`.
pub fn place_of_key(key: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = key.split('/').collect();
    let at = parts.iter().position(|p| *p == "AWSLogs")?;
    let rest = parts.get(at + 1..)?;
    // An organization trail's keys carry the organization id before the account.
    let rest = match rest.first() {
        Some(first) if first.starts_with("o-") => rest.get(1..)?,
        _ => rest,
    };
    match rest {
        [account, "CloudTrail", region, y, m, d, _file] => Some((
            account.to_string(),
            region.to_string(),
            format!("{y}-{m}-{d}"),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(category: Option<&str>, read_only: Option<bool>) -> Value {
        let mut r = json!({
            "recipientAccountId": "111111111111",
            "awsRegion": "eu-west-1",
            "eventTime": "2026-12-01T10:00:00Z",
        });
        if let Some(c) = category {
            r["eventCategory"] = json!(c);
        }
        if let Some(ro) = read_only {
            r["readOnly"] = json!(ro);
        }
        r
    }

    #[test]
    fn records_are_counted_by_kind_in_their_account_region_and_day() {
        let mut t = Tally::default();
        t.add_record(&record(Some("Management"), Some(true)), 100);
        t.add_record(&record(Some("Management"), Some(false)), 100);
        t.add_record(&record(None, None), 50);
        t.add_record(&record(Some("Data"), Some(false)), 70);
        t.add_record(&record(Some("Insight"), None), 10);
        t.add_record(&record(Some("NetworkActivity"), None), 10);
        t.add_file("111111111111", "eu-west-1", "2026-12-01", 400);
        let v = t.by_account()["111111111111"];
        assert_eq!(
            (v.management_read, v.management_write, v.data_events),
            (1.0, 2.0, 1.0)
        );
        assert_eq!((v.insights_events, v.other_events), (1.0, 1.0));
        assert_eq!((v.files, v.bytes, v.raw_bytes), (1.0, 400.0, 340.0));
        assert_eq!(t.cells.len(), 1);
        assert_eq!(t.total().events(), 6.0);
        let week = v.scaled(7.0, 28.0);
        assert_eq!(week.management_write, 8.0);

        // Counted elsewhere: the counts land in their cell, the raw size from the ratio.
        let cell = (
            "222222222222".to_string(),
            "us-east-1".to_string(),
            "2026-12-02".to_string(),
        );
        let counted = Volume {
            management_read: 10.0,
            ..Volume::default()
        };
        t.add_counts(cell.clone(), counted);
        t.add_file(&cell.0, &cell.1, &cell.2, 1000);
        t.estimate_raw_bytes(8.0);
        assert_eq!(t.cells[&cell].raw_bytes, 8000.0);
        assert_eq!(t.cells[&cell].management_read, 10.0);
    }

    #[test]
    fn a_log_files_key_places_it() {
        let key = "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/12/01/111111111111_CloudTrail_eu-west-1_20261201T1000Z_abc.json.gz";
        assert_eq!(
            place_of_key(key),
            Some((
                "111111111111".into(),
                "eu-west-1".into(),
                "2026-12-01".into()
            ))
        );
        let org = "p/AWSLogs/o-abc123/222222222222/CloudTrail/us-east-1/2026/12/02/f.json.gz";
        assert_eq!(
            place_of_key(org).map(|p| p.0),
            Some("222222222222".to_string())
        );
        assert_eq!(
            place_of_key("AWSLogs/1/CloudTrail-Digest/r/2026/12/01/f"),
            None
        );
    }
}
