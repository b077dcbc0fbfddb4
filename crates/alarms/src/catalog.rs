//! The monitoring controls of CIS AWS Foundations v1.2.0 (3.1–3.14), v1.4.0, v3.0.0 and v5.0.0
//! (4.1–4.15), v6.0.0 and v7.0.0 (5.1–5.15), and Security Hub CloudWatch.1–14: exact patterns,
//! ids, titles and metric names.
//!
//! Patterns are the benchmarks' own strings, byte for byte: Security Hub's checker compares the
//! string, so a "tidied" pattern fails the control. One exception, v5.0.0 to v7.0.0: their
//! published texts (Prowler's transcription) lost every double quote, which AWS's filter syntax
//! needs around a value with a space ("Failed authentication"); their strings are deployed with
//! v3.0.0's quotes restored, and a test holds that they equal the published text once the quotes
//! are removed again.

use serde::Serialize;
use trailhead_model::{AlarmVariant, Benchmark};

/// Namespace of every metric trailhead's filters publish (the one CIS prescribes).
pub const METRIC_NAMESPACE: &str = "CISBenchmark";

/// What a control watches for. Controls of different benchmarks that watch the same thing share
/// a topic, a metric name and sample records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    UnauthorizedApiCalls,
    ConsoleSignInWithoutMfa,
    RootAccountUsage,
    IamPolicyChanges,
    CloudTrailChanges,
    ConsoleAuthFailures,
    DisableOrDeleteCmk,
    S3BucketPolicyChanges,
    ConfigChanges,
    SecurityGroupChanges,
    NaclChanges,
    NetworkGatewayChanges,
    RouteTableChanges,
    VpcChanges,
    OrganizationsChanges,
    // The extended set: detections beyond CIS.
    TrailEvasion,
    BucketProtectionChanges,
    KeyPolicyChanges,
    DetectorsDisabled,
    RootAccessKeyCreated,
}

impl Topic {
    pub fn metric_name(self) -> &'static str {
        match self {
            Topic::UnauthorizedApiCalls => "UnauthorizedAPICalls",
            Topic::ConsoleSignInWithoutMfa => "ConsoleSignInWithoutMFA",
            Topic::RootAccountUsage => "RootAccountUsage",
            Topic::IamPolicyChanges => "IAMPolicyChanges",
            Topic::CloudTrailChanges => "CloudTrailConfigChanges",
            Topic::ConsoleAuthFailures => "ConsoleSignInFailures",
            Topic::DisableOrDeleteCmk => "DisableOrDeleteCMK",
            Topic::S3BucketPolicyChanges => "S3BucketPolicyChanges",
            Topic::ConfigChanges => "AWSConfigChanges",
            Topic::SecurityGroupChanges => "SecurityGroupChanges",
            Topic::NaclChanges => "NACLChanges",
            Topic::NetworkGatewayChanges => "NetworkGatewayChanges",
            Topic::RouteTableChanges => "RouteTableChanges",
            Topic::VpcChanges => "VPCChanges",
            Topic::OrganizationsChanges => "OrganizationsChanges",
            Topic::TrailEvasion => "CloudTrailEvasion",
            Topic::BucketProtectionChanges => "BucketProtectionChanges",
            Topic::KeyPolicyChanges => "KeyPolicyChanges",
            Topic::DetectorsDisabled => "DetectorsDisabled",
            Topic::RootAccessKeyCreated => "RootAccessKeyCreated",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Topic::UnauthorizedApiCalls => "Unauthorized API calls",
            Topic::ConsoleSignInWithoutMfa => "Management console sign-in without MFA",
            Topic::RootAccountUsage => "Usage of the root user",
            Topic::IamPolicyChanges => "IAM policy changes",
            Topic::CloudTrailChanges => "CloudTrail configuration changes",
            Topic::ConsoleAuthFailures => "Management console authentication failures",
            Topic::DisableOrDeleteCmk => "Disabling or scheduled deletion of customer managed keys",
            Topic::S3BucketPolicyChanges => "S3 bucket policy changes",
            Topic::ConfigChanges => "AWS Config configuration changes",
            Topic::SecurityGroupChanges => "Security group changes",
            Topic::NaclChanges => "Network ACL changes",
            Topic::NetworkGatewayChanges => "Network gateway changes",
            Topic::RouteTableChanges => "Route table changes",
            Topic::VpcChanges => "VPC changes",
            Topic::OrganizationsChanges => "AWS Organizations changes",
            Topic::TrailEvasion => {
                "CloudTrail changes CIS 4.5 misses (event selectors, Insights, event data stores)"
            }
            Topic::BucketProtectionChanges => {
                "Bucket versioning, Object Lock and lifecycle changes"
            }
            Topic::KeyPolicyChanges => "KMS key policy and rotation changes",
            Topic::DetectorsDisabled => "GuardDuty, Security Hub or AWS Config disabled",
            Topic::RootAccessKeyCreated => "Root user access key created",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Control {
    #[serde(serialize_with = "benchmark_id")]
    pub benchmark: Benchmark,
    pub id: &'static str,
    pub topic: Topic,
    pub title: &'static str,
    pub pattern: &'static str,
    pub metric_name: &'static str,
    /// Something a user deploying this control must know.
    pub warning: Option<&'static str>,
}

fn benchmark_id<S: serde::Serializer>(b: &Benchmark, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(b.id())
}

impl Control {
    /// Metric filter and alarm name: unique per benchmark and control, recognisable as ours.
    pub fn resource_name(&self) -> String {
        format!(
            "trailhead-{}-{}-{}",
            self.benchmark.id(),
            self.id,
            self.metric_name
        )
    }
}

// The patterns, verbatim from the benchmarks (see docs/alarms.md for sources).
const UNAUTHORIZED_V12: &str =
    r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;
const UNAUTHORIZED_SH: &str =
    r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#;
const UNAUTHORIZED_V13_15: &str = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }"#;
const UNAUTHORIZED_V20: &str = r#"{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }"#;
const NO_MFA: &str =
    r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#;
const NO_MFA_SSO: &str = r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#;
const ROOT: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;
const ROOT_SH: &str = r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#;
const IAM: &str = "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}";
const IAM_SH_2025: &str = "{($.eventSource=iam.amazonaws.com) && (($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy))}";
const TRAIL: &str = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }";
const TRAIL_SH: &str = "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}";
const AUTH_FAIL: &str =
    r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#;
