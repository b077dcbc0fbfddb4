//! The rules of the scanners users run after a rollout, and the companion filters that make a
//! benchmark's deployment pass them where its own pattern cannot.
//!
//! Prowler's `cloudwatch_*` checks (prowler-cloud/prowler,
//! `prowler/providers/aws/services/cloudwatch/lib/metric_filters.py` and one check per topic)
//! pass when some metric filter of a trail's log group contains every clause the check lists,
//! in any order, and an alarm watches that filter's metric (same region, same namespace). Its
//! route-table check also wants `$.eventSource = ec2.amazonaws.com`, and its Organizations check
//! lists three events (CancelHandshake, CreateOrganization, EnableAllFeatures) that CIS 4.15
//! leaves out. No CIS string satisfies those two, so a companion filter is deployed beside them.

use serde::Serialize;
use trailhead_model::Benchmark;

use crate::catalog::{Control, Topic};

/// A scanner whose verdict `verify --scanner` reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scanner {
    /// The CIS audit procedure: the filter pattern equals the benchmark's string.
    Cis,
    /// Security Hub CloudWatch.1–14: the exact strings of its controls.
    SecurityHub,
    /// Prowler's cloudwatch_* checks: every listed clause present in one filter.
    Prowler,
}

impl Scanner {
    pub fn id(self) -> &'static str {
        match self {
            Scanner::Cis => "cis",
            Scanner::SecurityHub => "securityhub",
            Scanner::Prowler => "prowler",
        }
    }

    pub fn parse(text: &str) -> Option<Scanner> {
        [Scanner::Cis, Scanner::SecurityHub, Scanner::Prowler]
            .into_iter()
            .find(|s| s.id() == text)
    }
}

/// One clause a Prowler check requires: `$.<field> <op> <value>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Clause {
    pub field: &'static str,
    /// `=` or `!=`; `NOT EXISTS` is written as the operator with an empty value.
    pub op: &'static str,
    pub value: &'static str,
}

impl std::fmt::Display for Clause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.value.is_empty() {
            write!(f, "$.{} {}", self.field, self.op)
        } else {
            write!(f, "$.{} {} {}", self.field, self.op, self.value)
        }
    }
}

/// One Prowler check: its name, the topic it covers and the clauses it requires.
#[derive(Debug, Clone, Serialize)]
pub struct ProwlerCheck {
    pub check: &'static str,
    pub topic: Topic,
    pub clauses: &'static [Clause],
}

const fn name(value: &'static str) -> Clause {
    Clause {
        field: "eventName",
        op: "=",
        value,
    }
}

const fn source(value: &'static str) -> Clause {
    Clause {
        field: "eventSource",
        op: "=",
        value,
    }
}

const fn clause(field: &'static str, op: &'static str, value: &'static str) -> Clause {
    Clause { field, op, value }
}

