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
    /// Any trail of the organization, anywhere under `AWSLogs/`: used when the per-account
    /// statements would not fit the policy size limits.
    SourceOrgId,
}

impl DeputyMode {
    /// What a plan says about this mode.
    pub fn explain(self) -> &'static str {
        match self {
            DeputyMode::SourceArn => {
                "CloudTrail access is tied to each account's trail ARN, and each account may write only under its own AWSLogs/<account>/ prefix"
            }
            DeputyMode::SourceOrgId => {
                "too many accounts for per-trail conditions within the policy size limits: CloudTrail access is tied to the organization (aws:SourceOrgID) instead. Lost: per-account prefix isolation (a trail of one org account could write under another account's AWSLogs/ prefix) and per-account encryption-context binding"
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
}

impl ArchiveInputs {
    fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.bucket)
    }

    fn root(&self, account: &str) -> String {
        format!("arn:{}:iam::{account}:root", self.partition)
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
        let fits = check_budget(
            PolicyKind::BucketPolicy,
            &archive_bucket_policy(self, DeputyMode::SourceArn),
        )
        .is_ok()
            && check_budget(
                PolicyKind::KeyPolicy,
                &key_policy(self, DeputyMode::SourceArn),
            )
            .is_ok();
        if fits {
            DeputyMode::SourceArn
        } else {
            DeputyMode::SourceOrgId
        }
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
    let trail_arns: Vec<String> = inputs
        .trails
        .iter()
        .map(|t| t.arn(&inputs.partition))
        .collect();
    let mut statements = Vec::new();

    let acl = Statement::new("CloudTrailAclCheck", Effect::Allow)
        .principal(Principal::Service(vec![CLOUDTRAIL.into()]))
        .actions(&["s3:GetBucketAcl"])
        .resources(&[&bucket_arn]);
    statements.push(match mode {
        DeputyMode::SourceArn => acl.when("StringEquals", "aws:SourceArn", &trail_arns),
        DeputyMode::SourceOrgId => acl.when("StringEquals", "aws:SourceOrgID", &[&inputs.org_id]),
    });

    match mode {
        DeputyMode::SourceArn => {
            for trail in &inputs.trails {
                statements.push(
                    Statement::new(&format!("CloudTrailWrite{}", trail.account), Effect::Allow)
                        .principal(Principal::Service(vec![CLOUDTRAIL.into()]))
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
        DeputyMode::SourceOrgId => statements.push(
            Statement::new("CloudTrailWrite", Effect::Allow)
                .principal(Principal::Service(vec![CLOUDTRAIL.into()]))
                .actions(&["s3:PutObject"])
                .resources(&[format!("{bucket_arn}/AWSLogs/*")])
                .when("StringEquals", "aws:SourceOrgID", &[&inputs.org_id])
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
/// encrypt only with our trails' encryption context; readers may decrypt only CloudTrail logs,
/// only from their own accounts.
pub fn key_policy(inputs: &ArchiveInputs, mode: DeputyMode) -> PolicyDocument {
    let p = &inputs.partition;
    let trail_arns: Vec<String> = inputs.trails.iter().map(|t| t.arn(p)).collect();
    let (context, deputy_key, deputy_values): (Vec<String>, &str, Vec<String>) = match mode {
        DeputyMode::SourceArn => {
            let mut accounts: Vec<&str> =
                inputs.trails.iter().map(|t| t.account.as_str()).collect();
            accounts.sort_unstable();
            accounts.dedup();
            (
                accounts
                    .iter()
                    .map(|a| format!("arn:{p}:cloudtrail:*:{a}:trail/*"))
                    .collect(),
                "aws:SourceArn",
                trail_arns,
            )
        }
        DeputyMode::SourceOrgId => (
            vec![format!(
                "arn:{p}:cloudtrail:*:*:trail/{}",
                inputs.trail_name
            )],
            "aws:SourceOrgID",
            vec![inputs.org_id.clone()],
        ),
    };
    let readers = inputs.readers();
    PolicyDocument::new(vec![
        Statement::new("KeyAdministration", Effect::Allow)
            .principal(Principal::Aws(vec![
                inputs.root(&inputs.log_archive_account),
            ]))
            .actions(&["kms:*"])
            .resources(&["*"]),
        Statement::new("CloudTrailEncrypt", Effect::Allow)
            .principal(Principal::Service(vec![CLOUDTRAIL.into()]))
            .actions(&["kms:GenerateDataKey*"])
            .resources(&["*"])
            .when(
                "StringLike",
                "kms:EncryptionContext:aws:cloudtrail:arn",
                &context,
            )
            .when("StringEquals", deputy_key, &deputy_values),
        Statement::new("CloudTrailDescribeKey", Effect::Allow)
            .principal(Principal::Service(vec![CLOUDTRAIL.into()]))
            .actions(&["kms:DescribeKey"])
            .resources(&["*"])
            .when("StringEquals", deputy_key, &deputy_values),
        Statement::new("DecryptLogFiles", Effect::Allow)
            .principal(Principal::Aws(
                readers.iter().map(|a| inputs.root(a)).collect(),
            ))
            .actions(&["kms:Decrypt"])
            .resources(&["*"])
            .when("StringEquals", "kms:CallerAccount", &readers)
            .when(
                "Null",
                "kms:EncryptionContext:aws:cloudtrail:arn",
                &["false"],
            ),
    ])
}

/// Trust of the role CloudTrail uses to deliver to CloudWatch Logs: only this account's trail.
pub fn cloudtrail_logs_role_trust(
    partition: &str,
    account: &str,
    trail: &TrailRef,
) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::new("CloudTrailAssumeRole", Effect::Allow)
            .principal(Principal::Service(vec![CLOUDTRAIL.into()]))
            .actions(&["sts:AssumeRole"])
            .when("StringEquals", "aws:SourceAccount", &[account])
            .when("StringEquals", "aws:SourceArn", &[trail.arn(partition)]),
    ])
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
