//! Every policy trailhead writes. Each grants the least it can and carries confused-deputy
//! conditions (`aws:SourceArn`, `aws:SourceAccount` or `aws:SourceOrgID`).

use crate::budget::{PolicyKind, check_budget};
use crate::{Effect, PolicyDocument, Principal, Statement};

const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

/// A trail that may deliver into the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailRef {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl TrailRef {
    pub fn arn(&self, partition: &str) -> String {
        format!(
            "arn:{partition}:cloudtrail:{}:{}:trail/{}",
            self.region, self.account, self.name
        )
    }
}

/// How CloudTrail's access is tied to our trails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeputyMode {
    /// Each account's trail ARN, and each account only under its own `AWSLogs/<account>/`.
    SourceArn,
    /// Our trail name (`aws:SourceArn` like `…:trail/<name>`) in the spec's accounts only
    /// (`aws:SourceAccount` in the bucket policy, the per-account encryption context in the key
    /// policy), anywhere under `AWSLogs/`: the keys CloudTrail documents for each call, compact
    /// enough for hundreds of accounts.
    SourceAccount,
    /// Our trail name in any account of the organization (`aws:SourceOrgID` and `aws:SourceArn`
    /// like `…:trail/<name>`), anywhere under `AWSLogs/`: used when the per-account statements
    /// would not fit the policy size limits.
    SourceOrgId,
}

impl DeputyMode {
    /// What a plan says about this mode.
    pub fn explain(self) -> &'static str {
        match self {
            DeputyMode::SourceArn => {
                "CloudTrail access is tied to each account's trail ARN, and each account may write only under its own AWSLogs/<account>/ prefix"
            }
            DeputyMode::SourceAccount => {
                "too many accounts for per-trail conditions within the policy size limits: CloudTrail access is tied to our trail name (aws:SourceArn like ...:trail/<name>) in the spec's accounts (aws:SourceAccount; for the key, each account's encryption context) instead. Kept: only our accounts, only trails named like ours, only our archive key. Lost: per-account prefix isolation (our trail in one of our accounts could write under another account's AWSLogs/ prefix)"
            }
            DeputyMode::SourceOrgId => {
                "too many accounts even for per-account conditions within the policy size limits: CloudTrail access is tied to the organization (aws:SourceOrgID) and to our trail name (aws:SourceArn like ...:trail/<name>) instead. Unconfirmed: IAM documents aws:SourceOrgID for every service principal's request, but CloudTrail's pages show no example, so verify the first rollout's delivery (the wave gate does). Kept: only trails named like ours, only our archive key. Lost: per-account prefix isolation (our trail in one org account could write under another account's AWSLogs/ prefix)"
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ArchiveInputs {
    pub partition: String,
    pub bucket: String,
    pub org_id: String,
    pub log_archive_account: String,
    pub security_account: Option<String>,
    pub trail_name: String,
    pub trails: Vec<TrailRef>,
    /// The archive key, once it exists: objects encrypted under any other key are refused.
    pub key_arn: Option<String>,
    /// Athena's query results: the bucket, and the account whose principals run the queries.
    pub athena: Option<AthenaGrant>,
    /// Who administers the archive key for trailhead: the access role of the log-archive
    /// account (or the caller, where that account is the management account).
    pub key_administrator: String,
}

/// What trailhead does to a key of its own after CreateKey. Granted by the key's own policy to
/// one principal, never by an identity policy: an identity grant would reach every key in the
/// account, and no tag or alias can scope it (tagging and aliasing a key are themselves grants
/// on that key).
pub const KEY_ADMINISTRATION_ACTIONS: [&str; 9] = [
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation",
    "kms:UpdateKeyDescription",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:CreateAlias",
];

/// The key-policy statement that lets trailhead (one principal) administer this key alone.
pub fn trailhead_administers(administrator: &str) -> Statement {
    Statement::new("TrailheadAdministersThisKey", Effect::Allow)
        .principal(Principal::Aws(vec![administrator.to_string()]))
        .actions(&KEY_ADMINISTRATION_ACTIONS)
        .resources(&["*"])
}

/// Who queries the archive with Athena, and where the results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaGrant {
    pub results_bucket: String,
    pub query_account: String,
}

impl ArchiveInputs {
    fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.bucket)
    }

