//! Parsing only what the patterns read. A CloudTrail record carries large request and response
//! documents that no alarm looks at; skipping them is most of the cost of evaluating alarms.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::pattern::{Expr, Pattern};

/// The top-level fields a set of patterns can read; `None` means all of them.
#[derive(Debug, Clone)]
pub struct Projection {
    keys: Option<BTreeSet<String>>,
}

impl Projection {
    pub fn everything() -> Self {
        Projection { keys: None }
    }

    pub fn for_patterns<'a>(patterns: impl IntoIterator<Item = &'a Pattern>) -> Self {
        let mut keys = BTreeSet::new();
        for p in patterns {
            // Term, regex and delimited patterns read the raw text, not the JSON.
            if let Pattern::Json(e) = p
                && !collect(e, &mut keys)
            {
                return Self::everything();
            }
        }
        Projection { keys: Some(keys) }
    }

    /// Also keeps `extra` fields (for reports), unless everything is kept anyway.
    pub fn with(mut self, extra: &[&str]) -> Self {
        if let Some(keys) = &mut self.keys {
            keys.extend(extra.iter().map(|k| k.to_string()));
        }
        self
    }

    pub fn keys(&self) -> Option<&BTreeSet<String>> {
        self.keys.as_ref()
    }

    /// The record as a JSON object holding only the projected fields; `None` if it is not a
    /// JSON object.
    pub fn parse(&self, raw: &str) -> Option<Value> {
        match &self.keys {
            None => serde_json::from_str(raw).ok(),
            Some(keys) => {
                let mut de = serde_json::Deserializer::from_str(raw);
                let value = ProjectSeed(keys).deserialize(&mut de).ok()?;
                de.end().ok()?;
                Some(value)
            }
        }
    }
}

/// Adds the root keys `e` reads; false when a selector starts with a wildcard (reads anything).
fn collect(e: &Expr, keys: &mut BTreeSet<String>) -> bool {
    match e {
        Expr::Or(items) | Expr::And(items) => items.iter().all(|i| collect(i, keys)),
        Expr::Group(inner) => collect(inner, keys),
        Expr::Test(sel, _) => match sel.root_key() {
            Some(k) => {
                keys.insert(k.to_string());
                true
            }
            None => false,
        },
    }
}

struct ProjectSeed<'k>(&'k BTreeSet<String>);

impl<'de> DeserializeSeed<'de> for ProjectSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProjectSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if self.0.contains(key.as_ref()) {
                let value: Value = map.next_value()?;
                out.insert(key.into_owned(), value);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::parse;

    #[test]
    fn keeps_only_what_patterns_read() {
        let p = parse("{ $.eventName = X && $.userIdentity.type = Root }").unwrap_or(Pattern::All);
        let proj = Projection::for_patterns([&p]);
        let v = proj
            .parse(r#"{"eventName":"X","userIdentity":{"type":"Root"},"requestParameters":{"big":[1,2,3]}}"#)
            .unwrap_or(Value::Null);
        assert_eq!(v["eventName"], "X");
        assert_eq!(v["userIdentity"]["type"], "Root");
        assert!(v.get("requestParameters").is_none());
        assert!(p.matches(&crate::pattern::Event::from_json("", v)));
    }

    #[test]
    fn a_wildcard_root_reads_everything() {
        let p = parse("{ $.* = x }").unwrap_or(Pattern::All);
        assert!(Projection::for_patterns([&p]).keys().is_none());
    }

    #[test]
    fn malformed_json_is_not_an_object() {
        let proj = Projection::for_patterns([]);
        assert!(proj.parse("{\"a\": ").is_none());
        assert!(proj.parse("[1,2]").is_none());
    }
}
