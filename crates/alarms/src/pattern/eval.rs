//! Evaluation with AWS's semantics, including the surprising rules: `!=` on a missing field is
//! false, a selector that lands on an array or object fails both `=` and `!=`, `*` is a wildcard
//! only at the ends of a value, and every comparison is case-sensitive.

use serde_json::Value as Json;

use super::ast::{Expr, Field, FieldExpr, Op, Pattern, Step, Term, TermKind, Test, Value};

/// One log event: its raw message, and the message parsed as JSON when it is JSON.
pub struct Event<'a> {
    pub raw: &'a str,
    pub json: Option<Json>,
}

impl<'a> Event<'a> {
    pub fn new(raw: &'a str) -> Self {
        let json = if raw.trim_start().starts_with('{') {
            serde_json::from_str(raw).ok()
        } else {
            None
        };
        Event { raw, json }
    }

    /// An event whose JSON is already parsed; `raw` serves term and regex patterns.
    pub fn from_json(raw: &'a str, json: Json) -> Self {
        Event {
            raw,
            json: Some(json),
        }
    }
}

impl Pattern {
    pub fn matches(&self, event: &Event<'_>) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms(terms) => terms_match(terms, event.raw),
            Pattern::Regex(r) => r.is_match(event.raw),
            // JSON patterns only ever match JSON events.
            Pattern::Json(expr) => event.json.as_ref().is_some_and(|j| expr_match(expr, j)),
            Pattern::Delimited(fields) => delimited_match(fields, event.raw),
        }
    }

    /// Convenience for one-off checks.
    pub fn matches_str(&self, raw: &str) -> bool {
        self.matches(&Event::new(raw))
    }
}

fn terms_match(terms: &[Term], raw: &str) -> bool {
    let mut any_optional = false;
    let mut optional_hit = false;
    let mut others = false;
    for t in terms {
        let found = raw.contains(t.text.as_str());
        match t.kind {
            TermKind::Required => {
                others = true;
                if !found {
                    return false;
                }
            }
            TermKind::Excluded => {
                others = true;
                if found {
                    return false;
                }
            }
            TermKind::Optional => {
                any_optional = true;
                optional_hit |= found;
            }
        }
    }
    // `?` terms count only when they are the whole pattern.
    others || !any_optional || optional_hit
}

fn expr_match(expr: &Expr, root: &Json) -> bool {
    match expr {
        Expr::Or(items) => items.iter().any(|e| expr_match(e, root)),
        Expr::And(items) => items.iter().all(|e| expr_match(e, root)),
        Expr::Group(inner) => expr_match(inner, root),
        Expr::Test(sel, test) => {
            let mut nodes = Vec::new();
            select(root, &sel.0, &mut nodes);
            match test {
                Test::NotExists => nodes.is_empty(),
                Test::IsNull => nodes.iter().any(|n| n.is_null()),
                Test::IsTrue => nodes.iter().any(|n| n.as_bool() == Some(true)),
                Test::IsFalse => nodes.iter().any(|n| n.as_bool() == Some(false)),
                Test::Compare(op, value) => nodes.iter().any(|n| node_compare(n, *op, value)),
            }
        }
    }
}

fn select<'v>(node: &'v Json, steps: &[Step], out: &mut Vec<&'v Json>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(node);
        return;
    };
    match (step, node) {
        (Step::Key(k), Json::Object(map)) => {
            if let Some(child) = map.get(k) {
                select(child, rest, out);
            }
        }
        (Step::Index(i), Json::Array(items)) => {
            if let Some(child) = items.get(*i) {
                select(child, rest, out);
            }
        }
        (Step::AnyField, Json::Object(map)) => {
            for child in map.values() {
                select(child, rest, out);
            }
        }
        (Step::AnyIndex | Step::AnyField, Json::Array(items)) => {
            for child in items {
                select(child, rest, out);
            }
        }
        _ => {}
    }
}

/// A comparison against one selected node. Only strings and numbers are value nodes: null,
/// booleans, arrays and objects fail every comparison, `!=` included.
fn node_compare(node: &Json, op: Op, value: &Value) -> bool {
    match node {
        Json::String(s) => match op {
            Op::Eq => string_equals(s, value),
            Op::Ne => !string_equals(s, value),
            _ => false,
        },
        Json::Number(n) => {
            let Some(x) = n.as_f64() else { return false };
            match (op, value) {
                (Op::Eq, _) => number_equals(x, &n.to_string(), value),
                (Op::Ne, _) => !number_equals(x, &n.to_string(), value),
                (_, Value::Num { value: y, .. }) => ordered(x, op, *y),
                _ => false,
            }
        }
        _ => false,
    }
}