const AUTH_FAIL_SH: &str =
    r#"{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}"#;
const CMK: &str = "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }";
const CMK_SH: &str = "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}";
const S3_POLICY: &str = "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }";
const S3_POLICY_SH: &str = "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}";
const CONFIG: &str = "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel) ||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }";
// CIS v5.0.0 (and v6.0.0, v7.0.0): 4.9 without the space v3.0.0 has before one `||`, and 4.10
// with ModifySecurityGroupRules, the API that changes a rule in place.
const CONFIG_V5: &str = "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }";
const SG_V5: &str = "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || ($.eventName = ModifySecurityGroupRules) }";
const CONFIG_SH: &str = "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}";
const SG: &str = "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }";
const SG_SH: &str = "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}";
const NACL: &str = "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }";
const NACL_SH: &str = "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}";
const GATEWAY: &str = "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }";
const GATEWAY_SH: &str = "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}";
const ROUTE: &str = "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }";
const ROUTE_SH_2025: &str = "{($.eventSource=ec2.amazonaws.com) && (($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable))}";
const VPC: &str = "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }";
const VPC_SH: &str = "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}";
const ORGANIZATIONS: &str = r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#;

const WARN_V14_41: &str = "this CIS v1.3–v1.5 pattern ORs two `!=` terms, so it matches nearly every event (anything that is not HeadBucket): expect the alarm to fire constantly. Prefer cis-3.0 (or securityhub, whose CloudWatch.2 requires the v1.2 string)";
const WARN_V20_41: &str = "with `&&` binding tighter than `||`, the HeadBucket / delivery.logs exclusions apply only to AccessDenied*, never to *UnauthorizedOperation; this is the benchmark's string, kept as published. Security Hub CloudWatch.2 fails with it: it requires the v1.2 string";
const WARN_NO_MFA: &str = "counts failed sign-ins and federated sign-ins too; Security Hub CloudWatch.3 checks the stricter SSO variant (IAM users, successful sign-ins), which `variants = [\"sso-console-login\"]` deploys instead";
const WARN_V30_413: &str = "CIS v3.0.0's audit text shows an ec2-scoped string whose guard binds only to CreateRoute; trailhead deploys the remediation string, which checkers of the audit string may report as different";
const WARN_V5_ROUTE: &str = "the benchmark's audit text shows an ec2-scoped string whose guard binds only to CreateRoute; trailhead deploys its remediation string, which checkers of the audit string may report as different";
const WARN_SH_2025: &str = "Security Hub's current recommendation (2025), scoped to the service's own events; older Security Hub text checked the unscoped CIS string";
const WARN_ORGS: &str = "Organizations events are recorded in us-east-1 of the management account: the alarm fires only where those events reach this log group";

