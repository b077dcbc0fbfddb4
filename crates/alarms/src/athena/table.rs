//! The archive's table: its definition (columns, CloudTrail's SerDe, partition projection) and the
//! queries trailhead runs over it, always restricted to the partitions of a search.

use super::schema::{CLOUDTRAIL, column_name, hive_type};
use super::translate::literal;

pub const SERDE: &str = "com.amazon.emr.hive.serde.CloudTrailSerde";
pub const INPUT_FORMAT: &str = "com.amazon.emr.cloudtrail.CloudTrailInputFormat";
pub const OUTPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";

/// The partition columns, in the order of the archive's keys:
/// `AWSLogs/<account>/CloudTrail/<region>/<yyyy/MM/dd>/`.
pub const PARTITIONS: [&str; 3] = ["account", "region", "day"];

/// The CloudTrail table over one archive bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub database: String,
    pub name: String,
    pub bucket: String,
    /// Every region of the partition: the region partition's enum.
    pub regions: Vec<String>,
    /// The first day of the date projection, `yyyy/MM/dd`.
    pub start_day: String,
}

/// What a query may read: accounts, regions, days (`yyyy/MM/dd`) and the exact window
/// (ISO 8601 UTC, as CloudTrail writes eventTime).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub accounts: Vec<String>,
    /// None: every region of the table's enum (the partition's).
    pub regions: Vec<String>,
    pub first_day: String,
    pub last_day: String,
    pub since: String,
    pub until: String,
}

impl Table {
    pub fn location(&self) -> String {
        format!("s3://{}/AWSLogs/", self.bucket)
    }

    /// `"database"."table"`, quoted for SQL.
    pub fn qualified(&self) -> String {
        format!("\"{}\".\"{}\"", self.database, self.name)
    }

    /// Record columns (name, Hive type), in the documented order.
    pub fn columns() -> Vec<(String, String)> {
        CLOUDTRAIL
            .iter()
            .map(|f| (column_name(f.key), hive_type(f.kind)))
            .collect()
    }

