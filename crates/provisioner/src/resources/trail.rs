//! The account's trail: multi-region, global events, log file validation, our key and bucket,
//! CloudWatch Logs delivery, read and write management events, logging.

use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtrail::types::{EventSelector, InsightSelector, InsightType, ReadWriteType, Tag};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::desired::{Desired, STEP_TRAIL};
use super::selectors::{self, Selector};
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::core::step::Done;
use crate::plan::{Action, Diff, shown};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveTrail {
    pub exists: bool,
    pub bucket: Option<String>,
    pub multi_region: bool,
    pub global_events: bool,
    pub validation: bool,
    pub kms_key: Option<String>,
    pub log_group_arn: Option<String>,
    pub role_arn: Option<String>,
    pub sns_topic: Option<String>,
    pub is_logging: bool,
    pub latest_delivery_error: Option<String>,
    pub latest_cwl_delivery_error: Option<String>,
    pub latest_digest_delivery_error: Option<String>,
    /// Whether CloudTrail has ever reported a delivery to the bucket.
    pub delivered: bool,
    /// CloudTrail's last delivery to the log group (LatestCloudWatchLogsDeliveryTime).
    pub cwl_delivered_at: Option<jiff::Timestamp>,
    /// (read/write type, include management events, excluded sources) of each basic selector.
    pub selectors: Vec<(String, bool, Vec<String>)>,
    /// The advanced selectors, when the trail uses them instead of basic ones.
    pub advanced: Vec<Selector>,
    /// Insights types, sorted.
    pub insights: Vec<String>,
}

impl LiveTrail {
    /// The trail's selectors in words, whichever kind it uses.
    pub fn selectors_text(&self) -> String {
        if !self.advanced.is_empty() {
            return selectors::text(&self.advanced);
        }
        basic_selectors_text(&self.selectors)
    }

    /// What the trail records of management events: the read/write kind and the excluded
    /// sources; None when it records none.
    pub fn management_events(&self) -> Option<(String, Vec<String>)> {
        if !self.advanced.is_empty() {
            return selectors::management_of(&self.advanced)
                .map(|(kind, excluded)| (kind.as_aws_str().to_string(), excluded));
        }
        match self.selectors.as_slice() {
            [(kind, true, excluded)] => Some((kind.clone(), excluded.clone())),
            _ => None,
        }
    }
}