struct Row {
    id: &'static str,
    topic: Topic,
    pattern: &'static str,
    warning: Option<&'static str>,
}

const fn row(id: &'static str, topic: Topic, pattern: &'static str) -> Row {
    Row {
        id,
        topic,
        pattern,
        warning: None,
    }
}

const fn warned(
    id: &'static str,
    topic: Topic,
    pattern: &'static str,
    warning: &'static str,
) -> Row {
    Row {
        id,
        topic,
        pattern,
        warning: Some(warning),
    }
}

const CIS_12: &[Row] = &[
    row("3.1", Topic::UnauthorizedApiCalls, UNAUTHORIZED_V12),
    warned("3.2", Topic::ConsoleSignInWithoutMfa, NO_MFA, WARN_NO_MFA),
    row("3.3", Topic::RootAccountUsage, ROOT),
    row("3.4", Topic::IamPolicyChanges, IAM),
    row("3.5", Topic::CloudTrailChanges, TRAIL),
    row("3.6", Topic::ConsoleAuthFailures, AUTH_FAIL),
    row("3.7", Topic::DisableOrDeleteCmk, CMK),
    row("3.8", Topic::S3BucketPolicyChanges, S3_POLICY),
    row("3.9", Topic::ConfigChanges, CONFIG),
    row("3.10", Topic::SecurityGroupChanges, SG),
    row("3.11", Topic::NaclChanges, NACL),
    row("3.12", Topic::NetworkGatewayChanges, GATEWAY),
    row("3.13", Topic::RouteTableChanges, ROUTE),
    row("3.14", Topic::VpcChanges, VPC),
];

const CIS_14: &[Row] = &[
    warned(
        "4.1",
        Topic::UnauthorizedApiCalls,
        UNAUTHORIZED_V13_15,
        WARN_V14_41,
    ),
    warned("4.2", Topic::ConsoleSignInWithoutMfa, NO_MFA, WARN_NO_MFA),
    row("4.3", Topic::RootAccountUsage, ROOT),
    row("4.4", Topic::IamPolicyChanges, IAM),
    row("4.5", Topic::CloudTrailChanges, TRAIL),
    row("4.6", Topic::ConsoleAuthFailures, AUTH_FAIL),
    row("4.7", Topic::DisableOrDeleteCmk, CMK),
    row("4.8", Topic::S3BucketPolicyChanges, S3_POLICY),
    row("4.9", Topic::ConfigChanges, CONFIG),
    row("4.10", Topic::SecurityGroupChanges, SG),
    row("4.11", Topic::NaclChanges, NACL),
    row("4.12", Topic::NetworkGatewayChanges, GATEWAY),
    row("4.13", Topic::RouteTableChanges, ROUTE),
    row("4.14", Topic::VpcChanges, VPC),
    warned(
        "4.15",
        Topic::OrganizationsChanges,
        ORGANIZATIONS,
        WARN_ORGS,
    ),
];

const CIS_30: &[Row] = &[
    warned(
        "4.1",
        Topic::UnauthorizedApiCalls,
        UNAUTHORIZED_V20,
        WARN_V20_41,
    ),
    warned("4.2", Topic::ConsoleSignInWithoutMfa, NO_MFA, WARN_NO_MFA),
    row("4.3", Topic::RootAccountUsage, ROOT),
    row("4.4", Topic::IamPolicyChanges, IAM),
    row("4.5", Topic::CloudTrailChanges, TRAIL),
    row("4.6", Topic::ConsoleAuthFailures, AUTH_FAIL),
    row("4.7", Topic::DisableOrDeleteCmk, CMK),
    row("4.8", Topic::S3BucketPolicyChanges, S3_POLICY),
    row("4.9", Topic::ConfigChanges, CONFIG),
    row("4.10", Topic::SecurityGroupChanges, SG),
    row("4.11", Topic::NaclChanges, NACL),
    row("4.12", Topic::NetworkGatewayChanges, GATEWAY),
    warned("4.13", Topic::RouteTableChanges, ROUTE, WARN_V30_413),
    row("4.14", Topic::VpcChanges, VPC),
    warned(
        "4.15",
        Topic::OrganizationsChanges,
        ORGANIZATIONS,
        WARN_ORGS,
    ),
];

