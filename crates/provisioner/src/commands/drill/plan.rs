//! What the drill does for each alarm, decided before any call: a harmless API call the alarm
//! must catch, a replay of sample records for what no API call can produce, or why neither.
//! Pure, so that the plan and the order resources are removed in are unit-tested.

use serde::Serialize;
use trailhead_alarms::catalog::{Control, Topic};

/// The tag every resource the drill creates carries; its value is the drill's run id.
/// The tag of everything a drill makes; the printed drill policy scopes its deletes to it.
pub const DRILL_TAG: &str = trailhead_policies::DRILL_TAG;

/// One harmless change, undone at once, that a monitoring alarm must catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Probe {
    /// A call the session is not allowed to make (AccessDenied).
    DeniedCall,
    /// Create and delete a customer-managed IAM policy.
    IamPolicy,
    /// UpdateTrail with the trail's own settings: nothing changes.
    UpdateTrail,
    /// PutEventSelectors with the trail's own selectors: nothing changes.
    EventSelectors,
    /// Create a KMS key and schedule its deletion (7 days, the minimum).
    KmsKeyDeletion,
    /// Put and delete a bucket policy on a temporary bucket.
    BucketPolicy,
    /// Create and delete a security group in the drill's VPC.
    SecurityGroup,
    /// Create and delete a network ACL in the drill's VPC.
    NetworkAcl,
    /// Create and delete an unattached internet gateway.
    InternetGateway,
    /// Create and delete a route table in the drill's VPC.
    RouteTable,
    /// Create and delete the drill's VPC.
    Vpc,
    /// UpdateOrganizationalUnit of an OU that cannot exist (management account, with
    /// --include-org-changes): refused, recorded, and counted by the filter all the same.
    OrganizationalUnit,
}

impl Probe {
    pub fn describe(self) -> &'static str {
        match self {
            Probe::DeniedCall => "a DescribeTrails call from a session whose policy denies it",
            Probe::IamPolicy => "create and delete a customer-managed IAM policy",
            Probe::UpdateTrail => "UpdateTrail with the trail's own settings (nothing changes)",
            Probe::EventSelectors => {
                "PutEventSelectors with the trail's own selectors (nothing changes)"
            }
            Probe::KmsKeyDeletion => {
                "create a KMS key, put its own key policy back, and schedule its deletion in 7 \
                 days (the minimum)"
            }
            Probe::BucketPolicy => "put and delete a bucket policy on a temporary bucket",
            Probe::SecurityGroup => "create and delete a security group in a temporary VPC",
            Probe::NetworkAcl => "create and delete a network ACL in a temporary VPC",
            Probe::InternetGateway => "create and delete an unattached internet gateway",
            Probe::RouteTable => "create and delete a route table in a temporary VPC",
            Probe::Vpc => "create and delete a temporary VPC",
            Probe::OrganizationalUnit => {
                "UpdateOrganizationalUnit of an OU id that cannot exist in this organization \
                 (refused; CloudTrail records the attempt, which the filter counts)"
            }
        }
    }

    /// Whether it needs the drill's temporary VPC to exist first.
    pub fn needs_vpc(self) -> bool {
        matches!(
            self,
            Probe::SecurityGroup | Probe::NetworkAcl | Probe::RouteTable | Probe::Vpc
        )
    }
}

/// What the drill does for one alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Treatment {
    Drill {
        probe: Probe,
    },
    /// Replayed through the filter engine from the catalog's sample records.
    Offline,
    NotDrillable {
        why: String,
    },
}

/// Where the drill runs and what it may touch.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The target is the organization's management account.
    pub management_account: bool,
    pub include_org_changes: bool,
}

#[derive(Debug, Clone)]
pub struct PlannedAlarm {
    pub control: Control,
    pub treatment: Treatment,
}

fn not_drillable(why: &str) -> Treatment {
    Treatment::NotDrillable {
        why: why.to_string(),
    }
}

