//! Preflight: everything that can be known to fail before the first write. It reports every
//! problem at once and writes nothing.

use std::sync::Arc;

use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use aws_sdk_kms::error::ProvideErrorMetadata;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use trailhead_model::LogArchiveAccount;

use crate::core::RunCtx;
use crate::core::error::{CallSite, ProvisionError, code_of, describe};
use crate::core::propagation::{Backoff, retry_until};
use crate::core::session::{AccountSession, role_arn, session_name};
use crate::core::targets::{read_org, resolve_targets};
use crate::resources::bucket::{lifecycle_blocks_mfa_delete, read_bucket};
use crate::resources::key::ALIAS_TAG;
use crate::resources::org_trail::find_org_trails;
use crate::resources::trail::read_trail;

/// CloudTrail's limit of trails per region. A multi-region trail counts in every region, so the
/// shadows of other regions' trails count too.
pub const TRAILS_PER_REGION: usize = 5;

/// Something preflight found. A blocking problem stops the rollout before its first write; an
/// account that cannot be reached only fails that account when its wave comes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub blocking: bool,
}

impl Problem {
    fn blocking(message: String) -> Self {
        Problem {
            message,
            blocking: true,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One account: its role can be assumed, and its trails leave room for ours.
async fn check_account(
    ctx: &RunCtx,
    management: &AccountSession,
    account: &str,
    bucket: Option<&str>,
) -> Vec<Problem> {
    let home = &ctx.spec.org.home_region;
    // The management account is reached with the caller's own credentials: no role to assume.
    if account != ctx.spec.org.management_account.as_str()
        && let Err(message) = check_assumable(ctx, management, account).await
    {
        return vec![Problem {
            message: format!("{message} (this account will fail; the others go on)"),
            blocking: false,
        }];
    }
    let session = ctx.assume(account, home).await;
    let mut problems = Vec::new();
    for region in &ctx.spec.org.regions {
        let regional = session.in_region(region);
        match check_trails(ctx, &regional, account, bucket, region == home).await {
            Ok(found) => problems.extend(found.into_iter().map(Problem::blocking)),
            Err(Unreadable { problem, disabled }) => {
                problems.push(Problem::blocking(problem));
                // A disabled region says nothing of the next one: report each.
                if !disabled {
                    break;
                }
            }
        }
    }
    problems
}

async fn check_assumable(
    ctx: &RunCtx,
    management: &AccountSession,
    account: &str,
) -> Result<(), String> {
    let home = &ctx.spec.org.home_region;
    let arn = role_arn(home, account, &ctx.role.role_name);
    let sts = management.sts();
    let attempt = || {
        let mut req = sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name(session_name(&ctx.role.run_id))
            .duration_seconds(900);
        if let Some(id) = &ctx.role.external_id {
            req = req.external_id(id);
        }
        req.send()
    };
    // As the rollout's sessions do: a role created moments ago is waited for, within the bound.
    let backoff = Backoff::propagation(ctx.role.propagation_wait);
    let denied = |e: &SdkError<AssumeRoleError, HttpResponse>| code_of(e) == Some("AccessDenied");
    let first = ctx.role.first_attempts.of(account);
    let answer = retry_until(backoff, first, denied, attempt).await;
    answer.map(|_| ()).map_err(|e| {
        let (code, message) = describe(&e);
        format!(
            "account {account}: cannot assume {}: {code}: {message}",
            ctx.role.role_name
        )
    })
}

/// A region whose trails cannot be read at all.
struct Unreadable {
    problem: String,
    /// The region is not enabled for the account (other regions may still be read).
    disabled: bool,
}

/// How AWS refuses a call signed for a Region the account has not enabled: the credentials are
/// not valid there ("The security token included in the request is invalid").
fn region_disabled(code: &str) -> bool {
    matches!(
        code,
        "UnrecognizedClientException" | "InvalidClientTokenId" | "OptInRequired" | "AuthFailure"
    )
}

/// The trails that count in one region (its own and other regions' multi-region ones), and a
/// trail of our name with other settings. Err: the region cannot be read at all.
async fn check_trails(
    ctx: &RunCtx,
    session: &AccountSession,
    account: &str,
    bucket: Option<&str>,
    home: bool,
) -> Result<Vec<String>, Unreadable> {
    let region = &session.region;
    let site = CallSite::new(account, region, "preflight");
    let name = ctx.spec.trail.name.as_str();
    let trails = session
        .cloudtrail()
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| {
            let (code, message) = describe(&e);
            let disabled = region_disabled(&code);
            let problem = if disabled {
                format!(
                    "account {account}: region {region} is not enabled (opted in) for this account ({code}): enable it (AWS console › Account › AWS Regions, or from the management account `aws account enable-region --account-id {account} --region-name {region}`), or remove it from org.regions"
                )
            } else {
                format!("account {account}: {}: {code}: {message}", site.step)
            };
            Unreadable { problem, disabled }
        })?;
    let mut problems = Vec::new();
    let counted = trails.trail_list().len();
    let ours = trails.trail_list().iter().find(|t| t.name() == Some(name));
    if ours.is_none() && counted >= TRAILS_PER_REGION {
        problems.push(format!(
            "account {account}: {region} already counts {counted} trails (multi-region trails of other regions included), CloudTrail's limit; remove one or reuse it as trail.name"
        ));
    }
    if home
        && let (Some(ours), Some(bucket)) = (ours, bucket)
        && ours.s3_bucket_name().is_some_and(|b| b != bucket)
    {
        let live = read_trail(session, &site, name).await.ok();
        problems.push(format!(
            "account {account}: a trail named {name} already exists with other settings (bucket {}{}); rename trail.name, or delete that trail if trailhead should own the name",
            ours.s3_bucket_name().unwrap_or_default(),
            if live.is_some_and(|l| l.is_logging) { ", logging" } else { "" }
        ));
    }
    Ok(problems)
}

/// The caller must be the spec's management account, or a delegated administrator of the
/// organization (then some calls, CreateAccount among them, stay the management account's).
async fn check_caller(
    ctx: &RunCtx,
    management: &AccountSession,
) -> Result<Option<Problem>, ProvisionError> {
    let home = &ctx.spec.org.home_region;
    let site = CallSite::new("caller", home, "preflight");
    let caller = management
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| site.error("GetCallerIdentity", e))?
        .account
        .ok_or_else(|| site.missing("GetCallerIdentity", "Account"))?;
    let want = ctx.spec.org.management_account.to_string();
    if caller == want {
        return Ok(None);
    }
    let mut delegated = false;
    let mut pages = management
        .organizations()
        .list_delegated_administrators()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                delegated |= page
                    .delegated_administrators()
                    .iter()
                    .any(|d| d.id() == Some(caller.as_str()))
            }
            // Only the management account (or a delegated admin) may ask: not being allowed to
            // ask is itself the answer.
            Err(_) => break,
        }
    }
    Ok(Some(if delegated {
        Problem {
            message: format!(
                "the caller is account {caller}, a delegated administrator of the organization, not its management account {want}: creating the log-archive account and organization-wide reads may be refused"
            ),
            blocking: false,
        }
    } else {
        Problem::blocking(format!(
            "the caller is account {caller}, not the spec's management account {want} (nor a delegated administrator): use the management account's credentials (--profile), or correct org.management_account"
        ))
    }))
}

