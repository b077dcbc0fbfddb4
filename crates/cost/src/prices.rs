//! The prices a projection uses: a table pinned in the repository, each price with its page.
//!
//! The table holds AWS's published list prices for US East (N. Virginia), pinned on the date
//! below from the public pricing pages. Another region of the partition is priced with it and
//! the projection says so: most of these prices are the same across the commercial regions,
//! some (S3 and CloudWatch Logs storage) are a little higher elsewhere.

use serde::Serialize;

/// When the table was copied from the pages.
pub const PINNED_ON: &str = "2026-12-08";

/// One price: `usd` for every `per` units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Price {
    pub id: &'static str,
    pub usd: f64,
    pub per: f64,
    pub unit: &'static str,
    pub source: &'static str,
}

impl Price {
    /// What `volume` units cost.
    pub fn of(&self, volume: f64) -> f64 {
        volume * self.usd / self.per
    }
}

const CLOUDTRAIL: &str = "https://aws.amazon.com/cloudtrail/pricing/";
const S3: &str = "https://aws.amazon.com/s3/pricing/";
const KMS: &str = "https://aws.amazon.com/kms/pricing/";
const CLOUDWATCH: &str = "https://aws.amazon.com/cloudwatch/pricing/";
const SNS: &str = "https://aws.amazon.com/sns/pricing/";
const ATHENA: &str = "https://aws.amazon.com/athena/pricing/";

const fn price(
    id: &'static str,
    usd: f64,
    per: f64,
    unit: &'static str,
    source: &'static str,
) -> Price {
    Price {
        id,
        usd,
        per,
        unit,
        source,
    }
}

/// The pinned prices, US East (N. Virginia), partition `aws`.
pub const US_EAST_1: [Price; 12] = [
    price(
        "cloudtrail.management_copy",
        2.00,
        100_000.0,
        "management events delivered by an additional copy",
        CLOUDTRAIL,
    ),
    price(
        "cloudtrail.data_events",
        0.10,
        100_000.0,
        "data events delivered",
        CLOUDTRAIL,
    ),
    price(
        "cloudtrail.insights",
        0.35,
        100_000.0,
        "events analyzed by Insights",
        CLOUDTRAIL,
    ),
    price(
        "s3.storage",
        0.023,
        1.0,
        "GB-month, S3 Standard (first 50 TB)",
        S3,
    ),
    price("s3.put", 0.005, 1_000.0, "PUT requests", S3),
    price("kms.key", 1.00, 1.0, "customer managed key-month", KMS),
    price(
        "kms.requests",
        0.03,
        10_000.0,
        "symmetric key requests",
        KMS,
    ),
    price(
        "logs.ingestion",
        0.50,
        1.0,
        "GB ingested, Standard log class",
        CLOUDWATCH,
    ),
    price(
        "logs.storage",
        0.03,
        1.0,
        "GB-month stored (compressed)",
        CLOUDWATCH,
    ),
    price(
        "cloudwatch.alarm",
        0.10,
        1.0,
        "standard-resolution alarm-month",
        CLOUDWATCH,
    ),
    price(
        "sns.email",
        2.00,
        100_000.0,
        "email notifications (the first 1,000 a month free)",
        SNS,
    ),
    price("athena.scan", 5.00, 1.0, "TB scanned", ATHENA),
];

/// The prices of one projection, and where they come from.
#[derive(Debug, Clone, Serialize)]
pub struct PriceTable {
    /// The region the prices were published for.
    pub region: &'static str,
    pub partition: &'static str,
    pub pinned_on: &'static str,
    /// Set when the projection's region is not the table's.
    pub note: Option<String>,
    pub prices: Vec<Price>,
}

impl PriceTable {
    /// The pinned table, for a projection of an org whose home region is `region`.
    pub fn pinned(region: &str) -> Self {
        let note = (region != "us-east-1").then(|| {
            format!(
                "priced at US East (N. Virginia) list prices: {region}'s may differ (S3 and CloudWatch Logs storage are a little higher in most regions)"
            )
        });
        PriceTable {
            region: "us-east-1",
            partition: "aws",
            pinned_on: PINNED_ON,
            note,
            prices: US_EAST_1.to_vec(),
        }
    }

    /// The price `id`. Every id the projection uses is in the pinned table (a unit test holds
    /// it), so a missing one is a programming error caught there, and prices as zero here.
    pub fn get(&self, id: &str) -> Price {
        self.prices
            .iter()
            .find(|p| p.id == id)
            .copied()
            .unwrap_or(price("missing", 0.0, 1.0, "", ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cloudtrail_pricing_pages_worked_example() {
        // "Your AWS account is configured to deliver management events to two trails and data
        // events to one trail. In a month, you had 150,000 management events and 2M data
        // events": the second copy costs $3, the data events $2.
        let t = PriceTable::pinned("us-east-1");
        let copy = t.get("cloudtrail.management_copy").of(150_000.0);
        let data = t.get("cloudtrail.data_events").of(2_000_000.0);
        assert!((copy - 3.0).abs() < 1e-9, "{copy}");
        assert!((data - 2.0).abs() < 1e-9, "{data}");
        assert!(t.note.is_none());
    }

    #[test]
    fn another_region_says_whose_prices_it_got() {
        let t = PriceTable::pinned("eu-west-1");
        assert!(t.note.as_deref().is_some_and(|n| n.contains("eu-west-1")));
        assert_eq!(t.get("no.such").usd, 0.0);
    }
}
