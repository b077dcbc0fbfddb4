//! The member stage: every step of one member account, in dependency order, each through the
//! one step runner; independent steps run together.

use trailhead_alarms::catalog::Control;

use crate::core::RunCtx;
use crate::core::error::ProvisionError;
use crate::core::session::AccountSession;
use crate::core::step::{Done, Steps};
use crate::plan::StepReport;
use crate::resources::desired::{
    Desired, STEP_ALARMS, STEP_DELIVERY_TOPIC, STEP_FILTERS, STEP_LOG_GROUP, STEP_LOG_GROUP_KEY,
    STEP_ROLE, STEP_TOPIC, STEP_TRAIL,
};
use crate::resources::{log_group, monitoring, role, topic, trail};

/// Every step of one member account. Independent steps run together; the trail waits for its
/// role and log group, the alarms for their topic.
pub async fn run_account(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
    steps: Steps<'_>,
) -> Result<Vec<StepReport>, ProvisionError> {
    // Each step starts as soon as what it needs exists: the alarms need only their topic, the
    // filters their log group, the trail its role, log group and delivery topic. The alarms,
    // held to CloudWatch's few puts a second, are the longest chain, so nothing else delays
    // their start.
    let (alarm_chain, rest) = tokio::join!(
        async {
            let t = steps
                .step(STEP_TOPIC, session, |s| async move {
                    topic::ensure_topic(&s, d, apply).await
                })
                .await?;
            let al = steps
                .step(STEP_ALARMS, session, |s| async move {
                    monitoring::ensure_alarms(&s, d, apply).await
                })
                .await?;
            Ok::<_, ProvisionError>((t, al))
        },
        trail_and_filter_chain(session, d, apply, steps),
    );
    let ((r, k, g, dt, tr, fl), (t, al)) = (rest?, alarm_chain?);
    let mut reports = vec![r];
    reports.extend(k);
    reports.extend([g, t]);
    reports.extend(dt);
    reports.extend([tr, fl, al]);
    Ok(reports)
}

pub(super) type TrailChain = (
    StepReport,
    Option<StepReport>,
    StepReport,
    Option<StepReport>,
    StepReport,
    StepReport,
);

/// Role, log group (with its key) and delivery topic together; then the trail, which needs all
/// three, beside the filters, which need the log group.
pub(super) async fn trail_and_filter_chain(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
    steps: Steps<'_>,
) -> Result<TrailChain, ProvisionError> {
    let own_delivery_topic = d.delivery_topic.as_ref().is_some_and(|t| !t.central);
    let (r, kg, dt) = tokio::join!(
        steps.step(STEP_ROLE, session, |s| async move {
            role::ensure_role(&s, d, apply).await
        }),
        log_group_steps(session, d, apply, steps),
        async {
            if !own_delivery_topic {
                return Ok(None);
            }
            steps
                .step(STEP_DELIVERY_TOPIC, session, |s| async move {
                    topic::ensure_delivery_topic(&s, d, apply).await
                })
                .await
                .map(Some)
        },
    );
    let (r, (k, g), dt) = (r?, kg?, dt?);
    let (tr, fl) = tokio::join!(
        async {
            let run = steps.run(STEP_TRAIL, session, |s| async move {
                trail::ensure_trail(&s, d, apply).await
            });
            run.await.map(|(report, ())| report)
        },
        steps.step(STEP_FILTERS, session, |s| async move {
            monitoring::ensure_filters(&s, d, apply).await
        }),
    );
    Ok((r, k, g, dt, tr?, fl?))
}

/// The group's key (when the spec encrypts the group), then the group under it.
pub(super) async fn log_group_steps(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
    steps: Steps<'_>,
) -> Result<(Option<StepReport>, StepReport), ProvisionError> {
    let (key, key_arn) = match d.log_group_kms_alias {
        Some(_) => {
            let converge = |s| async move {
                let (action, diff, arn) = log_group::ensure_log_group_key(&s, d, apply).await?;
                Ok(Done::with(action, diff, arn))
            };
            let (report, arn) = steps.run(STEP_LOG_GROUP_KEY, session, converge).await?;
            (Some(report), arn)
        }
        None => (None, None),
    };
    let key_arn = key_arn.as_deref();
    let group = steps
        .step(STEP_LOG_GROUP, session, |s| async move {
            log_group::ensure_log_group(&s, d, key_arn, apply).await
        })
        .await?;
    Ok((key, group))
}

/// The controls the spec deploys, each pattern already checked.
pub fn controls(ctx: &RunCtx) -> Result<Vec<Control>, ProvisionError> {
    let c = trailhead_alarms::deployed::for_spec(&ctx.spec.alarms);
    monitoring::checked(&c)?;
    Ok(c)
}
