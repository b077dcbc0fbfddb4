//! What a bucket of the log archive should be (`BucketSpec`) and what it is (`BucketState`):
//! the data that reading, comparing and writing a bucket share.

use trailhead_model::ObjectLock;
use trailhead_policies::PolicyDocument;

pub const LIFECYCLE_RULE_ID: &str = "trailhead-retention";
pub const ABORT_MULTIPART_DAYS: i32 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3: server access logs cannot be delivered to an SSE-KMS bucket.
    S3Managed,
    Kms {
        key_arn: String,
    },
}

/// Our lifecycle rule: expiry of current objects, and of noncurrent versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub expire_days: u32,
    pub noncurrent_days: Option<u32>,
}

/// Everything trailhead sets on one bucket.
#[derive(Debug, Clone)]
pub struct BucketSpec {
    pub name: String,
    pub region: String,
    pub encryption: Encryption,
    /// None: no lifecycle configuration at all (what MFA Delete requires).
    pub lifecycle: Option<Lifecycle>,
    pub versioning: bool,
    pub object_lock: Option<ObjectLock>,
    /// Server access logs go to (bucket, prefix).
    pub logging: Option<(String, String)>,
    pub policy: PolicyDocument,
}

/// Live settings, as far as trailhead manages them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketState {
    pub exists: bool,
    pub versioning: String,
    pub mfa_delete: String,
    pub public_access_block: [bool; 4],
    pub ownership: Option<String>,
    pub encryption: Option<(String, Option<String>, bool)>,
    /// (expiration days, noncurrent days, abort multipart days) of our rule.
    pub lifecycle: Option<(Option<i32>, Option<i32>, Option<i32>)>,
    /// The ids of every lifecycle rule, ours or not.
    pub lifecycle_rules: Vec<String>,
    pub logging: Option<(String, String)>,
    pub policy: Option<String>,
    pub object_lock: Option<(String, Option<i32>)>,
}

impl BucketState {
    /// Lifecycle rules someone else made: they block MFA Delete, and trailhead never deletes them.
    pub fn foreign_lifecycle_rules(&self) -> Vec<&str> {
        self.lifecycle_rules
            .iter()
            .map(String::as_str)
            .filter(|id| *id != LIFECYCLE_RULE_ID)
            .collect()
    }
}

pub fn days(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The archive uses an S3 Bucket Key: it cuts KMS requests (and their cost) by orders of
/// magnitude, at the price of `kms:Decrypt` for CloudTrail in the key policy.
pub fn bucket_key(spec: &BucketSpec) -> bool {
    matches!(spec.encryption, Encryption::Kms { .. })
}