/// CIS v5.0.0 section 4, v6.0.0 and v7.0.0 section 5: one set of patterns, each version's ids.
macro_rules! cis_v5_rows {
    ($s:literal) => {
        &[
            warned(
                concat!($s, ".1"),
                Topic::UnauthorizedApiCalls,
                UNAUTHORIZED_V20,
                WARN_V20_41,
            ),
            warned(
                concat!($s, ".2"),
                Topic::ConsoleSignInWithoutMfa,
                NO_MFA,
                WARN_NO_MFA,
            ),
            row(concat!($s, ".3"), Topic::RootAccountUsage, ROOT),
            row(concat!($s, ".4"), Topic::IamPolicyChanges, IAM),
            row(concat!($s, ".5"), Topic::CloudTrailChanges, TRAIL),
            row(concat!($s, ".6"), Topic::ConsoleAuthFailures, AUTH_FAIL),
            row(concat!($s, ".7"), Topic::DisableOrDeleteCmk, CMK),
            row(concat!($s, ".8"), Topic::S3BucketPolicyChanges, S3_POLICY),
            row(concat!($s, ".9"), Topic::ConfigChanges, CONFIG_V5),
            row(concat!($s, ".10"), Topic::SecurityGroupChanges, SG_V5),
            row(concat!($s, ".11"), Topic::NaclChanges, NACL),
            row(concat!($s, ".12"), Topic::NetworkGatewayChanges, GATEWAY),
            warned(
                concat!($s, ".13"),
                Topic::RouteTableChanges,
                ROUTE,
                WARN_V5_ROUTE,
            ),
            row(concat!($s, ".14"), Topic::VpcChanges, VPC),
            warned(
                concat!($s, ".15"),
                Topic::OrganizationsChanges,
                ORGANIZATIONS,
                WARN_ORGS,
            ),
        ]
    };
}

const CIS_50: &[Row] = cis_v5_rows!("4");
const CIS_60_70: &[Row] = cis_v5_rows!("5");

const SECURITY_HUB: &[Row] = &[
    row("CloudWatch.1", Topic::RootAccountUsage, ROOT_SH),
    row("CloudWatch.2", Topic::UnauthorizedApiCalls, UNAUTHORIZED_SH),
    row("CloudWatch.3", Topic::ConsoleSignInWithoutMfa, NO_MFA_SSO),
    warned(
        "CloudWatch.4",
        Topic::IamPolicyChanges,
        IAM_SH_2025,
        WARN_SH_2025,
    ),
    row("CloudWatch.5", Topic::CloudTrailChanges, TRAIL_SH),
    row("CloudWatch.6", Topic::ConsoleAuthFailures, AUTH_FAIL_SH),
    row("CloudWatch.7", Topic::DisableOrDeleteCmk, CMK_SH),
    row("CloudWatch.8", Topic::S3BucketPolicyChanges, S3_POLICY_SH),
    row("CloudWatch.9", Topic::ConfigChanges, CONFIG_SH),
    row("CloudWatch.10", Topic::SecurityGroupChanges, SG_SH),
    row("CloudWatch.11", Topic::NaclChanges, NACL_SH),
    row("CloudWatch.12", Topic::NetworkGatewayChanges, GATEWAY_SH),
    warned(
        "CloudWatch.13",
        Topic::RouteTableChanges,
        ROUTE_SH_2025,
        WARN_SH_2025,
    ),
    row("CloudWatch.14", Topic::VpcChanges, VPC_SH),
];

// The extended set. Event names are CloudTrail's (sources: each service's "Logging … with AWS
// CloudTrail" page); see docs/alarms.md.
const TRAIL_EVASION: &str = "{ ($.eventSource = cloudtrail.amazonaws.com) && (($.eventName = PutEventSelectors) || ($.eventName = PutInsightSelectors) || ($.eventName = DeleteEventDataStore) || ($.eventName = UpdateEventDataStore) || ($.eventName = StopEventDataStoreIngestion) || ($.eventName = DeleteChannel)) }";
const BUCKET_PROTECTION: &str = "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketVersioning) || ($.eventName = PutObjectLockConfiguration) || ($.eventName = PutBucketLifecycle) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = PutBucketPolicy) || ($.eventName = DeleteBucketPolicy)) }";
const KEY_POLICY: &str = "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = PutKeyPolicy) || ($.eventName = DisableKeyRotation)) }";
const DETECTORS: &str = "{ (($.eventSource = guardduty.amazonaws.com) && (($.eventName = DeleteDetector) || ($.eventName = DisassociateFromMasterAccount) || ($.eventName = DisassociateFromAdministratorAccount))) || (($.eventSource = securityhub.amazonaws.com) && (($.eventName = DisableSecurityHub) || ($.eventName = DisassociateFromMasterAccount) || ($.eventName = DisassociateFromAdministratorAccount))) || (($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || ($.eventName = DeleteConfigurationRecorder) || ($.eventName = DeleteDeliveryChannel))) }";
const ROOT_ACCESS_KEY: &str = r#"{ ($.eventSource = iam.amazonaws.com) && ($.eventName = CreateAccessKey) && ($.userIdentity.type = "Root") }"#;
const WARN_ARCHIVE: &str = "watches every bucket of the account: in the log-archive account it guards the archive's protections; elsewhere it also catches changes to other buckets";

