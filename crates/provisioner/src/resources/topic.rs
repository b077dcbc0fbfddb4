//! SNS topics trailhead owns: the one alarms notify (CloudWatch may publish for this account's
//! alarms only, and the spec's addresses are subscribed), and the one CloudTrail notifies of each
//! delivered log file (only our trails may publish).

use trailhead_policies::{
    PolicyDocument, PolicyKind, TopicPublishers, check_budget, cloudtrail_topic_policy,
    same_policy, sns_topic_policy,
};

use super::desired::{Desired, STEP_DELIVERY_TOPIC, STEP_TOPIC};
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::plan::{Action, Diff};

/// A topic to converge: its name and ARN, its policy (and what it means, for a plan), and the
/// email addresses to subscribe.
pub struct TopicSpec<'a> {
    pub name: &'a str,
    pub arn: String,
    pub policy: PolicyDocument,
    pub policy_words: &'a str,
    pub emails: &'a [String],
}

pub async fn ensure_topic(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let site = CallSite::new(&d.account, &d.region, STEP_TOPIC);
    let arn = d.topic_arn();
    let spec = TopicSpec {
        name: &d.topic_name,
        policy: sns_topic_policy(&d.partition, &d.account, &d.region, &arn),
        arn,
        policy_words: "cloudwatch.amazonaws.com publishes for this account",
        emails: &d.emails,
    };
    converge_topic(session, &site, &spec, apply).await
}

/// The account's own delivery-notification topic (a central one is converged with the archive).
pub async fn ensure_delivery_topic(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let Some(topic) = &d.delivery_topic else {
        return Ok((Action::NoOp, Diff::new()));
    };
    let site = CallSite::new(&d.account, &d.region, STEP_DELIVERY_TOPIC);
    let publishers = TopicPublishers::Trail(d.trail_arn());
    let spec = TopicSpec {
        name: &topic.name,
        policy: cloudtrail_topic_policy(&d.partition, &d.account, &topic.arn, &publishers),
        arn: topic.arn.clone(),
        policy_words: "cloudtrail.amazonaws.com publishes for this account's trail",
        emails: &[],
    };
    converge_topic(session, &site, &spec, apply).await
}

/// Creates the topic if missing, puts its policy, subscribes the missing addresses.
pub async fn converge_topic(
    session: &AccountSession,
    site: &CallSite,
    spec: &TopicSpec<'_>,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let sns = session.sns();
    let arn = &spec.arn;
    let policy = &spec.policy;
    check_budget(PolicyKind::TopicPolicy, policy)
        .map_err(|e| ProvisionError::Config(format!("topic {}: {e}", spec.name)))?;

    // CreateTopic is idempotent but still a write; list first so a converged run only reads.
    let mut exists = false;
    let mut pages = sns.list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.error("ListTopics", e))?;
        if page
            .topics()
            .iter()
            .any(|t| t.topic_arn() == Some(arn.as_str()))
        {
            exists = true;
            break;
        }
    }
    let mut diff = Diff::new();
    let (live_policy, subscribed) = if exists {
        let attrs = sns
            .get_topic_attributes()
            .topic_arn(arn)
            .send()
            .await
            .map_err(|e| site.error("GetTopicAttributes", e))?;
        let live_policy = attrs.attributes().and_then(|a| a.get("Policy")).cloned();
        let mut subscribed = Vec::new();
        let mut pages = sns
            .list_subscriptions_by_topic()
            .topic_arn(arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| site.error("ListSubscriptionsByTopic", e))?;
            for s in page.subscriptions() {
                if s.protocol() == Some("email") {
                    subscribed.push(s.endpoint().unwrap_or_default().to_ascii_lowercase());
                }
            }
        }
        (live_policy, subscribed)
    } else {
        diff.field("topic", "(none)", spec.name);
        (None, Vec::new())
    };
    let policy_changes = !live_policy
        .as_deref()
        .is_some_and(|p| same_policy(p, policy))
        && diff.field(
            "policy",
            if live_policy.is_some() {
                "(differs)"
            } else {
                "(none)"
            },
            spec.policy_words,
        );
    let missing: Vec<&String> = spec
        .emails
        .iter()
        .filter(|e| !subscribed.contains(&e.to_ascii_lowercase()))
        .collect();
    for m in &missing {
        diff.field("subscription", "(none)", format!("email {m}"));
    }
    if apply {
        if !exists {
            sns.create_topic()
                .name(spec.name)
                .send()
                .await
                .map_err(|e| site.error("CreateTopic", e))?;
        }
        // The policy and the subscriptions only need the topic: send them together.
        let set_policy = async {
            if !policy_changes {
                return Ok(());
            }
            sns.set_topic_attributes()
                .topic_arn(arn)
                .attribute_name("Policy")
                .attribute_value(policy.to_json())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| site.error("SetTopicAttributes", e))
        };
        let subscribe = async {
            for email in missing {
                sns.subscribe()
                    .topic_arn(arn)
                    .protocol("email")
                    .endpoint(email)
                    .send()
                    .await
                    .map_err(|e| site.error("Subscribe", e))?;
            }
            Ok::<(), crate::core::error::AwsError>(())
        };
        let (policy_result, subscribe_result) = tokio::join!(set_policy, subscribe);
        policy_result?;
        subscribe_result?;
    }
    let action = if exists {
        diff.action()
    } else {
        Action::Create
    };
    Ok((action, diff))
}
