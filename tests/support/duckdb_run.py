"""Runs translated Athena SQL in DuckDB, for the differential test of the pattern translation.

Input (argv[1], a JSON file): {"columns": {name: duckdb type}, "rows": path to NDJSON,
"queries": [[name, condition], ...]}. Output on stdout: {name: [row ids] or {"error": text}}.

The dialect shim is the three macros below, and nothing else: Athena (Trino) has these
functions, DuckDB has them under other names with the same meaning for the values the
translation gives them (the translation checks a node's JSON type before reading it as a
string, so json_extract_string's different answer for objects is never used).
"""

import json
import sys

import duckdb

SHIM = (
    # Trino: json_format(json) -> varchar, the JSON text of a value.
    "CREATE MACRO json_format(j) AS CAST(j AS VARCHAR)",
    # Trino: json_extract_scalar(json, path) -> varchar for a string, number or boolean.
    "CREATE MACRO json_extract_scalar(d, p) AS json_extract_string(d, p)",
    # Trino: regexp_like(s, pattern) -> whether pattern matches anywhere in s.
    "CREATE MACRO regexp_like(s, r) AS regexp_matches(s, r)",
)


def main():
    spec = json.load(open(sys.argv[1]))
    con = duckdb.connect()
    for statement in SHIM:
        con.execute(statement)
    columns = ", ".join(f"'{k}': '{v}'" for k, v in spec["columns"].items())
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited', columns={{{columns}}})",
        [spec["rows"]],
    )
    out = {}
    for name, condition in spec["queries"]:
        try:
            rows = con.execute(f"SELECT _row FROM t WHERE {condition} ORDER BY _row").fetchall()
            out[name] = [r[0] for r in rows]
        except duckdb.Error as e:
            out[name] = {"error": str(e)}
    json.dump(out, sys.stdout)


main()
