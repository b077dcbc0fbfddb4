//! Properties of the parser: it never panics, and printing a parsed pattern then parsing the
//! text again gives the same tree.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use proptest::prelude::*;
use trailhead_alarms::pattern::{
    CwRegex, Expr, Field, FieldExpr, Op, Pattern, Selector, Step, Term, TermKind, Test, Value,
    parse,
};

fn ident() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_]{0,6}"
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => ident().prop_map(Step::Key),
        1 => "[a-z]{1,3}\\.[a-z]{1,3}".prop_map(Step::Key),
        1 => (0usize..5).prop_map(Step::Index),
        1 => Just(Step::AnyIndex),
        1 => Just(Step::AnyField),
    ]
}

fn selector() -> impl Strategy<Value = Selector> {
    prop::collection::vec(step(), 1..4).prop_map(Selector)
}

fn string_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (ident(), any::<bool>(), any::<bool>()).prop_map(|(t, lead, trail)| Value::Str {
            text: format!(
                "{}{t}{}",
                if lead { "*" } else { "" },
                if trail { "*" } else { "" }
            ),
            quoted: false,
        }),
        "[ -~]{0,12}".prop_map(|text| Value::Str { text, quoted: true }),
        (-100_000i64..100_000).prop_map(|n| Value::Num {
            raw: n.to_string(),
            value: n as f64
        }),
        "[a-z0-9]{1,4}(\\.\\*|\\+|\\?)?[a-z]{0,3}"
            .prop_map(|src| Value::Regex(CwRegex::new(&src).expect("generated regex is valid"))),
    ]
}

fn number_value() -> impl Strategy<Value = Value> {
    (-1000i64..1000).prop_map(|n| Value::Num {
        raw: n.to_string(),
        value: n as f64,
    })
}

fn test_node() -> impl Strategy<Value = Test> {
    prop_oneof![
        (prop_oneof![Just(Op::Eq), Just(Op::Ne)], string_value())
            .prop_map(|(op, v)| Test::Compare(op, v)),
        (
            prop_oneof![Just(Op::Lt), Just(Op::Le), Just(Op::Gt), Just(Op::Ge)],
            number_value()
        )
            .prop_map(|(op, v)| Test::Compare(op, v)),
        Just(Test::IsNull),
        Just(Test::IsTrue),
        Just(Test::IsFalse),
        Just(Test::NotExists),
    ]
}

/// Trees in the shape the parser produces: an `And` holds no bare `Or`/`And`, an `Or` no bare
/// `Or`, since printing them without parentheses would change the meaning.
fn expr() -> impl Strategy<Value = Expr> {
    let leaf = (selector(), test_node()).prop_map(|(s, t)| Expr::Test(s, t));
    leaf.prop_recursive(3, 16, 3, |inner| {
        let unit = prop_oneof![
            inner.clone().prop_filter("leaf or group", |e| matches!(
                e,
                Expr::Test(..) | Expr::Group(_)
            )),
            inner.clone().prop_map(|e| Expr::Group(Box::new(e))),
        ];
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Group(Box::new(e))),
            prop::collection::vec(unit.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(
                prop_oneof![
                    unit.clone(),
                    prop::collection::vec(unit, 2..3).prop_map(Expr::And)
                ],
                2..4
            )
            .prop_map(Expr::Or),
        ]
    })
}

fn terms() -> impl Strategy<Value = Vec<Term>> {
    let kind = prop_oneof![
        Just(TermKind::Required),
        Just(TermKind::Optional),
        Just(TermKind::Excluded)
    ];
    let term = (
        kind,
        prop_oneof![
            ident().prop_map(|t| (t, false)),
            "[A-Z]{1,5} [A-Z]{1,5}".prop_map(|t| (t, true)),
        ],
    )
        .prop_map(|(kind, (text, quoted))| Term { kind, text, quoted });
    prop::collection::vec(term, 1..4)
}