/// The treatment of one topic.
pub fn treatment(topic: Topic, scope: &Scope) -> Treatment {
    let drill = |probe| Treatment::Drill { probe };
    match topic {
        // The denied call comes from the access role narrowed by a deny-all session policy;
        // the management account has no access role (it is reached with the caller's own
        // credentials), so there the deployed filter is judged offline.
        Topic::UnauthorizedApiCalls if scope.management_account => Treatment::Offline,
        Topic::UnauthorizedApiCalls => drill(Probe::DeniedCall),
        Topic::IamPolicyChanges => drill(Probe::IamPolicy),
        Topic::CloudTrailChanges => drill(Probe::UpdateTrail),
        Topic::DisableOrDeleteCmk => drill(Probe::KmsKeyDeletion),
        Topic::S3BucketPolicyChanges => drill(Probe::BucketPolicy),
        Topic::SecurityGroupChanges => drill(Probe::SecurityGroup),
        Topic::NaclChanges => drill(Probe::NetworkAcl),
        Topic::NetworkGatewayChanges => drill(Probe::InternetGateway),
        Topic::RouteTableChanges => drill(Probe::RouteTable),
        Topic::VpcChanges => drill(Probe::Vpc),
        Topic::ConsoleSignInWithoutMfa | Topic::RootAccountUsage | Topic::ConsoleAuthFailures => {
            Treatment::Offline
        }
        Topic::ConfigChanges => not_drillable(
            "every call it watches changes the account's own AWS Config recorder or delivery \
             channel, which the drill never touches",
        ),
        Topic::OrganizationsChanges if !scope.management_account => not_drillable(
            "Organizations events are recorded only in the management account: drill that \
             account with --include-org-changes",
        ),
        Topic::OrganizationsChanges if !scope.include_org_changes => {
            not_drillable("Organizations changes are drilled only with --include-org-changes")
        }
        Topic::OrganizationsChanges => drill(Probe::OrganizationalUnit),
        // The extended set.
        Topic::TrailEvasion => drill(Probe::EventSelectors),
        // PutBucketPolicy / DeleteBucketPolicy of the temporary bucket are in its pattern.
        Topic::BucketProtectionChanges => drill(Probe::BucketPolicy),
        Topic::KeyPolicyChanges => drill(Probe::KmsKeyDeletion),
        Topic::RootAccessKeyCreated => Treatment::Offline,
        Topic::DetectorsDisabled => not_drillable(
            "every call it watches turns off GuardDuty, Security Hub or AWS Config, which would \
             leave the account unwatched: the drill never does it",
        ),
    }
}

/// The drill's plan: the controls in benchmark order, `only` narrowing them to some ids.
pub fn plan(controls: &[Control], only: &[String], scope: &Scope) -> Vec<PlannedAlarm> {
    controls
        .iter()
        .filter(|c| only.is_empty() || only.iter().any(|id| id == c.id))
        .map(|c| PlannedAlarm {
            control: c.clone(),
            treatment: treatment(c.topic, scope),
        })
        .collect()
}

/// The probes to run, each once, in the order they run: the VPC's children after the VPC exists
/// (the VPC is created first and deleted last, by the runner).
pub fn probes(planned: &[PlannedAlarm]) -> Vec<Probe> {
    let mut out: Vec<Probe> = Vec::new();
    for p in planned {
        if let Treatment::Drill { probe } = p.treatment
            && !out.contains(&probe)
        {
            out.push(probe);
        }
    }
    out
}

/// A resource the drill created and must remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "id", rename_all = "kebab-case")]
pub enum Resource {
    IamPolicy(String),
    KmsKey(String),
    Bucket(String),
    Vpc(String),
    SecurityGroup(String),
    NetworkAcl(String),
    InternetGateway(String),
    RouteTable(String),
}

impl Resource {
    /// Removal rank: a resource that lives inside another goes first (AWS refuses DeleteVpc
    /// while the VPC still holds a security group, a network ACL or a route table).
    fn rank(&self) -> u8 {
        match self {
            Resource::SecurityGroup(_) | Resource::NetworkAcl(_) | Resource::RouteTable(_) => 0,
            Resource::Vpc(_) => 1,
            _ => 0,
        }
    }

    pub fn label(&self) -> String {
        let (kind, id) = match self {
            Resource::IamPolicy(id) => ("IAM policy", id),
            Resource::KmsKey(id) => ("KMS key", id),
            Resource::Bucket(id) => ("bucket", id),
            Resource::Vpc(id) => ("VPC", id),
            Resource::SecurityGroup(id) => ("security group", id),
            Resource::NetworkAcl(id) => ("network ACL", id),
            Resource::InternetGateway(id) => ("internet gateway", id),
            Resource::RouteTable(id) => ("route table", id),
        };
        format!("{kind} {id}")
    }
}