    fn root(&self, account: &str) -> String {
        format!("arn:{}:iam::{account}:root", self.partition)
    }

    /// Our trail, in any region of any account: the organization mode's `aws:SourceArn`.
    fn any_account_trail(&self) -> String {
        format!(
            "arn:{}:cloudtrail:*:*:trail/{}",
            self.partition, self.trail_name
        )
    }

    /// Ties a statement for CloudTrail to our trails: their ARNs, or (organization mode) the
    /// organization and our trail name.
    fn deputy(&self, statement: Statement, mode: DeputyMode) -> Statement {
        match mode {
            DeputyMode::SourceArn => {
                let arns: Vec<String> =
                    self.trails.iter().map(|t| t.arn(&self.partition)).collect();
                statement.when("StringEquals", "aws:SourceArn", &arns)
            }
            DeputyMode::SourceAccount => statement
                .when("StringEquals", "aws:SourceAccount", &self.accounts())
                .when("ArnLike", "aws:SourceArn", &[self.any_account_trail()]),
            DeputyMode::SourceOrgId => statement
                .when("StringEquals", "aws:SourceOrgID", &[&self.org_id])
                .when("ArnLike", "aws:SourceArn", &[self.any_account_trail()]),
        }
    }

    /// As [`Self::deputy`], for the key policy: CloudTrail's key-policy page documents
    /// `aws:SourceArn` and the encryption context, not `aws:SourceAccount`, so the per-account
    /// mode ties the key to our trail name here and to our accounts by the encryption context.
    fn key_deputy(&self, statement: Statement, mode: DeputyMode) -> Statement {
        match mode {
            DeputyMode::SourceAccount => {
                statement.when("ArnLike", "aws:SourceArn", &[self.any_account_trail()])
            }
            _ => self.deputy(statement, mode),
        }
    }

    /// The spec's accounts, each once, in order.
    fn accounts(&self) -> Vec<&str> {
        let mut accounts: Vec<&str> = self.trails.iter().map(|t| t.account.as_str()).collect();
        accounts.sort_unstable();
        accounts.dedup();
        accounts
    }

    fn readers(&self) -> Vec<String> {
        let mut accounts = vec![self.log_archive_account.clone()];
        if let Some(sec) = &self.security_account
            && *sec != self.log_archive_account
        {
            accounts.push(sec.clone());
        }
        accounts
    }

    /// The tightest mode whose bucket and key policies both fit their limits.
    pub fn choose_mode(&self) -> DeputyMode {
        // Sized as the policy will be once the key exists (its ARN is in the bucket policy).
        let mut sized = self.clone();
        sized.key_arn.get_or_insert_with(|| {
            format!(
                "arn:{}:kms:us-gov-west-1:{}:key/00000000-0000-0000-0000-000000000000",
                self.partition, self.log_archive_account
            )
        });
        let fits = |mode| {
            check_budget(
                PolicyKind::BucketPolicy,
                &archive_bucket_policy(&sized, mode),
            )
            .is_ok()
                && check_budget(PolicyKind::KeyPolicy, &key_policy(&sized, mode)).is_ok()
        };
        [DeputyMode::SourceArn, DeputyMode::SourceAccount]
            .into_iter()
            .find(|m| fits(*m))
            .unwrap_or(DeputyMode::SourceOrgId)
    }
}

fn both(bucket_arn: &str) -> [String; 2] {
    [bucket_arn.to_string(), format!("{bucket_arn}/*")]
}