fn fields() -> impl Strategy<Value = Vec<Field>> {
    let compare = |name: String| {
        (
            prop_oneof![Just(Op::Eq), Just(Op::Ne)],
            prop_oneof![
                ident().prop_map(|t| Value::Str {
                    text: t,
                    quoted: false
                }),
                number_value()
            ],
        )
            .prop_map(move |(op, v)| FieldExpr::Compare(name.clone(), op, v))
    };
    let field = prop_oneof![
        1 => Just(Field::Ellipsis),
        2 => ident().prop_map(|name| Field::Named { name, cond: None }),
        2 => ident().prop_flat_map(move |name| {
            let n = name.clone();
            prop_oneof![
                compare(name.clone()).boxed(),
                prop::collection::vec(compare(name.clone()), 2..3).prop_map(FieldExpr::And).boxed(),
                prop::collection::vec(compare(name), 2..3).prop_map(FieldExpr::Or).boxed(),
            ]
            .prop_map(move |cond| Field::Named { name: n.clone(), cond: Some(cond) })
        }),
    ];
    prop::collection::vec(field, 1..5)
}

fn wildcard_count(e: &Expr) -> usize {
    match e {
        Expr::Or(items) | Expr::And(items) => items.iter().map(wildcard_count).sum(),
        Expr::Group(inner) => wildcard_count(inner),
        Expr::Test(sel, _) => sel.wildcards(),
    }
}

fn regex_count(e: &Expr) -> usize {
    match e {
        Expr::Or(items) | Expr::And(items) => items.iter().map(regex_count).sum(),
        Expr::Group(inner) => regex_count(inner),
        Expr::Test(_, Test::Compare(_, Value::Regex(_))) => 1,
        Expr::Test(..) => 0,
    }
}

fn per_selector_ok(e: &Expr) -> bool {
    match e {
        Expr::Or(items) | Expr::And(items) => items.iter().all(per_selector_ok),
        Expr::Group(inner) => per_selector_ok(inner),
        Expr::Test(sel, _) => sel.wildcards() <= 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn json_patterns_round_trip(e in expr()) {
        prop_assume!(wildcard_count(&e) <= 3 && regex_count(&e) <= 2 && per_selector_ok(&e));
        let pattern = Pattern::Json(e);
        let text = pattern.to_string();
        prop_assume!(text.chars().count() <= 1024);
        let reparsed = parse(&text).map_err(|err| TestCaseError::fail(format!("`{text}`: {err}")))?;
        prop_assert_eq!(reparsed, pattern, "printed as `{}`", text);
    }

    #[test]
    fn term_patterns_round_trip(t in terms()) {
        let pattern = Pattern::Terms(t);
        let text = pattern.to_string();
        let reparsed = parse(&text).map_err(|err| TestCaseError::fail(format!("`{text}`: {err}")))?;
        prop_assert_eq!(reparsed, pattern, "printed as `{}`", text);
    }

    #[test]
    fn delimited_patterns_round_trip(f in fields()) {
        let pattern = Pattern::Delimited(f);
        let text = pattern.to_string();
        let reparsed = parse(&text).map_err(|err| TestCaseError::fail(format!("`{text}`: {err}")))?;
        prop_assert_eq!(reparsed, pattern, "printed as `{}`", text);
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(s in any::<String>()) {
        let _ = parse(&s);
    }

    #[test]
    fn parser_and_evaluator_never_panic_on_pattern_like_text(
        s in r#"[{}\[\]()$.*=!<>&|%"' ?\-abcAZ019\\,]{0,60}"#,
        event in r#"[{}\[\]":,a-z0-9 ]{0,40}"#,
    ) {
        if let Ok(p) = parse(&s) {
            let _ = p.matches_str(&event);
            let _ = p.matches_str(r#"{"a":[1,{"b":null}],"c":"x*y","d":true}"#);
            // Whatever parses must print as something that parses.
            let printed = p.to_string();
            prop_assert!(parse(&printed).is_ok(), "`{}` printed as unparsable `{}`", s, printed);
        }
    }
}
