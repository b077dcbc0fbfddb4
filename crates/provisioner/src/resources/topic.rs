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

/// What is live of a topic: whether it exists, its policy, and its email subscribers.
#[derive(Debug, Default)]
struct TopicState {
    exists: bool,
    policy: Option<String>,
    /// Subscribed email addresses, lowercased.
    emails: Vec<String>,
}

/// What converging a topic changes: the diff, whether the policy is written, the addresses
/// to subscribe.
#[derive(Debug)]
struct TopicChanges<'a> {
    diff: Diff,
    write_policy: bool,
    subscribe: Vec<&'a String>,
}

/// Creates the topic if missing, puts its policy, subscribes the missing addresses.
pub async fn converge_topic(
    session: &AccountSession,
    site: &CallSite,
    spec: &TopicSpec<'_>,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    check_budget(PolicyKind::TopicPolicy, &spec.policy)
        .map_err(|e| ProvisionError::Config(format!("topic {}: {e}", spec.name)))?;
    let live = read_topic(session, site, &spec.arn).await?;
    let changes = compare(spec, &live);
    if apply {
        write_topic(session, site, spec, &live, &changes).await?;
    }
    let action = if live.exists {
        changes.diff.action()
    } else {
        Action::Create
    };
    Ok((action, changes.diff))
}

async fn read_topic(
    session: &AccountSession,
    site: &CallSite,
    arn: &str,
) -> Result<TopicState, ProvisionError> {
    let sns = session.sns();
    // CreateTopic is idempotent but still a write; list first so a converged run only reads.
    let mut exists = false;
    let mut pages = sns.list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.error("ListTopics", e))?;
        if page.topics().iter().any(|t| t.topic_arn() == Some(arn)) {
            exists = true;
            break;
        }
    }
    if !exists {
        return Ok(TopicState::default());
    }
    let attrs = sns
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .map_err(|e| site.error("GetTopicAttributes", e))?;
    let policy = attrs.attributes().and_then(|a| a.get("Policy")).cloned();
    let mut emails = Vec::new();
    let mut pages = sns
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.error("ListSubscriptionsByTopic", e))?;
        for s in page.subscriptions() {
            if s.protocol() == Some("email") {
                let endpoint =
                    site.require(s.endpoint(), "ListSubscriptionsByTopic", "Endpoint")?;
                emails.push(endpoint.to_ascii_lowercase());
            }
        }
    }
    Ok(TopicState {
        exists,
        policy,
        emails,
    })
}

/// The topic as the spec wants it, against what is live.
fn compare<'a>(spec: &'a TopicSpec<'_>, live: &TopicState) -> TopicChanges<'a> {
    let mut diff = Diff::new();
    if !live.exists {
        diff.field("topic", "(none)", spec.name);
    }
    let write_policy = !live
        .policy
        .as_deref()
        .is_some_and(|p| same_policy(p, &spec.policy))
        && diff.field(
            "policy",
            if live.policy.is_some() {
                "(differs)"
            } else {
                "(none)"
            },
            spec.policy_words,
        );
    let subscribe: Vec<&String> = spec
        .emails
        .iter()
        .filter(|e| !live.emails.contains(&e.to_ascii_lowercase()))
        .collect();
    for m in &subscribe {
        diff.field("subscription", "(none)", format!("email {m}"));
    }
    TopicChanges {
        diff,
        write_policy,
        subscribe,
    }
}

async fn write_topic(
    session: &AccountSession,
    site: &CallSite,
    spec: &TopicSpec<'_>,
    live: &TopicState,
    changes: &TopicChanges<'_>,
) -> Result<(), ProvisionError> {
    let sns = session.sns();
    let arn = &spec.arn;
    if !live.exists {
        sns.create_topic()
            .name(spec.name)
            .send()
            .await
            .map_err(|e| site.error("CreateTopic", e))?;
    }
    // The policy and the subscriptions only need the topic: send them together.
    let set_policy = async {
        if !changes.write_policy {
            return Ok(());
        }
        sns.set_topic_attributes()
            .topic_arn(arn)
            .attribute_name("Policy")
            .attribute_value(spec.policy.to_json())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| site.error("SetTopicAttributes", e))
    };
    let subscribe = async {
        for email in &changes.subscribe {
            sns.subscribe()
                .topic_arn(arn)
                .protocol("email")
                .endpoint(*email)
                .send()
                .await
                .map_err(|e| site.error("Subscribe", e))?;
        }
        Ok::<(), crate::core::error::AwsError>(())
    };
    let (policy_result, subscribe_result) = tokio::join!(set_policy, subscribe);
    policy_result?;
    subscribe_result?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(emails: &'a [String]) -> TopicSpec<'a> {
        let arn = "arn:aws:sns:eu-west-1:111111111111:alarms".to_string();
        TopicSpec {
            name: "alarms",
            policy: sns_topic_policy("aws", "111111111111", "eu-west-1", &arn),
            arn,
            policy_words: "cloudwatch publishes",
            emails,
        }
    }

    #[test]
    fn a_missing_topic_is_created_with_its_policy_and_every_subscription() {
        let emails = vec!["sec@example.com".to_string()];
        let s = spec(&emails);
        let changes = compare(&s, &TopicState::default());
        let fields: Vec<&str> = changes
            .diff
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(fields, ["topic", "policy", "subscription"]);
        assert!(changes.write_policy);
        assert_eq!(changes.subscribe, [&emails[0]]);
    }

    #[test]
    fn a_converged_topic_changes_nothing_whatever_the_addresses_case() {
        let emails = vec!["Sec@Example.com".to_string()];
        let s = spec(&emails);
        let live = TopicState {
            exists: true,
            policy: Some(s.policy.to_json()),
            emails: vec!["sec@example.com".into()],
        };
        let changes = compare(&s, &live);
        assert!(changes.diff.changes.is_empty(), "{:?}", changes.diff);
        assert!(!changes.write_policy);
        assert!(changes.subscribe.is_empty());
    }

    #[test]
    fn another_policy_is_rewritten_and_a_new_address_subscribed() {
        let emails = vec!["a@example.com".to_string(), "b@example.com".to_string()];
        let s = spec(&emails);
        let live = TopicState {
            exists: true,
            policy: Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
            emails: vec!["a@example.com".into()],
        };
        let changes = compare(&s, &live);
        assert!(changes.write_policy);
        assert_eq!(changes.subscribe, [&emails[1]]);
        assert_eq!(changes.diff.action(), Action::Update);
    }
}
