//! The parsed form of a filter pattern. `Display` prints a pattern that parses back to the same
//! tree, which the property tests hold it to.

use std::fmt;

use super::regex::CwRegex;

#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// `""` or `" "`: every event.
    All,
    Terms(Vec<Term>),
    /// A standalone `%regex%`, searched in the raw message.
    Regex(CwRegex),
    Json(Expr),
    Delimited(Vec<Field>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    Required,
    /// `?term`: any of these, unless other terms are present (then they are ignored, as AWS does).
    Optional,
    /// `-term`
    Excluded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub kind: TermKind,
    pub text: String,
    pub quoted: bool,
}

/// A JSON condition. `&&` binds tighter than `||`; `Group` keeps the user's parentheses.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Group(Box<Expr>),
    Test(Selector, Test),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
    /// `.*`: every field of an object.
    AnyField,
    /// `[*]`: every element of an array.
    AnyIndex,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(pub Vec<Step>);

impl Selector {
    pub fn wildcards(&self) -> usize {
        self.0
            .iter()
            .filter(|s| matches!(s, Step::AnyField | Step::AnyIndex))
            .count()
    }

    /// The top-level field this selector starts with, if it names one.
    pub fn root_key(&self) -> Option<&str> {
        match self.0.first() {
            Some(Step::Key(k)) => Some(k),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Compare(Op, Value),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string, with `*` at either end acting as a wildcard.
    Str {
        text: String,
        quoted: bool,
    },
    Num {
        raw: String,
        value: f64,
    },
    Regex(CwRegex),
}

/// One column of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `...`: any number of columns.
    Ellipsis,
    Named {
        name: String,
        cond: Option<FieldExpr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldExpr {
    Or(Vec<FieldExpr>),
    And(Vec<FieldExpr>),
    Compare(String, Op, Value),
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        })
    }
}

fn quote(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str { text, quoted: true } => quote(f, text),
            Value::Str {
                text,
                quoted: false,
            } => f.write_str(text),
            Value::Num { raw, .. } => f.write_str(raw),
            Value::Regex(r) => write!(f, "{r}"),
        }
    }
}

pub(crate) fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.0 {
            match step {
                Step::Key(k) if is_plain_key(k) => write!(f, ".{k}")?,
                Step::Key(k) => write!(f, ".['{k}']")?,
                Step::Index(i) => write!(f, "[{i}]")?,
                Step::AnyField => f.write_str(".*")?,
                Step::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// Writes `items` separated by `sep`.
fn join<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Or(items) => join(f, items, " || "),
            Expr::And(items) => join(f, items, " && "),
            Expr::Group(inner) => write!(f, "({inner})"),
            Expr::Test(sel, test) => match test {
                Test::Compare(op, v) => write!(f, "{sel} {op} {v}"),
                Test::IsNull => write!(f, "{sel} IS NULL"),
                Test::IsTrue => write!(f, "{sel} IS TRUE"),
                Test::IsFalse => write!(f, "{sel} IS FALSE"),
                Test::NotExists => write!(f, "{sel} NOT EXISTS"),
            },
        }
    }
}

impl fmt::Display for FieldExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldExpr::Or(items) => join(f, items, " || "),
            FieldExpr::And(items) => join(f, items, " && "),
            FieldExpr::Compare(name, op, v) => write!(f, "{name}{op}{v}"),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::All => f.write_str(""),
            Pattern::Terms(terms) => {
                for (i, t) in terms.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match t.kind {
                        TermKind::Required => {}
                        TermKind::Optional => f.write_str("?")?,
                        TermKind::Excluded => f.write_str("-")?,
                    }
                    if t.quoted {
                        quote(f, &t.text)?;
                    } else {
                        f.write_str(&t.text)?;
                    }
                }
                Ok(())
            }
            Pattern::Regex(r) => write!(f, "{r}"),
            Pattern::Json(e) => write!(f, "{{ {e} }}"),
            Pattern::Delimited(fields) => {
                f.write_str("[")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match field {
                        Field::Ellipsis => f.write_str("...")?,
                        Field::Named { name, cond: None } => f.write_str(name)?,
                        Field::Named {
                            cond: Some(cond), ..
                        } => write!(f, "{cond}")?,
                    }
                }
                f.write_str("]")
            }
        }
    }
}
