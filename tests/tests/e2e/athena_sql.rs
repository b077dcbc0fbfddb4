//! The Athena translation, run on a real SQL engine (DuckDB) and compared with our own engine:
//! every catalog pattern over a CloudTrail corpus, and every JSON pattern of AWS's documented
//! examples over their events. Any difference in the set of matching records fails.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::collections::BTreeSet;

use serde_json::Value;
use trailhead_alarms::athena::{Schema, translate};
use trailhead_alarms::pattern::{Event, parse};
use trailhead_alarms::{catalog, corpus, samples};
use trailhead_e2e::duckdb::DuckTable;

/// Runs every (name, pattern) both ways over `events`; returns the refused ones with reasons.
fn differential(
    table: &DuckTable,
    raw_events: &[String],
    patterns: &[(String, String)],
    schema: Schema,
) -> Vec<String> {
    let mut refused = Vec::new();
    let mut queries = Vec::new();
    for (name, pattern) in patterns {
        let parsed = parse(pattern).expect("the pattern parses");
        match translate(&parsed, schema) {
            Ok(sql) => queries.push((name.clone(), sql)),
            Err(why) => refused.push(format!("{name}: {why}")),
        }
    }
    let answers = table.run(&queries).expect("DuckDB runs");
    let mut differences = Vec::new();
    for (name, sql) in &queries {
        let pattern = &patterns.iter().find(|(n, _)| n == name).unwrap().1;
        let parsed = parse(pattern).unwrap();
        let local: BTreeSet<u64> = raw_events
            .iter()
            .enumerate()
            .filter(|(_, raw)| parsed.matches(&Event::new(raw)))
            .map(|(i, _)| i as u64)
            .collect();
        match &answers[name] {
            Ok(ids) => {
                let sql_ids: BTreeSet<u64> = ids.iter().copied().collect();
                if sql_ids != local {
                    differences.push(format!(
                        "{name} `{pattern}`: local matched {} record(s), SQL {}; only local: {:?}, only SQL: {:?}\n  {sql}",
                        local.len(),
                        sql_ids.len(),
                        local.difference(&sql_ids).take(5).collect::<Vec<_>>(),
                        sql_ids.difference(&local).take(5).collect::<Vec<_>>(),
                    ));
                }
            }
            Err(e) => differences.push(format!("{name} `{pattern}`: DuckDB refused: {e}\n  {sql}")),
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} translated pattern(s) disagree:\n{}",
        differences.len(),
        queries.len(),
        differences.join("\n")
    );
    refused
}

#[test]
fn every_catalog_pattern_matches_the_same_records_in_sql() {
    let mut records: Vec<Value> = corpus::ndjson(11, 3000)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let controls = catalog::all();
    for c in &controls {
        let (hit, miss) = samples::samples(c.topic);
        records.push(hit);
        records.push(miss);
    }
    let raw: Vec<String> = records.iter().map(Value::to_string).collect();
    let patterns: Vec<(String, String)> = controls
        .iter()
        .map(|c| {
            (
                format!("{}:{}", c.benchmark.id(), c.id),
                c.pattern.to_string(),
            )
        })
        .collect();
    let table = DuckTable::cloudtrail(&records);
    let refused = differential(&table, &raw, &patterns, Schema::CloudTrail);
    assert!(
        refused.is_empty(),
        "catalog patterns without a translation:\n{}",
        refused.join("\n")
    );
}

#[test]
fn every_translatable_documented_json_pattern_agrees() {
    let text = include_str!("../../../crates/alarms/tests/data/filter_vectors_public.json");
    let vectors: Vec<Value> = serde_json::from_str(text).unwrap();
    // JSON patterns only match JSON events; Athena's document column always holds JSON.
    let mut events: Vec<String> = Vec::new();
    let mut patterns: Vec<(String, String)> = Vec::new();
    for v in &vectors {
        let event = match &v["event"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if serde_json::from_str::<Value>(&event).is_ok_and(|e| e.is_object())
            && !events.contains(&event)
        {
            events.push(event);
        }
        let pattern = v["pattern"].as_str().unwrap();
        if pattern.trim_start().starts_with('{') && parse(pattern).is_ok() {
            patterns.push((v["id"].as_str().unwrap().to_string(), pattern.to_string()));
        }
    }
    let table = DuckTable::documents("event", &events);
    let refused = differential(&table, &events, &patterns, Schema::Document("event"));
    for r in &refused {
        eprintln!("refused: {r}");
    }
    let translated = patterns.len() - refused.len();
    eprintln!(
        "{translated} of {} JSON vector patterns translated and agreed",
        patterns.len()
    );
    assert!(
        translated * 4 >= patterns.len() * 3,
        "fewer than three quarters of the JSON vectors translate: {}",
        refused.join("\n")
    );
    // A refusal always says why; a wildcard selector is the expected kind.
    assert!(refused.iter().all(|r| r.contains("`: ")));
}
