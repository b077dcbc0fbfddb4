use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// How bad a finding is. Only errors stop a run; warnings are printed and carried on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding in a spec, anchored to a byte range of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Range<usize>,
    /// Short text under the caret.
    pub label: String,
    /// What to do about it.
    pub help: Option<String>,
    /// A second place that explains the first (e.g. where a duplicate was first seen).
    pub related: Option<(Range<usize>, String)>,
    /// The value is a secret: report where it is, never show the source line.
    pub redact: bool,
}

/// A 1-based line and column, counted in characters as editors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl Location {
    pub fn of(source: &str, offset: usize) -> Self {
        let offset = floor_char_boundary(source, offset.min(source.len()));
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location { line, column }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Values quoted in a heading longer than this are cut: the snippet below shows them anyway.
const MAX_QUOTED_CHARS: usize = 60;

/// Cuts every `quoted` value of a message that is longer than [`MAX_QUOTED_CHARS`].
fn cut_quoted(message: String) -> String {
    let parts: Vec<&str> = message.split('`').collect();
    let mut out = String::with_capacity(message.len());
    for (i, part) in parts.iter().enumerate() {
        // Odd parts sit between a pair of backticks (the last one only if it was closed).
        let quoted = i % 2 == 1 && i + 1 < parts.len();
        if !quoted {
            if i > 0 && i % 2 == 1 {
                out.push('`');
            }
            out.push_str(part);
            continue;
        }
        let n = part.chars().count();
        if n > MAX_QUOTED_CHARS {
            let head: String = part.chars().take(MAX_QUOTED_CHARS - 20).collect();
            out.push_str(&format!("`{head}…` ({n} characters)"));
        } else {
            out.push_str(&format!("`{part}`"));
        }
    }
    out
}

#[cfg(test)]
mod cut_tests {
    use super::*;

    #[test]
    fn long_quoted_values_are_cut_and_short_ones_kept() {
        let long = "x".repeat(500);
        let cut = cut_quoted(format!("`{long}` is not an AWS region code"));
        assert!(
            cut.starts_with(&format!("`{}…` (500 characters)", "x".repeat(40))),
            "{cut}"
        );
        assert!(cut.ends_with(" is not an AWS region code"));
        assert!(cut.chars().count() < 100);
        let kept = "`eu-wset-1` is not an AWS region code; did you mean `eu-west-1`?";
        assert_eq!(cut_quoted(kept.into()), kept);
        assert_eq!(cut_quoted("an odd ` backtick".into()), "an odd ` backtick");
    }
}

impl Diagnostic {
    pub fn error(span: Range<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: cut_quoted(message.into()),
            span,
            label: String::new(),
            help: None,
            related: None,
            redact: false,
        }
    }

    pub fn redacted(mut self) -> Self {
        self.redact = true;
        self
    }

    pub fn warning(span: Range<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        self.related = Some((span, label.into()));
        self
    }

    pub fn location(&self, source: &str) -> Location {
        Location::of(source, self.span.start)
    }
}

/// All findings of one spec file, with the source they point into.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub path: String,
    pub source: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.severity == Severity::Error)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// Renders every finding as a compiler-style report: `path:line:col`, the source line with a
    /// caret under the value, and the help text.
    pub fn render(&self, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let mut out = String::new();
        for d in &self.items {
            let level = match d.severity {
                Severity::Error => Level::ERROR,
                Severity::Warning => Level::WARNING,
            };
            if d.redact {
                let at = d.location(&self.source);
                let mut group =
                    level
                        .primary_title(d.message.as_str())
                        .element(Level::NOTE.message(format!(
                            "at {}:{at} (the value is a secret and is not shown)",
                            self.path
                        )));
                if let Some(help) = &d.help {
                    group = group.element(Level::HELP.message(help.as_str()));
                }
                out.push_str(&renderer.render(&[group]));
                out.push_str("\n\n");
                continue;
            }
            let span = clamp(&self.source, &d.span);
            let mut snippet = Snippet::source(self.source.as_str())
                .path(self.path.as_str())
                .fold(true)
                .annotation(AnnotationKind::Primary.span(span).label(d.label.as_str()));
            if let Some((span, label)) = &d.related {
                snippet = snippet.annotation(
                    AnnotationKind::Context
                        .span(clamp(&self.source, span))
                        .label(label.as_str()),
                );
            }
            let mut group = level.primary_title(d.message.as_str()).element(snippet);
            if let Some(help) = &d.help {
                group = group.element(Level::HELP.message(help.as_str()));
            }
            let report: [Group<'_>; 1] = [group];
            out.push_str(&renderer.render(&report));
            out.push_str("\n\n");
        }
        let errors = self.errors().count();
        let warnings = self.items.len() - errors;
        out.push_str(&format!(
            "{}: {errors} error(s), {warnings} warning(s)\n",
            self.path
        ));
        out
    }
}

fn clamp(source: &str, span: &Range<usize>) -> Range<usize> {
    let start = floor_char_boundary(source, span.start.min(source.len()));
    let end = floor_char_boundary(source, span.end.min(source.len())).max(start);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_characters() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(Location::of(src, 0), Location { line: 1, column: 1 });
        let x = src.find("\"x\"").unwrap_or(0);
        assert_eq!(Location::of(src, x), Location { line: 2, column: 6 });
    }

    #[test]
    fn render_names_file_line_and_column() {
        let source = "[org]\nname = 3\n".to_string();
        let d = Diagnostic::error(13..14, "expected a string")
            .label("an integer")
            .help("quote it");
        let all = Diagnostics {
            path: "org.toml".into(),
            source,
            items: vec![d],
        };
        let text = all.render(false);
        assert!(text.contains("org.toml:2:8"), "{text}");
        assert!(text.contains("expected a string"), "{text}");
        assert!(text.contains("help: quote it"), "{text}");
        assert!(text.contains("1 error(s)"), "{text}");
    }
}