/// The order to remove leftovers in: children before the VPC they live in, otherwise newest
/// first (the reverse of creation).
pub fn removal_order(created: &[Resource]) -> Vec<Resource> {
    let mut out: Vec<Resource> = created.iter().rev().cloned().collect();
    out.sort_by_key(Resource::rank);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailhead_alarms::catalog::controls;
    use trailhead_model::Benchmark;

    fn kinds(planned: &[PlannedAlarm]) -> (usize, usize, usize) {
        let count = |f: fn(&Treatment) -> bool| planned.iter().filter(|p| f(&p.treatment)).count();
        (
            count(|t| matches!(t, Treatment::Drill { .. })),
            count(|t| matches!(t, Treatment::Offline)),
            count(|t| matches!(t, Treatment::NotDrillable { .. })),
        )
    }

    #[test]
    fn a_member_account_drills_ten_cis_alarms_and_replays_three() {
        let planned = plan(&controls(Benchmark::Cis30), &[], &Scope::default());
        assert_eq!(kinds(&planned), (10, 3, 2));
        let orgs = planned
            .iter()
            .find(|p| p.control.id == "4.15")
            .map(|p| &p.treatment);
        assert!(
            matches!(orgs, Some(Treatment::NotDrillable { why }) if why.contains("management account"))
        );
    }

    #[test]
    fn the_management_account_has_no_access_role_to_narrow_so_its_denied_call_is_replayed() {
        let cis = controls(Benchmark::Cis30);
        let management = Scope {
            management_account: true,
            include_org_changes: false,
        };
        assert_eq!(
            plan(&cis, &["4.1".into()], &management)[0].treatment,
            Treatment::Offline
        );
        assert_eq!(
            plan(&cis, &["4.1".into()], &Scope::default())[0].treatment,
            Treatment::Drill {
                probe: Probe::DeniedCall
            }
        );
    }

    #[test]
    fn the_extended_set_drills_three_and_never_turns_a_detector_off() {
        let planned = plan(&controls(Benchmark::Extended), &[], &Scope::default());
        assert_eq!(kinds(&planned), (3, 1, 1));
        let of = |id: &str| {
            planned
                .iter()
                .find(|p| p.control.id == id)
                .map(|p| p.treatment.clone())
        };
        assert_eq!(
            of("E.1"),
            Some(Treatment::Drill {
                probe: Probe::EventSelectors
            })
        );
        assert!(
            matches!(of("E.4"), Some(Treatment::NotDrillable { why }) if why.contains("GuardDuty"))
        );
        assert_eq!(of("E.5"), Some(Treatment::Offline));
    }

    #[test]
    fn organizations_changes_need_the_management_account_and_the_flag() {
        let cis = controls(Benchmark::Cis30);
        let management = Scope {
            management_account: true,
            include_org_changes: false,
        };
        let without = plan(&cis, &["4.15".into()], &management);
        assert!(
            matches!(&without[0].treatment, Treatment::NotDrillable { why } if why.contains("--include-org-changes"))
        );
        let with = plan(
            &cis,
            &["4.15".into()],
            &Scope {
                include_org_changes: true,
                ..management
            },
        );
        assert_eq!(
            with[0].treatment,
            Treatment::Drill {
                probe: Probe::OrganizationalUnit
            }
        );
    }

    #[test]
    fn only_narrows_the_plan_and_probes_run_once_each() {
        let planned = plan(
            &controls(Benchmark::Cis30),
            &["4.10".into(), "4.14".into(), "4.3".into()],
            &Scope::default(),
        );
        let ids: Vec<&str> = planned.iter().map(|p| p.control.id).collect();
        assert_eq!(ids, ["4.3", "4.10", "4.14"]);
        assert_eq!(probes(&planned), [Probe::SecurityGroup, Probe::Vpc]);
        assert!(probes(&planned).iter().all(|p| p.needs_vpc()));
    }

    #[test]
    fn cleanup_removes_what_lives_in_the_vpc_before_the_vpc_and_the_rest_newest_first() {
        let created = [
            Resource::Bucket("b".into()),
            Resource::Vpc("vpc-1".into()),
            Resource::SecurityGroup("sg-1".into()),
            Resource::InternetGateway("igw-1".into()),
            Resource::RouteTable("rtb-1".into()),
        ];
        let order = removal_order(&created);
        let position = |r: &Resource| order.iter().position(|o| o == r).unwrap_or(usize::MAX);
        assert_eq!(order.last(), Some(&Resource::Vpc("vpc-1".into())));
        assert!(
            position(&Resource::RouteTable("rtb-1".into()))
                < position(&Resource::SecurityGroup("sg-1".into()))
        );
        assert!(position(&Resource::InternetGateway("igw-1".into())) < position(&created[0]));
        assert_eq!(order.len(), created.len());
    }
}
