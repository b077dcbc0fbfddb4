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

fn inputs(accounts: &[&str]) -> ArchiveInputs {
    ArchiveInputs {
        partition: "aws".into(),
        bucket: BUCKET.into(),
        org_id: ORG.into(),
        log_archive_account: LA.into(),
        security_account: Some(SEC.into()),
        trail_name: "org-audit".into(),
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

#[test]
fn least_privilege_matrix() {
    use Decision::{Allow, ExplicitDeny as Deny, ImplicitDeny as NoGrant};
    let accounts = [LA, SEC, M1, M2];
    let input = inputs(&accounts);
    assert_eq!(input.choose_mode(), DeputyMode::SourceArn);
    let bucket = archive_bucket_policy(&input, DeputyMode::SourceArn);
    let bucket_org = archive_bucket_policy(&input, DeputyMode::SourceOrgId);
    let key = key_policy(&input, DeputyMode::SourceArn);
    let key_org = key_policy(&input, DeputyMode::SourceOrgId);
    let access_logs = access_log_bucket_policy("aws", "acme-access-logs", BUCKET, LA);
    let trust = cloudtrail_logs_role_trust(
        "aws",
        M1,
        &TrailRef {
            account: M1.into(),
            region: REGION.into(),
            name: "org-audit".into(),
        },
    );
    let inline = cloudtrail_logs_role_policy("aws", M1, REGION, "/trailhead/cloudtrail");
    let topic_arn = format!("arn:aws:sns:{REGION}:{M1}:cis-alarms");
    let topic = sns_topic_policy("aws", M1, REGION, &topic_arn);
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

    let rows = vec![
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
            "CloudTrail may not decrypt",
            "key",
            gen_key(M1).with("x", "y").clone_action("kms:Decrypt"),
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
            "our trail assumes the CloudWatch Logs role",
            "trust",
            cloudtrail("sts:AssumeRole", "")
                .with("aws:SourceAccount", M1)
                .with("aws:SourceArn", &trail(M1)),
            Allow,
        ),
        row(
            "another account's trail assumes the role",
            "trust",
            cloudtrail("sts:AssumeRole", "")
                .with("aws:SourceAccount", M2)
                .with("aws:SourceArn", &trail(M2)),
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
    ];
    assert!(rows.len() >= 30);
    let mut wrong = Vec::new();
    for r in &rows {
        let policy = match r.policy {
            "bucket" => &bucket,
            "bucket_org" => &bucket_org,
            "key" => &key,
            "key_org" => &key_org,
            "access_logs" => &access_logs,
            "trust" => &trust,
            "inline" => &inline,
            "topic" => &topic,
            other => panic!("unknown policy {other}"),
        };
        let got = evaluate(policy, &r.request);
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
            DeputyMode::SourceOrgId
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