/// The archive bucket: CloudTrail may check the ACL and write its own prefix with
/// bucket-owner-full-control; TLS is required; principals outside the org are denied; the
/// log-archive and security accounts may read.
pub fn archive_bucket_policy(inputs: &ArchiveInputs, mode: DeputyMode) -> PolicyDocument {
    let bucket_arn = inputs.bucket_arn();
    let cloudtrail = || Principal::Service(vec![CLOUDTRAIL.into()]);
    let mut statements = vec![
        inputs.deputy(
            Statement::new("CloudTrailAclCheck", Effect::Allow)
                .principal(cloudtrail())
                .actions(&["s3:GetBucketAcl"])
                .resources(&[&bucket_arn]),
            mode,
        ),
    ];
    match mode {
        DeputyMode::SourceArn => {
            for trail in &inputs.trails {
                statements.push(
                    Statement::new(&format!("CloudTrailWrite{}", trail.account), Effect::Allow)
                        .principal(cloudtrail())
                        .actions(&["s3:PutObject"])
                        .resources(&[format!("{bucket_arn}/AWSLogs/{}/*", trail.account)])
                        .when(
                            "StringEquals",
                            "aws:SourceArn",
                            &[trail.arn(&inputs.partition)],
                        )
                        .when(
                            "StringEquals",
                            "s3:x-amz-acl",
                            &["bucket-owner-full-control"],
                        ),
                );
            }
        }
        DeputyMode::SourceAccount | DeputyMode::SourceOrgId => statements.push(
            inputs
                .deputy(
                    Statement::new("CloudTrailWrite", Effect::Allow)
                        .principal(cloudtrail())
                        .actions(&["s3:PutObject"])
                        .resources(&[format!("{bucket_arn}/AWSLogs/*")]),
                    mode,
                )
                .when(
                    "StringEquals",
                    "s3:x-amz-acl",
                    &["bucket-owner-full-control"],
                ),
        ),
    }

    let readers: Vec<String> = inputs.readers().iter().map(|a| inputs.root(a)).collect();
    statements.push(
        Statement::new("LogReaders", Effect::Allow)
            .principal(Principal::Aws(readers))
            .actions(&[
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:ListBucket",
                "s3:GetBucketLocation",
            ])
            .resources(&both(&bucket_arn)),
    );
    statements.push(deny_insecure_transport(&bucket_arn));
    if let Some(key_arn) = &inputs.key_arn {
        statements.push(
            Statement::new("DenyOtherKmsKeys", Effect::Deny)
                .principal(Principal::Any)
                .actions(&["s3:PutObject"])
                .resources(&[format!("{bucket_arn}/*")])
                // Only when a key is named: without the header, the bucket's default (this key)
                // applies. (`…IfExists` would deny a missing header too.)
                .when(
                    "StringNotEquals",
                    "s3:x-amz-server-side-encryption-aws-kms-key-id",
                    &[key_arn],
                )
                .when(
                    "Null",
                    "s3:x-amz-server-side-encryption-aws-kms-key-id",
                    &["false"],
                ),
        );
    }
    statements.push(
        Statement::new("DenyOutsideOrganization", Effect::Deny)
            .principal(Principal::Any)
            .actions(&["s3:*"])
            .resources(&both(&bucket_arn))
            .when(
                "StringNotEqualsIfExists",
                "aws:PrincipalOrgID",
                &[&inputs.org_id],
            )
            .when("BoolIfExists", "aws:PrincipalIsAWSService", &["false"]),
    );
    PolicyDocument::new(statements)
}

fn deny_insecure_transport(bucket_arn: &str) -> Statement {
    Statement::new("DenyInsecureTransport", Effect::Deny)
        .principal(Principal::Any)
        .actions(&["s3:*"])
        .resources(&both(bucket_arn))
        .when("Bool", "aws:SecureTransport", &["false"])
}

/// The access-log bucket: only S3's logging service, only for the archive bucket of this account.
pub fn access_log_bucket_policy(
    partition: &str,
    log_bucket: &str,
    source_bucket: &str,
    source_account: &str,
) -> PolicyDocument {
    let log_arn = format!("arn:{partition}:s3:::{log_bucket}");
    PolicyDocument::new(vec![
        Statement::new("S3ServerAccessLogs", Effect::Allow)
            .principal(Principal::Service(vec!["logging.s3.amazonaws.com".into()]))
            .actions(&["s3:PutObject"])
            .resources(&[format!("{log_arn}/*")])
            .when(
                "ArnLike",
                "aws:SourceArn",
                &[format!("arn:{partition}:s3:::{source_bucket}")],
            )
            .when("StringEquals", "aws:SourceAccount", &[source_account]),
        deny_insecure_transport(&log_arn),
    ])
}