fn ordered(x: f64, op: Op, y: f64) -> bool {
    match op {
        Op::Lt => x < y,
        Op::Le => x <= y,
        Op::Gt => x > y,
        Op::Ge => x >= y,
        Op::Eq => x == y,
        Op::Ne => x != y,
    }
}

/// `*` at the start and/or end is a wildcard; anywhere else it is a literal character.
pub(crate) fn wildcard_match(text: &str, pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let leading = pattern.starts_with('*');
    let trailing = pattern.len() > 1 && pattern.ends_with('*');
    let core = &pattern[usize::from(leading)..pattern.len() - usize::from(trailing)];
    match (leading, trailing) {
        (true, true) => text.contains(core),
        (true, false) => text.ends_with(core),
        (false, true) => text.starts_with(core),
        (false, false) => text == core,
    }
}

fn string_equals(s: &str, value: &Value) -> bool {
    match value {
        Value::Str { text, .. } => wildcard_match(s, text),
        // An unquoted number against a JSON string compares as text: account ids are strings.
        Value::Num { raw, .. } => s == raw,
        Value::Regex(r) => r.is_match(s),
    }
}

fn number_equals(x: f64, text: &str, value: &Value) -> bool {
    match value {
        Value::Num { value: y, .. } => x == *y,
        Value::Str { text: pattern, .. } => wildcard_match(text, pattern),
        Value::Regex(r) => r.is_match(text),
    }
}

// ---------------------------------------------------------------- space-delimited

/// Splits a line into fields: whitespace separates them, and text inside `"…"` or `[…]` is one
/// field (without its delimiters). Each field keeps its byte offset for the remainder rule.
fn split_fields(raw: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let close = match bytes[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        match close {
            Some(close) => {
                let start = i + 1;
                let end = raw[start..]
                    .find(close as char)
                    .map_or(raw.len(), |e| start + e);
                out.push((i, &raw[start..end]));
                i = (end + 1).min(raw.len());
            }
            None => {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                out.push((start, &raw[start..i]));
            }
        }
    }
    out
}

fn delimited_match(fields: &[Field], raw: &str) -> bool {
    let columns = split_fields(raw);
    align(fields, &columns, raw)
}

fn align(fields: &[Field], columns: &[(usize, &str)], raw: &str) -> bool {
    let Some((field, rest)) = fields.split_first() else {
        return columns.is_empty();
    };
    match field {
        Field::Ellipsis => (0..=columns.len()).any(|skip| align(rest, &columns[skip..], raw)),
        Field::Named { cond, .. } => {
            let Some(((offset, column), others)) = columns.split_first() else {
                return false;
            };
            // The last field takes the rest of the line.
            let (text, others) = if rest.is_empty() && !others.is_empty() {
                (raw[*offset..].trim_end(), &others[others.len()..])
            } else {
                (*column, others)
            };
            cond.as_ref().is_none_or(|c| field_match(c, text)) && align(rest, others, raw)
        }
    }
}

fn field_match(expr: &FieldExpr, text: &str) -> bool {
    match expr {
        FieldExpr::Or(items) => items.iter().any(|e| field_match(e, text)),
        FieldExpr::And(items) => items.iter().all(|e| field_match(e, text)),
        FieldExpr::Compare(_, op, value) => {
            let as_number = super::parse::number(text);
            match (op, value, as_number) {
                (Op::Eq, Value::Num { value: y, .. }, Some(x)) => x == *y,
                (Op::Ne, Value::Num { value: y, .. }, Some(x)) => x != *y,
                (Op::Eq, v, _) => string_equals(text, v),
                (Op::Ne, v, _) => !string_equals(text, v),
                (_, Value::Num { value: y, .. }, Some(x)) => ordered(x, *op, *y),
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_only_at_the_ends() {
        assert!(wildcard_match("UpdateTrail", "Update*"));
        assert!(wildcard_match("UpdateTrail", "*Trail"));
        assert!(wildcard_match("UpdateTrail", "*dateTr*"));
        assert!(!wildcard_match("UpdateTrail", "Up*ail"));
        assert!(wildcard_match("Up*ail", "Up*ail"));
        assert!(wildcard_match("", "*"));
    }

    #[test]
    fn fields_keep_quoted_and_bracketed_text_together() {
        let f = split_fields("1.2.3.4 [10/Oct/2000:13:25:15 -0700] \"GET / HTTP/1.0\" 404");
        let texts: Vec<&str> = f.iter().map(|(_, t)| *t).collect();
        assert_eq!(
            texts,
            [
                "1.2.3.4",
                "10/Oct/2000:13:25:15 -0700",
                "GET / HTTP/1.0",
                "404"
            ]
        );
    }
}
