//! Naming and value rules of the AWS services trailhead configures. Each check returns the
//! reason a value is refused, in words a user can act on.

/// Every region code AWS publishes for the partitions trailhead supports.
pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// The Regions AWS disables in every account until the account enables them (launched after
/// 20 March 2019; docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html).
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// Retention values CloudWatch Logs accepts for `PutRetentionPolicy`.
pub const LOG_RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub fn region(s: &str) -> Result<(), String> {
    if s.starts_with("us-iso") || s.starts_with("eu-iso") {
        return Err(format!(
            "`{s}` is in an isolated (aws-iso*) partition, which trailhead does not support: its endpoints, service principals and CloudTrail features differ"
        ));
    }
    if REGIONS.contains(&s) {
        Ok(())
    } else {
        Err(format!("`{s}` is not an AWS region code"))
    }
}

pub fn log_retention(days: i64) -> Result<(), String> {
    if LOG_RETENTION_DAYS.iter().any(|d| i64::from(*d) == days) {
        Ok(())
    } else {
        Err(format!("{days} is not a retention CloudWatch Logs accepts"))
    }
}

/// S3 general purpose bucket naming rules.
pub fn bucket_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(3..=63).contains(&len) {
        return Err(format!(
            "bucket name `{name}` is {len} characters; S3 needs 3 to 63"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(format!(
            "bucket name `{name}` has `{c}`; S3 allows lowercase letters, digits, `.` and `-`"
        ));
    }
    let first = name.as_bytes()[0];
    let last = name.as_bytes()[len - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err(format!(
            "bucket name `{name}` must begin and end with a letter or digit"
        ));
    }
    if name.contains("..") {
        return Err(format!("bucket name `{name}` has two adjacent periods"));
    }
    if looks_like_ipv4(name) {
        return Err(format!(
            "bucket name `{name}` is formatted as an IP address"
        ));
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return Err(format!(
                "bucket name `{name}` starts with the reserved prefix `{prefix}`"
            ));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return Err(format!(
                "bucket name `{name}` ends with the reserved suffix `{suffix}`"
            ));
        }
    }
    Ok(())
}

fn looks_like_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// CloudTrail trail naming rules.
pub fn trail_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(3..=128).contains(&len) {
        return Err(format!(
            "trail name `{name}` is {len} characters; CloudTrail needs 3 to 128"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "trail name `{name}` has `{c}`; CloudTrail allows letters, digits, `.`, `_` and `-`"
        ));
    }
    let bytes = name.as_bytes();
    if !bytes[0].is_ascii_alphanumeric() || !bytes[len - 1].is_ascii_alphanumeric() {
        return Err(format!(
            "trail name `{name}` must begin and end with a letter or digit"
        ));
    }
    if bytes
        .windows(2)
        .any(|w| matches!(w[0], b'.' | b'_' | b'-') && matches!(w[1], b'.' | b'_' | b'-'))
    {
        return Err(format!(
            "trail name `{name}` has adjacent `.`, `_` or `-` characters (like `my-_trail`)"
        ));
    }
    if looks_like_ipv4(name) {
        return Err(format!("trail name `{name}` is formatted as an IP address"));
    }
    Ok(())
}

pub fn kms_alias(alias: &str) -> Result<(), String> {
    let Some(rest) = alias.strip_prefix("alias/") else {
        return Err(format!("KMS alias `{alias}` must start with `alias/`"));
    };
    if rest.starts_with("aws/") || rest == "aws" {
        return Err(format!(
            "KMS alias `{alias}` is under `alias/aws/`, which AWS reserves for its managed keys"
        ));
    }
    if rest.is_empty() || alias.chars().count() > 256 {
        return Err(format!(
            "KMS alias `{alias}` needs a name after `alias/` of at most 250 characters"
        ));
    }
    if let Some(c) = rest
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-')))
    {
        return Err(format!(
            "KMS alias `{alias}` has `{c}`; aliases allow letters, digits, `/`, `_` and `-`"
        ));
    }
    Ok(())
}

