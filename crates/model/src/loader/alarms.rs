//! `[alarms]`: the benchmark, the topic and its subscribers.

use crate::reader::{Sink, Table};
use crate::rules;
use crate::{Alarms, Benchmark, Diagnostic};

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
        match Benchmark::parse(&v.value) {
            Some(b) => {
                alarms.benchmark = b;
                if b == Benchmark::Cis14 {
                    sink.push(
                        Diagnostic::warning(v.span.clone(), "CIS v1.3–v1.5's 4.1 pattern ORs two `!=` terms, so it matches nearly every event: its alarm fires constantly")
                            .label("a noisy alarm")
                            .help("prefer \"cis-3.0\" (or \"securityhub\"), or exclude \"4.1\""),
                    );
                }
            }
            None => {
                ok = false;
                let ids: Vec<&str> = Benchmark::ALL.iter().map(|b| b.id()).collect();
                let mut d = Diagnostic::error(v.span, format!("unknown benchmark `{}`", v.value))
                    .label("unknown benchmark");
                d = match rules::did_you_mean(&v.value, ids.iter().copied()) {
                    _ if v.value == Benchmark::Extended.id() => d.help(format!(
                        "the extended set is deployed beside a benchmark: keep `benchmark` one of {} and set `extended = true`",
                        ids.join(", ")
                    )),
                    Some(s) => d.help(format!("did you mean `{s}`? (known: {})", ids.join(", "))),
                    None => d.help(format!("known benchmarks: {}", ids.join(", "))),
                };
                sink.push(d);
            }
        }
    }
    if ok && let Some(list) = t.strings(sink, "exclude") {
        let ids = alarms.benchmark.control_ids();
        for id in list {
            if ids.contains(&id.value) {
                alarms.exclude.push(id.value);
                continue;
            }
            ok = false;
            let mut d = Diagnostic::error(
                id.span,
                format!("`{}` is not a control of {}", id.value, alarms.benchmark),
            )
            .label("unknown control id");
            d = match rules::did_you_mean(&id.value, ids.iter().map(String::as_str)) {
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