pub fn basic_selectors_text(selectors: &[(String, bool, Vec<String>)]) -> String {
    if selectors.is_empty() {
        return "none".into();
    }
    selectors
        .iter()
        .map(|(rw, management, excluded)| {
            let excluded = if excluded.is_empty() {
                "none".to_string()
            } else {
                excluded.join(", ")
            };
            format!(
                "ReadWriteType {rw}, management events {management}, excluded sources {excluded}"
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub async fn read_trail(
    session: &AccountSession,
    site: &CallSite,
    name: &str,
) -> Result<LiveTrail, ProvisionError> {
    let ct = session.cloudtrail();
    let described = ct
        .describe_trails()
        .trail_name_list(name)
        .include_shadow_trails(false)
        .send()
        .await
        .map_err(|e| site.error("DescribeTrails", e))?;
    let Some(t) = described
        .trail_list()
        .iter()
        .find(|t| t.name() == Some(name))
    else {
        return Ok(LiveTrail::default());
    };
    let mut live = LiveTrail {
        exists: true,
        bucket: t.s3_bucket_name().map(str::to_string),
        multi_region: t.is_multi_region_trail().unwrap_or(false),
        global_events: t.include_global_service_events().unwrap_or(false),
        validation: t.log_file_validation_enabled().unwrap_or(false),
        kms_key: t.kms_key_id().map(str::to_string),
        log_group_arn: t.cloud_watch_logs_log_group_arn().map(str::to_string),
        role_arn: t.cloud_watch_logs_role_arn().map(str::to_string),
        sns_topic: t.sns_topic_arn().map(str::to_string),
        ..LiveTrail::default()
    };
    if t.has_insight_selectors().unwrap_or(false) {
        live.insights = read_insights(session, site, name).await?;
    }
    read_status(session, site, name, &mut live).await?;
    read_selectors(session, site, name, &mut live).await?;
    Ok(live)
}

/// Whether the trail logs, and what CloudTrail last said of its deliveries.
async fn read_status(
    session: &AccountSession,
    site: &CallSite,
    name: &str,
    live: &mut LiveTrail,
) -> Result<(), ProvisionError> {
    let status = session
        .cloudtrail()
        .get_trail_status()
        .name(name)
        .send()
        .await
        .map_err(|e| site.error("GetTrailStatus", e))?;
    live.is_logging = status.is_logging().unwrap_or(false);
    live.delivered = status.latest_delivery_time().is_some();
    live.cwl_delivered_at = status
        .latest_cloud_watch_logs_delivery_time()
        .and_then(|t| jiff::Timestamp::from_second(t.secs()).ok());
    live.latest_delivery_error = status
        .latest_delivery_error()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    live.latest_digest_delivery_error = status
        .latest_digest_delivery_error()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    live.latest_cwl_delivery_error = status
        .latest_cloud_watch_logs_delivery_error()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok(())
}

/// The trail's basic or advanced event selectors.
async fn read_selectors(
    session: &AccountSession,
    site: &CallSite,
    name: &str,
    live: &mut LiveTrail,
) -> Result<(), ProvisionError> {
    let selectors = session
        .cloudtrail()
        .get_event_selectors()
        .trail_name(name)
        .send()
        .await
        .map_err(|e| site.error("GetEventSelectors", e))?;
    live.selectors = selectors
        .event_selectors()
        .iter()
        .map(|s| {
            (
                s.read_write_type()
                    .map_or("All", |r| r.as_str())
                    .to_string(),
                s.include_management_events().unwrap_or(true),
                s.exclude_management_event_sources().to_vec(),
            )
        })
        .collect();
    live.advanced = selectors
        .advanced_event_selectors()
        .iter()
        .map(selectors::from_sdk)
        .collect();
    Ok(())
}

async fn read_insights(
    session: &AccountSession,
    site: &CallSite,
    name: &str,
) -> Result<Vec<String>, ProvisionError> {
    match session
        .cloudtrail()
        .get_insight_selectors()
        .trail_name(name)
        .send()
        .await
    {
        Ok(out) => {
            let mut kinds: Vec<String> = out
                .insight_selectors()
                .iter()
                .filter_map(|s| s.insight_type().map(|t| t.as_str().to_string()))
                .collect();
            kinds.sort();
            Ok(kinds)
        }
        Err(e) if e.code() == Some("InsightNotEnabledException") => Ok(Vec::new()),
        Err(e) => Err(site.error("GetInsightSelectors", e).into()),
    }
}

fn selectors_ok(live: &LiveTrail, d: &Desired) -> bool {
    match d.advanced_selectors() {
        Some(want) => live.selectors.is_empty() && selectors::same(&live.advanced, &want),
        None => {
            live.advanced.is_empty()
                && live.selectors.len() == 1
                && live.selectors[0].0 == d.read_write.as_aws_str()
                && live.selectors[0].1
                // Excluding KMS (or any source) fails Security Hub CloudWatch.7 / CloudTrail.1.
                && live.selectors[0].2.is_empty()
        }
    }
}

fn desired_selectors_text(d: &Desired) -> String {
    match d.advanced_selectors() {
        Some(want) => selectors::text(&want),
        None => format!(
            "management events {}, no exclusions",
            d.read_write.as_aws_str()
        ),
    }
}

fn desired_insights(d: &Desired) -> Vec<String> {
    let mut kinds: Vec<String> = d
        .insights
        .iter()
        .map(|t| t.as_aws_str().to_string())
        .collect();
    kinds.sort();
    kinds
}

fn insights_text(kinds: &[String]) -> String {
    if kinds.is_empty() {
        "off".into()
    } else {
        kinds.join(", ")
    }
}

/// Which parts of the trail differ from the spec, beside the diff that shows them.
struct TrailChanges {
    config: bool,
    selectors: bool,
    insights: bool,
    logging: bool,
}

fn trail_diff(live: &LiveTrail, d: &Desired) -> (Diff, TrailChanges) {
    let mut diff = Diff::new();
    if !live.exists {
        diff.field("trail", "(none)", &d.trail_name);
    }
    let mut config = diff.field("s3_bucket", shown(live.bucket.as_deref()), &d.bucket);
    config |= diff.field("is_multi_region", live.multi_region, d.multi_region);
    config |= diff.field(
        "include_global_service_events",
        live.global_events,
        d.global_events,
    );
    config |= diff.field(
        "log_file_validation",
        live.validation,
        d.log_file_validation,
    );
    config |= diff.field("kms_key", shown(live.kms_key.as_deref()), &d.key_arn);
    config |= diff.field(
        "cloudwatch_logs_group",
        shown(live.log_group_arn.as_deref()),
        d.log_group_arn(),
    );
    config |= diff.field(
        "cloudwatch_logs_role",
        shown(live.role_arn.as_deref()),
        d.role_arn(),
    );
    let wanted_topic = d.delivery_topic.as_ref().map(|t| t.arn.as_str());
    config |= diff.field(
        "sns_topic",
        shown(live.sns_topic.as_deref()),
        shown(wanted_topic),
    );
    let selectors = !selectors_ok(live, d)
        && diff.field(
            "event_selectors",
            live.selectors_text(),
            desired_selectors_text(d),
        );
    let insights = diff.field(
        "insight_selectors",
        insights_text(&live.insights),
        insights_text(&desired_insights(d)),
    );
    let logging = diff.field("is_logging", live.is_logging, true);
    let changes = TrailChanges {
        config,
        selectors,
        insights,
        logging,
    };
    (diff, changes)
}

/// Converges the trail; the notes say what a change adds to the bill.
pub async fn ensure_trail(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<Done, ProvisionError> {
    let site = CallSite::new(&d.account, &d.region, STEP_TRAIL);
    let live = read_trail(session, &site, &d.trail_name).await?;
    let (diff, changes) = trail_diff(&live, d);
    let records_data = live.advanced.iter().any(|s| s.is("eventCategory", "Data"));
    let notes = super::trail_cost::cost_notes(records_data, &live.insights, d);
    if apply {
        let ct = session.cloudtrail();
        if !live.exists {
            create(&ct, &site, d).await?;
        } else if changes.config {
            update(&ct, &site, d).await?;
        }
        // Independent once the trail exists: selectors (then Insights, which read them) and
        // logging together.
        let selected = async {
            if changes.selectors {
                put_selectors(&ct, &site, d).await?;
            }
            if changes.insights {
                put_insights(&ct, &site, d).await?;
            }
            Ok::<(), ProvisionError>(())
        };
        let logging = async {
            if !changes.logging {
                return Ok(());
            }
            ct.start_logging()
                .name(&d.trail_name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| ProvisionError::from(site.error("StartLogging", e)))
        };
        let (selected, logging) = tokio::join!(selected, logging);
        selected?;
        logging?;
    }
    let action = if live.exists {
        diff.action()
    } else {
        Action::Create
    };
    Ok(Done::of(action, diff).noted(notes))
}

/// The fields trailhead manages, set alike on CreateTrail's and UpdateTrail's builders (two
/// types with the same setters).
macro_rules! managed_fields {
    ($call:expr, $d:expr) => {
        $call
            .name(&$d.trail_name)
            .s3_bucket_name(&$d.bucket)
            .is_multi_region_trail($d.multi_region)
            .include_global_service_events($d.global_events)
            .enable_log_file_validation($d.log_file_validation)
            .kms_key_id(&$d.key_arn)
            .cloud_watch_logs_log_group_arn($d.log_group_arn())
            .cloud_watch_logs_role_arn($d.role_arn())
    };
}

async fn create(
    ct: &aws_sdk_cloudtrail::Client,
    site: &CallSite,
    d: &Desired,
) -> Result<(), ProvisionError> {
    let tag = Tag::builder()
        .key("trailhead:managed")
        .value("true")
        .build()
        .map_err(|e| ProvisionError::Config(format!("cannot build a trail tag: {e}")))?;
    let created = while_propagating(|| {
        managed_fields!(ct.create_trail(), d)
            .set_sns_topic_name(d.delivery_topic.as_ref().map(|t| t.arn.clone()))
            .tags_list(tag.clone())
            .send()
    })
    .await;
    match created {
        Ok(_) => Ok(()),
        // Another run got there first: update it instead, never duplicate it.
        Err(e) if e.code() == Some("TrailAlreadyExistsException") => update(ct, site, d).await,
        Err(e) => Err(site.error("CreateTrail", e).into()),
    }
}

/// Basic selectors for management events alone; advanced ones once data events are asked for
/// (either kind replaces the other).
async fn put_selectors(
    ct: &aws_sdk_cloudtrail::Client,
    site: &CallSite,
    d: &Desired,
) -> Result<(), ProvisionError> {
    let call = ct.put_event_selectors().trail_name(&d.trail_name);
    let call = match d.advanced_selectors() {
        Some(want) => {
            let advanced = want
                .iter()
                .map(selectors::to_sdk)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ProvisionError::Config(format!("cannot build a selector: {e}")))?;
            call.set_advanced_event_selectors(Some(advanced))
        }
        None => call.event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::from(d.read_write.as_aws_str()))
                .include_management_events(true)
                .build(),
        ),
    };
    call.send()
        .await
        .map(|_| ())
        .map_err(|e| site.error("PutEventSelectors", e).into())
}

/// The spec's Insights types; an empty list turns Insights off.
async fn put_insights(
    ct: &aws_sdk_cloudtrail::Client,
    site: &CallSite,
    d: &Desired,
) -> Result<(), ProvisionError> {
    let kinds = d
        .insights
        .iter()
        .map(|t| {
            InsightSelector::builder()
                .insight_type(InsightType::from(t.as_aws_str()))
                .build()
        })
        .collect();
    ct.put_insight_selectors()
        .trail_name(&d.trail_name)
        .set_insight_selectors(Some(kinds))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| site.error("PutInsightSelectors", e).into())
}

/// Retries `call` while the role, bucket, key and topic policies written seconds ago propagate.
async fn while_propagating<T, E, F, Fut>(call: F) -> Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    use crate::core::consistency::{POLICY_PROPAGATION_WAIT, settle, trail_policies};
    settle(trail_policies, POLICY_PROPAGATION_WAIT, call).await
}

