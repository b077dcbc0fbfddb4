//! Which accounts a run configures: the spec's accounts resolved to ids (by id, email or name),
//! the accounts of the OUs it discovers, and the log-archive account.

use std::collections::BTreeMap;

use aws_sdk_organizations::types::Account;
use trailhead_model::{OrgSpec, TargetAccount};

use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;

/// The organization as the management account sees it.
#[derive(Debug, Clone)]
pub struct OrgView {
    pub org_id: String,
    pub management_account: String,
    /// Every account of the organization, by id.
    pub accounts: BTreeMap<String, Account>,
}

pub async fn read_org(management: &AccountSession) -> Result<OrgView, ProvisionError> {
    let org = management.organizations();
    let site = CallSite::new(
        &management.account_id,
        &management.region,
        "read organization",
    );
    let described = org
        .describe_organization()
        .send()
        .await
        .map_err(|e| site.error("DescribeOrganization", e))?;
    let o = described.organization();
    let mut accounts = BTreeMap::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.error("ListAccounts", e))?;
        for a in page.accounts() {
            if let Some(id) = a.id() {
                accounts.insert(id.to_string(), a.clone());
            }
        }
    }
    // An empty organization id would make every `aws:PrincipalOrgID` condition match nobody.
    let org_id = site.require(
        o.and_then(|o| o.id()),
        "DescribeOrganization",
        "Organization.Id",
    )?;
    let management = o.and_then(|o| o.master_account_id());
    let management = site.require(
        management,
        "DescribeOrganization",
        "Organization.MasterAccountId",
    )?;
    Ok(OrgView {
        org_id: org_id.to_string(),
        management_account: management.to_string(),
        accounts,
    })
}

impl OrgView {
    pub fn find_by_email(&self, email: &str) -> Option<&Account> {
        self.accounts
            .values()
            .find(|a| a.email().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    }
}

/// An account of the organization that a run leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedAccount {
    pub id: String,
    pub name: String,
    pub reason: String,
}

/// The accounts a run configures, the spec's accounts it could not find, and the accounts it
/// leaves alone.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub targets: Vec<TargetAccount>,
    pub problems: Vec<String>,
    pub skipped: Vec<SkippedAccount>,
}

impl Resolved {
    /// Adds an account unless it is not ACTIVE; a second mention merges its OUs.
    fn push(&mut self, org: &OrgView, t: TargetAccount) {
        if let Some(reason) = org.not_active(t.id.as_str()) {
            if !self.skipped.iter().any(|s| s.id == t.id.as_str()) {
                self.skipped.push(SkippedAccount {
                    id: t.id.to_string(),
                    name: t.name,
                    reason,
                });
            }
            return;
        }
        if let Some(existing) = self.targets.iter_mut().find(|e| e.id == t.id) {
            for ou in t.ous {
                if !existing.ous.contains(&ou) {
                    existing.ous.push(ou);
                }
            }
        } else {
            self.targets.push(t);
        }
    }
}

impl OrgView {
    /// Why an account cannot be configured: SUSPENDED and PENDING_CLOSURE accounts are listed
    /// by Organizations but cannot be assumed into.
    pub fn not_active(&self, id: &str) -> Option<String> {
        let status = self.accounts.get(id)?.status()?.as_str();
        (status != "ACTIVE").then(|| {
            format!(
                "its status is {status}: Organizations lists it, but no role in it can be assumed"
            )
        })
    }

