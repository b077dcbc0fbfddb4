//! The spec loader never panics, whatever it is given: arbitrary bytes, and valid specs with
//! random damage. Bounded case counts keep CI short.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use proptest::prelude::*;
use trailhead_model::parse_spec;

const EXAMPLE: &str = include_str!("../../../config/org.example.toml");

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let _ = parse_spec("fuzz.toml", &s);
    }

    #[test]
    fn toml_shaped_text_never_panics(s in r#"(\[\[?[a-z_]{1,12}\]\]?\n|[a-z_]{1,14} = ("[^"\n]{0,20}"|-?[0-9]{1,14}|true|\[("[a-z0-9:%.-]{0,14}", ?){0,3}\])\n){0,20}"#) {
        if let Err(d) = parse_spec("fuzz.toml", &s) {
            // Every diagnostic points inside the text and renders.
            for item in &d.items {
                prop_assert!(item.span.start <= s.len());
            }
            let _ = d.render(false);
        }
    }

    #[test]
    fn a_damaged_example_never_panics(line in 0usize..120, cut in 0usize..40, junk in "[ -~]{0,12}") {
        let mut lines: Vec<String> = EXAMPLE.lines().map(str::to_string).collect();
        let i = line % lines.len();
        let keep = lines[i].chars().take(cut).collect::<String>();
        lines[i] = format!("{keep}{junk}");
        let text = lines.join("\n");
        match parse_spec("fuzz.toml", &text) {
            Ok((spec, _)) => prop_assert!(!spec.org.name.is_empty()),
            Err(d) => {
                prop_assert!(d.has_errors());
                let rendered = d.render(false);
                prop_assert!(rendered.contains("fuzz.toml"));
            }
        }
    }
}