const EXTENDED: &[Row] = &[
    row("E.1", Topic::TrailEvasion, TRAIL_EVASION),
    warned(
        "E.2",
        Topic::BucketProtectionChanges,
        BUCKET_PROTECTION,
        WARN_ARCHIVE,
    ),
    row("E.3", Topic::KeyPolicyChanges, KEY_POLICY),
    row("E.4", Topic::DetectorsDisabled, DETECTORS),
    row("E.5", Topic::RootAccessKeyCreated, ROOT_ACCESS_KEY),
];

/// A published alternative to a benchmark's pattern, deployed in its place on request.
#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    pub id: &'static str,
    pub topic: Topic,
    pub pattern: &'static str,
    /// Where the benchmark publishes it.
    pub source: &'static str,
    /// What it changes, shown on the control it replaces.
    pub note: &'static str,
}

pub fn variant(v: AlarmVariant) -> Variant {
    match v {
        AlarmVariant::SsoConsoleLogin => Variant {
            id: v.id(),
            topic: Topic::ConsoleSignInWithoutMfa,
            pattern: NO_MFA_SSO,
            source: "CIS v1.3.0 and later, 4.2 (v6.0.0 on: 5.2): the alternative \"to reduce false positives in case Single Sign-On (SSO) is used\"; Security Hub's CloudWatch.3 string",
            note: "SSO variant (opt-in): only IAM users' successful console sign-ins without MFA; sign-ins through IAM Identity Center are federated and leave it silent",
        },
    }
}

/// The patterns a benchmark's audit accepts for `topic` besides its own string: the published
/// variants it can take.
pub fn alternatives(benchmark: Benchmark, topic: Topic) -> Vec<&'static str> {
    AlarmVariant::ALL
        .into_iter()
        .filter(|v| v.refused_by(benchmark).is_none())
        .map(variant)
        .filter(|v| v.topic == topic)
        .map(|v| v.pattern)
        .collect()
}

/// Every control of `benchmark`, in benchmark order.
pub fn controls(benchmark: Benchmark) -> Vec<Control> {
    let rows = match benchmark {
        Benchmark::Cis12 => CIS_12,
        Benchmark::Cis14 => CIS_14,
        Benchmark::Cis30 => CIS_30,
        Benchmark::Cis50 => CIS_50,
        Benchmark::Cis60 | Benchmark::Cis70 => CIS_60_70,
        Benchmark::SecurityHub => SECURITY_HUB,
        Benchmark::Extended => EXTENDED,
    };
    rows.iter()
        .map(|r| Control {
            benchmark,
            id: r.id,
            topic: r.topic,
            title: r.topic.title(),
            pattern: r.pattern,
            metric_name: r.topic.metric_name(),
            warning: r.warning,
        })
        .collect()
}

pub fn all() -> Vec<Control> {
    Benchmark::ALL
        .into_iter()
        .chain([Benchmark::Extended])
        .flat_map(controls)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_agree_with_the_spec_model() {
        for b in Benchmark::ALL.into_iter().chain([Benchmark::Extended]) {
            let ids: Vec<String> = controls(b).iter().map(|c| c.id.to_string()).collect();
            assert_eq!(ids, b.control_ids(), "{b}");
        }
    }

    #[test]
    fn every_pattern_parses_within_aws_limits() {
        for c in all() {
            assert!(c.pattern.len() <= 1024, "{} {}", c.benchmark, c.id);
            if let Err(e) = crate::pattern::parse(c.pattern) {
                panic!("{} {} does not parse: {e}", c.benchmark, c.id);
            }
        }
    }

    #[test]
    fn security_hub_cloudwatch_2_pins_the_v1_2_string() {
        let sh = controls(Benchmark::SecurityHub);
        let cw2 = sh
            .iter()
            .find(|c| c.id == "CloudWatch.2")
            .map(|c| c.pattern);
        assert_eq!(cw2, Some(UNAUTHORIZED_SH));
        let v14 = controls(Benchmark::Cis14);
        assert!(
            v14[0]
                .warning
                .is_some_and(|w| w.contains("nearly every event"))
        );
    }
}