    /// The one account with this name; two with the same name are ambiguous.
    fn find_one_by_name(&self, name: &str) -> Result<Option<&Account>, String> {
        let found: Vec<&Account> = self
            .accounts
            .values()
            .filter(|a| a.name() == Some(name))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => Err(format!(
                "account name {name} is ambiguous: accounts {} are all named so; give the id instead",
                many.iter()
                    .filter_map(|a| a.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

fn target(id: &str, name: String, ous: Vec<String>) -> Option<TargetAccount> {
    Some(TargetAccount {
        id: trailhead_model::AccountId::parse(id)?,
        name,
        ous,
    })
}

/// Resolves the spec's accounts against the organization. Accounts that cannot be found are
/// returned as problems, never silently dropped; accounts that are not ACTIVE are skipped.
/// The log-archive account's id: the spec's, or the account the spec asks to create once it
/// exists (found by its email).
pub fn log_archive_id(spec: &OrgSpec, org: &OrgView) -> Option<String> {
    match &spec.log_archive.account {
        trailhead_model::LogArchiveAccount::Existing(id) => Some(id.to_string()),
        trailhead_model::LogArchiveAccount::Create { email, .. } => org
            .find_by_email(email)
            .and_then(|a| a.id())
            .map(str::to_string),
    }
}

pub async fn resolve_targets(
    management: &AccountSession,
    spec: &OrgSpec,
    org: &OrgView,
    log_archive_id: Option<&str>,
) -> Result<Resolved, ProvisionError> {
    let mut resolved = Resolved::default();
    for a in &spec.accounts {
        let found = if let Some(id) = &a.id {
            org.accounts.get(id.value.as_str())
        } else if let Some(email) = &a.email {
            org.find_by_email(&email.value)
        } else {
            match a.name.as_ref().map(|n| org.find_one_by_name(&n.value)) {
                Some(Ok(found)) => found,
                Some(Err(ambiguous)) => {
                    resolved.problems.push(ambiguous);
                    continue;
                }
                None => None,
            }
        };
        let Some((id, found)) = found.and_then(|f| f.id().map(|id| (id, f))) else {
            resolved.problems.push(format!(
                "account {} of the spec is not in organization {}",
                a.label(),
                org.org_id
            ));
            continue;
        };
        let name = a
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .or_else(|| found.name().map(str::to_string))
            .unwrap_or_default();
        let ous = a.ou.iter().map(|o| o.value.clone()).collect();
        if let Some(t) = target(id, name, ous) {
            resolved.push(org, t);
        }
    }
    if let Some(discover) = &spec.discover {
        discover_accounts(management, discover, org, &mut resolved).await?;
    }
    for (id, fallback) in [
        (log_archive_id, "log-archive"),
        (
            spec.rollout
                .include_management_account
                .then_some(org.management_account.as_str())
                .filter(|m| !m.is_empty()),
            "management",
        ),
    ] {
        let Some(id) = id else { continue };
        let name = org
            .accounts
            .get(id)
            .and_then(|a| a.name())
            .unwrap_or(fallback)
            .to_string();
        if let Some(t) = target(id, name, Vec::new()) {
            resolved.push(org, t);
        }
    }
    Ok(resolved)
}

async fn discover_accounts(
    management: &AccountSession,
    discover: &trailhead_model::Discover,
    org: &OrgView,
    resolved: &mut Resolved,
) -> Result<(), ProvisionError> {
    let client = management.organizations();
    let site = CallSite::new(
        &management.account_id,
        &management.region,
        "discover accounts",
    );
    for ou in &discover.ous {
        let mut pages = client
            .list_accounts_for_parent()
            .parent_id(&ou.value)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| site.error("ListAccountsForParent", e))?;
            for acct in page.accounts() {
                let (Some(id), Some(name)) = (acct.id(), acct.name()) else {
                    continue;
                };
                if let Some(t) = target(id, name.to_string(), vec![ou.value.clone()]) {
                    resolved.push(org, t);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_organizations::types::AccountStatus;

    fn org(accounts: &[(&str, &str, AccountStatus)]) -> OrgView {
        OrgView {
            org_id: "o-test".into(),
            management_account: "111111111111".into(),
            accounts: accounts
                .iter()
                .map(|(id, name, status)| {
                    let a = Account::builder()
                        .id(*id)
                        .name(*name)
                        .status(status.clone())
                        .build();
                    (id.to_string(), a)
                })
                .collect(),
        }
    }

    #[test]
    fn two_accounts_of_one_name_are_ambiguous_and_both_ids_are_named() {
        let view = org(&[
            ("222222222222", "prod", AccountStatus::Active),
            ("333333333333", "prod", AccountStatus::Active),
            ("444444444444", "dev", AccountStatus::Active),
        ]);
        let err = view.find_one_by_name("prod").expect_err("ambiguous");
        assert!(
            err.contains("222222222222") && err.contains("333333333333"),
            "{err}"
        );
        let dev = view
            .find_one_by_name("dev")
            .ok()
            .flatten()
            .and_then(|a| a.id());
        assert_eq!(dev, Some("444444444444"));
        assert!(view.find_one_by_name("none").is_ok_and(|a| a.is_none()));
    }

    #[test]
    fn only_active_accounts_are_targets() {
        let view = org(&[
            ("222222222222", "a", AccountStatus::Active),
            ("333333333333", "b", AccountStatus::Suspended),
            ("444444444444", "c", AccountStatus::PendingClosure),
        ]);
        let mut resolved = Resolved::default();
        for (id, name) in [
            ("222222222222", "a"),
            ("333333333333", "b"),
            ("444444444444", "c"),
        ] {
            if let Some(t) = target(id, name.into(), Vec::new()) {
                resolved.push(&view, t);
            }
        }
        assert_eq!(resolved.targets.len(), 1);
        let skipped: Vec<&str> = resolved.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(skipped[0].contains("SUSPENDED") && skipped[1].contains("PENDING_CLOSURE"));
    }
}