/// The archive key: the log-archive account administers it (never locked out); CloudTrail may
/// encrypt only with our trails' encryption context, describe the key, and decrypt (which S3
/// needs for the bucket's Bucket Key); readers may decrypt only CloudTrail logs, only from their
/// own accounts.
pub fn key_policy(inputs: &ArchiveInputs, mode: DeputyMode) -> PolicyDocument {
    let p = &inputs.partition;
    let context: Vec<String> = match mode {
        DeputyMode::SourceArn | DeputyMode::SourceAccount => inputs
            .accounts()
            .iter()
            .map(|a| format!("arn:{p}:cloudtrail:*:{a}:trail/*"))
            .collect(),
        DeputyMode::SourceOrgId => vec![inputs.any_account_trail()],
    };
    let cloudtrail = |sid: &str, action: &str| {
        inputs.key_deputy(
            Statement::new(sid, Effect::Allow)
                .principal(Principal::Service(vec![CLOUDTRAIL.into()]))
                .actions(&[action])
                .resources(&["*"]),
            mode,
        )
    };
    let readers = inputs.readers();
    // The log-archive and security accounts decrypt log files only as themselves.
    let reader_decrypt = |sid: &str| {
        Statement::new(sid, Effect::Allow)
            .principal(Principal::Aws(
                readers.iter().map(|a| inputs.root(a)).collect(),
            ))
            .actions(&["kms:Decrypt"])
            .resources(&["*"])
            .when("StringEquals", "kms:CallerAccount", &readers)
    };
    let mut statements = vec![
        Statement::new("KeyAdministration", Effect::Allow)
            .principal(Principal::Aws(vec![
                inputs.root(&inputs.log_archive_account),
            ]))
            .actions(&["kms:*"])
            .resources(&["*"]),
        trailhead_administers(&inputs.key_administrator),
        cloudtrail("CloudTrailEncrypt", "kms:GenerateDataKey*").when(
            "StringLike",
            "kms:EncryptionContext:aws:cloudtrail:arn",
            &context,
        ),
        cloudtrail("CloudTrailDescribeKey", "kms:DescribeKey"),
        // A Bucket Key is a data key S3 derives from this key; CloudTrail must be able to decrypt
        // it to create or update a trail on the bucket. Its encryption context is the bucket's,
        // not the trail's, so only the deputy conditions apply.
        cloudtrail("CloudTrailBucketKeyDecrypt", "kms:Decrypt"),
        reader_decrypt("DecryptLogFiles").when(
            "Null",
            "kms:EncryptionContext:aws:cloudtrail:arn",
            &["false"],
        ),
        // With the archive's S3 Bucket Key, S3 decrypts the bucket-level key under the bucket's
        // ARN as encryption context, not the trail's (S3 user guide, "Reducing the cost of SSE-KMS
        // with Amazon S3 Bucket Keys"). Which of the two a reader's GetObject brings is not
        // confirmed on a live account: both are allowed, each as narrowly as it can be, so that
        // reads work either way (docs/log-archive.md).
        reader_decrypt("DecryptLogFilesThroughTheBucketKey")
            .when(
                "StringLike",
                "kms:ViaService",
                &[trailhead_model::rules::s3_via_service(&inputs.partition)],
            )
            .when(
                "StringEquals",
                "kms:EncryptionContext:aws:s3:arn",
                &[inputs.bucket_arn()],
            ),
    ];
    if let Some(athena) = &inputs.athena {
        statements.push(athena_results_key_statement(inputs, athena));
    }
    PolicyDocument::new(statements)
}

