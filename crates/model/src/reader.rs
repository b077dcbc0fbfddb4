//! A schema-aware walk over a spanned TOML tree that records every problem instead of stopping
//! at the first, which serde cannot do.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::rules::did_you_mean;
use crate::{Diagnostic, Located};

#[derive(Default)]
pub(crate) struct Sink {
    pub items: Vec<Diagnostic>,
}

impl Sink {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Records `check`'s complaint about `value`, if any, at the value's span.
    pub fn check<T>(
        &mut self,
        value: &Located<T>,
        check: impl FnOnce(&T) -> Result<(), String>,
        help: &str,
    ) -> bool {
        match check(&value.value) {
            Ok(()) => true,
            Err(message) => {
                self.push(
                    Diagnostic::error(value.span.clone(), message)
                        .label("here")
                        .help(help),
                );
                false
            }
        }
    }
}

/// One TOML table being read, with the keys it may hold.
pub(crate) struct Table<'a, 'i> {
    table: &'a DeTable<'i>,
    /// Where a missing key is reported: the table's header, or the file start for the root.
    span: Range<usize>,
    name: String,
    known: &'static [&'static str],
}

fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'a, 'i> Table<'a, 'i> {
    pub fn root(table: &'a DeTable<'i>, known: &'static [&'static str]) -> Self {
        Table {
            table,
            span: 0..0,
            name: "the top level".into(),
            known,
        }
    }

    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    fn get(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    fn type_error(&self, sink: &mut Sink, key: &str, v: &Spanned<DeValue<'_>>, want: &str) {
        let mut d = Diagnostic::error(
            v.span(),
            format!(
                "`{key}` in {} must be {want}, found {}",
                self.name,
                kind(v.get_ref())
            ),
        )
        .label(format!("expected {want}"));
        // An account id written as a number loses its leading zeros: TOML wants it quoted.
        if let DeValue::Integer(n) = v.get_ref()
            && want == "a string"
        {
            let digits = n.as_str();
            let why = if key.contains("account") || digits.len() == 12 {
                " (account ids are strings of 12 digits: a number would drop leading zeros)"
            } else {
                ""
            };
            d = d.help(format!("quote it: {key} = \"{digits}\"{why}"));
        }
        sink.push(d);
    }

    pub fn missing(&self, sink: &mut Sink, key: &str, example: &str) {
        sink.push(
            Diagnostic::error(
                self.span.clone(),
                format!("missing required key `{key}` in {}", self.name),
            )
            .label(format!("`{key}` is required here"))
            .help(format!("add `{key} = {example}`")),
        );
    }

    pub fn string(&self, sink: &mut Sink, key: &str) -> Option<Located<String>> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Located::new(s.to_string(), v.span())),
            _ => {
                self.type_error(sink, key, v, "a string");
                None
            }
        }
    }

    pub fn required_string(
        &self,
        sink: &mut Sink,
        key: &str,
        example: &str,
    ) -> Option<Located<String>> {
        if self.get(key).is_none() {
            self.missing(sink, key, example);
        }
        self.string(sink, key)
    }

    pub fn bool(&self, sink: &mut Sink, key: &str) -> Option<Located<bool>> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(Located::new(*b, v.span())),
            _ => {
                self.type_error(sink, key, v, "true or false");
                None
            }
        }
    }

    pub fn int(&self, sink: &mut Sink, key: &str) -> Option<Located<i64>> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Integer(i) => {
                match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                    Ok(n) => Some(Located::new(n, v.span())),
                    Err(_) => {
                        sink.push(Diagnostic::error(
                            v.span(),
                            format!("`{key}` is out of range"),
                        ));
                        None
                    }
                }
            }
            _ => {
                self.type_error(sink, key, v, "an integer");
                None
            }
        }
    }

    /// An integer or a string, for values like `failure_tolerance = 1` or `"10%"`.
    pub fn raw(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.get(key)
    }

    pub fn strings(&self, sink: &mut Sink, key: &str) -> Option<Vec<Located<String>>> {
        let v = self.get(key)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.type_error(sink, key, v, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            match item.get_ref() {
                DeValue::String(s) => out.push(Located::new(s.to_string(), item.span())),
                other => sink.push(
                    Diagnostic::error(
                        item.span(),
                        format!("items of `{key}` must be strings, found {}", kind(other)),
                    )
                    .label("expected a string"),
                ),
            }
        }
        Some(out)
    }

    pub fn table(
        &self,
        sink: &mut Sink,
        key: &str,
        known: &'static [&'static str],
    ) -> Option<Table<'a, 'i>> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(Table {
                table: t,
                span: header_span(self.table, key, v),
                name: format!("[{}]", self.qualify(key)),
                known,
            }),
            _ => {
                self.type_error(sink, key, v, "a table");
                None
            }
        }
    }

    /// `[[key]]` entries.
    pub fn tables(
        &self,
        sink: &mut Sink,
        key: &str,
        known: &'static [&'static str],
    ) -> Vec<Table<'a, 'i>> {
        let Some(v) = self.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.type_error(sink, key, v, &format!("an array of tables (`[[{key}]]`)"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(t) => out.push(Table {
                    table: t,
                    span: item.span(),
                    name: format!("[[{key}]] #{}", i + 1),
                    known,
                }),
                other => sink.push(Diagnostic::error(
                    item.span(),
                    format!("entries of `{key}` must be tables, found {}", kind(other)),
                )),
            }
        }
        out
    }

    fn qualify(&self, key: &str) -> String {
        match self
            .name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
        {
            Some(parent) if !parent.starts_with('[') => format!("{parent}.{key}"),
            _ => key.to_string(),
        }
    }

    /// Reports every key this table does not know, with the nearest known key as a hint.
    pub fn reject_unknown(&self, sink: &mut Sink) {
        for (key, _) in self.table.iter() {
            let name = key.get_ref().as_ref();
            if self.known.contains(&name) {
                continue;
            }
            let mut d =
                Diagnostic::error(key.span(), format!("unknown key `{name}` in {}", self.name))
                    .label("not a known key");
            d = match did_you_mean(name, self.known.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("known keys here: {}", self.known.join(", "))),
            };
            sink.push(d);
        }
    }
}

/// The span of a table's `[header]` when toml records it on the key, else the table's own span.
fn header_span(parent: &DeTable<'_>, key: &str, value: &Spanned<DeValue<'_>>) -> Range<usize> {
    parent
        .get_key_value(key)
        .map(|(k, _)| k.span())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| value.span())
}
