//! `[alarms]`: the benchmark, the topic and its subscribers.

use crate::reader::{Sink, Table};
use crate::rules;
use crate::{AlarmVariant, Alarms, Benchmark, Diagnostic, Located};

pub(super) fn read_alarms(root: &Table, sink: &mut Sink) -> Option<Alarms> {
    const KEYS: &[&str] = &[
        "benchmark",
        "exclude",
        "sns_topic_name",
        "emails",
        "extended",
        "variants",
    ];
    let mut alarms = Alarms {
        benchmark: Benchmark::DEFAULT,
        exclude: Vec::new(),
        sns_topic_name: "trailhead-cis-alarms".into(),
        emails: Vec::new(),
        extended: false,
        variants: Vec::new(),
    };
    let Some(t) = root.table(sink, "alarms", KEYS) else {
        if root.raw("alarms").is_some() {
            return None;
        }
        sink.push(unpinned(root.span()));
        return Some(alarms);
    };
    t.reject_unknown(sink);
    let mut ok = true;
    match t.string(sink, "benchmark") {
        Some(v) => match read_benchmark(sink, v) {
            Some(b) => alarms.benchmark = b,
            None => ok = false,
        },
        None if t.raw("benchmark").is_none() => sink.push(unpinned(t.span())),
        None => ok = false,
    }
    if ok && let Some(list) = t.strings(sink, "exclude") {
        ok &= read_exclusions(sink, list, &mut alarms);
    }
    if ok && let Some(list) = t.strings(sink, "variants") {
        ok &= read_variants(sink, list, &mut alarms);
    }
    if let Some(v) = t.bool(sink, "extended") {
        alarms.extended = v.value;
    }
    if let Some(v) = t.string(sink, "sns_topic_name") {
        ok &= sink.check(
            &v,
            |s| rules::sns_topic_name(s),
            "for example \"trailhead-cis-alarms\"",
        );
        alarms.sns_topic_name = v.value;
    }
    if let Some(list) = t.strings(sink, "emails") {
        for e in list {
            ok &= sink.check(
                &e,
                |s| rules::email(s),
                "each entry is one address that receives the alarm notifications",
            );
            alarms.emails.push(e.value);
        }
    }
    ok.then_some(alarms)
}

/// A spec that names no benchmark gets the default, which moves with trailhead's releases: a
/// rollout after such a move replaces every filter and alarm, so the spec should say which.
fn unpinned(span: std::ops::Range<usize>) -> Diagnostic {
    let default = Benchmark::DEFAULT.id();
    Diagnostic::warning(
        span,
        format!("no `benchmark`: {default} is deployed, the default (it was cis-3.0 before this release)"),
    )
    .label("no benchmark named")
    .help(format!(
        "pin it under [alarms]: benchmark = \"{default}\"; an org rolled out with the old default keeps its alarms with benchmark = \"cis-3.0\""
    ))
}

/// A benchmark id; a noisy or outdated one is warned of, an unknown one refused with the known
/// ids.
fn read_benchmark(sink: &mut Sink, v: Located<String>) -> Option<Benchmark> {
    if let Some(b) = Benchmark::parse(&v.value) {
        if let Some(changes) = b.behind_default() {
            let newest = Benchmark::DEFAULT.id();
            sink.push(
                Diagnostic::warning(
                    v.span.clone(),
                    format!("{b} is older than {newest}, Security Hub's current CIS standard: {changes}"),
                )
                .label("an older benchmark")
                .help(format!(
                    "benchmark = \"{newest}\" (its filters and alarms replace these on the next rollout); keep {b} only if an audit or an existing deployment requires it"
                )),
            );
        }
        if b == Benchmark::Cis14 {
            sink.push(
                Diagnostic::warning(v.span.clone(), "CIS v1.3–v1.5's 4.1 pattern ORs two `!=` terms, so it matches nearly every event: its alarm fires constantly")
                    .label("a noisy alarm")
                    .help("prefer \"cis-3.0\" (or \"securityhub\"), or exclude \"4.1\""),
            );
        }
        return Some(b);
    }
    let ids: Vec<&str> = Benchmark::ALL.iter().map(|b| b.id()).collect();
    let d = Diagnostic::error(v.span, format!("unknown benchmark `{}`", v.value))
        .label("unknown benchmark");
    let d = match rules::did_you_mean(&v.value, ids.iter().copied()) {
        _ if v.value == Benchmark::Extended.id() => d.help(format!(
            "the extended set is deployed beside a benchmark: keep `benchmark` one of {} and set `extended = true`",
            ids.join(", ")
        )),
        Some(s) => d.help(format!("did you mean `{s}`? (known: {})", ids.join(", "))),
        None => d.help(format!("known benchmarks: {}", ids.join(", "))),
    };
    sink.push(d);
    None
}

/// `variants`: published alternatives the chosen benchmark can take.
fn read_variants(sink: &mut Sink, list: Vec<Located<String>>, alarms: &mut Alarms) -> bool {
    let mut ok = true;
    for v in list {
        let Some(variant) = AlarmVariant::parse(&v.value) else {
            ok = false;
            let ids: Vec<&str> = AlarmVariant::ALL.iter().map(|v| v.id()).collect();
            sink.push(
                Diagnostic::error(v.span, format!("unknown alarm variant `{}`", v.value))
                    .label("unknown variant")
                    .help(format!(
                        "known variants: {} (`trailhead alarms list` describes them)",
                        ids.join(", ")
                    )),
            );
            continue;
        };
        if let Some(why) = variant.refused_by(alarms.benchmark) {
            ok = false;
            sink.push(
                Diagnostic::error(
                    v.span,
                    format!("{} cannot take `{}`: {why}", alarms.benchmark, v.value),
                )
                .label("not for this benchmark")
                .help("remove it, or choose a CIS benchmark from cis-1.4 on"),
            );
            continue;
        }
        if !alarms.variants.contains(&variant) {
            alarms.variants.push(variant);
        }
    }
    ok
}

/// `exclude`: control ids of the chosen benchmark; each other id is refused.
fn read_exclusions(sink: &mut Sink, list: Vec<Located<String>>, alarms: &mut Alarms) -> bool {
    let ids = alarms.benchmark.control_ids();
    let mut ok = true;
    for id in list {
        if ids.contains(&id.value) {
            alarms.exclude.push(id.value);
            continue;
        }
        ok = false;
        let d = Diagnostic::error(
            id.span,
            format!("`{}` is not a control of {}", id.value, alarms.benchmark),
        )
        .label("unknown control id");
        let d = match rules::did_you_mean(&id.value, ids.iter().map(String::as_str)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!(
                "{} has controls {} to {}",
                alarms.benchmark,
                ids[0],
                ids[ids.len() - 1]
            )),
        };
        sink.push(d);
    }
    ok
}
