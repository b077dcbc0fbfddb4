//! Preflight: everything that can be known to fail before the first write. It reports every
//! problem at once and writes nothing.

use std::sync::Arc;

use aws_sdk_kms::error::ProvideErrorMetadata;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use trailhead_model::LogArchiveAccount;

use crate::error::{CallSite, ProvisionError, describe};
use crate::log_archive::RunCtx;
use crate::log_archive::key::ALIAS_TAG;
use crate::member::trail::read_trail;
use crate::session::session_name;
use crate::targets::{read_org, resolve_targets};

/// CloudTrail's limit of trails per region (shadow trails of other regions excluded).
pub const TRAILS_PER_REGION: usize = 5;

pub async fn preflight(ctx: &RunCtx) -> Result<Vec<String>, ProvisionError> {
    let management = ctx.management().await;
    let org = read_org(&management).await?;
    let la = match &ctx.spec.log_archive.account {
        LogArchiveAccount::Existing(id) => Some(id.to_string()),
        LogArchiveAccount::Create { email, .. } => org
            .find_by_email(email)
            .and_then(|a| a.id())
            .map(str::to_string),
    };
    let (targets, mut problems) =
        resolve_targets(&management, &ctx.spec, &org, la.as_deref()).await?;
    let home = ctx.spec.org.home_region.clone();
    let bucket = la
        .as_ref()
        .map(|la| ctx.spec.log_archive.bucket_name(&ctx.spec.org, la));

    let limit = Arc::new(Semaphore::new(
        ctx.spec.rollout.max_concurrency.max(1) as usize
    ));
    let mut tasks = JoinSet::new();
    for t in targets {
        let ctx = ctx.clone();
        let management = management.clone();
        let limit = limit.clone();
        let home = home.clone();
        let bucket = bucket.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let account = t.id.to_string();
            let mut problems = Vec::new();
            let arn = format!("arn:aws:iam::{account}:role/{}", ctx.role.role_name);
            let mut req = management
                .sts()
                .assume_role()
                .role_arn(&arn)
                .role_session_name(session_name(&ctx.role.run_id))
                .duration_seconds(900);
            if let Some(id) = &ctx.role.external_id {
                req = req.external_id(id);
            }
            if let Err(e) = req.send().await {
                let (code, message) = describe(&e);
                problems.push(format!("account {account}: cannot assume {}: {code}: {message}", ctx.role.role_name));
                return problems;
            }
            let session = ctx.assume(&account, &home).await;
            let site = CallSite::new(&account, &home, "preflight");
            match session.cloudtrail().describe_trails().include_shadow_trails(false).send().await {
                Ok(trails) => {
                    let ours = trails.trail_list().iter().find(|tr| tr.name() == Some(ctx.spec.trail.name.as_str()));
                    if ours.is_none() && trails.trail_list().len() >= TRAILS_PER_REGION {
                        problems.push(format!(
                            "account {account}: {} already has {} trails, CloudTrail's limit; remove one or reuse it as trail.name",
                            home,
                            trails.trail_list().len()
                        ));
                    }
                    if let (Some(ours), Some(bucket)) = (ours, &bucket)
                        && ours.s3_bucket_name().is_some_and(|b| b != bucket)
                    {
                        let live = read_trail(&session, &site, &ctx.spec.trail.name).await.ok();
                        problems.push(format!(
                            "account {account}: a trail named {} already exists with other settings (bucket {}{}); rename trail.name, or delete that trail if trailhead should own the name",
                            ctx.spec.trail.name,
                            ours.s3_bucket_name().unwrap_or_default(),
                            if live.is_some_and(|l| l.is_logging) { ", logging" } else { "" }
                        ));
                    }
                }
                Err(e) => {
                    let (code, message) = describe(&e);
                    let hint = if matches!(code.as_str(), "UnrecognizedClientException" | "InvalidClientTokenId" | "OptInRequired" | "AuthFailure") {
                        format!(" — is {home} enabled in this account?")
                    } else {
                        String::new()
                    };
                    problems.push(format!("account {account}: {}: {code}: {message}{hint}", site.step));
                }
            }
            problems
        });
    }
    while let Some(done) = tasks.join_next().await {
        problems.extend(
            done.map_err(|e| ProvisionError::Config(format!("a preflight task failed: {e}")))?,
        );
    }

    // Name clashes in the log-archive account.
    if let (Some(la), Some(bucket)) = (&la, &bucket) {
        let session = ctx.assume(la, &home).await;
        let s3 = session.s3();
        if let Err(e) = s3.head_bucket().bucket(bucket).send().await
            && e.raw_response().map(|r| r.status().as_u16()) == Some(403)
        {
            problems.push(format!(
                "bucket {bucket} exists in another account; change log_archive.bucket_name"
            ));
        }
        let kms = session.kms();
        match kms
            .describe_key()
            .key_id(&ctx.spec.log_archive.kms_alias)
            .send()
            .await
        {
            Ok(found) => {
                let id = found
                    .key_metadata()
                    .map(|m| m.key_id().to_string())
                    .unwrap_or_default();
                let ours = kms
                    .list_resource_tags()
                    .key_id(&id)
                    .send()
                    .await
                    .map(|t| t.tags().iter().any(|t| t.tag_key() == ALIAS_TAG))
                    .unwrap_or(false);
                if !ours {
                    problems.push(format!(
                        "alias {} already names key {id}, which trailhead did not create; choose another log_archive.kms_alias",
                        ctx.spec.log_archive.kms_alias
                    ));
                }
            }
            Err(e) if e.code() == Some("NotFoundException") => {}
            Err(e) => problems.push(
                CallSite::new(la, &home, "preflight")
                    .error("DescribeKey", e)
                    .to_string(),
            ),
        }
    }
    Ok(problems)
}
