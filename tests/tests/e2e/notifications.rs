//! Log-file delivery notifications: a topic in each account, or one central topic in the audit
//! account, that only our trails may publish to; rolled out, read back, converged, drift shown by
//! plan, and the emulator announcing each delivered file on it.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_e2e::{
    REGION, confirm_subscriptions_of, deliver_now, notifications, planned_changes, roll,
    rolled_out_org,
};
use trailhead_policies::{TopicPublishers, cloudtrail_topic_policy, same_policy};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::rollout::RolloutOptions;
use trailhead_provisioner::session::AccountSession;

const TOPIC: &str = "trailhead-cloudtrail-deliveries";

async fn trail_topic(s: &AccountSession, trail: &str) -> Option<String> {
    let out = s
        .cloudtrail()
        .describe_trails()
        .trail_name_list(trail)
        .send()
        .await
        .expect("DescribeTrails");
    out.trail_list()[0].sns_topic_arn().map(str::to_string)
}

async fn topic_policy(s: &AccountSession, arn: &str) -> String {
    let attrs = s
        .sns()
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .expect("GetTopicAttributes");
    attrs.attributes().unwrap()["Policy"].clone()
}

/// Subscribes an inbox to `topic`, makes a call in each of `active` (something for their trails
/// to deliver after the inbox exists), lets every trail deliver, and returns the object keys the
/// topic announced.
async fn announced(s: &AccountSession, topic: &str, active: &[&AccountSession]) -> Vec<String> {
    s.sns()
        .subscribe()
        .topic_arn(topic)
        .protocol("email")
        .endpoint("deliveries@trailhead.example")
        .send()
        .await
        .expect("Subscribe");
    confirm_subscriptions_of(&[&s.account_id]);
    for a in active {
        a.cloudtrail()
            .describe_trails()
            .send()
            .await
            .expect("a call to deliver");
    }
    deliver_now(false);
    notifications(topic)
        .iter()
        .filter_map(|n| serde_json::from_str::<serde_json::Value>(n["message"].as_str()?).ok())
        .flat_map(|m| m["s3ObjectKey"].as_array().cloned().unwrap_or_default())
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_in_each_account_hears_of_its_trails_deliveries() {
    let (org, ctx, _state) = rolled_out_org(
        "notify",
        1,
        "
[trail.notifications]
topic = \"member\"
",
    )
    .await;

    let trail = ctx.spec.trail.name.clone();
    let member = org.members[0].id.clone();
    for account in org.all_accounts().map(|a| a.id.clone()) {
        let s = ctx.assume(&account, REGION).await;
        let arn = format!("arn:aws:sns:{REGION}:{account}:{TOPIC}");
        assert_eq!(trail_topic(&s, &trail).await.as_deref(), Some(arn.as_str()));
        let trail_arn = format!("arn:aws:cloudtrail:{REGION}:{account}:trail/{trail}");
        let wanted =
            cloudtrail_topic_policy("aws", &account, &arn, &TopicPublishers::Trail(trail_arn));
        assert!(
            same_policy(&topic_policy(&s, &arn).await, &wanted),
            "{account}"
        );
    }
    let (again, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(again.ok(), "{:?}", again.failures);
    assert_eq!(
        totals(&ctx.calls.snapshot()).1,
        0,
        "the second run writes nothing"
    );

    let s = ctx.assume(&member, REGION).await;
    let topic = format!("arn:aws:sns:{REGION}:{member}:{TOPIC}");
    let keys = announced(&s, &topic, &[&s]).await;
    assert!(!keys.is_empty(), "no delivery was announced");
    assert!(
        keys.iter()
            .all(|k| k.starts_with(&format!("AWSLogs/{member}/CloudTrail/"))),
        "{keys:?}"
    );

    // By hand: notifications taken off the member's trail.
    s.cloudtrail()
        .update_trail()
        .name(&trail)
        .sns_topic_name("")
        .send()
        .await
        .expect("UpdateTrail");
    assert_eq!(
        planned_changes(&ctx).await,
        [(
            member.clone(),
            "trail".to_string(),
            vec!["sns_topic".to_string()]
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_central_topic_in_the_audit_account_hears_of_every_trail() {
    let (org, ctx, _state) = rolled_out_org(
        "central",
        1,
        "
[trail.notifications]
topic = \"audit\"
",
    )
    .await;

    let audit = org.audit.id.clone();
    let central = format!("arn:aws:sns:{REGION}:{audit}:{TOPIC}");
    let trail = ctx.spec.trail.name.clone();
    for account in org.all_accounts().map(|a| a.id.clone()) {
        let s = ctx.assume(&account, REGION).await;
        assert_eq!(
            trail_topic(&s, &trail).await.as_deref(),
            Some(central.as_str()),
            "{account}"
        );
        let own = s
            .sns()
            .list_topics()
            .send()
            .await
            .expect("ListTopics")
            .topics()
            .iter()
            .any(|t| {
                t.topic_arn()
                    .is_some_and(|a| a.ends_with(&format!(":{account}:{TOPIC}")))
            });
        assert_eq!(
            own,
            account == audit,
            "{account}: only the audit account holds the topic"
        );
    }
    let audit_session = ctx.assume(&audit, REGION).await;
    // Every governed account's trail, by aws:SourceArn alone (no undocumented org key).
    let accounts: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    let wanted = cloudtrail_topic_policy(
        "aws",
        &audit,
        &central,
        &TopicPublishers::OrgTrails {
            trail_name: trail.clone(),
            accounts: accounts.clone(),
        },
    );
    assert!(!wanted.to_json().contains("SourceOrgID"));
    assert!(same_policy(
        &topic_policy(&audit_session, &central).await,
        &wanted
    ));

    let (again, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(again.ok(), "{:?}", again.failures);
    assert_eq!(
        totals(&ctx.calls.snapshot()).1,
        0,
        "the second run writes nothing"
    );

    let member = &org.members[0].id;
    let member_session = ctx.assume(member, REGION).await;
    let keys = announced(&audit_session, &central, &[&audit_session, &member_session]).await;
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("AWSLogs/{member}/"))),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("AWSLogs/{audit}/"))),
        "{keys:?}"
    );
}