pub async fn preflight(ctx: &RunCtx) -> Result<Vec<Problem>, ProvisionError> {
    let management = ctx.management().await;
    let caller = check_caller(ctx, &management).await?;
    if let Some(p) = caller.as_ref().filter(|p| p.blocking) {
        return Ok(vec![p.clone()]);
    }
    let org = read_org(&management).await?;
    let la = match &ctx.spec.log_archive.account {
        LogArchiveAccount::Existing(id) => Some(id.to_string()),
        LogArchiveAccount::Create { email, .. } => org
            .find_by_email(email)
            .and_then(|a| a.id())
            .map(str::to_string),
    };
    let resolved = resolve_targets(&management, &ctx.spec, &org, la.as_deref()).await?;
    let targets = resolved.targets;
    let mut problems: Vec<Problem> = resolved
        .problems
        .into_iter()
        .map(Problem::blocking)
        .collect();
    let bucket = la
        .as_ref()
        .map(|la| ctx.spec.log_archive.bucket_name(&ctx.spec.org, la));
    match find_org_trails(&management).await {
        Ok(trails) => problems.extend(trails.iter().map(|t| Problem {
            message: t.describe(ctx.spec.trail.organization_trail),
            blocking: false,
        })),
        Err(e) => problems.push(Problem::blocking(e.to_string())),
    }

    let limit = Arc::new(Semaphore::new(
        ctx.spec.rollout.max_concurrency.max(1) as usize
    ));
    let mut tasks = JoinSet::new();
    for t in targets {
        let ctx = ctx.clone();
        let management = management.clone();
        let limit = limit.clone();
        let bucket = bucket.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            check_account(&ctx, &management, t.id.as_str(), bucket.as_deref()).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        problems.extend(
            done.map_err(|e| ProvisionError::Config(format!("a preflight task failed: {e}")))?,
        );
    }

    if let (Some(la), Some(bucket)) = (&la, &bucket) {
        let found = check_log_archive(ctx, la, bucket).await;
        problems.extend(found.into_iter().map(Problem::blocking));
    }
    problems.extend(caller);
    Ok(problems)
}

/// Name clashes in the log-archive account, and lifecycle rules that would block MFA Delete.
async fn check_log_archive(ctx: &RunCtx, la: &str, bucket: &str) -> Vec<String> {
    let home = ctx.spec.org.home_region.clone();
    let mut problems = Vec::new();
    let session = ctx.assume(la, &home).await;
    let s3 = session.s3();
    if ctx.spec.log_archive.mfa_delete {
        let site = CallSite::new(la, &home, "preflight");
        match read_bucket(&s3, &site, bucket).await {
            Ok(live) if !live.foreign_lifecycle_rules().is_empty() => problems.push(
                lifecycle_blocks_mfa_delete(bucket, &live.foreign_lifecycle_rules()),
            ),
            Ok(_) => {}
            Err(e) => problems.push(e.to_string()),
        }
    }
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
    problems
}
