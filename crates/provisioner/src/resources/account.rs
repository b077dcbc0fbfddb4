//! The log-archive account: found, or created through Organizations without ever creating two,
//! then waited for until its access role can be assumed.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_organizations::types::CreateAccountState;
use serde::{Deserialize, Serialize};
use trailhead_model::LogArchiveAccount;

use crate::core::error::{CallSite, ProvisionError, describe};
use crate::core::journal;
use crate::core::session::{AccessRole, AccountSession, role_arn, session_name};
use crate::core::targets::OrgView;
use crate::plan::{Action, Diff};

#[derive(Debug, Serialize, Deserialize)]
struct PendingCreate {
    request_id: String,
    email: String,
    name: String,
}

/// Finds or creates the account. Returns the action, the changes and the account id (None only
/// in a plan of an account yet to be created).
pub async fn ensure_account(
    management: &AccountSession,
    org: &OrgView,
    wanted: &LogArchiveAccount,
    role_name: &str,
    state_dir: &Path,
    apply: bool,
) -> Result<(Action, Diff, Option<String>), ProvisionError> {
    let site = CallSite::new(
        &management.account_id,
        &management.region,
        "log-archive account",
    );
    let mut diff = Diff::new();
    match wanted {
        LogArchiveAccount::Existing(id) => {
            if org.accounts.contains_key(id.as_str()) {
                Ok((Action::NoOp, diff, Some(id.to_string())))
            } else {
                Err(ProvisionError::Config(format!(
                    "log_archive.account_id {id} is not an account of organization {}; check the id, or give name and email to create the account",
                    org.org_id
                )))
            }
        }
        LogArchiveAccount::Create { name, email } => {
            if let Some(found) = org.find_by_email(email) {
                return Ok((Action::NoOp, diff, found.id().map(str::to_string)));
            }
            let pending_path = journal::pending_account_path(state_dir, email);
            let pending: Vec<PendingCreate> = journal::read_all(&pending_path)?;
            diff.field("account", "(none)", format!("{name} <{email}>"));
            if !apply {
                return Ok((Action::Create, diff, None));
            }
            let client = management.organizations();
            let request_id = match pending.into_iter().last() {
                // A previous run asked already: wait for that request, never ask twice.
                Some(p) => p.request_id,
                None => {
                    let created = client
                        .create_account()
                        .account_name(name)
                        .email(email)
                        // The spec's access role: without it, Organizations creates
                        // OrganizationAccountAccessRole and a custom role never exists.
                        .role_name(role_name)
                        .send()
                        .await
                        .map_err(|e| site.error("CreateAccount", e))?;
                    let id = created
                        .create_account_status()
                        .and_then(|s| s.id())
                        .ok_or_else(|| {
                            ProvisionError::Config("CreateAccount returned no request id".into())
                        })?
                        .to_string();
                    journal::append(
                        &pending_path,
                        &PendingCreate {
                            request_id: id.clone(),
                            email: email.clone(),
                            name: name.clone(),
                        },
                    )?;
                    id
                }
            };
            let account_id = poll_creation(management, &site, &request_id, email, org).await?;
            let _ = std::fs::remove_file(&pending_path);
            Ok((Action::Create, diff, Some(account_id)))
        }
    }
}

async fn poll_creation(
    management: &AccountSession,
    site: &CallSite,
    request_id: &str,
    email: &str,
    org: &OrgView,
) -> Result<String, ProvisionError> {
    let client = management.organizations();
    let deadline = Instant::now() + Duration::from_secs(15 * 60);
    let mut delay = Duration::from_secs(1);
    loop {
        let status = client
            .describe_create_account_status()
            .create_account_request_id(request_id)
            .send()
            .await
            .map_err(|e| site.error("DescribeCreateAccountStatus", e))?;
        let status = status.create_account_status().ok_or_else(|| {
            ProvisionError::Config("DescribeCreateAccountStatus returned nothing".into())
        })?;
        match status.state() {
            Some(CreateAccountState::Succeeded) => {
                return status
                    .account_id()
                    .map(str::to_string)
                    .ok_or_else(|| ProvisionError::Config("the created account has no id".into()));
            }
            Some(CreateAccountState::Failed) => {
                let reason = status
                    .failure_reason()
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default();
                if reason == "EMAIL_ALREADY_EXISTS"
                    && let Some(found) = org.find_by_email(email).and_then(|a| a.id())
                {
                    return Ok(found.to_string());
                }
                return Err(ProvisionError::Config(format!(
                    "Organizations could not create the log-archive account <{email}>: {reason}"
                )));
            }
            _ if Instant::now() > deadline => {
                return Err(ProvisionError::Config(format!(
                    "account creation {request_id} has not finished after 15 minutes; run again later: the request is remembered and will not be repeated"
                )));
            }
            _ => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
        }
    }
}

/// Waits until `role` can be assumed in `account`. A new account answers AccessDenied for
/// minutes while its role propagates.
pub async fn wait_assumable(
    management: &AccountSession,
    account: &str,
    region: &str,
    role: &AccessRole,
    timeout: Duration,
) -> Result<(), ProvisionError> {
    let sts = management.sts();
    let arn = role_arn(region, account, &role.role_name);
    let site = CallSite::new(account, region, "assume access role");
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_secs(2);
    loop {
        let mut req = sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name(session_name(&role.run_id))
            .duration_seconds(900);
        if let Some(id) = &role.external_id {
            req = req.external_id(id);
        }
        match req.send().await {
            Ok(_) => return Ok(()),
            Err(e) => {
                let (code, message) = describe(&e);
                if code != "AccessDenied" || Instant::now() > deadline {
                    let mut err = site.error("AssumeRole", e);
                    if code == "AccessDenied" {
                        err.message = format!(
                            "{message} — still denied after {}s; a new account's {} takes a few minutes to appear, and an existing one may need the ExternalId of the spec",
                            timeout.as_secs(),
                            role.role_name
                        );
                    }
                    return Err(err.into());
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(20));
            }
        }
    }
}
