//! The archive's per-account mode (beyond a few dozen accounts, up to hundreds), live on the
//! emulator: with the bucket and key policies in that mode, CloudTrail's checks pass and log
//! files are delivered, the policies name no `aws:SourceOrgID`, and a trail of another name is
//! refused. (Which mode a size needs is tested without a server, in the policies crate.)

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_e2e::{REGION, archived_records, deliver_now, rolled_out_org};
use trailhead_policies::{DeputyMode, archive_bucket_policy, key_policy};
use trailhead_provisioner::log_archive::{archive_inputs, log_archive_stage};
use trailhead_provisioner::session::role_arn;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_account_mode_passes_cloudtrails_checks_and_delivers() {
    let (org, ctx, _state) = rolled_out_org("acctmode", 1, "").await;
    let archive = log_archive_stage(&ctx).await.expect("the archive");
    let (bucket, key) = (archive.bucket.unwrap(), archive.key_arn.unwrap());
    let la = org.log_archive.id.clone();
    let administrator = role_arn(REGION, &la, &ctx.role.role_name);
    let mut inputs = archive_inputs(
        &ctx.spec,
        &archive.org.org_id,
        &la,
        &archive.targets,
        administrator,
    );
    inputs.key_arn = Some(key.clone());
    let (bucket_policy, key_doc) = (
        archive_bucket_policy(&inputs, DeputyMode::SourceAccount),
        key_policy(&inputs, DeputyMode::SourceAccount),
    );
    for doc in [&bucket_policy, &key_doc] {
        assert!(!doc.to_json().contains("aws:SourceOrgID"));
    }
    let session = ctx.assume(&la, REGION).await;
    let put = session.s3().put_bucket_policy().bucket(&bucket);
    put.policy(bucket_policy.to_json())
        .send()
        .await
        .expect("bucket policy");
    let put = session
        .kms()
        .put_key_policy()
        .key_id(&key)
        .policy_name("default");
    put.policy(key_doc.to_json())
        .send()
        .await
        .expect("key policy");

    // CloudTrail checks the bucket and the key again on UpdateTrail.
    let member = org.members[0].id.clone();
    let cloudtrail = ctx.assume(&member, REGION).await.cloudtrail();
    let trail = ctx.spec.trail.name.clone();
    let update = cloudtrail
        .update_trail()
        .name(&trail)
        .s3_bucket_name(&bucket);
    update.kms_key_id(&key).send().await.expect("accepted");
    // A trail of another name: refused by the key policy, and without the key by the bucket's.
    let code = |e| trailhead_provisioner::error::describe(&e).0;
    let other = cloudtrail
        .create_trail()
        .name("not-ours")
        .s3_bucket_name(&bucket);
    let refused = other
        .clone()
        .kms_key_id(&key)
        .send()
        .await
        .expect_err("refused");
    assert_eq!(code(refused), "InsufficientEncryptionPolicyException");
    let refused = other.send().await.expect_err("refused");
    assert_eq!(code(refused), "InsufficientS3BucketPolicyException");

    // And delivers: the member's records of the refused CreateTrail reach its prefix.
    deliver_now(false);
    let status = cloudtrail.get_trail_status().name(&trail).send().await;
    assert_eq!(status.expect("status").latest_delivery_error(), None);
    let s3 = session.s3();
    let records = archived_records(&s3, &bucket, &format!("AWSLogs/{member}/CloudTrail/")).await;
    let delivered = records.iter().any(|r| {
        r["eventName"] == "CreateTrail" && r["requestParameters"].to_string().contains("not-ours")
    });
    assert!(delivered, "the refused CreateTrail was not delivered");
}
