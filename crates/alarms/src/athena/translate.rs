//! Filter pattern → an Athena (Trino) SQL condition with the same answer on every record.
//!
//! AWS's rules carry over exactly: `!=` on a missing field is false, strings never order-compare,
//! objects and booleans fail `=` and `!=`, `*` is a wildcard only at the ends. Each test is wrapped
//! in `COALESCE(…, FALSE)` so that SQL's unknown never leaks into the result. Whatever has no
//! faithful translation is refused with the reason; nothing is approximated.

use std::fmt;

use super::schema::{CLOUDTRAIL, Field, Kind, Schema, column_name};
use crate::pattern::{Expr, Op, Pattern, Selector, Step, Test, Value};

/// Why a pattern was not translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The selector (or pattern form) that could not be translated, as the pattern prints it.
    pub part: String,
    pub reason: String,
}

impl Refusal {
    fn new(part: impl fmt::Display, reason: impl Into<String>) -> Self {
        Refusal {
            part: part.to_string(),
            reason: reason.into(),
        }
    }

    /// The 1-based column of the refused part in the pattern as the user wrote it, when it is
    /// written there the way the pattern prints it.
    pub fn column_in(&self, source: &str) -> Option<usize> {
        source
            .find(&self.part)
            .map(|byte| source[..byte].chars().count() + 1)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.part, self.reason)
    }
}

/// The SQL condition for `pattern` over a table of `schema`.
pub fn translate(pattern: &Pattern, schema: Schema) -> Result<String, Refusal> {
    match pattern {
        Pattern::All => Ok("TRUE".into()),
        Pattern::Json(expr) => expr_sql(expr, schema),
        Pattern::Terms(_) | Pattern::Regex(_) | Pattern::Delimited(_) => Err(Refusal::new(
            pattern,
            "term, regex and space-delimited patterns search an event's raw text, which the table does not keep; write it as a JSON pattern ({ $.field = ... })",
        )),
    }
}

fn expr_sql(expr: &Expr, schema: Schema) -> Result<String, Refusal> {
    let join = |items: &[Expr], op: &str| -> Result<String, Refusal> {
        let parts: Result<Vec<String>, Refusal> =
            items.iter().map(|e| expr_sql(e, schema)).collect();
        Ok(format!("({})", parts?.join(op)))
    };
    match expr {
        Expr::Or(items) => join(items, " OR "),
        Expr::And(items) => join(items, " AND "),
        Expr::Group(inner) => expr_sql(inner, schema),
        Expr::Test(selector, test) => {
            let node = resolve(selector, schema)?;
            let condition = test_sql(&node, test).map_err(|why| Refusal::new(selector, why))?;
            Ok(format!("COALESCE({condition}, FALSE)"))
        }
    }
}

/// What a selector reaches in the table.
enum Node {
    /// A column or struct field: its SQL expression and what it holds.
    Typed(String, Kind),
    /// A value inside a JSON document column: the column and a JSONPath into it.
    InDocument { column: String, path: String },
    /// Nothing: the selector goes inside a string, where no value can be.
    Nothing,
}

fn resolve(selector: &Selector, schema: Schema) -> Result<Node, Refusal> {
    if selector.wildcards() > 0 {
        return Err(Refusal::new(
            selector,
            "selects many values (`*`), and Athena's json_extract reads one path",
        ));
    }
    match schema {
        Schema::Document(column) => document_node(column.to_string(), &selector.0)
            .map_err(|why| Refusal::new(selector, why)),
        Schema::CloudTrail => typed_node(String::new(), CLOUDTRAIL, &selector.0)
            .map_err(|why| Refusal::new(selector, why)),
    }
}

fn typed_node(prefix: String, fields: &[Field], steps: &[Step]) -> Result<Node, String> {
    let Some((Step::Key(key), rest)) = steps.split_first() else {
        return Err("an array index on a record field the table keeps typed".into());
    };
    let Some(field) = fields.iter().find(|f| f.key == key) else {
        return Err(format!(
            "`{key}` is not a field of the CloudTrail table (keys are case-sensitive)"
        ));
    };
    let expr = if prefix.is_empty() {
        column_name(field.key)
    } else {
        format!("{prefix}.{}", column_name(field.key))
    };
    match (field.kind, rest.is_empty()) {
        (kind, true) => Ok(Node::Typed(expr, kind)),
        (Kind::Struct(inner), false) => typed_node(expr, inner, rest),
        (Kind::Document, false) => document_node(expr, rest),
        (Kind::Text | Kind::Flag, false) => Ok(Node::Nothing),
        (Kind::Opaque(t), false) => Err(format!(
            "the table keeps `{key}` as {t}, which the translation does not reach into"
        )),
    }
}

