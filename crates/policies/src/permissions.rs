//! The identity policies trailhead itself needs: the caller's (in the management account) and the
//! access role's (in every member account and the log-archive account). `trailhead permissions`
//! prints them; a test checks that every call of a rollout is granted by them.

use crate::{Effect, PolicyDocument, Statement};

/// What the policies are scoped to: the names the spec gives.
#[derive(Debug, Clone)]
pub struct PermissionInputs {
    pub partition: String,
    pub access_role: String,
    pub trail_name: String,
    pub log_group: String,
    pub topic_name: String,
    /// The topic of log-file delivery notifications, when the spec asks for one.
    pub delivery_topic: Option<String>,
    /// The CloudWatch Logs role trailhead creates in each account.
    pub logs_role: String,
    /// The archive bucket name; `*` where the account id is not known yet.
    pub bucket: String,
    /// Whether the spec asks trailhead to create the log-archive account.
    pub creates_account: bool,
    /// `[athena]`: the Glue database and table and the workgroup.
    pub athena: Option<AthenaNames>,
    /// The aliases of trailhead's keys (`alias/…`): the archive key's and the log groups'.
    pub key_aliases: Vec<String>,
    /// The management account, when the spec configures it too (reached with the caller's
    /// credentials, which its keys' policies then name).
    pub management_target: Option<String>,
}

/// Our aliases, in any region of any account.
fn key_aliases(p: &PermissionInputs) -> Vec<String> {
    p.key_aliases
        .iter()
        .map(|a| format!("arn:{}:kms:*:*:{a}", p.partition))
        .collect()
}

/// For one rollout after upgrading from a trailhead whose keys were administered through the
/// access role's identity policy: their policies do not name the role yet, so rewriting them
/// needs this grant once. Scoped to keys that carry one of trailhead's aliases; remove it once
/// the rollout has passed (every key's policy then names its administrator).
pub fn key_upgrade_policy(p: &PermissionInputs) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::new("OnceRewriteTheKeyPoliciesOfTrailheadKeys", Effect::Allow)
            .actions(&["kms:PutKeyPolicy"])
            .resources(&["*"])
            .when(
                "ForAnyValue:StringEquals",
                "kms:ResourceAliases",
                &p.key_aliases.iter().map(String::as_str).collect::<Vec<_>>(),
            ),
    ])
}

#[derive(Debug, Clone)]
pub struct AthenaNames {
    pub database: String,
    pub table: String,
    pub workgroup: String,
}