/// A pragmatic email check: what Organizations and SNS would refuse outright.
pub fn email(s: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "`{s}` is not an email address (expected name@domain.tld)"
        ))
    };
    if s.chars().count() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    let Some((local, domain)) = s.split_once('@') else {
        return bad();
    };
    if local.is_empty() || local.chars().count() > 64 || domain.contains('@') {
        return bad();
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels.iter().any(|l| {
            l.is_empty()
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    {
        return bad();
    }
    Ok(())
}

/// IAM role names: 1 to 64 of letters, digits and `+=,.@_-`.
pub fn role_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.chars().count() > 64 {
        return Err(format!("role name `{s}` must be 1 to 64 characters"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
    {
        return Err(format!(
            "role name `{s}` has `{c}`; IAM allows letters, digits and `+=,.@_-`"
        ));
    }
    Ok(())
}

/// STS ExternalId: 2 to 1224 of letters, digits and `+=,.@:/-_`. The value itself is never
/// echoed back in the message, since some teams treat it as a shared secret.
pub fn external_id(s: &str) -> Result<(), String> {
    if !(2..=1224).contains(&s.chars().count()) {
        return Err("external_id must be 2 to 1224 characters".to_string());
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c))
    {
        return Err("external_id may only hold letters, digits and `+=,.@:/-_`".to_string());
    }
    Ok(())
}

/// CreateAccount's AccountName: 1 to 50 printable ASCII characters.
pub fn new_account_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.chars().count() > 50 {
        return Err(format!(
            "account name `{s}` must be 1 to 50 characters for CreateAccount"
        ));
    }
    if let Some(c) = s.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!(
            "account name `{s}` has `{c}`; CreateAccount allows printable ASCII only"
        ));
    }
    Ok(())
}

/// CreateAccount's Email: 6 to 64 characters.
pub fn new_account_email(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if !(6..=64).contains(&n) {
        return Err(format!(
            "email `{s}` has {n} characters; CreateAccount accepts 6 to 64"
        ));
    }
    Ok(())
}

pub fn log_group_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.chars().count() > 512 {
        return Err(format!("log group name `{s}` must be 1 to 512 characters"));
    }
    if s.starts_with("aws/") {
        return Err(format!(
            "log group name `{s}` starts with `aws/`, which CloudWatch Logs reserves for AWS services (a leading `/aws/` is allowed)"
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-/#".contains(*c)))
    {
        return Err(format!(
            "log group name `{s}` has `{c}`; CloudWatch Logs allows letters, digits and `._-/#`"
        ));
    }
    Ok(())
}

pub fn sns_topic_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.chars().count() > 256 {
        return Err(format!("topic name `{s}` must be 1 to 256 characters"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-".contains(*c)))
    {
        return Err(format!(
            "topic name `{s}` has `{c}`; SNS allows letters, digits, `_` and `-`"
        ));
    }
    Ok(())
}

/// Organizations OU ids (`ou-xxxx-xxxxxxxx`) or the root id (`r-xxxx`).
pub fn ou_id(s: &str) -> Result<(), String> {
    let ok = if let Some(rest) = s.strip_prefix("ou-") {
        match rest.split_once('-') {
            Some((root, ou)) => {
                (4..=32).contains(&root.len())
                    && (8..=32).contains(&ou.len())
                    && root
                        .chars()
                        .chain(ou.chars())
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            }
            None => false,
        }
    } else if let Some(rest) = s.strip_prefix("r-") {
        (4..=32).contains(&rest.len())
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an Organizations OU id (`ou-abcd-12345678`) or root id (`r-abcd`)"
        ))
    }
}

/// The closest candidate to `word`, if any is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod partition_regions_tests {
    use super::*;

    #[test]
    fn a_partition_lists_its_own_regions_only() {
        let aws = regions_of_partition("eu-west-1");
        assert!(aws.contains(&"us-east-1".to_string()));
        assert!(aws.contains(&"ap-southeast-2".to_string()));
        assert!(
            !aws.iter()
                .any(|r| r.starts_with("cn-") || r.starts_with("us-gov-"))
        );
        assert_eq!(
            regions_of_partition("cn-north-1"),
            ["cn-north-1", "cn-northwest-1"]
        );
    }
}

/// The partition of a region, for the ARNs the spec's values are compared against.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The DNS suffix of a partition's service endpoints: what `kms:ViaService` values end with
/// (`s3.cn-north-1.amazonaws.com.cn` in China). Service principals keep `amazonaws.com`.
pub fn dns_suffix(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    }
}

/// `kms:ViaService` of S3 in every region of `partition`.
pub fn s3_via_service(partition: &str) -> String {
    format!("s3.*.{}", dns_suffix(partition))
}

/// Every region of `region`'s partition, in [`REGIONS`]' order.
pub fn regions_of_partition(region: &str) -> Vec<String> {
    let partition = partition_of(region);
    REGIONS
        .iter()
        .filter(|r| partition_of(r) == partition)
        .map(|r| r.to_string())
        .collect()
}

/// A trail holds at most 500 values across its advanced event selectors (CloudTrail quotas);
/// the management, S3 and Lambda selectors with their exclusions use about a dozen.
pub const MAX_DATA_EVENT_ARNS: usize = 450;