fn document_node(column: String, steps: &[Step]) -> Result<Node, String> {
    let mut path = String::from("$");
    for step in steps {
        match step {
            Step::Key(k) if is_path_key(k) => {
                path.push('.');
                path.push_str(k);
            }
            Step::Key(k) => {
                return Err(format!(
                    "the key `{k}` needs quoting in a JSONPath, which Athena and other engines quote differently"
                ));
            }
            Step::Index(i) => path.push_str(&format!("[{i}]")),
            Step::AnyField | Step::AnyIndex => return Err("wildcard".into()),
        }
    }
    if steps.is_empty() {
        return Err("the document itself: CloudTrail writes null where there is none, and the table keeps null and missing alike".into());
    }
    Ok(Node::InDocument { column, path })
}

fn is_path_key(key: &str) -> bool {
    key.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn test_sql(node: &Node, test: &Test) -> Result<String, String> {
    match node {
        Node::Nothing => Ok(if *test == Test::NotExists {
            "TRUE"
        } else {
            "FALSE"
        }
        .into()),
        Node::Typed(expr, kind) => typed_test(expr, *kind, test),
        Node::InDocument { column, path } => Ok(document_test(column, path, test)),
    }
}

fn typed_test(expr: &str, kind: Kind, test: &Test) -> Result<String, String> {
    let no_null = "the table keeps a JSON null and a missing field alike, so IS NULL cannot be told apart; CloudTrail omits such fields rather than writing null";
    Ok(match (kind, test) {
        (_, Test::IsNull) => return Err(no_null.into()),
        (Kind::Document, Test::NotExists) => {
            return Err("CloudTrail writes null where there is no document, and the table keeps null and missing alike".into());
        }
        (_, Test::NotExists) => format!("{expr} IS NULL"),
        (Kind::Flag, Test::IsTrue) => format!("{expr} = 'true'"),
        (Kind::Flag, Test::IsFalse) => format!("{expr} = 'false'"),
        (Kind::Text, Test::Compare(op, value)) => text_compare(expr, *op, value),
        (Kind::Opaque(_), _) => {
            return Err("a column the translation does not reach into".into());
        }
        // Booleans, objects and documents fail every comparison, as in CloudWatch Logs.
        _ => "FALSE".into(),
    })
}

/// A comparison against a string: wildcards, exact text for numbers, regexes; never ordered.
fn text_compare(expr: &str, op: Op, value: &Value) -> String {
    let equals = match value {
        Value::Str { text, .. } => like(expr, text),
        Value::Num { raw, .. } => format!("{expr} = {}", literal(raw)),
        Value::Regex(r) => regex(expr, r.source()),
    };
    match op {
        Op::Eq => equals,
        Op::Ne => format!("NOT ({equals})"),
        _ => "FALSE".into(),
    }
}

fn document_test(column: &str, path: &str, test: &Test) -> String {
    let node = format!("json_extract({column}, {})", literal(path));
    let text = format!("json_format({node})");
    let string = format!("json_extract_scalar({column}, {})", literal(path));
    let is_string = format!("{text} LIKE '\"%'");
    let is_number = format!("regexp_like({text}, '^-?[0-9]')");
    let number = format!("TRY_CAST({node} AS DOUBLE)");
    match test {
        Test::NotExists => format!("{node} IS NULL"),
        Test::IsNull => format!("{text} = 'null'"),
        Test::IsTrue => format!("{text} = 'true'"),
        Test::IsFalse => format!("{text} = 'false'"),
        Test::Compare(op, value) => {
            let on_string = text_compare(&string, *op, value);
            let on_number = match (op, value) {
                (Op::Eq, Value::Num { value, .. }) => format!("{number} = {}", double(*value)),
                (Op::Ne, Value::Num { value, .. }) => format!("{number} <> {}", double(*value)),
                (Op::Eq | Op::Ne, _) => text_compare(&text, *op, value),
                (_, Value::Num { value, .. }) => {
                    format!("{number} {} {}", sql_op(*op), double(*value))
                }
                _ => "FALSE".into(),
            };
            format!("({is_string} AND {on_string}) OR ({is_number} AND {on_number})")
        }
    }
}

fn sql_op(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "<>",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
    }
}

fn double(value: f64) -> String {
    format!("DOUBLE '{value:e}'")
}