/// UpdateTrail with every managed field: a trail that already exists is updated, never duplicated.
async fn update(
    ct: &aws_sdk_cloudtrail::Client,
    site: &CallSite,
    d: &Desired,
) -> Result<(), ProvisionError> {
    while_propagating(|| {
        managed_fields!(ct.update_trail(), d)
            // An empty name takes the notifications off, as UpdateTrail documents.
            .sns_topic_name(d.delivery_topic.as_ref().map_or("", |t| t.arn.as_str()))
            .send()
    })
    .await
    .map(|_| ())
    .map_err(|e| site.error("UpdateTrail", e).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trail exactly as `d` wants it.
    fn converged(d: &Desired) -> LiveTrail {
        LiveTrail {
            exists: true,
            bucket: Some(d.bucket.clone()),
            multi_region: true,
            global_events: true,
            validation: true,
            kms_key: Some(d.key_arn.clone()),
            log_group_arn: Some(d.log_group_arn()),
            role_arn: Some(d.role_arn()),
            is_logging: true,
            selectors: vec![("All".into(), true, Vec::new())],
            ..LiveTrail::default()
        }
    }

    fn fields(diff: &Diff) -> Vec<&str> {
        diff.changes.iter().map(|c| c.field.as_str()).collect()
    }

    #[test]
    fn a_converged_trail_changes_nothing() {
        let d = Desired::example();
        let (diff, c) = trail_diff(&converged(&d), &d);
        assert!(diff.changes.is_empty(), "{:?}", fields(&diff));
        assert!(!c.config && !c.selectors && !c.insights && !c.logging);
    }

    #[test]
    fn each_drift_is_named_and_only_its_part_is_rewritten() {
        let d = Desired::example();
        let mut live = converged(&d);
        live.validation = false;
        live.is_logging = false;
        let (diff, c) = trail_diff(&live, &d);
        assert_eq!(fields(&diff), ["log_file_validation", "is_logging"]);
        assert!(c.config && c.logging && !c.selectors && !c.insights);
    }

    #[test]
    fn an_excluded_event_source_is_a_selector_change() {
        // Excluding KMS (or any source) fails Security Hub CloudWatch.7 / CloudTrail.1.
        let d = Desired::example();
        let mut live = converged(&d);
        live.selectors = vec![("All".into(), true, vec!["kms.amazonaws.com".into()])];
        let (diff, c) = trail_diff(&live, &d);
        assert_eq!(fields(&diff), ["event_selectors"]);
        assert!(c.selectors && !c.config);
    }

    #[test]
    fn a_missing_trail_is_created_with_every_setting() {
        let d = Desired::example();
        let (diff, c) = trail_diff(&LiveTrail::default(), &d);
        assert_eq!(fields(&diff)[0], "trail");
        assert!(c.config && c.selectors && c.logging);
        assert!(!c.insights, "no insights wanted, none live");
    }
}
