//! A positive and a negative CloudTrail record for every topic: what each alarm must count, and
//! a near miss it must not. They test the catalog, and `verify` uses them to judge whether a
//! deployed pattern that differs in text still behaves like the benchmark's.

use serde_json::{Value, json};

use crate::catalog::Topic;

/// A CloudTrail management event as CloudTrail writes it (one record of a log file).
pub fn record(event_source: &str, event_name: &str, extra: Value) -> Value {
    let mut base = json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice",
            "accountId": "111122223333",
            "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}
        },
        "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {},
        "responseElements": null,
        "requestID": "6f1a2b3c-0000-4000-8000-000000000001",
        "eventID": "0d1e2f3a-0000-4000-8000-000000000002",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management"
    });
    merge(&mut base, extra);
    base
}

fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(b), Value::Object(e)) => {
            for (k, v) in e {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, e) => *b = e,
    }
}

fn console_login(extra: Value) -> Value {
    let mut r = record(
        "signin.amazonaws.com",
        "ConsoleLogin",
        json!({
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "userName": "alice"},
            "responseElements": {"ConsoleLogin": "Success"},
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": "No"},
            "readOnly": false
        }),
    );
    merge(&mut r, extra);
    r
}

/// (must match, must not match) for a topic.
pub fn samples(topic: Topic) -> (Value, Value) {
    match topic {
        Topic::UnauthorizedApiCalls => (
            record(
                "ec2.amazonaws.com",
                "RunInstances",
                json!({
                    "errorCode": "Client.UnauthorizedOperation",
                    "errorMessage": "You are not authorized to perform this operation."
                }),
            ),
            // Every 4.1 variant, even v1.4's catch-all, leaves this one out.
            record(
                "s3.amazonaws.com",
                "HeadBucket",
                json!({
                    "sourceIPAddress": "delivery.logs.amazonaws.com",
                    "userIdentity": {"type": "AWSService", "invokedBy": "delivery.logs.amazonaws.com"},
                    "readOnly": true
                }),
            ),
        ),
        Topic::ConsoleSignInWithoutMfa => (
            console_login(json!({})),
            console_login(json!({"additionalEventData": {"MFAUsed": "Yes"}})),
        ),
        Topic::RootAccountUsage => (
            record(
                "iam.amazonaws.com",
                "CreateAccessKey",
                json!({
                    "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333"}
                }),
            ),
            record(
                "iam.amazonaws.com",
                "CreateAccessKey",
                json!({
                    "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "invokedBy": "support.amazonaws.com"}
                }),
            ),
        ),
        Topic::IamPolicyChanges => (
            record(
                "iam.amazonaws.com",
                "PutRolePolicy",
                json!({"requestParameters": {"roleName": "app", "policyName": "inline"}}),
            ),
            record("iam.amazonaws.com", "ListRoles", json!({"readOnly": true})),
        ),
        Topic::CloudTrailChanges => (
            record(
                "cloudtrail.amazonaws.com",
                "StopLogging",
                json!({"requestParameters": {"name": "org-audit"}}),
            ),
            record(
                "cloudtrail.amazonaws.com",
                "DescribeTrails",
                json!({"readOnly": true}),
            ),
        ),
        Topic::ConsoleAuthFailures => (
            console_login(json!({
                "errorMessage": "Failed authentication",
                "responseElements": {"ConsoleLogin": "Failure"}
            })),
            console_login(json!({"additionalEventData": {"MFAUsed": "Yes"}})),
        ),
        Topic::DisableOrDeleteCmk => (
            record(
                "kms.amazonaws.com",
                "ScheduleKeyDeletion",
                json!({"requestParameters": {"keyId": "1234abcd", "pendingWindowInDays": 7}}),
            ),
            record("kms.amazonaws.com", "Decrypt", json!({"readOnly": true})),
        ),
        Topic::S3BucketPolicyChanges => (
            record(
                "s3.amazonaws.com",
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "data"}}),
            ),
            record(
                "s3.amazonaws.com",
                "GetBucketPolicy",
                json!({"readOnly": true}),
            ),
        ),
        Topic::ConfigChanges => (
            record(
                "config.amazonaws.com",
                "StopConfigurationRecorder",
                json!({}),
            ),
            record(
                "config.amazonaws.com",
                "DescribeConfigurationRecorders",
                json!({"readOnly": true}),
            ),
        ),
        Topic::SecurityGroupChanges => (
            record(
                "ec2.amazonaws.com",
                "AuthorizeSecurityGroupIngress",
                json!({"requestParameters": {"groupId": "sg-0123"}}),
            ),
            record(
                "ec2.amazonaws.com",
                "DescribeSecurityGroups",
                json!({"readOnly": true}),
            ),
        ),
        Topic::NaclChanges => (
            record("ec2.amazonaws.com", "CreateNetworkAclEntry", json!({})),
            record(
                "ec2.amazonaws.com",
                "DescribeNetworkAcls",
                json!({"readOnly": true}),
            ),
        ),
        Topic::NetworkGatewayChanges => (
            record("ec2.amazonaws.com", "AttachInternetGateway", json!({})),
            record(
                "ec2.amazonaws.com",
                "DescribeInternetGateways",
                json!({"readOnly": true}),
            ),
        ),
        Topic::RouteTableChanges => (
            record(
                "ec2.amazonaws.com",
                "CreateRoute",
                json!({"requestParameters": {"routeTableId": "rtb-0123"}}),
            ),
            record(
                "ec2.amazonaws.com",
                "DescribeRouteTables",
                json!({"readOnly": true}),
            ),
        ),
        Topic::VpcChanges => (
            record(
                "ec2.amazonaws.com",
                "CreateVpc",
                json!({"requestParameters": {"cidrBlock": "10.0.0.0/16"}}),
            ),
            record(
                "ec2.amazonaws.com",
                "DescribeVpcs",
                json!({"readOnly": true}),
            ),
        ),
        Topic::OrganizationsChanges => (
            record(
                "organizations.amazonaws.com",
                "CreateAccount",
                json!({"awsRegion": "us-east-1"}),
            ),
            record(
                "organizations.amazonaws.com",
                "ListAccounts",
                json!({"awsRegion": "us-east-1", "readOnly": true}),
            ),
        ),
        Topic::TrailEvasion => (
            record(
                "cloudtrail.amazonaws.com",
                "PutEventSelectors",
                json!({"requestParameters": {"trailName": "audit", "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": false}]}}),
            ),
            record(
                "cloudtrail.amazonaws.com",
                "GetEventSelectors",
                json!({"readOnly": true}),
            ),
        ),
        Topic::BucketProtectionChanges => (
            record(
                "s3.amazonaws.com",
                "PutBucketVersioning",
                json!({"requestParameters": {"bucketName": "archive", "VersioningConfiguration": {"Status": "Suspended"}}}),
            ),
            record(
                "s3.amazonaws.com",
                "GetBucketVersioning",
                json!({"readOnly": true}),
            ),
        ),
        Topic::KeyPolicyChanges => (
            record(
                "kms.amazonaws.com",
                "PutKeyPolicy",
                json!({"requestParameters": {"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "policyName": "default"}}),
            ),
            record(
                "kms.amazonaws.com",
                "GetKeyPolicy",
                json!({"readOnly": true}),
            ),
        ),
        Topic::DetectorsDisabled => (
            record(
                "guardduty.amazonaws.com",
                "DeleteDetector",
                json!({"requestParameters": {"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}}),
            ),
            // The same name from another service is not a detector.
            record("ec2.amazonaws.com", "DeleteDetector", json!({})),
        ),
        Topic::RootAccessKeyCreated => (
            record(
                "iam.amazonaws.com",
                "CreateAccessKey",
                json!({
                    "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333"}
                }),
            ),
            // An IAM user's own key is not the root user's.
            record("iam.amazonaws.com", "CreateAccessKey", json!({})),
        ),
    }
}
