//! Which accounts a run configures: the spec's accounts resolved to ids (by id, email or name),
//! the accounts of the OUs it discovers, and the log-archive account.

use std::collections::BTreeMap;

use aws_sdk_organizations::types::Account;
use trailhead_model::{OrgSpec, TargetAccount};

use crate::error::{CallSite, ProvisionError};
use crate::session::AccountSession;

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
    Ok(OrgView {
        org_id: o.and_then(|o| o.id()).unwrap_or_default().to_string(),
        management_account: o
            .and_then(|o| o.master_account_id())
            .unwrap_or_default()
            .to_string(),
        accounts,
    })
}

impl OrgView {
    pub fn find_by_email(&self, email: &str) -> Option<&Account> {
        self.accounts
            .values()
            .find(|a| a.email().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    }

    pub fn find_by_name(&self, name: &str) -> Option<&Account> {
        self.accounts.values().find(|a| a.name() == Some(name))
    }
}

/// Resolves the spec's accounts against the organization. Accounts that cannot be found are
/// returned as problems, never silently dropped.
pub async fn resolve_targets(
    management: &AccountSession,
    spec: &OrgSpec,
    org: &OrgView,
    log_archive_id: Option<&str>,
) -> Result<(Vec<TargetAccount>, Vec<String>), ProvisionError> {
    let mut targets: Vec<TargetAccount> = Vec::new();
    let mut problems = Vec::new();
    let push = |t: TargetAccount, targets: &mut Vec<TargetAccount>| {
        if let Some(existing) = targets.iter_mut().find(|e| e.id == t.id) {
            for ou in t.ous {
                if !existing.ous.contains(&ou) {
                    existing.ous.push(ou);
                }
            }
        } else {
            targets.push(t);
        }
    };
    for a in &spec.accounts {
        let found = if let Some(id) = &a.id {
            org.accounts.get(id.value.as_str())
        } else if let Some(email) = &a.email {
            org.find_by_email(&email.value)
        } else {
            a.name.as_ref().and_then(|n| org.find_by_name(&n.value))
        };
        match found.and_then(|f| f.id().map(|id| (id, f))) {
            Some((id, found)) => {
                let Some(id) = trailhead_model::AccountId::parse(id) else {
                    continue;
                };
                push(
                    TargetAccount {
                        id,
                        name: a
                            .name
                            .as_ref()
                            .map(|n| n.value.clone())
                            .or_else(|| found.name().map(str::to_string))
                            .unwrap_or_default(),
                        ous: a.ou.iter().map(|o| o.value.clone()).collect(),
                    },
                    &mut targets,
                );
            }
            None => problems.push(format!(
                "account {} of the spec is not in organization {}",
                a.label(),
                org.org_id
            )),
        }
    }
    if let Some(discover) = &spec.discover {
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
                    if let Some(id) = trailhead_model::AccountId::parse(id) {
                        push(
                            TargetAccount {
                                id,
                                name: name.to_string(),
                                ous: vec![ou.value.clone()],
                            },
                            &mut targets,
                        );
                    }
                }
            }
        }
    }
    if let Some(la) = log_archive_id.and_then(trailhead_model::AccountId::parse) {
        let name = org
            .accounts
            .get(la.as_str())
            .and_then(|a| a.name())
            .unwrap_or("log-archive")
            .to_string();
        push(
            TargetAccount {
                id: la,
                name,
                ous: Vec::new(),
            },
            &mut targets,
        );
    }
    Ok((targets, problems))
}
