//! Trailhead's keys are administered through their own policies, which name its principal: the
//! printed access-role policy reaches no other key, and a key made by an earlier trailhead (its
//! policy naming only the account) is upgraded once, under `permissions --key-upgrade`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::time::Duration;

use trailhead_e2e::REGION;
use trailhead_policies::{access_role_policy, key_upgrade_policy};
use trailhead_provisioner::log_archive::{STEP_KEY, log_archive_stage};
use trailhead_provisioner::permissions::permission_inputs;
use trailhead_provisioner::plan::Action;

use crate::contract::{least_privilege_org, least_privilege_role, refused};

/// A key policy as an earlier trailhead wrote it: the account administers the key, and through
/// it the access role's identity policy did.
fn root_only(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"KeyAdministration","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    )
}

/// A key made by the account's own administrator, its policy naming only the account, once KMS
/// knows it everywhere.
async fn key_of_the_account(kms: &aws_sdk_kms::Client, account: &str) -> String {
    let created = kms.create_key().policy(root_only(account)).send().await;
    let meta = created.expect("CreateKey");
    let id = meta.key_metadata().expect("metadata").key_id().to_string();
    settle().await;
    id
}

async fn settle() {
    // The emulator's IAM and KMS propagation delays.
    tokio::time::sleep(Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_role_administers_only_keys_whose_policy_names_it() {
    let role = "TrailheadKeyAdmin";
    let (org, setup, ctx, _state) = least_privilege_org("keyadm", role).await;
    let inputs = permission_inputs(&ctx.spec);
    let printed = access_role_policy(&inputs);
    let (la, member) = (org.log_archive.id.clone(), org.members[0].id.clone());
    for account in [&la, &member] {
        least_privilege_role(&setup, account, role, &printed.to_json()).await;
    }

    // An earlier trailhead's archive key, aliased as ours.
    let admin = setup.assume(&la, REGION).await.kms();
    let old = key_of_the_account(&admin, &la).await;
    let alias = ctx.spec.log_archive.kms_alias.clone();
    let aliased = admin.create_alias().alias_name(&alias).target_key_id(&old);
    aliased.send().await.expect("alias");
    let refusal = log_archive_stage(&ctx)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        refusal.contains("PutKeyPolicy") && refusal.contains("--key-upgrade"),
        "{refusal}"
    );

    // Once with the upgrade grant, then without it: the key's policy names the role now.
    let mut upgrading = printed.clone();
    upgrading
        .statements
        .extend(key_upgrade_policy(&inputs).statements);
    least_privilege_role(&setup, &la, role, &upgrading.to_json()).await;
    settle().await;
    log_archive_stage(&ctx).await.expect("upgraded");
    least_privilege_role(&setup, &la, role, &printed.to_json()).await;
    settle().await;
    let again = log_archive_stage(&ctx).await.expect("after the upgrade");
    let key_step = again.reports.iter().find(|r| r.step == STEP_KEY).unwrap();
    assert_eq!(key_step.action, Action::NoOp, "{:?}", key_step.changes);

    // Someone else's key in a member account: out of reach, even under one of our aliases.
    let theirs = setup.assume(&member, REGION).await.kms();
    let key = key_of_the_account(&theirs, &member).await;
    let kms = ctx.assume(&member, REGION).await.kms();
    let denied = Some("AccessDeniedException".to_string());
    let policy = kms.put_key_policy().key_id(&key).policy_name("default");
    assert_eq!(
        refused(policy.policy(root_only(&member)).send().await),
        denied
    );
    assert_eq!(
        refused(kms.enable_key_rotation().key_id(&key).send().await),
        denied
    );
    let describe = kms
        .update_key_description()
        .key_id(&key)
        .description("ours");
    assert_eq!(refused(describe.send().await), denied);
    let tag = aws_sdk_kms::types::Tag::builder()
        .tag_key("trailhead:alias")
        .tag_value(&alias)
        .build()
        .unwrap();
    assert_eq!(
        refused(kms.tag_resource().key_id(&key).tags(tag).send().await),
        denied
    );
    let ours = ctx.spec.trail.log_group_kms_alias.clone().unwrap();
    let alias_it = kms.create_alias().alias_name(ours).target_key_id(&key);
    assert_eq!(refused(alias_it.send().await), denied);
}
