//! Organization trails made outside trailhead (Control Tower's, or one made by hand): found in the
//! management account, where they live, and reported with where they deliver, what they already
//! record for every member account, and what a second copy of those events costs. With
//! `[trail] organization_trail = "skip-covered"` the accounts they cover are left out.

use trailhead_cost::PriceTable;
use trailhead_cost::changes;
use trailhead_model::{OrganizationTrailMode, TargetAccount};

use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::core::targets::SkippedAccount;

pub const STEP_ORG_TRAIL: &str = "organization trail";

/// CloudTrail's pricing page: the first copy of management events is free, each further copy is
/// charged per 100,000 events.
pub const PRICING: &str = "aws.amazon.com/cloudtrail/pricing";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgTrail {
    pub arn: String,
    pub home_region: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub kms_key: Option<String>,
    pub multi_region: bool,
    pub logging: bool,
}

impl OrgTrail {
    /// Whether it records every member account's management events in every region, so that a
    /// per-account trail would be a second copy.
    pub fn covers_members(&self) -> bool {
        self.multi_region && self.logging
    }

    fn destination(&self) -> String {
        let prefix = self
            .prefix
            .as_deref()
            .map_or(String::new(), |p| format!("{p}/"));
        let key = self
            .kms_key
            .as_deref()
            .map_or("without a KMS key".to_string(), |k| format!("under {k}"));
        format!("s3://{}/{prefix}AWSLogs/ {key}", self.bucket)
    }

    /// What plan, preflight and the rollout say about it, with the monthly difference of the
    /// choice: a second copy of the covered accounts' management events, or none.
    pub fn describe(&self, mode: OrganizationTrailMode) -> String {
        let coverage = if self.covers_members() {
            "every member account's management events are already recorded there, in every region"
        } else if !self.logging {
            "it is not logging, so it records nothing now"
        } else {
            "it covers its home region only"
        };
        let copy = "a per-account trail records a second copy of those management events, charged per 100,000 events (the first copy is free; see ".to_string()
            + PRICING
            + ")";
        let prices = PriceTable::pinned(&self.home_region);
        let per_account = format!("${:.2}", changes::second_copy(&prices, &changes::STATED));
        let choice = match (mode, self.covers_members()) {
            (OrganizationTrailMode::KeepPerAccount, true) => format!(
                "per-account trails are made anyway (their CIS alarms need a log group in each account): cost: about {per_account} a month per covered account {}; set [trail] organization_trail = \"skip-covered\" to leave covered accounts out and save it",
                changes::stated_basis()
            ),
            (OrganizationTrailMode::KeepPerAccount, false) => "per-account trails are made anyway (their CIS alarms need a log group in each account); set [trail] organization_trail = \"skip-covered\" to leave covered accounts out".to_string(),
            (OrganizationTrailMode::SkipCovered, true) => format!(
                "accounts it covers are skipped ([trail] organization_trail = \"skip-covered\"): cost: no second copy, about {per_account} a month saved per covered account {}",
                changes::stated_basis()
            ),
            (OrganizationTrailMode::SkipCovered, false) => {
                "accounts it covers are skipped ([trail] organization_trail = \"skip-covered\")".to_string()
            }
        };
        format!(
            "organization trail {} (home {}) delivers to {}; {coverage}; {copy}; {choice}",
            self.arn,
            self.home_region,
            self.destination()
        )
    }
}

