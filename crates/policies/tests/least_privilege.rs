//! The least-privilege matrix: principal × action × resource × context → the decision our
//! policies must give. The emulator evaluates none of this; these rows are the evidence.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_policies::*;

const LA: &str = "222222222222";
const SEC: &str = "333333333333";
const M1: &str = "444444444444";
const M2: &str = "555555555555";
const OUTSIDER: &str = "999999999999";
const ORG: &str = "o-abc123def4";
const BUCKET: &str = "acme-cloudtrail-222222222222";
const REGION: &str = "eu-west-1";
const KEY: &str = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn inputs(accounts: &[&str]) -> ArchiveInputs {
    ArchiveInputs {
        partition: "aws".into(),
        bucket: BUCKET.into(),
        org_id: ORG.into(),
        log_archive_account: LA.into(),
        security_account: Some(SEC.into()),
        trail_name: "org-audit".into(),
        key_arn: Some(KEY.into()),
        athena: None,
        key_administrator: format!("arn:aws:iam::{LA}:role/OrganizationAccountAccessRole"),
        trails: accounts
            .iter()
            .map(|a| TrailRef {
                account: a.to_string(),
                region: REGION.into(),
                name: "org-audit".into(),
            })
            .collect(),
    }
}

fn trail(account: &str) -> String {
    format!("arn:aws:cloudtrail:{REGION}:{account}:trail/org-audit")
}

fn object(account: &str) -> String {
    format!("arn:aws:s3:::{BUCKET}/AWSLogs/{account}/CloudTrail/{REGION}/2026/11/01/x.json.gz")
}

fn cloudtrail(action: &str, resource: &str) -> Request {
    Request::new(
        RequestPrincipal::Service("cloudtrail.amazonaws.com".into()),
        action,
        resource,
    )
    .with("aws:SecureTransport", "true")
    .with("aws:PrincipalIsAWSService", "true")
}

fn user(account: &str, org: Option<&str>, action: &str, resource: &str) -> Request {
    let r = Request::new(
        RequestPrincipal::Aws {
            account: account.into(),
            arn: format!("arn:aws:sts::{account}:assumed-role/Reader/alice"),
        },
        action,
        resource,
    )
    .with("aws:SecureTransport", "true")
    .with("aws:PrincipalIsAWSService", "false")
    .with("aws:PrincipalAccount", account)
    .with("kms:CallerAccount", account);
    match org {
        Some(o) => r.with("aws:PrincipalOrgID", o),
        None => r,
    }
}

fn without(mut r: Request, key: &str) -> Request {
    r.context.remove(&key.to_ascii_lowercase());
    r
}

fn replace(r: Request, key: &str, value: &str) -> Request {
    without(r, key).with(key, value)
}

struct Row {
    name: &'static str,
    policy: &'static str,
    request: Request,
    expect: Decision,
}

fn row(name: &'static str, policy: &'static str, request: Request, expect: Decision) -> Row {
    Row {
        name,
        policy,
        request,
        expect,
    }
}

/// Every policy of the matrix, by the name its rows use.
fn matrix_policies() -> Vec<(&'static str, PolicyDocument)> {
    let input = inputs(&[LA, SEC, M1, M2]);
    let topic_arn = format!("arn:aws:sns:{REGION}:{M1}:cis-alarms");
    vec![
        (
            "bucket",
            archive_bucket_policy(&input, DeputyMode::SourceArn),
        ),
        (
            "bucket_org",
            archive_bucket_policy(&input, DeputyMode::SourceOrgId),
        ),
        (
            "bucket_acct",
            archive_bucket_policy(&input, DeputyMode::SourceAccount),
        ),
        ("key", key_policy(&input, DeputyMode::SourceArn)),
        ("key_acct", key_policy(&input, DeputyMode::SourceAccount)),
        ("key_org", key_policy(&input, DeputyMode::SourceOrgId)),
        (
            "access_logs",
            access_log_bucket_policy("aws", "acme-access-logs", BUCKET, LA),
        ),
        ("trust", cloudtrail_logs_role_trust()),
        (
            "inline",
            cloudtrail_logs_role_policy("aws", M1, REGION, "/trailhead/cloudtrail"),
        ),
        ("topic", sns_topic_policy("aws", M1, REGION, &topic_arn)),
    ]
}

fn policy_named<'a>(
    policies: &'a [(&'static str, PolicyDocument)],
    name: &str,
) -> &'a PolicyDocument {
    match policies.iter().find(|(n, _)| *n == name) {
        Some((_, p)) => p,
        None => panic!("unknown policy {name}"),
    }
}