/// Athena's part of the access role: its catalog and workgroup, the results bucket, the archive
/// bucket read by queries, and the key S3 encrypts results with (through S3 only).
fn athena_statements(p: &PermissionInputs, names: &AthenaNames) -> Vec<Statement> {
    let part = &p.partition;
    let results = format!("arn:{part}:s3:::{}-athena", p.bucket);
    let db = &names.database;
    vec![
        allow(
            "AthenaCatalog",
            &[
                "glue:GetDatabase",
                "glue:CreateDatabase",
                "glue:GetTable",
                "glue:CreateTable",
                "glue:UpdateTable",
                "glue:GetPartitions",
            ],
            &[
                format!("arn:{part}:glue:*:*:catalog"),
                format!("arn:{part}:glue:*:*:database/{db}"),
                format!("arn:{part}:glue:*:*:table/{db}/{}", names.table),
            ],
        ),
        allow(
            "AthenaWorkgroup",
            &[
                "athena:GetWorkGroup",
                "athena:CreateWorkGroup",
                "athena:UpdateWorkGroup",
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:StopQueryExecution",
            ],
            &[format!(
                "arn:{part}:athena:*:*:workgroup/{}",
                names.workgroup
            )],
        ),
        // Athena writes its results here, and only here.
        allow(
            "AthenaResultsBucket",
            &[
                "s3:GetBucketLocation",
                "s3:ListBucket",
                "s3:GetObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            &[results.clone(), format!("{results}/*")],
        ),
        // Queries read the archive; nothing of Athena's may write to it (where the query account
        // is the log-archive account, a write here could overwrite logs).
        allow(
            "AthenaReadsArchive",
            &["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"],
            &[
                format!("arn:{part}:s3:::{}", p.bucket),
                format!("arn:{part}:s3:::{}/*", p.bucket),
            ],
        ),
        Statement::new("AthenaResultsKey", Effect::Allow)
            .actions(&["kms:GenerateDataKey", "kms:Decrypt"])
            .resources(&["*"])
            .when(
                "StringLike",
                "kms:ViaService",
                &[trailhead_model::rules::s3_via_service(part)],
            ),
    ]
}

fn allow(sid: &str, actions: &[&str], resources: &[String]) -> Statement {
    Statement::new(sid, Effect::Allow)
        .actions(actions)
        .resources(resources)
}

/// The caller, in the management account: read the organization, create the log-archive account
/// if asked, and assume the access role in each account. When the management account is a target
/// itself, it also needs the access role's permissions (it is reached with these credentials).
pub fn caller_policy(p: &PermissionInputs) -> PolicyDocument {
    let mut statements = vec![
        allow(
            "ReadOrganization",
            &[
                "organizations:DescribeOrganization",
                "organizations:ListAccounts",
                "organizations:ListAccountsForParent",
                "organizations:DescribeAccount",
                // Preflight: is the caller a delegated administrator (asked only when the
                // caller is not the management account)?
                "organizations:ListDelegatedAdministrators",
                // Preflight: who the caller is. AWS grants it to every principal; listed so
                // that the policy names every call trailhead makes.
                "sts:GetCallerIdentity",
            ],
            &["*".to_string()],
        ),
        // Organization trails live in the management account: found there, and their status
        // read, so that preflight and plan can say what they already record.
        allow(
            "ReadOrganizationTrails",
            &["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"],
            &["*".to_string()],
        ),
        allow(
            "AssumeAccessRole",
            &["sts:AssumeRole"],
            &[format!("arn:{}:iam::*:role/{}", p.partition, p.access_role)],
        ),
    ];
    if let Some(management) = &p.management_target {
        // The management account's keys name the caller as their administrator: its role's ARN
        // with the role's path, which only GetRole gives (an assumed-role ARN omits it).
        statements.push(allow(
            "NameTheCallerInKeyPolicies",
            &["iam:GetRole"],
            &[format!("arn:{}:iam::{management}:role/*", p.partition)],
        ));
    }
    if p.creates_account {
        statements.push(allow(
            "CreateLogArchiveAccount",
            &[
                "organizations:CreateAccount",
                "organizations:DescribeCreateAccountStatus",
            ],
            &["*".to_string()],
        ));
    }
    PolicyDocument::new(statements)
}

/// The access role, in every account trailhead configures (the log-archive account included).
pub fn access_role_policy(p: &PermissionInputs) -> PolicyDocument {
    let part = &p.partition;
    let logs_role = format!("arn:{part}:iam::*:role/{}", p.logs_role);
    let group = format!("arn:{part}:logs:*:*:log-group:{}", p.log_group);
    let bucket = format!("arn:{part}:s3:::{}", p.bucket);
    let mut archive_buckets = vec![
        bucket.clone(),
        format!("{bucket}/*"),
        format!("{bucket}-access-logs"),
    ];
    if p.athena.is_some() {
        archive_buckets.push(format!("{bucket}-athena"));
    }
    let mut statements = vec![
        allow(
            "Trail",
            &[
                "cloudtrail:CreateTrail",
                "cloudtrail:UpdateTrail",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:GetEventSelectors",
                "cloudtrail:PutEventSelectors",
                "cloudtrail:GetInsightSelectors",
                "cloudtrail:PutInsightSelectors",
                "cloudtrail:StartLogging",
                "cloudtrail:AddTags",
                "cloudtrail:ListTags",
            ],
            &[format!("arn:{part}:cloudtrail:*:*:trail/{}", p.trail_name)],
        ),
        // DescribeTrails and ListPublicKeys take no resource.
        allow(
            "ReadTrails",
            &["cloudtrail:DescribeTrails", "cloudtrail:ListPublicKeys"],
            &["*".to_string()],
        ),
        allow(
            "CloudWatchLogsRole",
            &[
                "iam:GetRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:GetRolePolicy",
                "iam:TagRole",
            ],
            std::slice::from_ref(&logs_role),
        ),
        // The role's permissions are written only while its boundary caps it at writing logs:
        // rewriting its trust and its policy can then never make it more than a log writer.
        Statement::new("CloudWatchLogsRoleWithinItsBoundary", Effect::Allow)
            .actions(&[
                "iam:CreateRole",
                "iam:PutRolePolicy",
                "iam:PutRolePermissionsBoundary",
            ])
            .resources(std::slice::from_ref(&logs_role))
            .when(
                "StringEquals",
                "iam:PermissionsBoundary",
                &[crate::logs_role_boundary(part)],
            ),
        Statement::new("PassCloudWatchLogsRoleToCloudTrail", Effect::Allow)
            .actions(&["iam:PassRole"])
            .resources(&[logs_role])
            .when(
                "StringEquals",
                "iam:PassedToService",
                &["cloudtrail.amazonaws.com"],
            ),
        allow(
            "LogGroup",
            &[
                "logs:CreateLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DescribeMetricFilters",
                "logs:PutMetricFilter",
                "logs:DeleteMetricFilter",
                "logs:TagResource",
                "logs:AssociateKmsKey",
                "logs:DisassociateKmsKey",
            ],
            &[group.clone(), format!("{group}:*")],
        ),
        allow(
            "ListLogGroups",
            &["logs:DescribeLogGroups"],
            &["*".to_string()],
        ),
        allow(
            "Alarms",
            &["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"],
            &[format!("arn:{part}:cloudwatch:*:*:alarm:trailhead-*")],
        ),
        allow(
            "ReadAlarms",
            &[
                "cloudwatch:DescribeAlarms",
                "cloudwatch:DescribeAlarmsForMetric",
            ],
            &["*".to_string()],
        ),
        allow(
            "AlarmTopic",
            &[
                "sns:CreateTopic",
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:ListSubscriptionsByTopic",
                "sns:TagResource",
            ],
            &std::iter::once(&p.topic_name)
                .chain(&p.delivery_topic)
                .map(|t| format!("arn:{part}:sns:*:*:{t}"))
                .collect::<Vec<_>>(),
        ),
        allow("ListTopics", &["sns:ListTopics"], &["*".to_string()]),
        // The log-archive account's buckets (the archive and its access-log bucket).
        allow(
            "ArchiveBuckets",
            &[
                "s3:CreateBucket",
                "s3:ListBucket",
                "s3:GetBucketVersioning",
                "s3:PutBucketVersioning",
                "s3:GetBucketPublicAccessBlock",
                "s3:PutBucketPublicAccessBlock",
                "s3:GetBucketOwnershipControls",
                "s3:PutBucketOwnershipControls",
                "s3:GetEncryptionConfiguration",
                "s3:PutEncryptionConfiguration",
                "s3:GetLifecycleConfiguration",
                "s3:PutLifecycleConfiguration",
                "s3:GetBucketLogging",
                "s3:PutBucketLogging",
                "s3:GetBucketPolicy",
                "s3:PutBucketPolicy",
                "s3:GetBucketObjectLockConfiguration",
                "s3:PutBucketObjectLockConfiguration",
                "s3:GetObject",
            ],
            &archive_buckets,
        ),
        // The archive key and each account's log group key. CreateKey has no resource. What
        // trailhead then does to a key of its own is granted by that key's policy, to this role
        // by name (`TrailheadAdministersThisKey`), and nothing here may change any other key.
        allow(
            "CreateKeys",
            &[
                "kms:CreateKey",
                "kms:ListKeys",
                "kms:ListAliases",
                "kms:DescribeKey",
                "kms:GetKeyPolicy",
                "kms:GetKeyRotationStatus",
                "kms:ListResourceTags",
            ],
            &["*".to_string()],
        ),
        // CreateAlias is authorized twice: on the alias (here, our aliases only) and on the key
        // (by the key's own policy).
        allow("KeyAliases", &["kms:CreateAlias"], &key_aliases(p)),
        // Reading a log file back (the wave gate, verify, logs validate, the drill): S3 decrypts
        // it with the archive key as this role, so the role needs kms:Decrypt, through S3 only.
        Statement::new("ArchiveReadKey", Effect::Allow)
            .actions(&["kms:Decrypt"])
            .resources(&["*".to_string()])
            .when(
                "StringLike",
                "kms:ViaService",
                &[trailhead_model::rules::s3_via_service(part)],
            ),
    ];
    if let Some(names) = &p.athena {
        statements.extend(athena_statements(p, names));
    }
    PolicyDocument::new(statements)
}

/// The tag every resource the drill creates carries (its value: the run id).
pub const DRILL_TAG: &str = "trailhead:drill";

/// The EC2 creates of the drill: each must carry the drill's tag, and only these may tag.
const DRILL_EC2_CREATES: [&str; 5] = [
    "CreateVpc",
    "CreateSecurityGroup",
    "CreateNetworkAcl",
    "CreateInternetGateway",
    "CreateRouteTable",
];

/// What `trailhead drill` needs beyond the rollout's policies, for the access role (and the
/// caller, where the management account is drilled): its own temporary resources, named
/// `trailhead-drill-*` where the service allows a name, tagged `trailhead:drill` where it does
/// not; every destructive action is limited to what carries that tag, and tags go on only as a
/// resource is created (EC2) or only onto resources that cannot be something else's (OUs; KMS
/// keys without an alias: docs/permissions.md says what is left).
pub fn drill_policy(p: &PermissionInputs) -> PolicyDocument {
    let part = &p.partition;
    let group = format!("arn:{part}:logs:*:*:log-group:{}", p.log_group);
    let any = || vec!["*".to_string()];
    let tagged = |s: Statement| s.when("Null", &format!("aws:ResourceTag/{DRILL_TAG}"), &["false"]);
    let tagging = |s: Statement| {
        s.when("Null", &format!("aws:RequestTag/{DRILL_TAG}"), &["false"])
            .when("ForAllValues:StringEquals", "aws:TagKeys", &[DRILL_TAG])
    };
    let mut statements = vec![
        allow(
            "DrillIamPolicy",
            &[
                "iam:CreatePolicy",
                "iam:DeletePolicy",
                "iam:TagPolicy",
                "iam:ListPolicyTags",
            ],
            &[format!("arn:{part}:iam::*:policy/trailhead-drill/*")],
        ),
        allow("DrillListPolicies", &["iam:ListPolicies"], &any()),
    ];
    statements.extend(drill_key_statements(&tagging));
    statements.extend([
        allow(
            "DrillBucket",
            &[
                "s3:CreateBucket",
                "s3:PutBucketTagging",
                "s3:GetBucketTagging",
                "s3:PutBucketPolicy",
                "s3:DeleteBucketPolicy",
                "s3:DeleteBucket",
            ],
            &[format!("arn:{part}:s3:::trailhead-drill-*")],
        ),
        allow("DrillListBuckets", &["s3:ListAllMyBuckets"], &any()),
    ]);
    statements.extend(drill_network_statements(&tagged, &tagging));
    statements.extend([
        allow(
            "DrillLogEvents",
            &["logs:FilterLogEvents"],
            &[group.clone(), format!("{group}:*")],
        ),
        allow(
            "DrillFollow",
            &[
                "cloudwatch:GetMetricStatistics",
                "cloudwatch:DescribeAlarmHistory",
            ],
            &any(),
        ),
    ]);
    statements.extend(drill_ou_statements());
    PolicyDocument::new(statements)
}

/// A key of its own, created with the drill's tag. Rewriting and deleting it is granted by the
/// key's own policy ([`drill_key_policy`]), never here: KMS authorizes tag-on-create with the
/// same TagResource action, on the same resources, as tagging an existing key, so no IAM grant
/// scoped by a tag could keep someone else's key out of reach. An explicit deny keeps every key
/// with an alias (trailhead's archive and log group keys) from even being tagged.
fn drill_key_statements(tagging: &dyn Fn(Statement) -> Statement) -> Vec<Statement> {
    vec![
        allow(
            "DrillKeys",
            &[
                "kms:CreateKey",
                "kms:ListKeys",
                "kms:ListResourceTags",
                "kms:DescribeKey",
                "kms:GetKeyPolicy",
            ],
            &["*".to_string()],
        ),
        tagging(
            Statement::new("DrillKeyTagOnly", Effect::Allow)
                .actions(&["kms:TagResource"])
                .resources(&["*"]),
        ),
        Statement::new("NeverTagAKeyWithAnAlias", Effect::Deny)
            .actions(&["kms:TagResource"])
            .resources(&["*"])
            .when("Null", "kms:ResourceAliases", &["false"]),
    ]
}

/// The policy of the drill's own key: the account administers it as any key, and `driller`
/// (the access role, or the caller in the management account) may rewrite and delete this key
/// alone. Set at CreateKey, so nothing waits for a tag to count.
pub fn drill_key_policy(partition: &str, account: &str, driller: &str) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::new("KeyAdministration", Effect::Allow)
            .principal(crate::Principal::Aws(vec![format!(
                "arn:{partition}:iam::{account}:root"
            )]))
            .actions(&["kms:*"])
            .resources(&["*"]),
        Statement::new("TheDrillRemovesItsOwnKey", Effect::Allow)
            .principal(crate::Principal::Aws(vec![driller.to_string()]))
            .actions(&[
                "kms:DescribeKey",
                "kms:GetKeyPolicy",
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
            ])
            .resources(&["*"]),
    ])
}

/// EC2 takes no name to scope by: every create carries the drill's tag, CreateTags is allowed
/// only as part of those creates (`ec2:CreateAction`), and deletes only on tagged resources.
fn drill_network_statements(
    tagged: &dyn Fn(Statement) -> Statement,
    tagging: &dyn Fn(Statement) -> Statement,
) -> Vec<Statement> {
    let creates: Vec<String> = DRILL_EC2_CREATES
        .iter()
        .map(|c| format!("ec2:{c}"))
        .collect();
    let creates: Vec<&str> = creates.iter().map(String::as_str).collect();
    vec![
        tagging(
            Statement::new("DrillNetworkCreate", Effect::Allow)
                .actions(&creates)
                .resources(&["*"]),
        ),
        // A security group, ACL or route table is also authorized on the VPC it goes into,
        // which carries no request tag: that VPC must be the drill's own.
        tagged(
            Statement::new("DrillNetworkInItsVpc", Effect::Allow)
                .actions(&[
                    "ec2:CreateSecurityGroup",
                    "ec2:CreateNetworkAcl",
                    "ec2:CreateRouteTable",
                ])
                .resources(&["arn:*:ec2:*:*:vpc/*"]),
        ),
        tagging(
            Statement::new("DrillNetworkTagOnCreate", Effect::Allow)
                .actions(&["ec2:CreateTags"])
                .resources(&["*"])
                .when("StringEquals", "ec2:CreateAction", &DRILL_EC2_CREATES),
        ),
        tagged(
            Statement::new("DrillNetworkDelete", Effect::Allow)
                .actions(&[
                    "ec2:DeleteVpc",
                    "ec2:DeleteSecurityGroup",
                    "ec2:DeleteNetworkAcl",
                    "ec2:DeleteInternetGateway",
                    "ec2:DeleteRouteTable",
                ])
                .resources(&["*"]),
        ),
        allow(
            "DrillNetworkRead",
            &[
                "ec2:DescribeVpcs",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeNetworkAcls",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeRouteTables",
            ],
            &["*".to_string()],
        ),
    ]
}

/// The management account only, with --include-org-changes: the probe is an UpdateOrganizationalUnit
/// of an OU that cannot exist, which AWS refuses and CloudTrail records. It needs only the root's
/// id; the drill may change nothing in the organization (an OU tag is no guard: whoever may tag
/// an OU could bring any empty OU into a tag-scoped delete).
fn drill_ou_statements() -> Vec<Statement> {
    vec![allow(
        "DrillOrganizationRead",
        &["organizations:ListRoots"],
        &["*".to_string()],
    )]
}

/// Whether `policy` has an Allow statement that lists `action` (wildcards as IAM reads them).
pub fn grants_action(policy: &PolicyDocument, action: &str) -> bool {
    policy.statements.iter().any(|s| {
        s.effect == Effect::Allow
            && !s.not_action
            && s.action.iter().any(|a| {
                crate::evaluate::glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase())
            })
    })
}

/// The IAM action an SDK operation needs: `service:Operation`, except where S3 names its
/// actions otherwise. `service` is the SDK's service name as the call log records it.
pub fn iam_action(service: &str, operation: &str) -> String {
    let prefix = match service.to_ascii_lowercase().replace(' ', "").as_str() {
        "cloudwatchlogs" | "logs" => "logs".to_string(),
        "cloudwatch" => "cloudwatch".to_string(),
        other => other.to_string(),
    };
    let s3 = match operation {
        "HeadBucket" | "ListObjectsV2" => Some("ListBucket"),
        "ListBuckets" => Some("ListAllMyBuckets"),
        "GetPublicAccessBlock" => Some("GetBucketPublicAccessBlock"),
        "PutPublicAccessBlock" => Some("PutBucketPublicAccessBlock"),
        "GetBucketEncryption" => Some("GetEncryptionConfiguration"),
        "PutBucketEncryption" => Some("PutEncryptionConfiguration"),
        "GetBucketLifecycleConfiguration" => Some("GetLifecycleConfiguration"),
        "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => {
            Some("PutLifecycleConfiguration")
        }
        "GetObjectLockConfiguration" => Some("GetBucketObjectLockConfiguration"),
        "PutObjectLockConfiguration" => Some("PutBucketObjectLockConfiguration"),
        _ => None,
    };
    match (prefix.as_str(), s3) {
        ("s3", Some(action)) => format!("s3:{action}"),
        _ => format!("{prefix}:{operation}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> PermissionInputs {
        PermissionInputs {
            partition: "aws".into(),
            access_role: "OrganizationAccountAccessRole".into(),
            trail_name: "org-audit".into(),
            log_group: "/trailhead/cloudtrail".into(),
            topic_name: "cis".into(),
            delivery_topic: None,
            logs_role: "trailhead-logs".into(),
            bucket: "acme-cloudtrail-*".into(),
            creates_account: false,
            athena: None,
            key_aliases: vec!["alias/acme-cloudtrail".into(), "alias/acme-logs".into()],
            management_target: None,
        }
    }

    #[test]
    fn the_access_role_administers_no_key_by_its_identity_policy() {
        let role = access_role_policy(&inputs());
        for action in crate::KEY_ADMINISTRATION_ACTIONS {
            let read = action.starts_with("kms:Describe")
                || action.starts_with("kms:Get")
                || action.starts_with("kms:List");
            if read {
                continue;
            }
            let open = role.statements.iter().any(|s| {
                s.action.iter().any(|a| a == action) && s.resource.iter().any(|r| r == "*")
            });
            assert!(!open, "{action} on every key");
        }
        // CreateAlias only on our aliases (its key side is the key policy's to grant).
        let alias = role
            .statements
            .iter()
            .find(|s| s.action.iter().any(|a| a == "kms:CreateAlias"))
            .expect("CreateAlias is granted");
        assert_eq!(
            alias.resource,
            [
                "arn:aws:kms:*:*:alias/acme-cloudtrail",
                "arn:aws:kms:*:*:alias/acme-logs"
            ]
        );
    }

    #[test]
    fn the_upgrade_grant_reaches_only_keys_with_our_aliases() {
        let upgrade = key_upgrade_policy(&inputs());
        let key = "arn:aws:kms:eu-west-1:111111111111:key/k-1";
        let put = |alias: Option<&str>| {
            let context: Vec<(&str, &str)> = alias
                .map(|a| ("kms:ResourceAliases", a))
                .into_iter()
                .collect();
            decide(&upgrade, "kms:PutKeyPolicy", key, &context)
        };
        use crate::Decision;
        assert_eq!(put(Some("alias/acme-logs")), Decision::Allow);
        assert_ne!(put(Some("alias/payments")), Decision::Allow);
        assert_ne!(put(None), Decision::Allow);
    }

    #[test]
    fn the_access_role_decrypts_the_archive_through_s3_only() {
        let role = access_role_policy(&inputs());
        let decrypt: Vec<&Statement> = role
            .statements
            .iter()
            .filter(|s| s.action.iter().any(|a| a == "kms:Decrypt"))
            .collect();
        assert_eq!(decrypt.len(), 1, "the archive read, and nothing else");
        let via = decrypt[0]
            .condition
            .get("StringLike")
            .and_then(|c| c.get("kms:ViaService"));
        assert!(via.is_some(), "only through S3");
    }

    #[test]
    fn s3_operations_map_to_their_iam_actions() {
        assert_eq!(iam_action("s3", "HeadBucket"), "s3:ListBucket");
        assert_eq!(iam_action("s3", "ListBuckets"), "s3:ListAllMyBuckets");
        assert_eq!(
            iam_action("s3", "DeleteBucketLifecycle"),
            "s3:PutLifecycleConfiguration"
        );
        assert_eq!(
            iam_action("CloudWatch Logs", "PutMetricFilter"),
            "logs:PutMetricFilter"
        );
        assert_eq!(
            iam_action("cloudtrail", "CreateTrail"),
            "cloudtrail:CreateTrail"
        );
    }

    #[test]
    fn the_caller_creates_accounts_only_when_asked_and_never_gets_a_wildcard_action() {
        let p = inputs();
        assert!(!grants_action(
            &caller_policy(&p),
            "organizations:CreateAccount"
        ));
        let creating = PermissionInputs {
            creates_account: true,
            ..p
        };
        assert!(grants_action(
            &caller_policy(&creating),
            "organizations:CreateAccount"
        ));
        for doc in [caller_policy(&creating), access_role_policy(&creating)] {
            assert!(
                doc.statements
                    .iter()
                    .all(|s| s.action.iter().all(|a| !a.contains('*')))
            );
        }
        let role = access_role_policy(&creating);
        assert!(!grants_action(&role, "iam:DeleteRole"));
        assert!(!grants_action(&role, "s3:DeleteBucket"));
        assert!(!grants_action(&role, "cloudtrail:DeleteTrail"));
    }

    #[test]
    fn athena_permissions_only_with_athena() {
        let plain = access_role_policy(&inputs());
        assert!(!grants_action(&plain, "athena:StartQueryExecution"));
        assert!(!grants_action(&plain, "glue:CreateTable"));
        let with = PermissionInputs {
            athena: Some(AthenaNames {
                database: "trailhead_acme".into(),
                table: "cloudtrail".into(),
                workgroup: "trailhead".into(),
            }),
            ..inputs()
        };
        let role = access_role_policy(&with);
        for action in [
            "athena:StartQueryExecution",
            "athena:UpdateWorkGroup",
            "glue:UpdateTable",
            "kms:GenerateDataKey",
        ] {
            assert!(grants_action(&role, action), "{action}");
        }
        assert!(!grants_action(&role, "glue:DeleteTable"));
    }

    fn role() -> crate::RequestPrincipal {
        crate::RequestPrincipal::Aws {
            account: "111111111111".into(),
            arn: "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole".into(),
        }
    }

    fn decide(
        policy: &PolicyDocument,
        action: &str,
        resource: &str,
        context: &[(&str, &str)],
    ) -> crate::Decision {
        let mut req = crate::Request::new(role(), action, resource);
        for (k, v) in context {
            req = req.with(k, v);
        }
        crate::evaluate(policy, &req)
    }

    #[test]
    fn the_drill_deletes_only_what_carries_its_tag() {
        use crate::Decision::{Allow, ExplicitDeny, ImplicitDeny};
        let drill = drill_policy(&inputs());
        let vpc = "arn:aws:ec2:eu-west-1:111111111111:vpc/vpc-1";
        let tag = "aws:ResourceTag/trailhead:drill";
        assert_eq!(decide(&drill, "ec2:DeleteVpc", vpc, &[]), ImplicitDeny);
        assert_eq!(
            decide(&drill, "ec2:DeleteVpc", vpc, &[(tag, "run-1")]),
            Allow
        );
        // Tags go on only as the drill's own resources are created.
        let tags = [
            ("aws:RequestTag/trailhead:drill", "run-1"),
            ("aws:TagKeys", "trailhead:drill"),
        ];
        assert_eq!(decide(&drill, "ec2:CreateTags", vpc, &tags), ImplicitDeny);
        let mut on_create = tags.to_vec();
        on_create.push(("ec2:CreateAction", "CreateVpc"));
        assert_eq!(decide(&drill, "ec2:CreateTags", vpc, &on_create), Allow);
        assert_eq!(
            decide(&drill, "ec2:CreateVpc", vpc, &[]),
            ImplicitDeny,
            "untagged create"
        );
        assert_eq!(decide(&drill, "ec2:CreateVpc", vpc, &tags), Allow);
        // Another tag key rides along: refused.
        let mut more = tags.to_vec();
        more.push(("aws:TagKeys", "owner"));
        assert_eq!(decide(&drill, "ec2:CreateVpc", vpc, &more), ImplicitDeny);
        // Keys: the archive key (it has an alias) cannot be tagged, and no key, tagged or not,
        // is rewritten or deleted through this policy: the drill's own key's policy grants that.
        let key = "arn:aws:kms:eu-west-1:111111111111:key/k-1";
        let aliased = ("kms:ResourceAliases", "alias/acme-cloudtrail");
        assert_eq!(
            decide(&drill, "kms:TagResource", key, &[tags[0], tags[1], aliased]),
            ExplicitDeny
        );
        for action in ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"] {
            assert_eq!(decide(&drill, action, key, &[(tag, "run-1")]), ImplicitDeny);
        }
        let driller = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole";
        let own = drill_key_policy("aws", "111111111111", driller);
        assert_eq!(decide(&own, "kms:ScheduleKeyDeletion", key, &[]), Allow);
        let someone = crate::Request::new(
            crate::RequestPrincipal::Aws {
                account: "111111111111".into(),
                arn: "arn:aws:iam::111111111111:role/Other".into(),
            },
            "kms:ScheduleKeyDeletion",
            key,
        );
        // Another principal of the account: only through its own IAM policy (the root grant).
        assert_eq!(crate::evaluate(&own, &someone), Allow);
        // Organizations: nothing to change at all (the probe is a refused delete).
        let ou = "arn:aws:organizations::222222222222:ou/o-abc/ou-1";
        for action in [
            "organizations:DeleteOrganizationalUnit",
            "organizations:CreateOrganizationalUnit",
            "organizations:UpdateOrganizationalUnit",
            "organizations:TagResource",
        ] {
            assert_eq!(decide(&drill, action, ou, &[(tag, "r")]), ImplicitDeny);
        }
        assert!(grants_action(&drill, "organizations:ListRoots"));
    }

    #[test]
    fn athena_never_writes_into_the_archive() {
        use crate::Decision::{Allow, ImplicitDeny};
        let with = PermissionInputs {
            bucket: "acme-cloudtrail-222222222222".into(),
            athena: Some(AthenaNames {
                database: "trailhead_acme".into(),
                table: "cloudtrail".into(),
                workgroup: "trailhead".into(),
            }),
            ..inputs()
        };
        let role_policy = access_role_policy(&with);
        let log = "arn:aws:s3:::acme-cloudtrail-222222222222/AWSLogs/1/CloudTrail/x.json.gz";
        let result = "arn:aws:s3:::acme-cloudtrail-222222222222-athena/q/1.csv";
        assert_eq!(decide(&role_policy, "s3:PutObject", log, &[]), ImplicitDeny);
        assert_eq!(
            decide(&role_policy, "s3:AbortMultipartUpload", log, &[]),
            ImplicitDeny
        );
        assert_eq!(decide(&role_policy, "s3:GetObject", log, &[]), Allow);
        assert_eq!(decide(&role_policy, "s3:PutObject", result, &[]), Allow);
    }

    #[test]
    fn via_service_names_the_partitions_endpoints() {
        let china = PermissionInputs {
            partition: "aws-cn".into(),
            ..inputs()
        };
        let text = access_role_policy(&china).to_json();
        assert!(text.contains("s3.*.amazonaws.com.cn"), "{text}");
        assert!(!text.contains("arn:aws:"), "{text}");
        assert!(!drill_policy(&china).to_json().contains("arn:aws:"));
    }
}
