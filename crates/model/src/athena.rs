//! `[athena]`: querying the archive with Athena. Present means wanted; every key has a default
//! (the loader reads it: `loader/athena.rs`).

/// Athena over the archive: the Glue table, the workgroup, and where its results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Athena {
    pub database: String,
    pub table: String,
    pub workgroup: String,
    /// A query that would scan more is cancelled by Athena (the workgroup's cutoff).
    pub bytes_scanned_cutoff_gb: u32,
    pub results_retention_days: u32,
    /// The first day of the date partitions, `yyyy/MM/dd`.
    pub start_day: String,
    /// `logs search --engine auto` searches locally below this many bytes of objects.
    pub local_threshold_mb: u32,
}

/// The bucket of query results, beside the archive bucket in the log-archive account. Shorter
/// than the access-log suffix, for which validation reserves room.
pub fn athena_results_bucket_for(archive_bucket: &str) -> String {
    format!("{archive_bucket}-athena")
}