#[test]
fn least_privilege_matrix() {
    let input = inputs(&[LA, SEC, M1, M2]);
    assert_eq!(input.choose_mode(), DeputyMode::SourceArn);
    let policies = matrix_policies();
    let rows = matrix_rows();
    assert!(rows.len() >= 30);
    let mut wrong = Vec::new();
    for r in &rows {
        let got = evaluate(policy_named(&policies, r.policy), &r.request);
        if got != r.expect {
            wrong.push(format!("{}: expected {:?}, got {got:?}", r.name, r.expect));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} row(s) wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

fn matrix_rows() -> Vec<Row> {
    use Decision::{Allow, ExplicitDeny as Deny, ImplicitDeny as NoGrant};
    let topic_arn = format!("arn:aws:sns:{REGION}:{M1}:cis-alarms");
    let bucket_arn = format!("arn:aws:s3:::{BUCKET}");

    let write = |acct: &str, prefix: &str| {
        cloudtrail("s3:PutObject", &object(prefix))
            .with("aws:SourceArn", &trail(acct))
            .with("aws:SourceAccount", acct)
            .with("s3:x-amz-acl", "bucket-owner-full-control")
    };
    let gen_key = |acct: &str| {
        cloudtrail("kms:GenerateDataKey", "*")
            .with("aws:SourceArn", &trail(acct))
            .with("kms:EncryptionContext:aws:cloudtrail:arn", &trail(acct))
    };
    let decrypt = |acct: &str| {
        user(acct, Some(ORG), "kms:Decrypt", "*")
            .with("kms:EncryptionContext:aws:cloudtrail:arn", &trail(M1))
    };

    vec![
        row(
            "member trail writes its own prefix",
            "bucket",
            write(M1, M1),
            Allow,
        ),
        row(
            "member trail writes another account's prefix",
            "bucket",
            write(M1, M2),
            NoGrant,
        ),
        row(
            "log-archive trail writes its own prefix",
            "bucket",
            write(LA, LA),
            Allow,
        ),
        row(
            "member trail without bucket-owner-full-control",
            "bucket",
            without(write(M1, M1), "s3:x-amz-acl"),
            NoGrant,
        ),
        row(
            "member trail with a public-read ACL",
            "bucket",
            replace(write(M1, M1), "s3:x-amz-acl", "public-read"),
            NoGrant,
        ),
        row(
            "member trail over plain HTTP",
            "bucket",
            replace(write(M1, M1), "aws:SecureTransport", "false"),
            Deny,
        ),
        row(
            "trail of an account outside the spec",
            "bucket",
            write(OUTSIDER, OUTSIDER),
            NoGrant,
        ),
        row(
            "CloudTrail write without SourceArn",
            "bucket",
            without(write(M1, M1), "aws:SourceArn"),
            NoGrant,
        ),
        row(
            "CloudTrail ACL check for our trail",
            "bucket",
            cloudtrail("s3:GetBucketAcl", &bucket_arn).with("aws:SourceArn", &trail(M2)),
            Allow,
        ),
        row(
            "CloudTrail ACL check for a foreign trail",
            "bucket",
            cloudtrail("s3:GetBucketAcl", &bucket_arn).with("aws:SourceArn", &trail(OUTSIDER)),
            NoGrant,
        ),
        row(
            "CloudTrail ACL check without SourceArn",
            "bucket",
            cloudtrail("s3:GetBucketAcl", &bucket_arn),
            NoGrant,
        ),
        row(
            "anonymous read",
            "bucket",
            Request::new(RequestPrincipal::Anonymous, "s3:GetObject", &object(M1)),
            Deny,
        ),
        row(
            "principal outside the org reads",
            "bucket",
            user(OUTSIDER, Some("o-other00000"), "s3:GetObject", &object(M1)),
            Deny,
        ),
        row(
            "principal with no org reads",
            "bucket",
            user(OUTSIDER, None, "s3:GetObject", &object(M1)),
            Deny,
        ),
        row(
            "log-archive principal reads logs",
            "bucket",
            user(LA, Some(ORG), "s3:GetObject", &object(M1)),
            Allow,
        ),
        row(
            "security principal reads logs",
            "bucket",
            user(SEC, Some(ORG), "s3:GetObject", &object(M1)),
            Allow,
        ),
        row(
            "security principal lists the bucket",
            "bucket",
            user(SEC, Some(ORG), "s3:ListBucket", &bucket_arn),
            Allow,
        ),
        row(
            "member principal reads logs",
            "bucket",
            user(M1, Some(ORG), "s3:GetObject", &object(M1)),
            NoGrant,
        ),
        row(
            "security principal deletes logs",
            "bucket",
            user(SEC, Some(ORG), "s3:DeleteObject", &object(M1)),
            NoGrant,
        ),
        row(
            "log-archive principal reads over plain HTTP",
            "bucket",
            replace(
                user(LA, Some(ORG), "s3:GetObject", &object(M1)),
                "aws:SecureTransport",
                "false",
            ),
            Deny,
        ),
        // The per-account mode: only keys CloudTrail documents (no aws:SourceOrgID in these
        // requests), so it holds whether or not CloudTrail sends the organization.
        row(
            "account mode: member trail writes its own prefix",
            "bucket_acct",
            write(M1, M1),
            Allow,
        ),
        row(
            "account mode: member trail writes another prefix (the documented loss)",
            "bucket_acct",
            write(M1, M2),
            Allow,
        ),
        row(
            "account mode: a trail of our name outside the spec's accounts",
            "bucket_acct",
            write(OUTSIDER, OUTSIDER),
            NoGrant,
        ),
        row(
            "account mode: a member's trail of another name",
            "bucket_acct",
            replace(
                write(M1, M1),
                "aws:SourceArn",
                &format!("arn:aws:cloudtrail:{REGION}:{M1}:trail/other"),
            ),
            NoGrant,
        ),
        row(
            "account mode: CloudTrail checks the ACL for a member trail",
            "bucket_acct",
            cloudtrail("s3:GetBucketAcl", &bucket_arn)
                .with("aws:SourceArn", &trail(M1))
                .with("aws:SourceAccount", M1),
            Allow,
        ),
        row(
            "account mode: CloudTrail encrypts for a member trail",
            "key_acct",
            gen_key(M1),
            Allow,
        ),
        row(
            "account mode: CloudTrail encrypts for a trail of our name outside the spec",
            "key_acct",
            gen_key(OUTSIDER),
            NoGrant,
        ),
        row(
            "account mode: CloudTrail encrypts for a member's trail of another name",
            "key_acct",
            replace(
                gen_key(M1),
                "aws:SourceArn",
                &format!("arn:aws:cloudtrail:{REGION}:{M1}:trail/other"),
            ),
            NoGrant,
        ),
        row(
            "org mode: member trail writes another prefix (the documented loss)",
            "bucket_org",
            write(M1, M2).with("aws:SourceOrgID", ORG),
            Allow,
        ),
        row(
            "org mode: trail of another organization",
            "bucket_org",
            write(OUTSIDER, OUTSIDER).with("aws:SourceOrgID", "o-other00000"),
            NoGrant,
        ),
        row(
            "CloudTrail encrypts for a member trail",
            "key",
            gen_key(M1),
            Allow,
        ),
        row(
            "CloudTrail encrypts without the encryption context",
            "key",
            without(gen_key(M1), "kms:EncryptionContext:aws:cloudtrail:arn"),
            NoGrant,
        ),
        row(
            "CloudTrail encrypts for a foreign account's trail",
            "key",
            gen_key(OUTSIDER),
            NoGrant,
        ),
        row(
            "CloudTrail encrypts with a foreign SourceArn",
            "key",
            replace(gen_key(M1), "aws:SourceArn", &trail(OUTSIDER)),
            NoGrant,
        ),
        row(
            "CloudTrail describes the key for our trail",
            "key",
            cloudtrail("kms:DescribeKey", "*").with("aws:SourceArn", &trail(M2)),
            Allow,
        ),
        row(
            "CloudTrail describes the key without SourceArn",
            "key",
            cloudtrail("kms:DescribeKey", "*"),
            NoGrant,
        ),
        row(
            "CloudTrail decrypts the Bucket Key for our trail",
            "key",
            gen_key(M1).clone_action("kms:Decrypt"),
            Allow,
        ),
        row(
            "CloudTrail decrypts for a foreign trail",
            "key",
            replace(gen_key(M1), "aws:SourceArn", &trail(OUTSIDER)).clone_action("kms:Decrypt"),
            NoGrant,
        ),
        row(
            "CloudTrail re-encrypts (never granted)",
            "key",
            gen_key(M1).clone_action("kms:ReEncryptFrom"),
            NoGrant,
        ),
        row(
            "a put under another KMS key",
            "bucket",
            write(M1, M1).with(
                "s3:x-amz-server-side-encryption-aws-kms-key-id",
                "arn:aws:kms:eu-west-1:999999999999:key/other",
            ),
            Deny,
        ),
        row(
            "a put under the archive key",
            "bucket",
            write(M1, M1).with("s3:x-amz-server-side-encryption-aws-kms-key-id", KEY),
            Allow,
        ),
        row(
            "org mode: a put under another KMS key",
            "bucket_org",
            write(M1, M1).with("aws:SourceOrgID", ORG).with(
                "s3:x-amz-server-side-encryption-aws-kms-key-id",
                "arn:aws:kms:eu-west-1:999999999999:key/other",
            ),
            Deny,
        ),
        row(
            "org mode: a trail of another name in the organization",
            "bucket_org",
            replace(
                write(M1, M1),
                "aws:SourceArn",
                &format!("arn:aws:cloudtrail:{REGION}:{M1}:trail/shadow-copy"),
            )
            .with("aws:SourceOrgID", ORG),
            NoGrant,
        ),
        row(
            "log-archive principal decrypts a log file",
            "key",
            decrypt(LA),
            Allow,
        ),
        row(
            "security principal decrypts a log file",
            "key",
            decrypt(SEC),
            Allow,
        ),
        row(
            "member principal decrypts a log file",
            "key",
            decrypt(M1),
            NoGrant,
        ),
        row(
            "security principal decrypts without the CloudTrail context",
            "key",
            without(decrypt(SEC), "kms:EncryptionContext:aws:cloudtrail:arn"),
            NoGrant,
        ),
        row(
            "security principal decrypts as another caller account",
            "key",
            replace(decrypt(SEC), "kms:CallerAccount", M1),
            NoGrant,
        ),
        // Through the archive's S3 Bucket Key, the context is the bucket's ARN.
        row(
            "security principal decrypts through the bucket key, via S3",
            "key",
            without(decrypt(SEC), "kms:EncryptionContext:aws:cloudtrail:arn")
                .with(
                    "kms:EncryptionContext:aws:s3:arn",
                    &format!("arn:aws:s3:::{BUCKET}"),
                )
                .with("kms:ViaService", "s3.eu-west-1.amazonaws.com"),
            Allow,
        ),
        row(
            "security principal decrypts another bucket's key, via S3",
            "key",
            without(decrypt(SEC), "kms:EncryptionContext:aws:cloudtrail:arn")
                .with(
                    "kms:EncryptionContext:aws:s3:arn",
                    "arn:aws:s3:::someone-else",
                )
                .with("kms:ViaService", "s3.eu-west-1.amazonaws.com"),
            NoGrant,
        ),
        row(
            "security principal decrypts the bucket key directly, not via S3",
            "key",
            without(decrypt(SEC), "kms:EncryptionContext:aws:cloudtrail:arn").with(
                "kms:EncryptionContext:aws:s3:arn",
                &format!("arn:aws:s3:::{BUCKET}"),
            ),
            NoGrant,
        ),
        row(
            "member principal decrypts through the bucket key",
            "key",
            without(decrypt(M1), "kms:EncryptionContext:aws:cloudtrail:arn")
                .with(
                    "kms:EncryptionContext:aws:s3:arn",
                    &format!("arn:aws:s3:::{BUCKET}"),
                )
                .with("kms:ViaService", "s3.eu-west-1.amazonaws.com"),
            NoGrant,
        ),
        row(
            "log-archive admin changes the key policy",
            "key",
            user(LA, Some(ORG), "kms:PutKeyPolicy", "*"),
            Allow,
        ),
        row(
            "log-archive admin enables rotation",
            "key",
            user(LA, Some(ORG), "kms:EnableKeyRotation", "*"),
            Allow,
        ),
        row(
            "security principal changes the key policy",
            "key",
            user(SEC, Some(ORG), "kms:PutKeyPolicy", "*"),
            NoGrant,
        ),
        row(
            "anonymous decrypt",
            "key",
            Request::new(RequestPrincipal::Anonymous, "kms:Decrypt", "*"),
            NoGrant,
        ),
        row(
            "org mode: CloudTrail encrypts for our trail name",
            "key_org",
            gen_key(M1).with("aws:SourceOrgID", ORG),
            Allow,
        ),
        row(
            "org mode: CloudTrail encrypts for another trail name",
            "key_org",
            replace(
                gen_key(M1),
                "kms:EncryptionContext:aws:cloudtrail:arn",
                &format!("arn:aws:cloudtrail:{REGION}:{M1}:trail/other"),
            )
            .with("aws:SourceOrgID", ORG),
            NoGrant,
        ),
        row(
            "S3 logging delivers access logs of the archive",
            "access_logs",
            Request::new(
                RequestPrincipal::Service("logging.s3.amazonaws.com".into()),
                "s3:PutObject",
                "arn:aws:s3:::acme-access-logs/x",
            )
            .with("aws:SourceArn", &bucket_arn)
            .with("aws:SourceAccount", LA)
            .with("aws:SecureTransport", "true"),
            Allow,
        ),
        row(
            "S3 logging for another bucket",
            "access_logs",
            Request::new(
                RequestPrincipal::Service("logging.s3.amazonaws.com".into()),
                "s3:PutObject",
                "arn:aws:s3:::acme-access-logs/x",
            )
            .with("aws:SourceArn", "arn:aws:s3:::other")
            .with("aws:SourceAccount", LA)
            .with("aws:SecureTransport", "true"),
            NoGrant,
        ),
        row(
            "CloudTrail assumes the CloudWatch Logs role without source keys (as it does)",
            "trust",
            cloudtrail("sts:AssumeRole", ""),
            Allow,
        ),
        row(
            "another service assumes the CloudWatch Logs role",
            "trust",
            Request::new(
                RequestPrincipal::Service("lambda.amazonaws.com".into()),
                "sts:AssumeRole",
                "",
            ),
            NoGrant,
        ),
        row(
            "a principal of the account assumes the CloudWatch Logs role",
            "trust",
            user(M1, Some(ORG), "sts:AssumeRole", ""),
            NoGrant,
        ),
        row(
            "the role writes its trail's log stream",
            "inline",
            user(
                M1,
                Some(ORG),
                "logs:PutLogEvents",
                &format!(
                    "arn:aws:logs:{REGION}:{M1}:log-group:/trailhead/cloudtrail:log-stream:{M1}_CloudTrail_{REGION}_1"
                ),
            ),
            Allow,
        ),
        row(
            "the role writes another log group",
            "inline",
            user(
                M1,
                Some(ORG),
                "logs:PutLogEvents",
                &format!("arn:aws:logs:{REGION}:{M1}:log-group:/app:log-stream:x"),
            ),
            NoGrant,
        ),
        row(
            "the role deletes its log group",
            "inline",
            user(
                M1,
                Some(ORG),
                "logs:DeleteLogGroup",
                &format!("arn:aws:logs:{REGION}:{M1}:log-group:/trailhead/cloudtrail"),
            ),
            NoGrant,
        ),
        row(
            "CloudWatch alarms of the account publish",
            "topic",
            Request::new(
                RequestPrincipal::Service("cloudwatch.amazonaws.com".into()),
                "sns:Publish",
                &topic_arn,
            )
            .with("aws:SourceAccount", M1)
            .with(
                "aws:SourceArn",
                &format!("arn:aws:cloudwatch:{REGION}:{M1}:alarm:x"),
            ),
            Allow,
        ),
        row(
            "CloudWatch alarms of another account publish",
            "topic",
            Request::new(
                RequestPrincipal::Service("cloudwatch.amazonaws.com".into()),
                "sns:Publish",
                &topic_arn,
            )
            .with("aws:SourceAccount", M2)
            .with(
                "aws:SourceArn",
                &format!("arn:aws:cloudwatch:{REGION}:{M2}:alarm:x"),
            ),
            NoGrant,
        ),
        row(
            "another account subscribes to the topic",
            "topic",
            user(M2, Some(ORG), "sns:Subscribe", &topic_arn),
            NoGrant,
        ),
    ]
}

trait CloneAction {
    fn clone_action(self, action: &str) -> Request;
}

impl CloneAction for Request {
    fn clone_action(mut self, action: &str) -> Request {
        self.action = action.to_string();
        self
    }
}

#[test]
fn policies_of_a_thousand_accounts_fit_their_budgets() {
    let ids: Vec<String> = (0..1000)
        .map(|i| format!("{:012}", 100_000_000_000u64 + i))
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let input = inputs(&refs);
    let mode = input.choose_mode();
    assert_eq!(
        mode,
        DeputyMode::SourceOrgId,
        "1,000 per-trail statements cannot fit 20 KB"
    );
    let bucket = archive_bucket_policy(&input, mode);
    let key = key_policy(&input, mode);
    let bucket_size = check_budget(PolicyKind::BucketPolicy, &bucket).expect("bucket policy fits");
    let key_size = check_budget(PolicyKind::KeyPolicy, &key).expect("key policy fits");
    assert!(bucket_size <= 20 * 1024 && key_size <= 32 * 1024);
    // The per-trail version really would not fit: the switch is needed, not cosmetic.
    assert!(
        check_budget(
            PolicyKind::BucketPolicy,
            &archive_bucket_policy(&input, DeputyMode::SourceArn)
        )
        .is_err()
    );
    assert!(mode.explain().contains("per-account prefix isolation"));
}

fn mode_at(n: u64) -> DeputyMode {
    let ids: Vec<String> = (0..n)
        .map(|i| format!("{:012}", 100_000_000_000u64 + i))
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    inputs(&refs).choose_mode()
}

#[test]
fn the_per_account_mode_holds_hundreds_of_accounts_before_the_organization_mode() {
    // The first count at which each mode gives way, found by bisection over 1..=2000.
    let first = |pred: &dyn Fn(DeputyMode) -> bool| {
        let (mut lo, mut hi) = (1u64, 2000u64);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if pred(mode_at(mid)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    };
    let past_per_trail = first(&|m| m != DeputyMode::SourceArn);
    let past_per_account = first(&|m| m == DeputyMode::SourceOrgId);
    assert_eq!(mode_at(past_per_trail), DeputyMode::SourceAccount);
    assert!(
        past_per_account >= 500,
        "only {past_per_account} accounts fit the per-account mode"
    );
    assert!(past_per_account > past_per_trail);
    for n in [past_per_trail, past_per_account - 1] {
        let ids: Vec<String> = (0..n)
            .map(|i| format!("{:012}", 100_000_000_000u64 + i))
            .collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let input = inputs(&refs);
        for doc in [
            archive_bucket_policy(&input, DeputyMode::SourceAccount),
            key_policy(&input, DeputyMode::SourceAccount),
        ] {
            assert!(!doc.to_json().contains("aws:SourceOrgID"), "at {n}");
        }
    }
    eprintln!(
        "per-trail up to {} accounts, per-account up to {}",
        past_per_trail - 1,
        past_per_account - 1
    );
}

#[test]
fn the_switch_happens_exactly_when_the_bucket_policy_would_overflow() {
    let mut n = 1;
    loop {
        let ids: Vec<String> = (0..n)
            .map(|i| format!("{:012}", 100_000_000_000u64 + i))
            .collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let input = inputs(&refs);
        let fits = check_budget(
            PolicyKind::BucketPolicy,
            &archive_bucket_policy(&input, DeputyMode::SourceArn),
        )
        .is_ok()
            && check_budget(
                PolicyKind::KeyPolicy,
                &key_policy(&input, DeputyMode::SourceArn),
            )
            .is_ok();
        let expected = if fits {
            DeputyMode::SourceArn
        } else {
            DeputyMode::SourceAccount
        };
        assert_eq!(input.choose_mode(), expected, "at {n} accounts");
        if !fits {
            assert!(
                n > 20,
                "per-trail mode should hold a typical org, switched at {n}"
            );
            break;
        }
        n += 1;
    }
}

#[test]
fn the_key_administrator_is_never_locked_out() {
    for accounts in [vec![M1], (0..1000).map(|_| M1).collect::<Vec<_>>()] {
        let input = inputs(&accounts);
        let key = key_policy(&input, input.choose_mode());
        let admin = key.statement("KeyAdministration").expect("admin statement");
        assert_eq!(
            admin.principal,
            Some(Principal::Aws(vec![format!("arn:aws:iam::{LA}:root")]))
        );
        assert_eq!(admin.action, vec!["kms:*"]);
        assert!(admin.condition.is_empty());
        assert!(
            key.statements.iter().all(|s| s.effect == Effect::Allow),
            "no Deny can lock the admin out"
        );
    }
}

/// A request as the emulator's evaluator reads it (one JSON line).
fn request_json(policy: &PolicyDocument, r: &Request) -> serde_json::Value {
    let principal = match &r.principal {
        RequestPrincipal::Anonymous => serde_json::json!({"kind": "anonymous"}),
        RequestPrincipal::Service(name) => serde_json::json!({"kind": "service", "name": name}),
        RequestPrincipal::Aws { account, arn } => {
            serde_json::json!({"kind": "aws", "account": account, "arn": arn})
        }
    };
    serde_json::json!({
        "policy": policy.to_json(),
        "principal": principal,
        "action": r.action,
        "resource": r.resource,
        "context": r.context,
    })
}

/// Deterministic pseudo-random numbers (xorshift64*): the same requests on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Strings the policies use, with their wildcards filled in (or not), and near misses.
fn variants(value: &str) -> Vec<String> {
    vec![
        value.replace('*', "x"),
        value.replace('*', "eu-west-1"),
        value.to_string(),
        format!("{value}-other"),
        value.replace("444444444444", "999999999999"),
    ]
}

/// Requests drawn from the policies' own vocabulary: their principals, actions, resources and
/// condition values, each filled in, perturbed or left out.
fn random_requests(policies: &[(&'static str, PolicyDocument)], n: usize) -> Vec<(usize, Request)> {
    let mut actions = vec![
        "s3:DeleteObject".to_string(),
        "kms:ReEncryptFrom".into(),
        "iam:PassRole".into(),
    ];
    let mut resources = vec!["*".to_string(), "arn:aws:s3:::elsewhere/x".into()];
    // Condition key (lowercased) → the values the policies give it, filled in or perturbed.
    let mut conditions: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (_, p) in policies {
        for s in &p.statements {
            actions.extend(s.action.iter().flat_map(|a| variants(a)));
            resources.extend(s.resource.iter().flat_map(|r| variants(r)));
            for keys in s.condition.values() {
                for (k, values) in keys {
                    conditions
                        .entry(k.to_ascii_lowercase())
                        .or_default()
                        .extend(values.iter().flat_map(|v| variants(v)));
                }
            }
        }
    }
    let principals = [
        RequestPrincipal::Anonymous,
        RequestPrincipal::Service("cloudtrail.amazonaws.com".into()),
        RequestPrincipal::Service("logging.s3.amazonaws.com".into()),
        RequestPrincipal::Service("cloudwatch.amazonaws.com".into()),
        RequestPrincipal::Service("lambda.amazonaws.com".into()),
        RequestPrincipal::Aws {
            account: LA.into(),
            arn: format!("arn:aws:iam::{LA}:role/Admin"),
        },
        RequestPrincipal::Aws {
            account: SEC.into(),
            arn: format!("arn:aws:iam::{SEC}:role/Reader"),
        },
        RequestPrincipal::Aws {
            account: M1.into(),
            arn: format!("arn:aws:iam::{M1}:role/App"),
        },
        RequestPrincipal::Aws {
            account: OUTSIDER.into(),
            arn: format!("arn:aws:iam::{OUTSIDER}:user/x"),
        },
    ];
    let own: Vec<(Vec<String>, Vec<String>)> = policies
        .iter()
        .map(|(_, p)| {
            let actions = p
                .statements
                .iter()
                .flat_map(|s| s.action.iter().flat_map(|a| variants(a)));
            let resources = p
                .statements
                .iter()
                .flat_map(|s| s.resource.iter().flat_map(|r| variants(r)));
            (
                actions.collect(),
                resources.chain(["*".to_string()]).collect(),
            )
        })
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            let policy = rng.below(policies.len());
            // Mostly the policy's own words: requests it has an opinion about.
            let (a, r) = if rng.below(4) > 0 {
                (&own[policy].0, &own[policy].1)
            } else {
                (&actions, &resources)
            };
            let mut request = Request::new(
                rng.pick(&principals).clone(),
                rng.pick(a).as_str(),
                rng.pick(r).as_str(),
            );
            // Each key absent half the time, else with one or two values.
            for (key, values) in &conditions {
                for _ in 0..rng.below(3) {
                    request = request.with(key, rng.pick(values).as_str());
                }
            }
            (policy, request)
        })
        .collect()
}

/// Runs the emulator's evaluator (emulator/trailhead_emulator/policy.py: only Python's standard
/// library) on every request; returns its decisions in Rust's terms.
fn python_decisions(lines: &[serde_json::Value]) -> Vec<Decision> {
    use std::io::Write as _;
    let package = concat!(env!("CARGO_MANIFEST_DIR"), "/../../emulator");
    let python = std::env::var("TRAILHEAD_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = std::process::Command::new(&python)
        .args(["-m", "trailhead_emulator.policy_cli"])
        .env("PYTHONPATH", package)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {python} (the emulator's evaluator needs Python 3): {e}")
        });
    let mut stdin = child.stdin.take().expect("stdin");
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("the evaluator ran");
    writer.join().expect("writer").expect("requests written");
    assert!(out.status.success(), "the emulator's evaluator failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| match l {
            "Allow" => Decision::Allow,
            "Deny" => Decision::ExplicitDeny,
            "NotApplicable" => Decision::ImplicitDeny,
            other => panic!("unexpected decision {other}"),
        })
        .collect()
}

/// One statement per condition operator either evaluator knows, so that random requests reach
/// every operator with the key present, absent, matching and not.
fn operator_policy() -> PolicyDocument {
    let operators = [
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Bool",
        "Null",
    ];
    let mut statements = Vec::new();
    for (i, op) in operators.iter().enumerate() {
        for suffix in ["", "IfExists"] {
            if *op == "Null" && !suffix.is_empty() {
                continue;
            }
            let (key, value) = match *op {
                "Bool" => ("aws:SecureTransport", "true".to_string()),
                "Null" => ("aws:SourceArn", "false".to_string()),
                _ => ("aws:SourceArn", trail(M1).replace("eu-west-1", "*")),
            };
            let effect = if i % 2 == 0 {
                Effect::Allow
            } else {
                Effect::Deny
            };
            statements.push(
                Statement::new(&format!("Op{i}{suffix}"), effect)
                    .principal(Principal::Any)
                    .actions(&[format!("s3:Op{i}{suffix}")])
                    .resources(&["*"])
                    .when(&format!("{op}{suffix}"), key, &[value]),
            );
        }
    }
    PolicyDocument::new(statements)
}

#[test]
fn the_emulators_evaluator_agrees_on_the_matrix_and_on_random_requests() {
    let mut policies = matrix_policies();
    policies.push(("operators", operator_policy()));
    let mut cases: Vec<(String, &PolicyDocument, Request)> = matrix_rows()
        .into_iter()
        .map(|r| {
            (
                r.name.to_string(),
                policy_named(&policies, r.policy),
                r.request,
            )
        })
        .collect();
    for (i, (policy, request)) in random_requests(&policies, 3000).into_iter().enumerate() {
        cases.push((
            format!("random #{i} on {}", policies[policy].0),
            &policies[policy].1,
            request,
        ));
    }
    let lines: Vec<serde_json::Value> = cases.iter().map(|(_, p, r)| request_json(p, r)).collect();
    let theirs = python_decisions(&lines);
    assert_eq!(theirs.len(), cases.len());
    let mut disagreements = Vec::new();
    let mut allowed = 0;
    for ((name, policy, request), their) in cases.iter().zip(&theirs) {
        let ours = evaluate(policy, request);
        allowed += usize::from(ours == Decision::Allow);
        if ours != *their {
            disagreements.push(format!("{name}: trailhead {ours:?}, emulator {their:?}"));
        }
    }
    // Random requests that never allow would prove little.
    assert!(allowed > 50, "only {allowed} of the requests were allowed");
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn athena_results_are_written_only_by_the_query_account_through_s3() {
    use Decision::{Allow, ExplicitDeny, ImplicitDeny};
    let results = "acme-archive-athena";
    let mut input = inputs(&[LA, SEC, M1]);
    input.athena = Some(trailhead_policies::AthenaGrant {
        results_bucket: results.into(),
        query_account: SEC.into(),
    });
    let key = key_policy(&input, DeputyMode::SourceArn);
    let result_object = format!("arn:aws:s3:::{results}/query/1.csv");
    let encrypt = |account: &str, context: &str| {
        user(account, Some(ORG), "kms:GenerateDataKey", "*")
            .with("kms:ViaService", "s3.eu-west-1.amazonaws.com")
            .with("kms:EncryptionContext:aws:s3:arn", context)
    };
    assert_eq!(evaluate(&key, &encrypt(SEC, &result_object)), Allow);
    // Another account, the archive bucket's context, or a call outside S3: no grant.
    assert_eq!(evaluate(&key, &encrypt(M1, &result_object)), ImplicitDeny);
    assert_eq!(evaluate(&key, &encrypt(SEC, &object(M1))), ImplicitDeny);
    let direct = without(encrypt(SEC, &result_object), "kms:ViaService");
    assert_eq!(evaluate(&key, &direct), ImplicitDeny);
    // Without [athena], no such statement at all.
    let plain = key_policy(&inputs(&[LA, SEC, M1]), DeputyMode::SourceArn);
    assert_eq!(
        evaluate(&plain, &encrypt(SEC, &result_object)),
        ImplicitDeny
    );

    let bucket = trailhead_policies::athena_results_bucket_policy("aws", results, SEC, ORG);
    let put = |account: &str, org: Option<&str>| user(account, org, "s3:PutObject", &result_object);
    assert_eq!(evaluate(&bucket, &put(SEC, Some(ORG))), Allow);
    assert_eq!(evaluate(&bucket, &put(M1, Some(ORG))), ImplicitDeny);
    assert_eq!(evaluate(&bucket, &put(SEC, Some("o-other"))), ExplicitDeny);
    let plain_http = replace(put(SEC, Some(ORG)), "aws:SecureTransport", "false");
    assert_eq!(evaluate(&bucket, &plain_http), ExplicitDeny);
}

/// The central delivery topic names each account's trail by aws:SourceArn: some 550 accounts fit
/// SNS's 30 KB; more do not (the rollout then says to use a topic per account).
#[test]
fn the_central_topic_names_every_trail_within_snss_limit() {
    let topic = "arn:aws:sns:eu-west-1:333333333333:deliveries";
    let policy_of = |n: usize| {
        let accounts = (0..n)
            .map(|i| format!("{:012}", 100_000_000_000u64 + i as u64))
            .collect();
        cloudtrail_topic_policy(
            "aws",
            SEC,
            topic,
            &TopicPublishers::OrgTrails {
                trail_name: "org-audit".into(),
                accounts,
            },
        )
    };
    assert!(check_budget(PolicyKind::TopicPolicy, &policy_of(500)).is_ok());
    assert!(check_budget(PolicyKind::TopicPolicy, &policy_of(700)).is_err());
    let one = policy_of(1);
    let publish = Request::new(
        RequestPrincipal::Service("cloudtrail.amazonaws.com".into()),
        "sns:Publish",
        topic,
    );
    let ours = publish.clone().with(
        "aws:SourceArn",
        "arn:aws:cloudtrail:eu-west-1:100000000000:trail/org-audit",
    );
    let outsider = publish.with(
        "aws:SourceArn",
        "arn:aws:cloudtrail:eu-west-1:999999999999:trail/org-audit",
    );
    assert_eq!(evaluate(&one, &ours), Decision::Allow);
    assert_eq!(evaluate(&one, &outsider), Decision::ImplicitDeny);
}
