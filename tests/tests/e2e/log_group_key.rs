//! The CloudTrail log group of every account, encrypted under a key of that account which only
//! CloudWatch Logs may use, only for that group: rolled out, read back, converged, drift shown by
//! plan and by verify, and put right by the next rollout.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_e2e::{REGION, planned_changes, roll, rolled_out_org};
use trailhead_policies::{log_group_key_policy, same_policy};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::rollout::RolloutOptions;
use trailhead_provisioner::session::AccountSession;
use trailhead_provisioner::verify::{Verdict, verify};

const ALIAS: &str = "alias/trailhead-cloudwatch-logs";

/// The group's kmsKeyId and the ARN of the key behind the alias.
async fn group_and_key(s: &AccountSession, group: &str) -> (Option<String>, String) {
    let groups = s
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .expect("DescribeLogGroups");
    let live = groups.log_groups()[0].kms_key_id().map(str::to_string);
    let key = s
        .kms()
        .describe_key()
        .key_id(ALIAS)
        .send()
        .await
        .expect("DescribeKey");
    (live, key.key_metadata().unwrap().arn().unwrap().to_string())
}

fn verdict(report: &trailhead_provisioner::verify::VerifyReport, account: &str) -> Verdict {
    report
        .accounts
        .iter()
        .find(|a| a.account_id == account)
        .and_then(|a| a.controls.iter().find(|c| c.id == "LogGroup.KMS"))
        .map(|c| c.status)
        .expect("a LogGroup.KMS cell")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_log_group_is_encrypted_under_its_accounts_key_and_drift_is_seen() {
    let (org, ctx, _state) = rolled_out_org("lgkey", 1, "").await;
    assert_eq!(
        ctx.spec.trail.log_group_kms_alias.as_deref(),
        Some(ALIAS),
        "on by default"
    );

    let group = ctx.spec.trail.log_group_name.clone();
    let accounts: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    for account in &accounts {
        let s = ctx.assume(account, REGION).await;
        let (live, key) = group_and_key(&s, &group).await;
        assert_eq!(live.as_deref(), Some(key.as_str()), "{account}");
        assert!(
            key.contains(&format!(":{account}:key/")),
            "the account's own key: {key}"
        );
        let rotation = s
            .kms()
            .get_key_rotation_status()
            .key_id(&key)
            .send()
            .await
            .expect("rotation");
        assert!(rotation.key_rotation_enabled(), "{account}");
        let policy = s
            .kms()
            .get_key_policy()
            .key_id(&key)
            .policy_name("default")
            .send()
            .await
            .expect("policy");
        // Trailhead's principal there: the access role, or the caller in the management account.
        let site = trailhead_provisioner::error::CallSite::new(account, REGION, "test");
        let administrator = trailhead_provisioner::key_administrator::key_administrator(&s, &site)
            .await
            .expect("administrator");
        let wanted = log_group_key_policy("aws", account, REGION, &group, &administrator);
        assert!(same_policy(policy.policy().unwrap(), &wanted), "{account}");
    }

    let (again, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(again.ok(), "{:?}", again.failures);
    assert_eq!(
        totals(&ctx.calls.snapshot()).1,
        0,
        "the second run writes nothing"
    );
    let report = verify(&ctx, None).await.expect("verify");
    for account in &accounts {
        assert_eq!(verdict(&report, account), Verdict::Pass, "{account}");
    }

    // By hand: the member's group back under the service's own encryption.
    let member = &org.members[0].id;
    let s = ctx.assume(member, REGION).await;
    s.logs()
        .disassociate_kms_key()
        .log_group_name(&group)
        .send()
        .await
        .expect("DisassociateKmsKey");
    assert_eq!(
        planned_changes(&ctx).await,
        [(
            member.clone(),
            "log group".to_string(),
            vec!["kms_key".to_string()]
        )]
    );
    let report = verify(&ctx, None).await.expect("verify");
    for account in &accounts {
        let expected = if account == member {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        assert_eq!(verdict(&report, account), expected, "{account}");
    }

    let (fixed, _) = roll(&ctx, &RolloutOptions::default()).await;
    assert!(fixed.ok(), "{:?}", fixed.failures);
    let (live, key) = group_and_key(&s, &group).await;
    assert_eq!(live, Some(key));
}
