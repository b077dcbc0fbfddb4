//! CloudWatch Logs regular expressions (`%…%`): a restricted syntax, checked as AWS checks it,
//! then run as an ASCII byte regex (AWS's `\w` is `[a-zA-Z_0-9]`, and multi-byte characters are
//! not supported).

use std::fmt;

use regex::bytes::{Regex, RegexBuilder};

/// A compiled filter-pattern regex; equal when written the same way.
#[derive(Debug, Clone)]
pub struct CwRegex {
    source: String,
    compiled: Regex,
}

impl PartialEq for CwRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Display for CwRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}%", self.source)
    }
}

const SYMBOLS: &str = ":_#=@/;,-";
const OPERATORS: &str = "^$?[]{}|\\*+.";

impl CwRegex {
    /// `source` is the text between the `%` signs. On error: the offset within `source` and what
    /// is wrong.
    pub fn new(source: &str) -> Result<Self, (usize, String)> {
        if source.is_empty() {
            return Err((0, "an empty regex `%%` is not allowed".into()));
        }
        for (i, c) in source.char_indices() {
            if c == '(' || c == ')' {
                return Err((
                    i,
                    "parentheses are not supported in filter-pattern regexes; use \\x28 / \\x29 for literal ones".into(),
                ));
            }
            if !c.is_ascii() {
                return Err((
                    i,
                    "multi-byte characters are not supported in regexes".into(),
                ));
            }
            if !(c.is_ascii_alphanumeric() || SYMBOLS.contains(c) || OPERATORS.contains(c)) {
                return Err((
                    i,
                    format!(
                        "`{c}` is not allowed in a regex; allowed are letters, digits, {SYMBOLS} and the operators {OPERATORS}"
                    ),
                ));
            }
        }
        // AWS allows `{,n}`; the regex crate spells it `{0,n}`.
        let translated = source.replace("{,", "{0,");
        let compiled = RegexBuilder::new(&format!("(?-u){translated}"))
            .unicode(false)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| (0, format!("invalid regex: {}", first_line(&e.to_string()))))?;
        Ok(CwRegex {
            source: source.to_string(),
            compiled,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// An unanchored search, as AWS does: `%Trail%` matches inside `UpdateTrail`.
    pub fn is_match(&self, text: &str) -> bool {
        self.compiled.is_match(text.as_bytes())
    }
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_regex_rules() {
        assert!(CwRegex::new("Trail").is_ok_and(|r| r.is_match("UpdateTrail")));
        assert!(CwRegex::new("^Trail").is_ok_and(|r| !r.is_match("UpdateTrail")));
        assert!(CwRegex::new("(a)").is_err());
        assert!(CwRegex::new("something!").is_err());
        assert!(CwRegex::new("é").is_err());
        assert!(CwRegex::new("\\w+").is_ok_and(|r| !r.is_match("éé")));
        assert!(CwRegex::new("a{,2}b").is_ok_and(|r| r.is_match("aab")));
        assert!(CwRegex::new("\\x3A").is_ok_and(|r| r.is_match("a:b")));
    }
}
