//! `[alarms]`: the benchmark, the topic and its subscribers.

use crate::reader::{Sink, Table};
use crate::rules;
use crate::{Alarms, Benchmark, Diagnostic, Located};

pub(super) fn read_alarms(root: &Table, sink: &mut Sink) -> Option<Alarms> {
    const KEYS: &[&str] = &[
        "benchmark",
        "exclude",
        "sns_topic_name",
        "emails",
        "extended",
    ];
    let mut alarms = Alarms {
        benchmark: Benchmark::Cis30,
        exclude: Vec::new(),
        sns_topic_name: "trailhead-cis-alarms".into(),
        emails: Vec::new(),
        extended: false,
    };
    let Some(t) = root.table(sink, "alarms", KEYS) else {
        return root.raw("alarms").is_none().then_some(alarms);
    };
    t.reject_unknown(sink);
    let mut ok = true;
    if let Some(v) = t.string(sink, "benchmark") {
        match read_benchmark(sink, v) {
            Some(b) => alarms.benchmark = b,
            None => ok = false,
        }
    }
    if ok && let Some(list) = t.strings(sink, "exclude") {
        ok &= read_exclusions(sink, list, &mut alarms);
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

/// A benchmark id; a noisy one is warned of, an unknown one refused with the known ids.
fn read_benchmark(sink: &mut Sink, v: Located<String>) -> Option<Benchmark> {
    if let Some(b) = Benchmark::parse(&v.value) {
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
