//! One account, judged: its trail and bucket controls and its monitoring controls.

use trailhead_alarms::catalog::Control;

use super::archive::{archive_controls, bucket_controls};
use super::cloudwatch::cloudwatch_controls;
use super::evidence::result;
use super::monitoring::monitoring_controls;
use super::trail::{
    TRAIL_CONTROLS, data_event_control_ids, data_event_controls, log_group_key_control,
    trail_controls,
};
use super::{ControlResult, Verdict};
use crate::core::RunCtx;
use crate::core::error::CallSite;
use crate::core::session::AccountSession;
use crate::resources::bucket::BucketState;
use crate::resources::trail::read_trail;

/// What every account's verification reads from the log-archive account, read once.
pub(super) struct Shared {
    pub(super) controls: Vec<Control>,
    pub(super) bucket: String,
    pub(super) archive: BucketState,
    pub(super) key_arn: Option<String>,
    pub(super) rotation: Option<bool>,
    pub(super) archive_s3: aws_sdk_s3::Client,
    pub(super) log_archive: String,
}

/// Every control of one account, with evidence.
pub(super) async fn verify_account(
    ctx: &RunCtx,
    shared: &Shared,
    id: &str,
    drift: Vec<String>,
) -> Vec<ControlResult> {
    let home = &ctx.spec.org.home_region;
    let session = ctx.assume(id, home).await;
    let site = CallSite::new(id, home, "verify");
    let mut out = trail_and_bucket_controls(ctx, shared, &session, &site).await;
    out.extend(monitoring_controls(ctx, &shared.controls, &session, &site).await);
    out.extend(cloudwatch_controls(ctx, &session, &site).await);
    if let Some(alias) = &ctx.spec.trail.log_group_kms_alias {
        let group = &ctx.spec.trail.log_group_name;
        out.push(log_group_key_control(group, alias, &session, &site).await);
    }
    if id == shared.log_archive {
        out.extend(archive_controls(
            ctx,
            &shared.bucket,
            &shared.archive,
            shared.key_arn.as_deref(),
            shared.rotation,
        ));
    }
    out.push(if drift.is_empty() {
        result("Drift", Verdict::Pass, "live state matches the spec")
    } else {
        result("Drift", Verdict::Fail, drift.join("; "))
    });
    out
}

pub(super) async fn trail_and_bucket_controls(
    ctx: &RunCtx,
    shared: &Shared,
    session: &AccountSession,
    site: &CallSite,
) -> Vec<ControlResult> {
    let bucket = &shared.bucket;
    let trail = match read_trail(session, site, &ctx.spec.trail.name).await {
        Ok(trail) => trail,
        Err(e) => {
            return TRAIL_CONTROLS
                .into_iter()
                .chain(data_event_control_ids(&ctx.spec.trail.data_events))
                .map(|id| result(id, Verdict::Unknown, e.to_string()))
                .collect();
        }
    };
    let delivered = crate::reading::delivered::newest_log_file(
        &shared.archive_s3,
        site,
        bucket,
        &site.account,
        &ctx.spec.org.home_region,
        None,
    )
    .await
    .map_err(|e| e.to_string());
    let mut out = trail_controls(&trail, &ctx.spec.trail.name, &delivered);
    out.extend(data_event_controls(&trail, &ctx.spec.trail.data_events));
    let trail_bucket = trail.bucket.clone().unwrap_or_default();
    if trail_bucket == *bucket {
        out.extend(bucket_controls(bucket, &shared.archive));
    } else {
        let why = format!("the trail delivers to {trail_bucket}, not the archive bucket {bucket}");
        out.push(result("CloudTrail.6", Verdict::Unknown, why.clone()));
        out.push(result("CloudTrail.7", Verdict::Unknown, why));
    }
    out
}