/// Athena encrypts its results with the archive key through S3 as the querying principal: only
/// that account, only through S3, only for objects of the results bucket.
fn athena_results_key_statement(inputs: &ArchiveInputs, athena: &AthenaGrant) -> Statement {
    let results = format!("arn:{}:s3:::{}", inputs.partition, athena.results_bucket);
    Statement::new("AthenaQueryResults", Effect::Allow)
        .principal(Principal::Aws(vec![inputs.root(&athena.query_account)]))
        .actions(&["kms:GenerateDataKey", "kms:Decrypt"])
        .resources(&["*"])
        .when(
            "StringEquals",
            "kms:CallerAccount",
            &[&athena.query_account],
        )
        .when(
            "StringLike",
            "kms:ViaService",
            &[trailhead_model::rules::s3_via_service(&inputs.partition)],
        )
        .when(
            "StringLike",
            "kms:EncryptionContext:aws:s3:arn",
            &both(&results),
        )
}

/// The bucket of Athena's query results: the querying account may write and read results; TLS
/// only; nobody outside the organization.
pub fn athena_results_bucket_policy(
    partition: &str,
    bucket: &str,
    query_account: &str,
    org_id: &str,
) -> PolicyDocument {
    let arn = format!("arn:{partition}:s3:::{bucket}");
    PolicyDocument::new(vec![
        Statement::new("AthenaQueryResults", Effect::Allow)
            .principal(Principal::Aws(vec![format!(
                "arn:{partition}:iam::{query_account}:root"
            )]))
            .actions(&[
                "s3:GetBucketLocation",
                "s3:ListBucket",
                "s3:GetObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ])
            .resources(&both(&arn)),
        deny_insecure_transport(&arn),
        Statement::new("DenyOutsideOrganization", Effect::Deny)
            .principal(Principal::Any)
            .actions(&["s3:*"])
            .resources(&both(&arn))
            .when("StringNotEqualsIfExists", "aws:PrincipalOrgID", &[org_id])
            .when("BoolIfExists", "aws:PrincipalIsAWSService", &["false"]),
    ])
}

/// Which trails may publish log-file delivery notifications to a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicPublishers {
    /// One account's own topic: its trail only.
    Trail(String),
    /// One central topic: the trails of this name in these accounts. Named by `aws:SourceArn`
    /// alone, the one key CloudTrail's SNS topic policy documents: the organization's id
    /// (`aws:SourceOrgID`) is not documented for CloudTrail's publishes, and a topic policy that
    /// depends on it would refuse every member's CreateTrail if CloudTrail does not send it.
    OrgTrails {
        trail_name: String,
        accounts: Vec<String>,
    },
}

/// A topic CloudTrail notifies on each log file delivered: the owner manages it; CloudTrail may
/// publish only for our trails (`aws:SourceArn`).
pub fn cloudtrail_topic_policy(
    partition: &str,
    owner: &str,
    topic_arn: &str,
    publishers: &TopicPublishers,
) -> PolicyDocument {
    let publish = Statement::new("CloudTrailPublish", Effect::Allow)
        .principal(Principal::Service(vec![CLOUDTRAIL.into()]))
        .actions(&["sns:Publish"])
        .resources(&[topic_arn]);
    let publish = match publishers {
        TopicPublishers::Trail(arn) => {
            publish.when("StringEquals", "aws:SourceArn", &[arn.as_str()])
        }
        TopicPublishers::OrgTrails {
            trail_name,
            accounts,
        } => publish.when(
            "ArnLike",
            "aws:SourceArn",
            &accounts
                .iter()
                .map(|a| format!("arn:{partition}:cloudtrail:*:{a}:trail/{trail_name}"))
                .collect::<Vec<_>>(),
        ),
    };
    PolicyDocument::new(vec![
        Statement::new("OwnerManagesTopic", Effect::Allow)
            .principal(Principal::Aws(vec![format!(
                "arn:{partition}:iam::{owner}:root"
            )]))
            .actions(&[
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:DeleteTopic",
                "sns:Subscribe",
                "sns:ListSubscriptionsByTopic",
            ])
            .resources(&[topic_arn]),
        publish,
    ])
}

/// The key of an account's CloudTrail log group: the account administers it, and `administrator`
/// (trailhead's principal there) as far as trailhead needs; CloudWatch Logs of the group's region
/// may use it only for that group (its encryption context names the group).
pub fn log_group_key_policy(
    partition: &str,
    account: &str,
    region: &str,
    log_group: &str,
    administrator: &str,
) -> PolicyDocument {
    let suffix = if partition == "aws-cn" { ".cn" } else { "" };
    PolicyDocument::new(vec![
        Statement::new("KeyAdministration", Effect::Allow)
            .principal(Principal::Aws(vec![format!(
                "arn:{partition}:iam::{account}:root"
            )]))
            .actions(&["kms:*"])
            .resources(&["*"]),
        trailhead_administers(administrator),
        Statement::new("CloudWatchLogsUseKey", Effect::Allow)
            .principal(Principal::Service(vec![format!(
                "logs.{region}.amazonaws.com{suffix}"
            )]))
            .actions(&[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ])
            .resources(&["*"])
            .when(
                "ArnEquals",
                "kms:EncryptionContext:aws:logs:arn",
                &[format!(
                    "arn:{partition}:logs:{region}:{account}:log-group:{log_group}"
                )],
            ),
    ])
}

/// Trust of the role CloudTrail uses to deliver to CloudWatch Logs: CloudTrail, unconditioned.
/// CloudTrail sends neither `aws:SourceArn` nor `aws:SourceAccount` when it assumes this role
/// ("confused deputy prevention is not applicable to the role policy for CloudWatch Logs
/// monitoring"), so conditions on them would make the role unusable. What limits the role is its
/// inline policy: the trail's own log streams only.
pub fn cloudtrail_logs_role_trust() -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::new("CloudTrailAssumeRole", Effect::Allow)
            .principal(Principal::Service(vec![CLOUDTRAIL.into()]))
            .actions(&["sts:AssumeRole"]),
    ])
}

