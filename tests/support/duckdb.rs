//! A real SQL engine for the translated patterns: DuckDB, run from the emulator's venv (where
//! `cargo xtask test` installs it). Athena itself cannot run here; DuckDB runs the same SQL
//! through a shim of three function names (see duckdb_run.py), so what differs is the test's,
//! and what is left is Athena's dialect.
//!
//! The rows are CloudTrail records as CloudTrail's SerDe presents them: lower-case column names,
//! JSON objects as structs, free-form documents as their JSON text, booleans as `true`/`false`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{Map, Value, json};
use trailhead_alarms::athena::schema::{CLOUDTRAIL, Field, Kind, column_name, hive_type};

const RUNNER: &str = include_str!("duckdb_run.py");

/// The venv's Python, which has DuckDB: from `cargo xtask test`, or the emulator's venv.
pub fn python() -> PathBuf {
    std::env::var_os("TRAILHEAD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/emulator/venv/bin/python")
        })
}

/// A table for DuckDB: column types, and rows whose `_row` column identifies them.
pub struct DuckTable {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Value>,
}

/// Per query: the `_row`s it matched, or DuckDB's error.
pub type Answers = BTreeMap<String, Result<Vec<u64>, String>>;

impl DuckTable {
    /// CloudTrail records, as the SerDe reads them.
    pub fn cloudtrail(records: &[Value]) -> Self {
        let mut columns = vec![("_row".to_string(), "BIGINT".to_string())];
        columns.extend(
            CLOUDTRAIL
                .iter()
                .map(|f| (column_name(f.key), duck_type(&hive_type(f.kind)))),
        );
        let rows = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut row = serde_row(CLOUDTRAIL, r);
                row.insert("_row".into(), json!(i));
                Value::Object(row)
            })
            .collect();
        DuckTable { columns, rows }
    }

    /// Whole events in one JSON text column.
    pub fn documents(column: &str, events: &[String]) -> Self {
        DuckTable {
            columns: vec![
                ("_row".into(), "BIGINT".into()),
                (column.into(), "VARCHAR".into()),
            ],
            rows: events
                .iter()
                .enumerate()
                .map(|(i, e)| json!({"_row": i, column: e}))
                .collect(),
        }
    }

    /// Runs `SELECT _row FROM t WHERE condition` for each (name, condition).
    pub fn run(&self, queries: &[(String, String)]) -> Result<Answers, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let rows_path = dir.path().join("rows.ndjson");
        let lines: Vec<String> = self.rows.iter().map(Value::to_string).collect();
        std::fs::write(&rows_path, lines.join("\n")).map_err(|e| e.to_string())?;
        let columns: Map<String, Value> = self
            .columns
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let spec = json!({"columns": columns, "rows": rows_path, "queries": queries});
        let spec_path = dir.path().join("spec.json");
        std::fs::write(&spec_path, spec.to_string()).map_err(|e| e.to_string())?;
        let out = Command::new(python())
            .arg("-c")
            .arg(RUNNER)
            .arg(&spec_path)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", python().display()))?;
        if !out.status.success() {
            return Err(format!(
                "DuckDB runner failed (is duckdb installed? `cargo xtask test` installs it): {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let answers: BTreeMap<String, Value> =
            serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        Ok(answers
            .into_iter()
            .map(|(name, v)| {
                let ids = match v {
                    Value::Array(ids) => Ok(ids.iter().filter_map(Value::as_u64).collect()),
                    other => Err(other["error"].as_str().unwrap_or("?").to_string()),
                };
                (name, ids)
            })
            .collect())
    }
}

fn serde_row(fields: &[Field], record: &Value) -> Map<String, Value> {
    fields
        .iter()
        .map(|f| (column_name(f.key), serde_value(f.kind, record.get(f.key))))
        .collect()
}

fn serde_value(kind: Kind, value: Option<&Value>) -> Value {
    match (kind, value) {
        (_, None | Some(Value::Null)) | (Kind::Opaque(_), _) => Value::Null,
        (Kind::Text, Some(Value::String(s))) => json!(s),
        (Kind::Struct(inner), Some(v @ Value::Object(_))) => Value::Object(serde_row(inner, v)),
        (Kind::Struct(_), Some(_)) => Value::Null,
        (_, Some(v)) => json!(v.to_string()),
    }
}

/// Hive's type spelling → DuckDB's.
pub fn duck_type(hive: &str) -> String {
    if let Some(inner) = hive
        .strip_prefix("STRUCT<")
        .and_then(|s| s.strip_suffix('>'))
    {
        let fields: Vec<String> = split_top(inner)
            .iter()
            .filter_map(|f| f.split_once(':'))
            .map(|(name, ty)| format!("\"{name}\" {}", duck_type(ty)))
            .collect();
        return format!("STRUCT({})", fields.join(", "));
    }
    if let Some(inner) = hive
        .strip_prefix("ARRAY<")
        .and_then(|s| s.strip_suffix('>'))
    {
        return format!("{}[]", duck_type(inner));
    }
    if let Some(inner) = hive.strip_prefix("MAP<").and_then(|s| s.strip_suffix('>')) {
        let parts = split_top(inner);
        if let [k, v] = parts.as_slice() {
            return format!("MAP({}, {})", duck_type(k), duck_type(v));
        }
    }
    "VARCHAR".into()
}

/// Splits at commas that are not inside `<…>`.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}
