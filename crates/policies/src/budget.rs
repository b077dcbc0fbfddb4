//! Policy size limits, measured as AWS measures them (without whitespace) and checked before any
//! call, so that an oversized policy never gets half-applied.

use crate::PolicyDocument;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    BucketPolicy,
    KeyPolicy,
    RoleInlinePolicy,
    RoleTrustPolicy,
    TopicPolicy,
}

impl PolicyKind {
    pub fn limit(self) -> usize {
        match self {
            PolicyKind::BucketPolicy => 20 * 1024,
            PolicyKind::KeyPolicy => 32 * 1024,
            PolicyKind::RoleInlinePolicy => 10 * 1024,
            PolicyKind::RoleTrustPolicy => 2 * 1024,
            PolicyKind::TopicPolicy => 30 * 1024,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::BucketPolicy => "bucket policy",
            PolicyKind::KeyPolicy => "key policy",
            PolicyKind::RoleInlinePolicy => "role inline policy",
            PolicyKind::RoleTrustPolicy => "role trust policy",
            PolicyKind::TopicPolicy => "topic policy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {} is {size} bytes; AWS allows {limit}", kind.name())]
pub struct BudgetError {
    pub kind: PolicyKind,
    pub size: usize,
    pub limit: usize,
}

/// Characters of the document once whitespace outside strings is removed.
pub fn minified_size(doc: &PolicyDocument) -> usize {
    doc.to_json().len()
}

pub fn check_budget(kind: PolicyKind, doc: &PolicyDocument) -> Result<usize, BudgetError> {
    let size = minified_size(doc);
    if size > kind.limit() {
        Err(BudgetError {
            kind,
            size,
            limit: kind.limit(),
        })
    } else {
        Ok(size)
    }
}
