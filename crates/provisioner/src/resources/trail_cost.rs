//! What a trail change adds to the bill, said in `plan`'s notes for the trail step: data events
//! or Insights types turned on, priced by `trailhead_cost` at its stated volume (plan reads no
//! archive; `trailhead cost` measures an account's own).

use trailhead_cost::PriceTable;
use trailhead_cost::changes::{self, STATED, stated_basis};
use trailhead_model::InsightType;

use super::desired::Desired;

fn usd(v: f64) -> String {
    format!("${v:.2}")
}

/// The notes for turning on what the live trail does not record yet: `records_data`, whether it
/// records data events now, and `live_insights`, its Insights types (AWS's names).
pub fn cost_notes(records_data: bool, live_insights: &[String], d: &Desired) -> Vec<String> {
    let prices = PriceTable::pinned(&d.region);
    let mut notes = Vec::new();
    if d.data_events.any() && !records_data {
        notes.push(format!(
            "cost: turning data events on adds about {} a month to this account {}: every delivered data event is charged, $0.10 per 100,000",
            usd(changes::data_events(&prices, &STATED)),
            stated_basis()
        ));
    }
    let new = |t: InsightType| {
        d.insights.contains(&t) && !live_insights.iter().any(|l| l == t.as_aws_str())
    };
    let (call_rate, error_rate) = (
        new(InsightType::ApiCallRate),
        new(InsightType::ApiErrorRate),
    );
    if call_rate || error_rate {
        notes.push(format!(
            "cost: turning Insights on adds about {} a month to this account {}: $0.35 per 100,000 events analyzed",
            usd(changes::insights(&prices, call_rate, error_rate, &STATED)),
            stated_basis()
        ));
    }
    if let Some(note) = prices.note.as_ref().filter(|_| !notes.is_empty()) {
        notes.push(format!("cost: {note}"));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turning_data_events_and_insights_on_is_priced_once() {
        let mut d = Desired::example();
        d.data_events.lambda = true;
        d.insights = vec![InsightType::ApiCallRate];
        let notes = cost_notes(false, &[], &d);
        assert_eq!(
            notes
                .iter()
                .filter(|n| n.contains("data events on"))
                .count(),
            1
        );
        assert!(notes[0].contains("about $1.00 a month"), "{notes:?}");
        assert!(
            notes[1].contains("about $0.17 a month") || notes[1].contains("about $0.18 a month"),
            "{notes:?}"
        );
        // Already recorded: nothing to add.
        let on = cost_notes(true, &["ApiCallRateInsight".to_string()], &d);
        assert!(on.is_empty(), "{on:?}");
    }
}
