//! A realistic, reproducible CloudTrail corpus for benchmarks and tests: a mix of read and write
//! calls across services, errors, root use, console sign-ins, and large request parameters.

use serde_json::{Value, json};

use crate::samples::record;

/// xorshift64*: reproducible from a seed, and enough randomness for a mix of records.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const CALLS: &[(&str, &str)] = &[
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("ec2.amazonaws.com", "RunInstances"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
    ("ec2.amazonaws.com", "CreateRoute"),
    ("ec2.amazonaws.com", "CreateVpc"),
    ("s3.amazonaws.com", "GetBucketPolicy"),
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("s3.amazonaws.com", "HeadBucket"),
    ("iam.amazonaws.com", "ListRoles"),
    ("iam.amazonaws.com", "PutRolePolicy"),
    ("iam.amazonaws.com", "CreateAccessKey"),
    ("kms.amazonaws.com", "Decrypt"),
    ("kms.amazonaws.com", "GenerateDataKey"),
    ("kms.amazonaws.com", "ScheduleKeyDeletion"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("cloudtrail.amazonaws.com", "DescribeTrails"),
    ("cloudtrail.amazonaws.com", "StopLogging"),
    ("config.amazonaws.com", "PutConfigurationRecorder"),
    ("organizations.amazonaws.com", "ListAccounts"),
    ("organizations.amazonaws.com", "CreateAccount"),
    ("lambda.amazonaws.com", "Invoke"),
    ("dynamodb.amazonaws.com", "DescribeTable"),
];

const ERRORS: &[(&str, &str)] = &[
    ("AccessDenied", "Access Denied"),
    (
        "Client.UnauthorizedOperation",
        "You are not authorized to perform this operation.",
    ),
    (
        "AccessDeniedException",
        "User is not authorized to perform this action",
    ),
    ("ThrottlingException", "Rate exceeded"),
    ("NoSuchBucket", "The specified bucket does not exist"),
];

/// The `i`-th record of the corpus seeded by `seed`.
pub fn generate(rng: &mut Rng, i: u64) -> Value {
    let account = format!("{:012}", 100_000_000_000 + rng.below(40));
    let minute = i % (60 * 24 * 28);
    let time = format!(
        "2026-11-{:02}T{:02}:{:02}:{:02}Z",
        1 + minute / (60 * 24),
        (minute / 60) % 24,
        minute % 60,
        rng.below(60)
    );
    let roll = rng.below(1000);
    let mut r = if roll < 15 {
        let mfa = if rng.below(2) == 0 { "Yes" } else { "No" };
        let mut login = record(
            "signin.amazonaws.com",
            "ConsoleLogin",
            json!({
                "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{account}:user/u{}", rng.below(50))},
                "responseElements": {"ConsoleLogin": "Success"},
                "additionalEventData": {"MFAUsed": mfa, "LoginTo": "https://console.aws.amazon.com/"}
            }),
        );
        if rng.below(4) == 0 {
            login["errorMessage"] = json!("Failed authentication");
            login["responseElements"] = json!({"ConsoleLogin": "Failure"});
        }
        login
    } else {
        let (source, name) = *rng.pick(CALLS);
        let mut r = record(source, name, json!({}));
        if roll < 25 {
            r["userIdentity"] = json!({"type": "Root", "arn": format!("arn:aws:iam::{account}:root"), "principalId": account});
        } else {
            r["userIdentity"]["arn"] = json!(format!(
                "arn:aws:sts::{account}:assumed-role/Role{}/session",
                rng.below(20)
            ));
            r["userIdentity"]["accountId"] = json!(account);
        }
        if roll % 10 == 3 {
            let (code, message) = *rng.pick(ERRORS);
            r["errorCode"] = json!(code);
            r["errorMessage"] = json!(message);
        }
        r
    };
    r["eventTime"] = json!(time);
    r["recipientAccountId"] = json!(account);
    r["eventID"] = json!(format!("{:016x}-{i:016x}", rng.next_u64()));
    // Some calls carry large documents, as RunInstances or PutBucketPolicy do.
    let params = if rng.below(20) == 0 {
        let items: Vec<Value> = (0..40)
            .map(|k| json!({"key": format!("tag-{k}"), "value": format!("value-{}-{}", k, rng.below(1_000_000))}))
            .collect();
        json!({"instancesSet": {"items": items}, "userData": "x".repeat(1500)})
    } else {
        json!({"maxResults": rng.below(1000), "filter": format!("f{}", rng.below(100))})
    };
    r["requestParameters"] = params;
    r
}

/// `n` records as NDJSON lines.
pub fn ndjson(seed: u64, n: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| serde_json::to_string(&generate(&mut rng, i)).unwrap_or_default())
        .collect()
}

/// A CloudTrail log object (`{"Records":[…]}`) of `records`.
pub fn log_file(records: &[Value]) -> String {
    serde_json::to_string(&json!({ "Records": records })).unwrap_or_default()
}
