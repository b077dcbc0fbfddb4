//! Every step of one member account, in dependency order: independent steps run together.

use std::path::Path;

use trailhead_alarms::catalog::{self, Control};

use crate::core::RunCtx;
use crate::core::error::ProvisionError;
use crate::core::session::AccountSession;
use crate::core::step::step;
use crate::events::EventSink;
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
    events: &EventSink,
    journal_file: Option<&Path>,
) -> Result<Vec<StepReport>, ProvisionError> {
    // Each step starts as soon as what it needs exists: the alarms need only their topic, the
    // filters their log group, the trail its role, log group and delivery topic. The alarms,
    // held to CloudWatch's few puts a second, are the longest chain, so nothing else delays
    // their start.
    let (alarm_chain, rest) = tokio::join!(
        async {
            let t = step(STEP_TOPIC, session, events, journal_file, |s| async move {
                topic::ensure_topic(&s, d, apply).await
            })
            .await?;
            let al = step(STEP_ALARMS, session, events, journal_file, |s| async move {
                monitoring::ensure_alarms(&s, d, apply).await
            })
            .await?;
            Ok::<_, ProvisionError>((t, al))
        },
        trail_and_filter_chain(session, d, apply, events, journal_file),
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
    events: &EventSink,
    journal_file: Option<&Path>,
) -> Result<TrailChain, ProvisionError> {
    let own_delivery_topic = d.delivery_topic.as_ref().is_some_and(|t| !t.central);
    let (r, kg, dt) = tokio::join!(
        step(STEP_ROLE, session, events, journal_file, |s| async move {
            role::ensure_role(&s, d, apply).await
        }),
        log_group_steps(session, d, apply, events, journal_file),
        async {
            if !own_delivery_topic {
                return Ok(None);
            }
            step(
                STEP_DELIVERY_TOPIC,
                session,
                events,
                journal_file,
                |s| async move { topic::ensure_delivery_topic(&s, d, apply).await },
            )
            .await
            .map(Some)
        },
    );
    let (r, (k, g), dt) = (r?, kg?, dt?);
    let (tr, fl) = tokio::join!(
        step(STEP_TRAIL, session, events, journal_file, |s| async move {
            trail::ensure_trail(&s, d, apply).await
        }),
        step(
            STEP_FILTERS,
            session,
            events,
            journal_file,
            |s| async move { monitoring::ensure_filters(&s, d, apply).await }
        ),
    );
    Ok((r, k, g, dt, tr?, fl?))
}

/// The group's key (when the spec encrypts the group), then the group under it.
pub(super) async fn log_group_steps(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
    events: &EventSink,
    journal_file: Option<&Path>,
) -> Result<(Option<StepReport>, StepReport), ProvisionError> {
    let key_arn = std::sync::OnceLock::new();
    let key = match d.log_group_kms_alias {
        Some(_) => {
            let key_arn = &key_arn;
            Some(
                step(
                    STEP_LOG_GROUP_KEY,
                    session,
                    events,
                    journal_file,
                    |s| async move {
                        let (action, diff, arn) =
                            log_group::ensure_log_group_key(&s, d, apply).await?;
                        if let Some(arn) = arn {
                            let _ = key_arn.set(arn);
                        }
                        Ok((action, diff))
                    },
                )
                .await?,
            )
        }
        None => None,
    };
    let key_arn = key_arn.get().map(String::as_str);
    let group = step(
        STEP_LOG_GROUP,
        session,
        events,
        journal_file,
        |s| async move { log_group::ensure_log_group(&s, d, key_arn, apply).await },
    )
    .await?;
    Ok((key, group))
}

/// The controls the spec deploys, each pattern already checked.
pub fn controls(ctx: &RunCtx) -> Result<Vec<Control>, ProvisionError> {
    let c = catalog::for_spec(&ctx.spec.alarms);
    monitoring::checked(&c)?;
    Ok(c)
}
