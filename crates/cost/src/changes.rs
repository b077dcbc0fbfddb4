//! What a change to the trail adds to a month's bill, for `plan`: the projection's own formulas,
//! at the stated volume below (plan reads no archive; `trailhead cost` measures an account's own).

use crate::prices::PriceTable;
use crate::projection::{Deployment, insights_analyzed};
use crate::volume::Volume;

/// The volume `plan` prices a change at, per account and month (docs/cost.md): a modestly busy
/// account, 250,000 management events (a fifth of them writes) and a million data events.
pub const STATED: Volume = Volume {
    management_read: 200_000.0,
    management_write: 50_000.0,
    data_events: 1_000_000.0,
    insights_events: 0.0,
    other_events: 0.0,
    files: 0.0,
    bytes: 0.0,
    raw_bytes: 0.0,
};

/// Recording data events: every delivered data event is charged, the first copy included.
pub fn data_events(prices: &PriceTable, v: &Volume) -> f64 {
    prices.get("cloudtrail.data_events").of(v.data_events)
}

/// Turning on Insights types: the management events they analyze.
pub fn insights(prices: &PriceTable, call_rate: bool, error_rate: bool, v: &Volume) -> f64 {
    let d = Deployment {
        insights_call_rate: call_rate,
        insights_error_rate: error_rate,
        ..Deployment::default()
    };
    prices
        .get("cloudtrail.insights")
        .of(insights_analyzed(&d, v))
}

/// A second copy of an account's management events (a per-account trail beside an
/// organization trail that records them already).
pub fn second_copy(prices: &PriceTable, v: &Volume) -> f64 {
    prices.get("cloudtrail.management_copy").of(v.management())
}

/// How `plan` words the stated volume it priced a change at.
pub fn stated_basis() -> String {
    format!(
        "at the stated {:.0} management and {:.0} data events an account a month (docs/cost.md; `trailhead cost` measures yours)",
        STATED.management(),
        STATED.data_events
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_priced_by_the_projections_formulas() {
        let p = PriceTable::pinned("us-east-1");
        // 1,000,000 data events at $0.10 per 100,000.
        assert!((data_events(&p, &STATED) - 1.0).abs() < 1e-9);
        // 250,000 management events as a second copy, at $2.00 per 100,000.
        assert!((second_copy(&p, &STATED) - 5.0).abs() < 1e-9);
        // Both Insights types: 50,000 writes twice and 200,000 reads once, 300,000 events.
        assert!((insights(&p, true, true, &STATED) - 1.05).abs() < 1e-9);
        assert!((insights(&p, true, false, &STATED) - 0.175).abs() < 1e-9);
        assert!(stated_basis().contains("250000 management"));
    }
}