/// A SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// CloudWatch's `*` at either end becomes LIKE's `%`; LIKE's own wildcards are escaped.
fn like(expr: &str, pattern: &str) -> String {
    if pattern == "*" {
        return format!("{expr} IS NOT NULL");
    }
    let leading = pattern.starts_with('*');
    let trailing = pattern.len() > 1 && pattern.ends_with('*');
    let core = &pattern[usize::from(leading)..pattern.len() - usize::from(trailing)];
    if !leading && !trailing {
        return format!("{expr} = {}", literal(core));
    }
    let mut escaped = String::new();
    for c in core.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    let pct = |on: bool| if on { "%" } else { "" };
    format!(
        "{expr} LIKE {} ESCAPE '\\'",
        literal(&format!("{}{escaped}{}", pct(leading), pct(trailing)))
    )
}

fn regex(expr: &str, source: &str) -> String {
    // AWS accepts `{,n}`; Java's and RE2's regexes spell it `{0,n}`.
    format!(
        "regexp_like({expr}, {})",
        literal(&source.replace("{,", "{0,"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::parse;

    fn sql(pattern: &str) -> Result<String, Refusal> {
        let p = parse(pattern).map_err(|e| Refusal::new(pattern, e.message))?;
        translate(&p, Schema::CloudTrail)
    }

    #[test]
    fn top_level_and_struct_fields_become_columns() {
        let s = sql(r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }"#);
        assert_eq!(
            s.as_deref(),
            Ok(
                "(COALESCE(useridentity.type = 'Root', FALSE) AND COALESCE(useridentity.invokedby IS NULL, FALSE))"
            )
        );
    }

    #[test]
    fn wildcards_become_escaped_like_patterns() {
        let s = sql(r#"{ $.errorCode = "*Unauthorized_Op%" }"#).unwrap_or_default();
        assert!(
            s.contains(r"errorcode LIKE '%Unauthorized\_Op\%' ESCAPE '\'"),
            "{s}"
        );
        let s = sql(r#"{ $.eventName = "Put*" }"#).unwrap_or_default();
        assert!(s.contains("eventname LIKE 'Put%'"), "{s}");
    }

    #[test]
    fn documents_are_read_with_json_functions_and_typed() {
        let s = sql(r#"{ $.additionalEventData.MFAUsed != "Yes" }"#).unwrap_or_default();
        assert!(s.contains("json_extract_scalar(additionaleventdata, '$.MFAUsed')"));
        assert!(s.contains("NOT (json_extract_scalar"));
        let s = sql("{ $.requestParameters.maxResults > 10 }").unwrap_or_default();
        assert!(
            s.contains(
                "TRY_CAST(json_extract(requestparameters, '$.maxResults') AS DOUBLE) > DOUBLE '1e1'"
            ),
            "{s}"
        );
    }

    #[test]
    fn strings_never_order_compare_and_quotes_are_escaped() {
        assert_eq!(
            sql("{ $.eventName > 5 }").as_deref(),
            Ok("COALESCE(FALSE, FALSE)")
        );
        let s = sql(r#"{ $.eventName = "it's" }"#).unwrap_or_default();
        assert!(s.contains("eventname = 'it''s'"), "{s}");
    }

    #[test]
    fn untranslatable_parts_are_refused_with_the_reason() {
        let refused = |p: &str| sql(p).err().map(|r| r.to_string()).unwrap_or_default();
        assert!(refused("ERROR").contains("raw text"));
        assert!(refused("{ $.resources[0].type = \"x\" }").contains("ARRAY<STRUCT"));
        assert!(refused("{ $.requestParameters.items[*].key = \"x\" }").contains("many values"));
        assert!(refused("{ $.EventName = \"x\" }").contains("case-sensitive"));
        assert!(refused("{ $.errorCode IS NULL }").contains("IS NULL"));
        assert!(refused("{ $.requestParameters NOT EXISTS }").contains("writes null"));
    }

    #[test]
    fn the_refused_part_is_located_in_the_source() {
        let source = r#"{ $.eventName = "x" || $.resources[0].type = "y" }"#;
        let err = sql(source).err();
        assert_eq!(err.and_then(|e| e.column_in(source)), Some(24));
    }

    #[test]
    fn selecting_inside_a_string_reaches_nothing() {
        assert_eq!(
            sql("{ $.eventName.inner NOT EXISTS }").as_deref(),
            Ok("COALESCE(TRUE, FALSE)")
        );
    }
}
