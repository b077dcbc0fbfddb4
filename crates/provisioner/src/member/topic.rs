//! The SNS topic alarms notify: CloudWatch may publish for this account's alarms only, and the
//! spec's addresses are subscribed.

use trailhead_policies::{PolicyKind, check_budget, same_policy, sns_topic_policy};

use super::{Desired, STEP_TOPIC};
use crate::error::{CallSite, ProvisionError};
use crate::plan::{Action, Diff};
use crate::session::AccountSession;

pub async fn ensure_topic(
    session: &AccountSession,
    d: &Desired,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let site = CallSite::new(&d.account, &d.region, STEP_TOPIC);
    let sns = session.sns();
    let arn = d.topic_arn();
    let policy = sns_topic_policy(&d.partition, &d.account, &d.region, &arn);
    check_budget(PolicyKind::TopicPolicy, &policy)
        .map_err(|e| ProvisionError::Config(format!("topic {}: {e}", d.topic_name)))?;

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
            .topic_arn(&arn)
            .send()
            .await
            .map_err(|e| site.error("GetTopicAttributes", e))?;
        let live_policy = attrs.attributes().and_then(|a| a.get("Policy")).cloned();
        let mut subscribed = Vec::new();
        let mut pages = sns
            .list_subscriptions_by_topic()
            .topic_arn(&arn)
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
        diff.field("topic", "(none)", &d.topic_name);
        (None, Vec::new())
    };
    let policy_changes = !live_policy
        .as_deref()
        .is_some_and(|p| same_policy(p, &policy))
        && diff.field(
            "policy",
            if live_policy.is_some() {
                "(differs)"
            } else {
                "(none)"
            },
            "cloudwatch.amazonaws.com publishes for this account",
        );
    let missing: Vec<&String> = d
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
                .name(&d.topic_name)
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
                .topic_arn(&arn)
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
                    .topic_arn(&arn)
                    .protocol("email")
                    .endpoint(email)
                    .send()
                    .await
                    .map_err(|e| site.error("Subscribe", e))?;
            }
            Ok::<(), crate::error::AwsError>(())
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
