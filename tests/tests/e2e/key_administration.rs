//! Trailhead's keys are administered through their own policies, which name its principal: the
//! printed access-role policy reaches no other key, and a key made by an earlier trailhead (its
//! policy naming only the account) is upgraded once, under `permissions --key-upgrade`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::time::Duration;

use trailhead_e2e::{REGION, emulator, run_ctx, seed};
use trailhead_policies::{access_role_policy, key_upgrade_policy};
use trailhead_provisioner::log_archive::{STEP_KEY, log_archive_stage};
use trailhead_provisioner::permissions::permission_inputs;
use trailhead_provisioner::plan::Action;

use crate::contract::{least_privilege_role, refused};

/// A key policy as an earlier trailhead wrote it: the account administers the key, and through
/// it the access role's identity policy did.
fn root_only(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"KeyAdministration","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    )
}

async fn settle() {
    // The emulator's IAM and KMS propagation delays.
    tokio::time::sleep(Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_role_administers_only_keys_whose_policy_names_it() {
    let conn = emulator();
    let org = seed(&conn, "keyadm", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let role = "TrailheadKeyAdmin";
    let plain = org.spec_toml("keyadm", REGION);
    let setup = run_ctx(&conn, &plain, true, state.path());
    let ctx = run_ctx(
        &conn,
        &format!("[access]\nrole_name = \"{role}\"\n\n{plain}"),
        true,
        state.path(),
    );
    let inputs = permission_inputs(&ctx.spec);
    let printed = access_role_policy(&inputs);
    let (la, member) = (org.log_archive.id.clone(), org.members[0].id.clone());
    for account in [&la, &member] {
        least_privilege_role(&setup, account, role, &printed.to_json()).await;
    }

    // An earlier trailhead's archive key, aliased as ours.
    let admin = setup.assume(&la, REGION).await.kms();
    let created = admin.create_key().policy(root_only(&la)).send().await;
    let old = created
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    settle().await;
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
    let created = theirs.create_key().policy(root_only(&member)).send().await;
    let key = created
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    settle().await;
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