/// The permissions boundary of the CloudWatch Logs role: an AWS managed policy, which nobody in
/// the account can edit, that allows only creating log groups and streams and putting log events
/// (`AWSAppSyncPushToCloudWatchLogs`: `logs:CreateLogGroup`, `logs:CreateLogStream`,
/// `logs:PutLogEvents` on `*`). Whoever holds the access role may rewrite the role's policies
/// only while this boundary stays on it, so the role can never become more than a log writer.
/// A boundary of our own would need `iam:CreatePolicy`, and whoever created it first (with any
/// content) would own the cap.
pub fn logs_role_boundary(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/service-role/AWSAppSyncPushToCloudWatchLogs")
}

/// The role's inline policy: write only the trail's own log streams.
pub fn cloudtrail_logs_role_policy(
    partition: &str,
    account: &str,
    region: &str,
    log_group: &str,
) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::new("CloudTrailLogStreams", Effect::Allow)
            .actions(&["logs:CreateLogStream", "logs:PutLogEvents"])
            .resources(&[format!(
                "arn:{partition}:logs:{region}:{account}:log-group:{log_group}:log-stream:{account}_CloudTrail_{region}*"
            )]),
    ])
}

/// The alarm topic: the account manages it; CloudWatch may publish only for this account's alarms.
pub fn sns_topic_policy(
    partition: &str,
    account: &str,
    region: &str,
    topic_arn: &str,
) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::new("OwnerManagesTopic", Effect::Allow)
            .principal(Principal::Aws(vec![format!(
                "arn:{partition}:iam::{account}:root"
            )]))
            .actions(&[
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:AddPermission",
                "sns:RemovePermission",
                "sns:DeleteTopic",
                "sns:Subscribe",
                "sns:ListSubscriptionsByTopic",
                "sns:Publish",
            ])
            .resources(&[topic_arn]),
        Statement::new("CloudWatchAlarmsPublish", Effect::Allow)
            .principal(Principal::Service(vec!["cloudwatch.amazonaws.com".into()]))
            .actions(&["sns:Publish"])
            .resources(&[topic_arn])
            .when("StringEquals", "aws:SourceAccount", &[account])
            .when(
                "ArnLike",
                "aws:SourceArn",
                &[format!(
                    "arn:{partition}:cloudwatch:{region}:{account}:alarm:*"
                )],
            ),
    ])
}
