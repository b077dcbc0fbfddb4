//! The filter-pattern parser, built on winnow. Errors carry the 1-based column and say what was
//! expected there.

use std::cell::{Cell, RefCell};

use winnow::Stateful;
use winnow::ascii::{Caseless, multispace0, multispace1};
use winnow::combinator::{alt, cut_err, opt};
use winnow::error::{ContextError, ErrMode, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::stream::Stream;
use winnow::token::{any, take, take_till, take_while};

use super::ast::{
    Expr, Field, FieldExpr, Op, Pattern, Selector, Step, Term, TermKind, Test, Value,
};
use super::regex::CwRegex;

/// AWS's limits on one filter pattern.
pub const MAX_PATTERN_CHARS: usize = 1024;
pub const MAX_REGEXES: usize = 2;
pub const MAX_WILDCARD_SELECTORS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct PatternError {
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

/// Errors winnow's static contexts cannot express (a regex's own complaint, a quota), recorded
/// with the length of the input left at that point so the column can be recovered.
#[derive(Debug, Default)]
struct Detail {
    error: RefCell<Option<(usize, String)>>,
    regexes: Cell<usize>,
    wildcards: Cell<usize>,
}

type Input<'a> = Stateful<&'a str, &'a Detail>;

fn expected(what: &'static str) -> StrContext {
    StrContext::Expected(StrContextValue::Description(what))
}

/// Records `message` at `back` bytes before the current position, and fails without
/// backtracking.
fn fail_at<T>(i: &Input<'_>, back: usize, message: String) -> ModalResult<T> {
    i.state
        .error
        .borrow_mut()
        .get_or_insert((i.input.len() + back, message));
    Err(ErrMode::Cut(ContextError::new()))
}

pub fn parse(pattern: &str) -> Result<Pattern, PatternError> {
    let chars = pattern.chars().count();
    if chars > MAX_PATTERN_CHARS {
        return Err(PatternError {
            column: MAX_PATTERN_CHARS + 1,
            message: format!(
                "the pattern is {chars} characters; AWS allows at most {MAX_PATTERN_CHARS}"
            ),
        });
    }
    let trimmed = pattern.trim();
    if trimmed.is_empty() || trimmed == "\" \"" {
        return Ok(Pattern::All);
    }
    let detail = Detail::default();
    let input = Stateful {
        input: pattern,
        state: &detail,
    };
    let result = if trimmed.starts_with('{') {
        (|i: &mut Input<'_>| json_pattern(i))
            .map(Pattern::Json)
            .parse(input)
    } else if trimmed.starts_with('[') {
        (|i: &mut Input<'_>| delimited_pattern(i))
            .map(Pattern::Delimited)
            .parse(input)
    } else if trimmed.len() >= 2
        && trimmed.starts_with('%')
        && trimmed.ends_with('%')
        && !trimmed[1..trimmed.len() - 1].contains('%')
    {
        (|i: &mut Input<'_>| standalone_regex(i))
            .map(Pattern::Regex)
            .parse(input)
    } else {
        (|i: &mut Input<'_>| terms_pattern(i))
            .map(Pattern::Terms)
            .parse(input)
    };
    result.map_err(|e| {
        let (offset, message) = match detail.error.borrow_mut().take() {
            Some((remaining, message)) => (pattern.len().saturating_sub(remaining), message),
            None => {
                // The innermost context is the precise one; outer ones only restate it.
                let text = e
                    .inner()
                    .context()
                    .find_map(|c| match c {
                        StrContext::Expected(v) => Some(format!("expected {v}")),
                        _ => None,
                    })
                    .unwrap_or_default();
                let found = match pattern[e.offset().min(pattern.len())..].chars().next() {
                    Some(c) => format!("found `{c}`"),
                    None => "found the end of the pattern".to_string(),
                };
                let message = if text.is_empty() {
                    format!("unexpected input ({found})")
                } else {
                    format!("{text}, {found}")
                };
                (e.offset(), message)
            }
        };
        let offset = offset.min(pattern.len());
        let column = pattern.get(..offset).map_or(offset, |s| s.chars().count()) + 1;
        PatternError { column, message }
    })
}

fn ws(i: &mut Input<'_>) -> ModalResult<()> {
    multispace0.void().parse_next(i)
}

// ---------------------------------------------------------------- JSON patterns

fn json_pattern(i: &mut Input<'_>) -> ModalResult<Expr> {
    ws(i)?;
    '{'.parse_next(i)?;
    ws(i)?;
    let expr = cut_err(or_expr).parse_next(i)?;
    ws(i)?;
    cut_err('}')
        .context(expected("`&&`, `||` or the closing `}`"))
        .parse_next(i)?;
    ws(i)?;
    Ok(expr)
}

fn or_expr(i: &mut Input<'_>) -> ModalResult<Expr> {
    let mut items = vec![and_expr(i)?];
    loop {
        let checkpoint = i.checkpoint();
        ws(i)?;
        if opt("||").parse_next(i)?.is_none() {
            i.reset(&checkpoint);
            break;
        }
        ws(i)?;
        items.push(cut_err(and_expr).parse_next(i)?);
    }
    Ok(if items.len() == 1 {
        items.remove(0)
    } else {
        Expr::Or(items)
    })
}

fn and_expr(i: &mut Input<'_>) -> ModalResult<Expr> {
    let mut items = vec![primary(i)?];
    loop {
        let checkpoint = i.checkpoint();
        ws(i)?;
        if opt("&&").parse_next(i)?.is_none() {
            i.reset(&checkpoint);
            break;
        }
        ws(i)?;
        items.push(cut_err(primary).parse_next(i)?);
    }
    Ok(if items.len() == 1 {
        items.remove(0)
    } else {
        Expr::And(items)
    })
}

fn primary(i: &mut Input<'_>) -> ModalResult<Expr> {
    if opt('(').parse_next(i)?.is_some() {
        ws(i)?;
        let inner = cut_err(or_expr).parse_next(i)?;
        ws(i)?;
        cut_err(')')
            .context(expected("`&&`, `||` or `)`"))
            .parse_next(i)?;
        return Ok(Expr::Group(Box::new(inner)));
    }
    let sel = cut_err(selector)
        .context(expected("a selector such as `$.eventName`, or `(`"))
        .parse_next(i)?;
    ws(i)?;
    let test = cut_err(test)
        .context(expected(
            "an operator (= != < <= > >=), IS NULL, IS TRUE, IS FALSE or NOT EXISTS",
        ))
        .parse_next(i)?;
    Ok(Expr::Test(sel, test))
}

fn test(i: &mut Input<'_>) -> ModalResult<Test> {
    if opt(Caseless("IS")).parse_next(i)?.is_some() {
        multispace1.parse_next(i)?;
        return cut_err(alt((
            Caseless("NULL").value(Test::IsNull),
            Caseless("TRUE").value(Test::IsTrue),
            Caseless("FALSE").value(Test::IsFalse),
        )))
        .context(expected(
            "NULL, TRUE or FALSE after IS (IS NOT is not supported)",
        ))
        .parse_next(i);
    }
    if opt(Caseless("NOT")).parse_next(i)?.is_some() {
        multispace1.parse_next(i)?;
        return cut_err(Caseless("EXISTS").value(Test::NotExists))
            .context(expected("EXISTS after NOT"))
            .parse_next(i);
    }
    let op = operator(i)?;
    ws(i)?;
    let value = cut_err(|i: &mut Input<'_>| value(i, is_json_value_end))
        .context(expected(
            "a value: a number, a string, \"quoted text\" or %regex%",
        ))
        .parse_next(i)?;
    numeric_operand_check(i, op, &value)?;
    Ok(Test::Compare(op, value))
}

fn operator(i: &mut Input<'_>) -> ModalResult<Op> {
    alt((
        "!=".value(Op::Ne),
        "<=".value(Op::Le),
        ">=".value(Op::Ge),
        "=".value(Op::Eq),
        "<".value(Op::Lt),
        ">".value(Op::Gt),
    ))
    .parse_next(i)
}

fn numeric_operand_check(i: &Input<'_>, op: Op, value: &Value) -> ModalResult<()> {
    if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && !matches!(value, Value::Num { .. }) {
        // Point at the value, which was just consumed.
        let width = value.to_string().len();
        return fail_at(
            i,
            width,
            format!("`{op}` compares numbers; `{value}` is not a number"),
        );
    }
    Ok(())
}

fn selector(i: &mut Input<'_>) -> ModalResult<Selector> {
    let start = i.input.len();
    '$'.parse_next(i)?;
    let mut steps = Vec::new();
    loop {
        let step = if opt('.').parse_next(i)?.is_some() {
            cut_err(alt((
                '*'.value(Step::AnyField),
                bracket_key,
                take_while(1.., |c: char| {
                    c.is_ascii_alphanumeric() || c == '_' || c == '-'
                })
                .map(|k: &str| Step::Key(k.to_string())),
            )))
            .context(expected("a property name, `*` or `['name']` after `.`"))
            .parse_next(i)?
        } else if i.input.starts_with('[') {
            alt((
                ('[', '*', ']').value(Step::AnyIndex),
                bracket_key,
                ('[', take_while(1.., |c: char| c.is_ascii_digit()), ']')
                    .try_map(|(_, d, _): (char, &str, char)| d.parse::<usize>().map(Step::Index)),
            ))
            .parse_next(i)?
        } else {
            break;
        };
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(ErrMode::Backtrack(ContextError::new()));
    }
    let sel = Selector(steps);
    let wildcards = sel.wildcards();
    if wildcards > 1 {
        return fail_at(
            i,
            start - i.input.len(),
            "a selector may use at most one wildcard (`*`)".into(),
        );
    }
    let total = i.state.wildcards.get() + wildcards;
    i.state.wildcards.set(total);
    if total > MAX_WILDCARD_SELECTORS {
        return fail_at(
            i,
            start - i.input.len(),
            format!("AWS allows at most {MAX_WILDCARD_SELECTORS} wildcard selectors in a pattern"),
        );
    }
    Ok(sel)
}

fn bracket_key(i: &mut Input<'_>) -> ModalResult<Step> {
    '['.parse_next(i)?;
    let quote = alt(('\'', '"')).parse_next(i)?;
    let key = cut_err(take_till(0.., move |c: char| c == quote))
        .parse_next(i)?
        .to_string();
    cut_err((quote, ']'))
        .context(expected("the closing quote and `]` of a bracket key"))
        .parse_next(i)?;
    Ok(Step::Key(key))
}

fn is_json_value_end(c: char, rest: &str) -> bool {
    c.is_whitespace() || c == ')' || c == '}' || rest.starts_with("&&") || rest.starts_with("||")
}

fn is_field_value_end(c: char, rest: &str) -> bool {
    c.is_whitespace() || c == ',' || c == ']' || rest.starts_with("&&") || rest.starts_with("||")
}

/// A quoted string, a `%regex%` or a bare token ending where `end` says.
fn value(i: &mut Input<'_>, end: fn(char, &str) -> bool) -> ModalResult<Value> {
    if i.input.starts_with('"') {
        let text = quoted(i)?;
        return Ok(Value::Str { text, quoted: true });
    }
    if i.input.starts_with('%') {
        return regex_value(i).map(Value::Regex);
    }
    let input: &str = i.input;
    let len = input
        .char_indices()
        .find(|(at, c)| end(*c, &input[*at..]))
        .map_or(input.len(), |(at, _)| at);
    if len == 0 {
        return Err(ErrMode::Backtrack(ContextError::new()));
    }
    let token: &str = take(len).parse_next(i)?;
    Ok(match number(token) {
        Some(value) => Value::Num {
            raw: token.to_string(),
            value,
        },
        None => Value::Str {
            text: token.to_string(),
            quoted: false,
        },
    })
}

/// AWS's number grammar: optional sign, integer or decimal, optional exponent.
pub(crate) fn number(token: &str) -> Option<f64> {
    let body = token.strip_prefix(['+', '-']).unwrap_or(token);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    if let Some(exp) = exponent {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if exp.is_empty() || !digits(exp) {
            return None;
        }
    }
    token.parse().ok()
}

fn quoted(i: &mut Input<'_>) -> ModalResult<String> {
    '"'.parse_next(i)?;
    let mut out = String::new();
    loop {
        let c = cut_err(any)
            .context(expected("a closing `\"`"))
            .parse_next(i)?;
        match c {
            '"' => return Ok(out),
            '\\' => {
                let next = cut_err(any)
                    .context(expected("a character after `\\`"))
                    .parse_next(i)?;
                // Only `\"` and `\\` are escapes; anything else keeps its backslash.
                if next != '"' && next != '\\' {
                    out.push('\\');
                }
                out.push(next);
            }
            c => out.push(c),
        }
    }
}

fn regex_value(i: &mut Input<'_>) -> ModalResult<CwRegex> {
    '%'.parse_next(i)?;
    let inner_start = i.input.len();
    let source: &str = take_till(0.., '%').parse_next(i)?;
    if opt('%').parse_next(i)?.is_none() {
        return fail_at(i, 0, "a regex needs a closing `%`".into());
    }
    let count = i.state.regexes.get() + 1;
    i.state.regexes.set(count);
    let consumed = inner_start - i.input.len();
    if count > MAX_REGEXES {
        return fail_at(
            i,
            consumed + 1,
            format!("AWS allows at most {MAX_REGEXES} regexes in a pattern"),
        );
    }
    // On error, point back at the offending character inside the regex.
    CwRegex::new(source).or_else(|(at, message)| fail_at(i, consumed - at, message))
}

fn standalone_regex(i: &mut Input<'_>) -> ModalResult<CwRegex> {
    ws(i)?;
    let r = regex_value(i)?;
    ws(i)?;
    Ok(r)
}

// ---------------------------------------------------------------- terms

fn terms_pattern(i: &mut Input<'_>) -> ModalResult<Vec<Term>> {
    let mut terms = Vec::new();
    ws(i)?;
    while !i.input.is_empty() {
        let kind = if opt('?').parse_next(i)?.is_some() {
            TermKind::Optional
        } else if opt('-').parse_next(i)?.is_some() {
            TermKind::Excluded
        } else {
            TermKind::Required
        };
        let term = if i.input.starts_with('"') {
            Term {
                kind,
                text: quoted(i)?,
                quoted: true,
            }
        } else {
            let text: &str = cut_err(take_while(1.., |c: char| !c.is_whitespace()))
                .context(expected("a term after `?` or `-`"))
                .parse_next(i)?;
            Term {
                kind,
                text: text.to_string(),
                quoted: false,
            }
        };
        terms.push(term);
        ws(i)?;
    }
    Ok(terms)
}

// ---------------------------------------------------------------- space-delimited

fn delimited_pattern(i: &mut Input<'_>) -> ModalResult<Vec<Field>> {
    ws(i)?;
    '['.parse_next(i)?;
    ws(i)?;
    let mut fields = vec![cut_err(field).parse_next(i)?];
    loop {
        ws(i)?;
        if opt(',').parse_next(i)?.is_none() {
            break;
        }
        ws(i)?;
        fields.push(cut_err(field).parse_next(i)?);
    }
    cut_err(']')
        .context(expected("`,` or the closing `]`"))
        .parse_next(i)?;
    ws(i)?;
    Ok(fields)
}

fn field_name<'a>(i: &mut Input<'a>) -> ModalResult<&'a str> {
    take_while(1.., |c: char| {
        c.is_ascii_alphanumeric() || c == '_' || c == '-'
    })
    .context(expected("a field name or `...`"))
    .parse_next(i)
}

fn field(i: &mut Input<'_>) -> ModalResult<Field> {
    if opt("...").parse_next(i)?.is_some() {
        return Ok(Field::Ellipsis);
    }
    let name = field_name(i)?.to_string();
    let checkpoint = i.checkpoint();
    ws(i)?;
    let Some(op) = opt(operator).parse_next(i)? else {
        i.reset(&checkpoint);
        return Ok(Field::Named { name, cond: None });
    };
    let first = field_compare(i, &name, op)?;
    let mut ors = Vec::new();
    let mut ands = vec![first];
    loop {
        let checkpoint = i.checkpoint();
        ws(i)?;
        let joiner = opt(alt(("&&", "||"))).parse_next(i)?;
        let Some(joiner) = joiner else {
            i.reset(&checkpoint);
            break;
        };
        ws(i)?;
        let name_at = i.input.len();
        let other = cut_err(field_name).parse_next(i)?;
        if other != name {
            return fail_at(
                i,
                name_at - i.input.len(),
                format!("a condition in field `{name}` may only test `{name}`, not `{other}`"),
            );
        }
        ws(i)?;
        let op = cut_err(operator)
            .context(expected("an operator (= != < <= > >=)"))
            .parse_next(i)?;
        let cmp = field_compare(i, &name, op)?;
        if joiner == "||" {
            ors.push(fold(std::mem::take(&mut ands), FieldExpr::And));
        }
        ands.push(cmp);
    }
    ors.push(fold(ands, FieldExpr::And));
    let cond = fold(ors, FieldExpr::Or);
    Ok(Field::Named {
        name,
        cond: Some(cond),
    })
}

fn fold(mut items: Vec<FieldExpr>, make: fn(Vec<FieldExpr>) -> FieldExpr) -> FieldExpr {
    if items.len() == 1 {
        items.remove(0)
    } else {
        make(items)
    }
}

fn field_compare(i: &mut Input<'_>, name: &str, op: Op) -> ModalResult<FieldExpr> {
    ws(i)?;
    let value = cut_err(|i: &mut Input<'_>| value(i, is_field_value_end))
        .context(expected(
            "a value: a number, a string, \"quoted text\" or %regex%",
        ))
        .parse_next(i)?;
    numeric_operand_check(i, op, &value)?;
    Ok(FieldExpr::Compare(name.to_string(), op, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(p: &str) -> PatternError {
        match parse(p) {
            Err(e) => e,
            Ok(ok) => panic!("`{p}` parsed as {ok:?}"),
        }
    }

    #[test]
    fn errors_have_columns_and_say_what_was_expected() {
        let e = err("{ $.eventName = }");
        assert_eq!(e.column, 17, "{e}");
        assert!(e.message.contains("expected a value"), "{e}");

        let e = err("{ $.eventName = \"x\" ");
        assert_eq!(e.column, 21, "{e}");
        assert!(e.message.contains("closing `}`"), "{e}");

        let e = err("{ eventName = x }");
        assert_eq!(e.column, 3, "{e}");
        assert!(e.message.contains("selector"), "{e}");

        let e = err("{ $.a IS NOT NULL }");
        assert_eq!(e.column, 10, "{e}");
        assert!(e.message.contains("IS NOT is not supported"), "{e}");

        let e = err("{ $.latency > fast }");
        assert_eq!(e.column, 15, "{e}");
        assert!(e.message.contains("not a number"), "{e}");

        let e = err("{ $.a = %ab(c)% }");
        assert_eq!(e.column, 12, "{e}");
        assert!(e.message.contains("parentheses"), "{e}");

        let e = err("{ ($.a = 1 }");
        assert!(e.message.contains("`)`"), "{e}");

        let e = err("[a, b=1 && c=2]");
        assert_eq!(e.column, 12, "{e}");
        assert!(e.message.contains("may only test `b`"), "{e}");
    }

    #[test]
    fn aws_limits() {
        let long = format!("{{ $.a = \"{}\" }}", "x".repeat(1100));
        assert_eq!(err(&long).column, 1025);
        let e = err("{ $.a = %x% || $.b = %y% || $.c = %z% }");
        assert!(e.message.contains("at most 2 regexes"), "{e}");
        assert_eq!(e.column, 35, "{e}");
        let e = err("{ $.a[*].b[*] = 1 }");
        assert!(e.message.contains("at most one wildcard"), "{e}");
        let e = err("{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }");
        assert!(e.message.contains("at most 3 wildcard selectors"), "{e}");
        assert!(parse("{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 }").is_ok());
    }

    #[test]
    fn precedence_and_groups() {
        let p = parse("{ $.a = 1 || $.b = 2 && $.c = 3 }").unwrap_or(Pattern::All);
        let Pattern::Json(Expr::Or(items)) = p else {
            panic!("not an OR at the top");
        };
        assert!(matches!(items[1], Expr::And(_)));
    }
}