    /// The table parameters: partition projection, so that Athena computes partitions from the
    /// query instead of a catalog that would have to list every account and day.
    pub fn properties(&self) -> Vec<(String, String)> {
        let template = format!(
            "s3://{}/AWSLogs/${{account}}/CloudTrail/${{region}}/${{day}}",
            self.bucket
        );
        [
            ("EXTERNAL", "TRUE".to_string()),
            ("classification", "cloudtrail".into()),
            ("projection.enabled", "true".into()),
            // Injected: a query names its accounts, so no list of ids has to be kept.
            ("projection.account.type", "injected".into()),
            ("projection.region.type", "enum".into()),
            ("projection.region.values", self.regions.join(",")),
            ("projection.day.type", "date".into()),
            ("projection.day.format", "yyyy/MM/dd".into()),
            ("projection.day.range", format!("{},NOW", self.start_day)),
            ("projection.day.interval", "1".into()),
            ("projection.day.interval.unit", "DAYS".into()),
            ("storage.location.template", template),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The same table as a CREATE statement, for `--print` and for running by hand.
    pub fn ddl(&self) -> String {
        let columns: Vec<String> = Self::columns()
            .iter()
            .map(|(name, ty)| format!("  `{name}` {ty}"))
            .collect();
        let partitions: Vec<String> = PARTITIONS
            .iter()
            .map(|p| format!("  `{p}` STRING"))
            .collect();
        let properties: Vec<String> = self
            .properties()
            .iter()
            .filter(|(k, _)| k != "EXTERNAL")
            .map(|(k, v)| format!("  {}={}", literal(k), literal(v)))
            .collect();
        format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS `{}`.`{}` (\n{}\n)\nPARTITIONED BY (\n{}\n)\nROW FORMAT SERDE {}\nSTORED AS INPUTFORMAT {}\nOUTPUTFORMAT {}\nLOCATION {}\nTBLPROPERTIES (\n{}\n);",
            self.database,
            self.name,
            columns.join(",\n"),
            partitions.join(",\n"),
            literal(SERDE),
            literal(INPUT_FORMAT),
            literal(OUTPUT_FORMAT),
            literal(&self.location()),
            properties.join(",\n")
        )
    }

    /// Every record of the scope that `condition` holds for: its object and event id, which is
    /// enough to stream the very records from the archive.
    pub fn search_query(&self, scope: &Scope, condition: &str) -> String {
        format!(
            "SELECT \"$path\" AS object, eventid\nFROM {}\nWHERE {}\n  AND ({condition})\nORDER BY eventtime",
            self.qualified(),
            scope.predicate()
        )
    }

    /// One count per alarm over the scope, in a single pass over the data.
    pub fn backtest_query(&self, scope: &Scope, alarms: &[(String, String)]) -> String {
        let counts: Vec<String> = alarms
            .iter()
            .map(|(name, condition)| {
                format!("  count_if({condition}) AS \"{}\"", name.replace('"', ""))
            })
            .collect();
        format!(
            "SELECT\n{}\nFROM {}\nWHERE {}",
            counts.join(",\n"),
            self.qualified(),
            scope.predicate()
        )
    }
}

/// The columns of [`Table::volume_query`]'s rows, in order.
pub const VOLUME_COLUMNS: [&str; 8] = [
    "account",
    "region",
    "day",
    "management_read",
    "management_write",
    "data_events",
    "insights_events",
    "other_events",
];

impl Table {
    /// The scope's records counted by kind, per recipient account, region and day: what `cost`
    /// reads in one pass. Placed and classified as the local count does: by `recipientAccountId`,
    /// `awsRegion` and `eventTime`; no `eventCategory` is a management event, and `readOnly`
    /// other than 'true' a write.
    pub fn volume_query(&self, scope: &Scope) -> String {
        let management = "coalesce(eventcategory, 'Management') = 'Management'";
        format!(
            "SELECT coalesce(recipientaccountid, 'unknown') AS account, coalesce(awsregion, 'unknown') AS region, substr(eventtime, 1, 10) AS day,\n  count_if({management} AND readonly = 'true') AS management_read,\n  count_if({management} AND coalesce(readonly, '') <> 'true') AS management_write,\n  count_if(eventcategory = 'Data') AS data_events,\n  count_if(eventcategory = 'Insight') AS insights_events,\n  count_if(eventcategory NOT IN ('Management', 'Data', 'Insight')) AS other_events\nFROM {}\nWHERE {}\nGROUP BY 1, 2, 3\nORDER BY 1, 2, 3",
            self.qualified(),
            scope.predicate()
        )
    }
}

impl Scope {
    /// The partition predicates (Athena reads only these prefixes) and the exact window.
    pub fn predicate(&self) -> String {
        let list = |items: &[String]| {
            items
                .iter()
                .map(|i| literal(i))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let regions = if self.regions.is_empty() {
            String::new()
        } else {
            format!("\n  AND \"region\" IN ({})", list(&self.regions))
        };
        format!(
            "\"account\" IN ({}){regions}\n  AND \"day\" BETWEEN {} AND {}\n  AND eventtime BETWEEN {} AND {}",
            list(&self.accounts),
            literal(&self.first_day),
            literal(&self.last_day),
            literal(&self.since),
            literal(&self.until)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            database: "trailhead_acme".into(),
            name: "cloudtrail".into(),
            bucket: "acme-archive".into(),
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            start_day: "2026/01/01".into(),
        }
    }

    fn scope() -> Scope {
        Scope {
            accounts: vec!["111111111111".into()],
            regions: vec!["us-east-1".into()],
            first_day: "2026/11/01".into(),
            last_day: "2026/11/02".into(),
            since: "2026-11-01T10:00:00Z".into(),
            until: "2026-11-02T10:00:00Z".into(),
        }
    }

    #[test]
    fn the_volume_query_groups_the_scopes_records_by_kind() {
        let sql = table().volume_query(&scope());
        assert!(sql.contains(&scope().predicate()), "{sql}");
        assert!(sql.contains("GROUP BY 1, 2, 3"), "{sql}");
        // Every column of the row, in order.
        let mut at = 0;
        for column in VOLUME_COLUMNS {
            let found = sql[at..]
                .find(&format!("AS {column}"))
                .unwrap_or_else(|| panic!("{column} after {at}: {sql}"));
            at += found;
        }
        assert!(sql.contains("readonly = 'true'"), "{sql}");
    }

    #[test]
    fn projection_follows_the_archive_layout() {
        let props = table().properties();
        let get = |k: &str| {
            props
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("projection.account.type"), Some("injected"));
        assert_eq!(get("projection.region.values"), Some("us-east-1,eu-west-1"));
        assert_eq!(get("projection.day.range"), Some("2026/01/01,NOW"));
        assert_eq!(
            get("storage.location.template"),
            Some("s3://acme-archive/AWSLogs/${account}/CloudTrail/${region}/${day}")
        );
    }

    #[test]
    fn ddl_names_the_serde_and_every_partition() {
        let ddl = table().ddl();
        assert!(
            ddl.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS `trailhead_acme`.`cloudtrail`")
        );
        assert!(ddl.contains(SERDE));
        assert!(ddl.contains("`day` STRING"));
        assert!(ddl.contains("`useridentity` STRUCT<"));
        assert!(!ddl.contains("'EXTERNAL'"));
    }

    #[test]
    fn queries_always_carry_partition_predicates() {
        let q = table().search_query(&scope(), "TRUE");
        assert!(q.contains("\"account\" IN ('111111111111')"));
        assert!(q.contains("\"day\" BETWEEN '2026/11/01' AND '2026/11/02'"));
        assert!(q.contains("eventtime BETWEEN '2026-11-01T10:00:00Z'"));
        let b = table().backtest_query(&scope(), &[("CIS.4.3".into(), "TRUE".into())]);
        assert!(b.contains("count_if(TRUE) AS \"CIS.4.3\""));
        assert!(b.contains("\"region\" IN ('us-east-1')"));
    }

    #[test]
    fn no_regions_reads_every_region_of_the_enum() {
        let every = Scope {
            regions: Vec::new(),
            ..scope()
        };
        let q = table().search_query(&every, "TRUE");
        assert!(!q.contains("\"region\""), "{q}");
        assert!(q.contains("\"account\" IN ('111111111111')\n  AND \"day\" BETWEEN"));
    }
}