/// Every Prowler cloudwatch_* check of the CIS monitoring topics, with its clauses (the
/// Organizations list is CIS 4.15's eighteen events and three more).
const PROWLER: &[ProwlerCheck] = &[
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_unauthorized_api_calls",
        topic: Topic::UnauthorizedApiCalls,
        clauses: &[
            clause("errorCode", "=", "*UnauthorizedOperation"),
            clause("errorCode", "=", "AccessDenied*"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_sign_in_without_mfa",
        topic: Topic::ConsoleSignInWithoutMfa,
        clauses: &[
            name("ConsoleLogin"),
            clause("additionalEventData.MFAUsed", "!=", "Yes"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_root_usage",
        topic: Topic::RootAccountUsage,
        clauses: &[
            clause("userIdentity.type", "=", "Root"),
            clause("userIdentity.invokedBy", "NOT EXISTS", ""),
            clause("eventType", "!=", "AwsServiceEvent"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_policy_changes",
        topic: Topic::IamPolicyChanges,
        clauses: &[
            name("DeleteGroupPolicy"),
            name("DeleteRolePolicy"),
            name("DeleteUserPolicy"),
            name("PutGroupPolicy"),
            name("PutRolePolicy"),
            name("PutUserPolicy"),
            name("CreatePolicy"),
            name("DeletePolicy"),
            name("CreatePolicyVersion"),
            name("DeletePolicyVersion"),
            name("AttachRolePolicy"),
            name("DetachRolePolicy"),
            name("AttachUserPolicy"),
            name("DetachUserPolicy"),
            name("AttachGroupPolicy"),
            name("DetachGroupPolicy"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_and_alarm_for_cloudtrail_configuration_changes_enabled",
        topic: Topic::CloudTrailChanges,
        clauses: &[
            name("CreateTrail"),
            name("UpdateTrail"),
            name("DeleteTrail"),
            name("StartLogging"),
            name("StopLogging"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_authentication_failures",
        topic: Topic::ConsoleAuthFailures,
        clauses: &[
            name("ConsoleLogin"),
            clause("errorMessage", "=", "Failed authentication"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_disable_or_scheduled_deletion_of_kms_cmk",
        topic: Topic::DisableOrDeleteCmk,
        clauses: &[
            source("kms.amazonaws.com"),
            name("DisableKey"),
            name("ScheduleKeyDeletion"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_for_s3_bucket_policy_changes",
        topic: Topic::S3BucketPolicyChanges,
        clauses: &[
            source("s3.amazonaws.com"),
            name("PutBucketAcl"),
            name("PutBucketPolicy"),
            name("PutBucketCors"),
            name("PutBucketLifecycle"),
            name("PutBucketReplication"),
            name("DeleteBucketPolicy"),
            name("DeleteBucketCors"),
            name("DeleteBucketLifecycle"),
            name("DeleteBucketReplication"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_and_alarm_for_aws_config_configuration_changes_enabled",
        topic: Topic::ConfigChanges,
        clauses: &[
            source("config.amazonaws.com"),
            name("StopConfigurationRecorder"),
            name("DeleteDeliveryChannel"),
            name("PutDeliveryChannel"),
            name("PutConfigurationRecorder"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_security_group_changes",
        topic: Topic::SecurityGroupChanges,
        clauses: &[
            name("AuthorizeSecurityGroupIngress"),
            name("AuthorizeSecurityGroupEgress"),
            name("RevokeSecurityGroupIngress"),
            name("RevokeSecurityGroupEgress"),
            name("CreateSecurityGroup"),
            name("DeleteSecurityGroup"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_changes_to_network_acls_alarm_configured",
        topic: Topic::NaclChanges,
        clauses: &[
            name("CreateNetworkAcl"),
            name("CreateNetworkAclEntry"),
            name("DeleteNetworkAcl"),
            name("DeleteNetworkAclEntry"),
            name("ReplaceNetworkAclEntry"),
            name("ReplaceNetworkAclAssociation"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_changes_to_network_gateways_alarm_configured",
        topic: Topic::NetworkGatewayChanges,
        clauses: &[
            name("CreateCustomerGateway"),
            name("DeleteCustomerGateway"),
            name("AttachInternetGateway"),
            name("CreateInternetGateway"),
            name("DeleteInternetGateway"),
            name("DetachInternetGateway"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_changes_to_network_route_tables_alarm_configured",
        topic: Topic::RouteTableChanges,
        clauses: &[
            source("ec2.amazonaws.com"),
            name("CreateRoute"),
            name("CreateRouteTable"),
            name("ReplaceRoute"),
            name("ReplaceRouteTableAssociation"),
            name("DeleteRouteTable"),
            name("DeleteRoute"),
            name("DisassociateRouteTable"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_changes_to_vpcs_alarm_configured",
        topic: Topic::VpcChanges,
        clauses: &[
            name("CreateVpc"),
            name("DeleteVpc"),
            name("ModifyVpcAttribute"),
            name("AcceptVpcPeeringConnection"),
            name("CreateVpcPeeringConnection"),
            name("DeleteVpcPeeringConnection"),
            name("RejectVpcPeeringConnection"),
            name("AttachClassicLinkVpc"),
            name("DetachClassicLinkVpc"),
            name("DisableVpcClassicLink"),
            name("EnableVpcClassicLink"),
        ],
    },
    ProwlerCheck {
        check: "cloudwatch_log_metric_filter_aws_organizations_changes",
        topic: Topic::OrganizationsChanges,
        clauses: &[
            source("organizations.amazonaws.com"),
            name("AcceptHandshake"),
            name("AttachPolicy"),
            name("CancelHandshake"),
            name("CreateAccount"),
            name("CreateOrganization"),
            name("CreateOrganizationalUnit"),
            name("CreatePolicy"),
            name("DeclineHandshake"),
            name("DeleteOrganization"),
            name("DeleteOrganizationalUnit"),
            name("DeletePolicy"),
            name("EnableAllFeatures"),
            name("EnablePolicyType"),
            name("InviteAccountToOrganization"),
            name("LeaveOrganization"),
            name("DetachPolicy"),
            name("DisablePolicyType"),
            name("MoveAccount"),
            name("RemoveAccountFromOrganization"),
            name("UpdateOrganizationalUnit"),
            name("UpdatePolicy"),
        ],
    },
];

pub fn prowler_checks() -> Vec<ProwlerCheck> {
    PROWLER.to_vec()
}

/// Whether `pattern` holds `clause` the way Prowler looks for it: `$.field`, spaces, the
/// operator, spaces, at most one character (a quote), the value; an event name must end at a
/// word boundary, so that CreateRouteTable does not stand for CreateRoute.
pub fn holds(pattern: &str, clause: &Clause) -> bool {
    let key = format!("$.{}", clause.field);
    pattern.match_indices(&key).any(|(at, _)| {
        let rest = pattern[at + key.len()..].trim_start();
        let Some(rest) = rest.strip_prefix(clause.op) else {
            return false;
        };
        if clause.value.is_empty() {
            return true;
        }
        let rest = rest.trim_start();
        let candidates = [rest, rest.get(1..).unwrap_or("")];
        candidates.iter().any(|r| {
            r.strip_prefix(clause.value).is_some_and(|after| {
                clause.field != "eventName"
                    || !after
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
    })
}

/// The clauses of `check` that `pattern` lacks (empty: Prowler accepts the filter).
pub fn missing<'a>(check: &'a ProwlerCheck, pattern: &str) -> Vec<&'a Clause> {
    check
        .clauses
        .iter()
        .filter(|c| !holds(pattern, c))
        .collect()
}

fn squeezed(pattern: &str) -> String {
    pattern.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether Security Hub's CloudWatch control of `topic` accepts `pattern`. Its text says it
/// wants "the exact metric filters prescribed by CIS" (v1.2.0) with no added terms, and shows
/// its own spelling (and, for CloudWatch.4 and .13, an eventSource-scoped one): either is
/// accepted, spacing aside. A topic Security Hub has no control for is accepted.
pub fn security_hub_accepts(topic: Topic, pattern: &str) -> bool {
    let prescribed: Vec<&str> = [Benchmark::SecurityHub, Benchmark::Cis12]
        .into_iter()
        .flat_map(crate::catalog::controls)
        .filter(|c| c.topic == topic)
        .map(|c| c.pattern)
        .collect();
    prescribed.is_empty() || prescribed.iter().any(|p| squeezed(p) == squeezed(pattern))
}

/// The companion filters `benchmark` needs so that every scanner passes: one for each topic
/// whose benchmark pattern lacks a clause Prowler requires (route tables, Organizations), and
/// Security Hub's string for each topic where the benchmark's adds terms to it (4.1 from CIS
/// v1.3.0, 4.10 from v5.0.0's ModifySecurityGroupRules): its CloudWatch controls want exactly
/// their string.
pub fn companions(benchmark: Benchmark) -> Vec<Control> {
    if benchmark == Benchmark::Extended {
        // Deployed beside a benchmark, whose companions already cover the scanners.
        return Vec::new();
    }
    let own = crate::catalog::controls(benchmark);
    let security_hub: Vec<Control> = own
        .iter()
        .filter(|c| !security_hub_accepts(c.topic, c.pattern))
        .filter_map(|c| security_hub_companion(benchmark, c.topic))
        .collect();
    let prowler = prowler_checks()
        .into_iter()
        .filter(|check| {
            !own.iter()
                .any(|c| c.topic == check.topic && missing(check, c.pattern).is_empty())
        })
        .filter_map(|check| companion(benchmark, &check));
    security_hub.into_iter().chain(prowler).collect()
}

/// Security Hub's own string for `topic`, deployed beside the benchmark's as `S.<n>` (n: its
/// CloudWatch control). The metric names keep the `SH` suffix the first companion (S.2) was
/// deployed under.
fn security_hub_companion(benchmark: Benchmark, topic: Topic) -> Option<Control> {
    let sh = crate::catalog::controls(Benchmark::SecurityHub);
    let control = sh.iter().find(|c| c.topic == topic)?;
    let (id, metric_name) = match topic {
        Topic::UnauthorizedApiCalls => ("S.2", "UnauthorizedAPICallsSH"),
        Topic::SecurityGroupChanges => ("S.10", "SecurityGroupChangesSH"),
        _ => return None,
    };
    Some(Control {
        benchmark,
        id,
        topic,
        title: topic.title(),
        pattern: control.pattern,
        metric_name,
        warning: Some(SECURITY_HUB_NOTE),
    })
}

const SECURITY_HUB_NOTE: &str = "scanner companion: Security Hub's CloudWatch control wants its own string with no added terms, which this benchmark's own string has, so this filter and alarm are deployed beside it";

fn companion(benchmark: Benchmark, check: &ProwlerCheck) -> Option<Control> {
    let (id, metric_name) = match check.topic {
        Topic::RouteTableChanges => ("P.13", "RouteTableChangesEc2"),
        Topic::OrganizationsChanges => ("P.15", "OrganizationsChangesAll"),
        _ => return None,
    };
    let pattern: &'static str = match check.topic {
        Topic::RouteTableChanges => ROUTE_COMPANION,
        _ => ORGANIZATIONS_COMPANION,
    };
    Some(Control {
        benchmark,
        id,
        topic: check.topic,
        title: check.topic.title(),
        pattern,
        metric_name,
        warning: Some(COMPANION_NOTE),
    })
}

const COMPANION_NOTE: &str = "scanner companion: the benchmark's own string lacks a clause Prowler requires, so this filter and alarm are deployed beside it";

const ROUTE_COMPANION: &str = "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }";

const ORGANIZATIONS_COMPANION: &str = "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || ($.eventName = CancelHandshake) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganization) || ($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = EnableAllFeatures) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || ($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdateOrganizationalUnit) || ($.eventName = UpdatePolicy)) }";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::controls;
    use crate::pattern::{Event, parse};
    use crate::samples::samples;

    /// A pattern holding every clause of a check, in Prowler's order: what a companion must be.
    fn companion_pattern(check: &ProwlerCheck) -> String {
        let (guards, names): (Vec<&Clause>, Vec<&Clause>) =
            check.clauses.iter().partition(|c| c.field != "eventName");
        let any_name = names
            .iter()
            .map(|c| format!("($.eventName = {})", c.value))
            .collect::<Vec<_>>()
            .join(" || ");
        let guard = guards
            .iter()
            .map(|c| format!("($.{} = {})", c.field, c.value))
            .collect::<Vec<_>>()
            .join(" && ");
        format!("{{ {guard} && ({any_name}) }}")
    }

    fn check(topic: Topic) -> ProwlerCheck {
        prowler_checks()
            .into_iter()
            .find(|c| c.topic == topic)
            .unwrap_or_else(|| panic!("a check for {topic:?}"))
    }

    #[test]
    fn clauses_are_found_in_any_order_and_spelling() {
        let c = name("CreateRoute");
        assert!(holds("{ ($.eventName = CreateRoute) }", &c));
        assert!(holds(r#"{($.eventName="CreateRoute")}"#, &c));
        assert!(!holds("{ ($.eventName = CreateRouteTable) }", &c));
        assert!(!holds("{ ($.eventName != CreateRoute) }", &c));
        let root = clause("userIdentity.invokedBy", "NOT EXISTS", "");
        assert!(holds("{ $.userIdentity.invokedBy NOT EXISTS }", &root));
        let routes = check(Topic::RouteTableChanges);
        let reordered = "{ (($.eventName = DisassociateRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DeleteRouteTable) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = ReplaceRoute) || ($.eventName = CreateRouteTable) || ($.eventName = CreateRoute)) && ($.eventSource = ec2.amazonaws.com) }";
        assert!(missing(&routes, reordered).is_empty());
    }

    #[test]
    fn the_cis_route_and_organizations_strings_fail_prowler_and_get_companions() {
        let cis = controls(Benchmark::Cis30);
        let of = |topic| {
            cis.iter()
                .find(|c| c.topic == topic)
                .map(|c| c.pattern)
                .unwrap_or("")
        };
        let routes = check(Topic::RouteTableChanges);
        let lacking = missing(&routes, of(Topic::RouteTableChanges));
        assert_eq!(lacking.len(), 1);
        assert_eq!(lacking[0].to_string(), "$.eventSource = ec2.amazonaws.com");
        let orgs = check(Topic::OrganizationsChanges);
        let lacking: Vec<String> = missing(&orgs, of(Topic::OrganizationsChanges))
            .iter()
            .map(|c| c.value.to_string())
            .collect();
        assert_eq!(
            lacking,
            ["CancelHandshake", "CreateOrganization", "EnableAllFeatures"]
        );
        let ids: Vec<&str> = companions(Benchmark::Cis30).iter().map(|c| c.id).collect();
        assert_eq!(ids, ["S.2", "P.13", "P.15"]);
        // v5.0.0's 4.10 adds ModifySecurityGroupRules to Security Hub's CloudWatch.10 string.
        for b in [Benchmark::Cis50, Benchmark::Cis60, Benchmark::Cis70] {
            let found: Vec<Control> = companions(b);
            let ids: Vec<&str> = found.iter().map(|c| c.id).collect();
            assert_eq!(ids, ["S.2", "S.10", "P.13", "P.15"], "{b}");
            assert!(
                found[1]
                    .pattern
                    .starts_with("{($.eventName=AuthorizeSecurityGroupIngress)")
            );
            assert_eq!(found[1].metric_name, "SecurityGroupChangesSH");
        }
        // CIS 1.2's 3.1 is Security Hub's CloudWatch.2 string.
        let ids: Vec<&str> = companions(Benchmark::Cis12).iter().map(|c| c.id).collect();
        assert_eq!(ids, ["P.13", "P.15"]);
        // Security Hub's CloudWatch.13 is already ec2-scoped; it has no Organizations control.
        let ids: Vec<&str> = companions(Benchmark::SecurityHub)
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["P.15"]);
    }

    #[test]
    fn security_hub_accepts_the_cis_1_2_strings_spacing_aside_and_nothing_added() {
        let cis = controls(Benchmark::Cis30);
        let of = |topic| {
            cis.iter()
                .find(|c| c.topic == topic)
                .map(|c| c.pattern)
                .unwrap_or("")
        };
        // CIS 3.0's gateway and root strings differ from Security Hub's only in spacing.
        assert!(security_hub_accepts(
            Topic::NetworkGatewayChanges,
            of(Topic::NetworkGatewayChanges)
        ));
        assert!(security_hub_accepts(
            Topic::RootAccountUsage,
            of(Topic::RootAccountUsage)
        ));
        // Its 4.1 adds the delivery.logs and HeadBucket terms.
        assert!(!security_hub_accepts(
            Topic::UnauthorizedApiCalls,
            of(Topic::UnauthorizedApiCalls)
        ));
        assert!(!security_hub_accepts(
            Topic::VpcChanges,
            "{ ($.eventName = CreateVpc) }"
        ));
        for c in companions(Benchmark::Cis30) {
            assert!(security_hub_accepts(c.topic, c.pattern), "{}", c.id);
        }
    }

    #[test]
    fn every_other_cis_3_0_string_passes_prowler_as_it_is() {
        for c in controls(Benchmark::Cis30) {
            if matches!(
                c.topic,
                Topic::RouteTableChanges | Topic::OrganizationsChanges
            ) {
                continue;
            }
            let rule = check(c.topic);
            let lacking = missing(&rule, c.pattern);
            assert!(lacking.is_empty(), "{} lacks {lacking:?}", c.id);
        }
    }

    #[test]
    fn companions_pass_prowler_parse_and_catch_their_samples() {
        for benchmark in Benchmark::ALL {
            for c in companions(benchmark) {
                assert!(missing(&check(c.topic), c.pattern).is_empty(), "{}", c.id);
                if c.id.starts_with("P.") {
                    assert_eq!(c.pattern, companion_pattern(&check(c.topic)));
                }
                assert!(
                    c.pattern.len() <= 1024,
                    "{} is {} chars",
                    c.id,
                    c.pattern.len()
                );
                let parsed = parse(c.pattern).unwrap_or_else(|e| panic!("{}: {e}", c.id));
                let (positive, negative) = samples(c.topic);
                assert!(
                    parsed.matches(&Event::new(&positive.to_string())),
                    "{}",
                    c.id
                );
                assert!(
                    !parsed.matches(&Event::new(&negative.to_string())),
                    "{}",
                    c.id
                );
            }
        }
        let extra =
            r#"{"eventSource":"organizations.amazonaws.com","eventName":"EnableAllFeatures"}"#;
        let orgs = companions(Benchmark::Cis30)
            .into_iter()
            .find(|c| c.id == "P.15")
            .map(|c| parse(c.pattern))
            .and_then(Result::ok);
        assert!(orgs.is_some_and(|p| p.matches(&Event::new(extra))));
    }
}