/// An S3 data-event scope: `arn:<partition>:s3:::<bucket>/` or a longer object prefix.
pub fn s3_data_event_arn(s: &str) -> Result<(), String> {
    let rest = ["aws", "aws-cn", "aws-us-gov"]
        .iter()
        .find_map(|p| s.strip_prefix(&format!("arn:{p}:s3:::")));
    let Some(rest) = rest else {
        return Err(format!(
            "`{s}` is not an S3 object ARN prefix (it must start with `arn:aws:s3:::`)"
        ));
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    if bucket.is_empty() {
        return Err(format!("`{s}` names no bucket"));
    }
    if !rest.contains('/') {
        return Err(format!(
            "`{s}` has no `/` after the bucket name, so it would also match every bucket whose name starts with `{bucket}`"
        ));
    }
    Ok(())
}

/// What every object ARN of the archive bucket, and of its access-log bucket, starts with: the
/// expanded bucket name, cut before `{account_id}` when the account is still to be created.
pub fn archive_object_arn_prefix(org: &crate::Org, archive: &crate::LogArchive) -> String {
    let account = match &archive.account {
        crate::LogArchiveAccount::Existing(id) => id.to_string(),
        crate::LogArchiveAccount::Create { .. } => "{account_id}".to_string(),
    };
    let bucket = archive.bucket_name(org, &account);
    let known = bucket.split("{account_id}").next().unwrap_or_default();
    format!("arn:{}:s3:::{known}", partition_of(&org.home_region))
}

/// A listed data-event prefix must not reach the archive's objects.
pub fn outside_archive(listed: &str, archive_prefix: &str) -> Result<(), String> {
    let base_len = archive_prefix.find(":::").map_or(0, |i| i + 3);
    let reaches = archive_prefix.starts_with(listed)
        || (archive_prefix.len() > base_len && listed.starts_with(archive_prefix));
    if reaches {
        return Err(format!(
            "`{listed}` reaches the log archive's own bucket ({archive_prefix}…)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_rules() {
        assert!(bucket_name("acme-cloudtrail-123456789012").is_ok());
        assert!(bucket_name("ab").is_err());
        assert!(bucket_name(&"a".repeat(64)).is_err());
        assert!(bucket_name("Acme").is_err());
        assert!(bucket_name("a..b").is_err());
        assert!(bucket_name("192.168.5.4").is_err());
        assert!(bucket_name("xn--bucket").is_err());
        assert!(bucket_name("bucket-s3alias").is_err());
        assert!(bucket_name("-bucket").is_err());
        assert!(bucket_name("bucket_1").is_err());
    }

    #[test]
    fn trail_rules() {
        assert!(trail_name("org-audit").is_ok());
        assert!(trail_name("my-_trail").is_err());
        assert!(trail_name("ab").is_err());
        assert!(trail_name("_trail").is_err());
        assert!(trail_name("trail name").is_err());
        assert!(trail_name("10.0.0.1").is_err());
    }

    #[test]
    fn alias_rules() {
        assert!(kms_alias("alias/trailhead").is_ok());
        assert!(kms_alias("trailhead").is_err());
        assert!(kms_alias("alias/aws/s3").is_err());
        assert!(kms_alias("alias/").is_err());
        assert!(kms_alias("alias/bad name").is_err());
    }

    #[test]
    fn email_rules() {
        assert!(email("secops@example.com").is_ok());
        assert!(email("aws+log@corp.example.co.uk").is_ok());
        assert!(email("secops.example.com").is_err());
        assert!(email("a@b").is_err());
        assert!(email("a b@example.com").is_err());
        assert!(email("a@@example.com").is_err());
        assert!(email("@example.com").is_err());
    }

    #[test]
    fn region_and_retention() {
        assert!(region("eu-west-1").is_ok());
        assert!(region("eu-west-9").is_err());
        assert!(region("EU-WEST-1").is_err());
        assert!(log_retention(365).is_ok());
        assert!(log_retention(366).is_err());
    }

    #[test]
    fn names_and_ids() {
        assert!(role_name("OrganizationAccountAccessRole").is_ok());
        assert!(role_name("bad role").is_err());
        assert!(external_id("x").is_err());
        assert!(external_id("abc-123").is_ok());
        assert!(ou_id("ou-ab12-abcdefgh").is_ok());
        assert!(ou_id("r-ab12").is_ok());
        assert!(ou_id("Workloads").is_err());
        assert!(log_group_name("/trailhead/cloudtrail").is_ok());
        assert!(log_group_name("bad group").is_err());
        assert!(sns_topic_name("cis-alarms").is_ok());
        assert!(sns_topic_name("cis.alarms").is_err());
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        assert_eq!(
            did_you_mean("home_regoin", ["home_region", "regions"]),
            Some("home_region")
        );
        assert_eq!(did_you_mean("zzz", ["home_region", "regions"]), None);
    }
}
