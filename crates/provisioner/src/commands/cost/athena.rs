//! The Athena engine: the window's records counted by one query in the spec's workgroup, the
//! files and their sizes from the listing, and the uncompressed size (what CloudWatch Logs
//! ingests) from the compression ratio of a few files fetched here.

use trailhead_cost::volume::place_of_key;
use trailhead_cost::{Tally, Volume};

use super::local::count_records;
use crate::Connection;
use crate::commands::archive_scope::ArchiveScope;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::reading::archive::fetch_object;

/// Files fetched to measure the compression ratio.
const SAMPLED_FILES: usize = 8;

pub(super) async fn tally(
    conn: &Connection,
    scope: &ArchiveScope,
    archive: &AccountSession,
    site: &CallSite,
    objects: &[(String, i64)],
) -> Result<Tally, ProvisionError> {
    let athena = scope.athena_site()?;
    let sql = athena
        .table
        .volume_query(&scope.window.scope(&scope.accounts, &scope.regions));
    let querier = scope.querier(conn, "cost (athena)").await?;
    let query = querier.target();
    let done = query.run(&sql, &mut |_| {}).await?;
    let mut rows = Vec::new();
    query.rows(&done.id, &mut |r| rows.push(r)).await?;
    let mut tally = Tally::default();
    for row in rows {
        let (cell, counts) = volume_row(&row)?;
        tally.add_counts(cell, counts);
    }
    for (key, size) in objects {
        if let Some((account, region, day)) = place_of_key(key) {
            tally.add_file(&account, &region, &day, u64::try_from(*size).unwrap_or(0));
        }
    }
    let ratio = compression_ratio(archive, site, &scope.bucket, objects).await?;
    tally.estimate_raw_bytes(ratio);
    Ok(tally)
}

/// One row of the volume query: (account, region, day) and the counts by kind.
fn volume_row(
    row: &[Option<String>],
) -> Result<((String, String, String), Volume), ProvisionError> {
    let text = |i: usize| row.get(i).cloned().flatten();
    let bad = || {
        let shown: Vec<&str> = row.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect();
        ProvisionError::Config(format!(
            "an Athena volume row is not account, region, day and five counts: {}",
            shown.join(", ")
        ))
    };
    let count = |i: usize| -> Result<f64, ProvisionError> {
        text(i)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|n| n as f64)
            .ok_or_else(bad)
    };
    let (Some(account), Some(region), Some(day)) = (text(0), text(1), text(2)) else {
        return Err(bad());
    };
    let counts = Volume {
        management_read: count(3)?,
        management_write: count(4)?,
        data_events: count(5)?,
        insights_events: count(6)?,
        other_events: count(7)?,
        ..Volume::default()
    };
    Ok(((account, region, day), counts))
}

/// Uncompressed bytes per stored byte, over the first `SAMPLED_FILES` files of the window.
async fn compression_ratio(
    archive: &AccountSession,
    site: &CallSite,
    bucket: &str,
    objects: &[(String, i64)],
) -> Result<f64, ProvisionError> {
    let s3 = archive.s3();
    let (mut stored, mut raw) = (0usize, 0usize);
    for (key, _) in objects.iter().take(SAMPLED_FILES) {
        let bytes = fetch_object(&s3, site, bucket, key).await?.into_bytes();
        stored += bytes.len();
        raw += count_records(&mut Tally::default(), key, &bytes, None)?;
    }
    Ok(if stored == 0 {
        0.0
    } else {
        raw as f64 / stored as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_volume_row_is_read_in_the_querys_column_order() {
        let row: Vec<Option<String>> = [
            "111111111111",
            "eu-west-1",
            "2026-12-01",
            "5",
            "2",
            "7",
            "0",
            "1",
        ]
        .iter()
        .map(|s| Some(s.to_string()))
        .collect();
        let ((account, region, day), v) = volume_row(&row).expect("row");
        assert_eq!(
            (account.as_str(), region.as_str(), day.as_str()),
            ("111111111111", "eu-west-1", "2026-12-01")
        );
        assert_eq!(
            (
                v.management_read,
                v.management_write,
                v.data_events,
                v.other_events
            ),
            (5.0, 2.0, 7.0, 1.0)
        );
        let mut short = row.clone();
        short.truncate(5);
        assert!(volume_row(&short).is_err());
        let mut not_a_number = row;
        not_a_number[3] = Some("many".into());
        assert!(volume_row(&not_a_number).is_err());
    }
}
