//! CloudWatch Logs filter patterns: parse, print, evaluate.

mod ast;
mod eval;
mod parse;
mod regex;

pub use ast::{Expr, Field, FieldExpr, Op, Pattern, Selector, Step, Term, TermKind, Test, Value};
pub use eval::Event;
pub use parse::{MAX_PATTERN_CHARS, MAX_REGEXES, PatternError, parse};
pub use regex::CwRegex;

impl std::str::FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}
