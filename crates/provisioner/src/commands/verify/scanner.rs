//! `verify --scanner`: each monitoring topic judged by the published rule of a scanner users run
//! after a rollout (CIS's audit, Security Hub's CloudWatch.1–14, Prowler's cloudwatch_* checks),
//! and for Prowler and Security Hub their CloudTrail checks of the trail (`scanner_trail`), so
//! that a rollout is known to pass them before they run. Read-only: it lists the trail's metric
//! filters and the account's alarms, and reads the trail.

use trailhead_alarms::catalog::{self, Control, Topic};
use trailhead_alarms::scanners::{
    ProwlerCheck, Scanner, missing, prowler_checks, security_hub_accepts,
};
use trailhead_model::{Benchmark, Selection};

use crate::commands::verify::controls::ControlInfo;
use crate::commands::verify::scanner_trail::{self, TrailCheck};
use crate::commands::verify::{
    AccountReport, ControlResult, Verdict, VerifyReport, resolve_selected, summarize,
};
use crate::core::RunCtx;
use crate::core::error::{CallSite, ProvisionError};
use crate::resources::monitoring::{LiveAlarm, LiveFilter, read_alarms, read_filters};
use crate::resources::trail::{LiveTrail, read_trail};

/// How a scanner judges one topic.
enum Test {
    /// The filter pattern must equal one of these strings (the CIS audit: the benchmark's own,
    /// or a variant its text publishes).
    Exact(Vec<&'static str>),
    /// Security Hub's string or the CIS v1.2.0 one, spacing aside, nothing added.
    SecurityHub(Topic, &'static str),
    /// Every clause of the check must be in one filter (Prowler).
    Clauses(ProwlerCheck),
    /// A check of the trail trailhead made.
    Trail(TrailCheck),
}

struct Rule {
    info: ControlInfo,
    test: Test,
    /// Whether the scanner also wants the alarm to have an action.
    wants_action: bool,
}

/// The CIS benchmark a `--scanner cis` run holds the org to: the spec's own when it is a CIS
/// one, else the default (Security Hub's current CIS standard).
fn cis_benchmark(spec: Benchmark) -> Benchmark {
    match spec {
        Benchmark::SecurityHub | Benchmark::Extended => Benchmark::DEFAULT,
        other => other,
    }
}

fn exact_rules(benchmark: Benchmark) -> Vec<Rule> {
    catalog::controls(benchmark)
        .into_iter()
        .map(|c: Control| Rule {
            info: ControlInfo {
                id: c.id.to_string(),
                title: c.title.to_string(),
                required: format!(
                    "a filter of the trail's log group whose pattern is exactly the {} string, and an alarm with an action on its metric",
                    benchmark.id()
                ),
            },
            test: match benchmark {
                Benchmark::SecurityHub => Test::SecurityHub(c.topic, c.pattern),
                _ => Test::Exact(
                    std::iter::once(c.pattern)
                        .chain(catalog::alternatives(benchmark, c.topic))
                        .collect(),
                ),
            },
            wants_action: true,
        })
        .collect()
}

fn trail_rule(check: TrailCheck) -> Rule {
    Rule {
        info: check.info(),
        test: Test::Trail(check),
        wants_action: false,
    }
}

fn rules(scanner: Scanner, spec: Benchmark) -> Vec<Rule> {
    match scanner {
        Scanner::Cis => exact_rules(cis_benchmark(spec)),
        Scanner::SecurityHub => scanner_trail::SECURITY_HUB
            .into_iter()
            .map(trail_rule)
            .chain(exact_rules(Benchmark::SecurityHub))
            .collect(),
        Scanner::Prowler => scanner_trail::PROWLER
            .into_iter()
            .map(trail_rule)
            .chain(prowler_checks().into_iter().map(|check| Rule {
                info: ControlInfo {
                    id: check.check.to_string(),
                    title: check.topic.title().to_string(),
                    required: format!(
                        "one filter of the trail's log group holding all {} clauses, and an alarm on its metric (same namespace)",
                        check.clauses.len()
                    ),
                },
                test: Test::Clauses(check),
                wants_action: false,
            }))
            .collect(),
    }
}

/// Why no filter passes `test`: for Prowler, the closest filter and the clauses it lacks.
fn no_filter(test: &Test, group: &str, filters: &[LiveFilter]) -> String {
    match test {
        Test::Exact(patterns) => {
            format!(
                "no filter of {group} has exactly the pattern {}",
                patterns.join(" or ")
            )
        }
        Test::SecurityHub(_, pattern) => {
            format!("no filter of {group} has exactly the pattern {pattern}")
        }
        Test::Trail(_) => "judged on the trail, not on a filter".to_string(),
        Test::Clauses(check) => {
            let closest = filters
                .iter()
                .map(|f| (f, missing(check, &f.pattern)))
                .min_by_key(|(_, lacking)| lacking.len());
            match closest {
                Some((f, lacking)) if lacking.len() < check.clauses.len() => {
                    let lacking: Vec<String> = lacking.iter().map(|c| c.to_string()).collect();
                    format!(
                        "no filter of {group} holds every clause; the closest, {}, lacks {}",
                        f.name,
                        lacking.join(", ")
                    )
                }
                _ => format!("no filter of {group} holds any clause of {}", check.check),
            }
        }
    }
}

fn judge(
    rule: &Rule,
    group: &str,
    filters: &[LiveFilter],
    alarms: &[(String, LiveAlarm)],
) -> ControlResult {
    let passes = |f: &&LiveFilter| match &rule.test {
        Test::Exact(patterns) => patterns.contains(&f.pattern.as_str()),
        Test::SecurityHub(topic, _) => security_hub_accepts(*topic, &f.pattern),
        Test::Clauses(check) => missing(check, &f.pattern).is_empty(),
        Test::Trail(_) => false,
    };
    let candidates: Vec<&LiveFilter> = filters.iter().filter(passes).collect();
    let (status, evidence) = if candidates.is_empty() {
        (Verdict::Fail, no_filter(&rule.test, group, filters))
    } else {
        let alarmed = candidates.iter().find_map(|f| {
            alarms
                .iter()
                .find(|(_, a)| {
                    a.namespace == f.namespace
                        && a.metric == f.metric
                        && (!a.actions.is_empty() || !rule.wants_action)
                })
                .map(|(name, ..)| (f, name))
        });
        match alarmed {
            Some((f, alarm)) => (
                Verdict::Pass,
                format!(
                    "filter {} and alarm {alarm} on {}/{}",
                    f.name, f.namespace, f.metric
                ),
            ),
            None => (
                Verdict::Fail,
                format!(
                    "filter {} passes, but no alarm{} watches {}/{}",
                    candidates[0].name,
                    if rule.wants_action {
                        " with an action"
                    } else {
                        ""
                    },
                    candidates[0].namespace,
                    candidates[0].metric
                ),
            ),
        }
    };
    ControlResult {
        id: rule.info.id.clone(),
        status,
        observed: evidence.clone(),
        evidence,
        required: rule.info.required.clone(),
    }
}

async fn judge_account(ctx: &RunCtx, rules: &[Rule], account: &str) -> Vec<ControlResult> {
    let home = &ctx.spec.org.home_region;
    let site = CallSite::new(account, home, "verify --scanner");
    let session = ctx.assume(account, home).await;
    let group = &ctx.spec.trail.log_group_name;
    let trail_name = &ctx.spec.trail.name;
    let wants_trail = rules.iter().any(|r| matches!(r.test, Test::Trail(_)));
    let read = async {
        let filters = read_filters(&session, &site, group, None).await?;
        let trail = match wants_trail {
            true => read_trail(&session, &site, trail_name).await?,
            false => LiveTrail::default(),
        };
        Ok::<_, ProvisionError>((
            filters.unwrap_or_default(),
            read_alarms(&session, &site, None).await?,
            trail,
        ))
    };
    let now = jiff::Timestamp::now();
    match read.await {
        Ok((filters, alarms, trail)) => rules
            .iter()
            .map(|r| match r.test {
                Test::Trail(check) => {
                    let (status, evidence) = check.judge(trail_name, &trail, now);
                    ControlResult {
                        id: r.info.id.clone(),
                        status,
                        observed: evidence.clone(),
                        evidence,
                        required: r.info.required.clone(),
                    }
                }
                _ => judge(r, group, &filters, &alarms),
            })
            .collect(),
        Err(e) => rules
            .iter()
            .map(|r| ControlResult {
                id: r.info.id.clone(),
                status: Verdict::Unknown,
                evidence: e.to_string(),
                observed: e.to_string(),
                required: r.info.required.clone(),
            })
            .collect(),
    }
}

/// Judges the selected accounts by `scanner`'s rule for each monitoring topic.
pub async fn verify_scanner(
    ctx: &RunCtx,
    selection: &Selection,
    scanner: Scanner,
) -> Result<VerifyReport, ProvisionError> {
    let selected = resolve_selected(ctx, selection).await?;
    let chosen = selected.chosen;
    let rules = rules(scanner, ctx.spec.alarms.benchmark);
    let mut accounts = Vec::new();
    for t in &chosen {
        accounts.push(AccountReport {
            account_id: t.id.to_string(),
            name: t.name.clone(),
            controls: judge_account(ctx, &rules, t.id.as_str()).await,
        });
    }
    Ok(VerifyReport {
        org: ctx.spec.org.name.clone(),
        generated_at: jiff::Timestamp::now().to_string(),
        trailhead_version: env!("CARGO_PKG_VERSION").to_string(),
        benchmark: format!("scanner:{}", scanner.id()),
        controls: rules.into_iter().map(|r| r.info).collect(),
        summary: summarize(&accounts),
        accounts,
        skipped: selected.skipped.into_iter().map(Into::into).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(name: &str, pattern: &str, metric: &str) -> LiveFilter {
        LiveFilter {
            name: name.into(),
            pattern: pattern.into(),
            namespace: "CISBenchmark".into(),
            metric: metric.into(),
            value: "1".into(),
        }
    }

    fn alarm(metric: &str) -> (String, LiveAlarm) {
        let live = LiveAlarm {
            namespace: "CISBenchmark".into(),
            metric: metric.into(),
            actions: vec!["arn:aws:sns:eu-west-1:111111111111:alarms".into()],
            actions_enabled: true,
            state: "OK".into(),
        };
        (format!("alarm-{metric}"), live)
    }

    fn prowler(check: &str) -> Rule {
        rules(Scanner::Prowler, Benchmark::Cis30)
            .into_iter()
            .find(|r| r.info.id.ends_with(check))
            .unwrap_or_else(|| panic!("a Prowler check {check}"))
    }

    fn pattern_of(benchmark: Benchmark, id: &str) -> &'static str {
        trailhead_alarms::deployed::selected(benchmark, &[])
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.pattern)
            .unwrap_or_default()
    }

    #[test]
    fn prowler_fails_the_cis_route_string_and_passes_its_companion() {
        let rule = prowler("network_route_tables_alarm_configured");
        let cis = [filter(
            "cis",
            pattern_of(Benchmark::Cis30, "4.13"),
            "RouteTableChanges",
        )];
        let alarms = [alarm("RouteTableChanges"), alarm("RouteTableChangesEc2")];
        let verdict = judge(&rule, "/g", &cis, &alarms);
        assert_eq!(verdict.status, Verdict::Fail);
        assert!(
            verdict
                .evidence
                .contains("lacks $.eventSource = ec2.amazonaws.com"),
            "{}",
            verdict.evidence
        );
        let both = [
            cis[0].clone(),
            filter(
                "companion",
                pattern_of(Benchmark::Cis30, "P.13"),
                "RouteTableChangesEc2",
            ),
        ];
        let verdict = judge(&rule, "/g", &both, &alarms);
        assert_eq!(verdict.status, Verdict::Pass, "{}", verdict.evidence);
        assert!(verdict.evidence.contains("companion"));
    }

    #[test]
    fn a_passing_filter_without_an_alarm_on_its_metric_fails() {
        let rule = prowler("organizations_changes");
        let filters = [filter(
            "orgs",
            pattern_of(Benchmark::Cis30, "P.15"),
            "OrganizationsChangesAll",
        )];
        let verdict = judge(&rule, "/g", &filters, &[alarm("OrganizationsChanges")]);
        assert_eq!(verdict.status, Verdict::Fail);
        assert!(
            verdict
                .evidence
                .contains("no alarm watches CISBenchmark/OrganizationsChangesAll")
        );
    }

    #[test]
    fn security_hub_accepts_the_cis_1_2_string_but_not_added_terms() {
        let sh = rules(Scanner::SecurityHub, Benchmark::Cis30);
        let rule = |id: &str| {
            sh.iter()
                .find(|r| r.info.id == id)
                .unwrap_or_else(|| panic!("{id}"))
        };
        let trail = [filter(
            "cis",
            pattern_of(Benchmark::Cis30, "4.5"),
            "CloudTrailChanges",
        )];
        let alarms = [alarm("CloudTrailChanges"), alarm("UnauthorizedAPICalls")];
        assert_eq!(
            judge(rule("CloudWatch.5"), "/g", &trail, &alarms).status,
            Verdict::Pass
        );
        let unauthorized = [filter(
            "cis",
            pattern_of(Benchmark::Cis30, "4.1"),
            "UnauthorizedAPICalls",
        )];
        let verdict = judge(rule("CloudWatch.2"), "/g", &unauthorized, &alarms);
        assert_eq!(verdict.status, Verdict::Fail, "{}", verdict.evidence);
    }
}