/// The organization trails the management account holds, each read once (its home region).
pub async fn find_org_trails(management: &AccountSession) -> Result<Vec<OrgTrail>, ProvisionError> {
    let site = CallSite::new(&management.account_id, &management.region, STEP_ORG_TRAIL);
    let ct = management.cloudtrail();
    let listed = ct
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| site.error("DescribeTrails", e))?;
    let mut found = Vec::new();
    for t in listed.trail_list() {
        if !t.is_organization_trail().unwrap_or(false) {
            continue;
        }
        let Some(arn) = t.trail_arn() else { continue };
        if found.iter().any(|f: &OrgTrail| f.arn == arn) {
            continue;
        }
        let home = t.home_region().unwrap_or(&management.region).to_string();
        let status = ct
            .get_trail_status()
            .name(arn)
            .send()
            .await
            .map_err(|e| site.error("GetTrailStatus", e))?;
        found.push(OrgTrail {
            arn: arn.to_string(),
            home_region: home,
            bucket: site
                .require(t.s3_bucket_name(), "DescribeTrails", "S3BucketName")?
                .to_string(),
            prefix: t.s3_key_prefix().map(str::to_string),
            kms_key: t.kms_key_id().map(str::to_string),
            multi_region: t.is_multi_region_trail().unwrap_or(false),
            logging: status.is_logging().unwrap_or(false),
        });
    }
    Ok(found)
}

/// Splits `targets` into the accounts to configure and those an organization trail covers
/// already, when the spec asks to skip those.
pub fn skip_covered(
    targets: Vec<TargetAccount>,
    trails: &[OrgTrail],
    mode: OrganizationTrailMode,
) -> (Vec<TargetAccount>, Vec<SkippedAccount>) {
    let covering = trails.iter().find(|t| t.covers_members());
    match (mode, covering) {
        (OrganizationTrailMode::SkipCovered, Some(trail)) => {
            let skipped = targets
                .into_iter()
                .map(|t| SkippedAccount {
                    id: t.id.to_string(),
                    name: t.name.clone(),
                    reason: format!("covered by the organization trail {}", trail.arn),
                })
                .collect();
            (Vec::new(), skipped)
        }
        _ => (targets, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailhead_model::AccountId;

    fn trail(logging: bool) -> OrgTrail {
        OrgTrail {
            arn: "arn:aws:cloudtrail:us-east-1:111111111111:trail/aws-controltower-BaselineCloudTrail".into(),
            home_region: "us-east-1".into(),
            bucket: "aws-controltower-logs-222222222222-us-east-1".into(),
            prefix: Some("o-abc".into()),
            kms_key: None,
            multi_region: true,
            logging,
        }
    }

    fn target(id: &str) -> TargetAccount {
        TargetAccount {
            id: AccountId::parse(id).expect("id"),
            name: format!("acct-{id}"),
            ous: Vec::new(),
        }
    }

    #[test]
    fn the_report_says_where_it_delivers_what_it_covers_and_what_a_copy_costs() {
        let text = trail(true).describe(OrganizationTrailMode::KeepPerAccount);
        assert!(
            text.contains("s3://aws-controltower-logs-222222222222-us-east-1/o-abc/AWSLogs/"),
            "{text}"
        );
        assert!(text.contains("already recorded there"), "{text}");
        assert!(text.contains("first copy is free"), "{text}");
        assert!(text.contains(PRICING), "{text}");
        assert!(text.contains("skip-covered"), "{text}");
        let idle = trail(false).describe(OrganizationTrailMode::KeepPerAccount);
        assert!(idle.contains("not logging"), "{idle}");
    }

    #[test]
    fn only_skip_covered_with_a_covering_trail_skips_accounts() {
        let targets = vec![target("333333333333"), target("444444444444")];
        let (kept, skipped) = skip_covered(
            targets.clone(),
            &[trail(true)],
            OrganizationTrailMode::KeepPerAccount,
        );
        assert_eq!((kept.len(), skipped.len()), (2, 0));
        let (kept, skipped) = skip_covered(
            targets.clone(),
            &[trail(false)],
            OrganizationTrailMode::SkipCovered,
        );
        assert_eq!((kept.len(), skipped.len()), (2, 0));
        let (kept, skipped) =
            skip_covered(targets, &[trail(true)], OrganizationTrailMode::SkipCovered);
        assert!(kept.is_empty());
        assert_eq!(skipped.len(), 2);
        assert!(
            skipped[0]
                .reason
                .contains("aws-controltower-BaselineCloudTrail")
        );
    }
}
