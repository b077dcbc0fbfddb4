//! Builds an organization to run against: OUs, a log-archive account, an audit account and
//! member accounts. It is what `cargo xtask demo` and the end-to-end tests stand on, and works
//! against any Organizations endpoint, though it is only ever pointed at the emulator.
//!
//! Re-running it with the same prefix finds the accounts it made (by email) instead of making
//! more, so a demo can be run twice.

use std::collections::HashMap;
use std::fmt::Write as _;

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{Account, CreateAccountState};

use trailhead_provisioner::Connection;
use trailhead_provisioner::error::{CallSite, ProvisionError, code_of};

pub const OUS: [&str; 3] = ["Security", "Sandbox", "Workloads"];

#[derive(Debug, Clone)]
pub struct SeedRequest {
    /// Makes names and emails unique, so that tests sharing one emulator never collide.
    pub prefix: String,
    pub members: usize,
    pub region: String,
    /// Also plant what a real organization has: a SUSPENDED account and an account without
    /// the access role (created with another role name, as an invited account would be). The
    /// demo shows how a run reports them.
    pub plant_unreachable: bool,
    /// Whether the spec's run includes the management account (tests sharing one emulator
    /// leave it out: they would all write to the same account).
    pub include_management: bool,
}

/// The role planted accounts are created with instead of the access role.
pub const PLANTED_ROLE: &str = "NotTheAccessRole";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededAccount {
    pub id: String,
    pub name: String,
    pub email: String,
    pub ou: String,
}

#[derive(Debug, Clone)]
pub struct SeededOrg {
    pub org_id: String,
    pub management_account: String,
    pub log_archive: SeededAccount,
    pub audit: SeededAccount,
    pub members: Vec<SeededAccount>,
    /// Accounts a run cannot configure, with what a run should say about them.
    pub planted: Vec<(SeededAccount, String)>,
    pub include_management: bool,
}

pub async fn seed_org(conn: &Connection, req: &SeedRequest) -> Result<SeededOrg, ProvisionError> {
    let config = conn.base_config(&req.region).await;
    let org = Client::new(&config);
    let site = CallSite::new("management", &req.region, "seed organization");
    let (org_id, management_account) = ensure_organization(&org, &site).await?;
    let (root_id, ou_ids) = ensure_ous(&org, &site).await?;
    let by_email = accounts_by_email(&org, &site).await?;
    let planted_names = planted_names(&req.prefix);
    let mut seeded = Vec::new();
    for (name, ou) in wanted_accounts(req, &planted_names) {
        let email = format!("{name}@trailhead.example");
        let role = if name.ends_with("-no-role") {
            PLANTED_ROLE
        } else {
            "OrganizationAccountAccessRole"
        };
        let id = match by_email.get(&email) {
            Some(account) => site
                .require(account.id(), "ListAccounts", "Account.Id")?
                .to_string(),
            None => create_account(&org, &site, &name, &email, role).await?,
        };
        let ou_id = ou_ids.get(ou).cloned().unwrap_or_else(|| root_id.clone());
        place(&org, &site, &id, &ou_id, &root_id).await?;
        if name.ends_with("-closed") {
            close_account(&org, &site, &id).await?;
        }
        seeded.push(SeededAccount {
            id,
            name,
            email,
            ou: ou.to_string(),
        });
    }
    let planted: Vec<(SeededAccount, String)> = seeded
        .iter()
        .filter_map(|a| {
            planted_names
                .iter()
                .find(|(n, _)| *n == a.name)
                .map(|(_, why)| (a.clone(), why.to_string()))
        })
        .collect();
    seeded.retain(|a| !planted.iter().any(|(p, _)| p.id == a.id));
    let mut seeded = seeded.into_iter();
    let (Some(log_archive), Some(audit)) = (seeded.next(), seeded.next()) else {
        return Err(ProvisionError::Config(
            "seeding produced no accounts".into(),
        ));
    };
    Ok(SeededOrg {
        org_id,
        management_account,
        log_archive,
        audit,
        members: seeded.collect(),
        planted,
        include_management: req.include_management,
    })
}

/// The organization (created when there is none): its id and its management account.
async fn ensure_organization(
    org: &Client,
    site: &CallSite,
) -> Result<(String, String), ProvisionError> {
    if let Err(e) = org
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        && code_of(&e) != Some("AlreadyInOrganizationException")
    {
        return Err(site.error("CreateOrganization", e).into());
    }
    let description = org
        .describe_organization()
        .send()
        .await
        .map_err(|e| site.error("DescribeOrganization", e))?;
    let organization = description.organization();
    let id = site.require(
        organization.and_then(|o| o.id()),
        "DescribeOrganization",
        "Organization.Id",
    )?;
    let management = site.require(
        organization.and_then(|o| o.master_account_id()),
        "DescribeOrganization",
        "Organization.MasterAccountId",
    )?;
    Ok((id.to_string(), management.to_string()))
}

/// The accounts a run cannot configure, and what a run should say of each.
fn planted_names(prefix: &str) -> [(String, &'static str); 2] {
    [
        (format!("{prefix}-closed"), "skipped: SUSPENDED"),
        (
            format!("{prefix}-no-role"),
            "fails: its access role does not exist",
        ),
    ]
}

/// (name, OU) of every account to seed: the log archive and audit accounts first, then the
/// members, then the planted ones when asked for.
fn wanted_accounts(
    req: &SeedRequest,
    planted: &[(String, &'static str)],
) -> Vec<(String, &'static str)> {
    let mut wanted = vec![
        (format!("{}-log-archive", req.prefix), "Security"),
        (format!("{}-audit", req.prefix), "Security"),
    ];
    for i in 1..=req.members {
        let ou = if i <= 2 { "Sandbox" } else { "Workloads" };
        wanted.push((format!("{}-member-{i:02}", req.prefix), ou));
    }
    if req.plant_unreachable {
        for (name, _) in planted {
            wanted.push((name.clone(), "Workloads"));
        }
    }
    wanted
}

/// The organization's root and the OUs of the seed, created where missing.
async fn ensure_ous(
    org: &Client,
    site: &CallSite,
) -> Result<(String, HashMap<String, String>), ProvisionError> {
    let roots = org
        .list_roots()
        .send()
        .await
        .map_err(|e| site.error("ListRoots", e))?;
    let root_id = roots
        .roots()
        .first()
        .and_then(|r| r.id())
        .ok_or_else(|| ProvisionError::Config("the organization has no root".into()))?
        .to_string();

    let mut ou_ids = HashMap::new();
    let existing = org
        .list_organizational_units_for_parent()
        .parent_id(&root_id)
        .send()
        .await
        .map_err(|e| site.error("ListOrganizationalUnitsForParent", e))?;
    for ou in existing.organizational_units() {
        if let (Some(name), Some(id)) = (ou.name(), ou.id()) {
            ou_ids.insert(name.to_string(), id.to_string());
        }
    }
    for name in OUS {
        if ou_ids.contains_key(name) {
            continue;
        }
        let created = org
            .create_organizational_unit()
            .parent_id(&root_id)
            .name(name)
            .send()
            .await
            .map_err(|e| site.error("CreateOrganizationalUnit", e))?;
        if let Some(id) = created.organizational_unit().and_then(|o| o.id()) {
            ou_ids.insert(name.to_string(), id.to_string());
        }
    }
    Ok((root_id, ou_ids))
}

/// Every account of the organization, by lowercased email.
async fn accounts_by_email(
    org: &Client,
    site: &CallSite,
) -> Result<HashMap<String, Account>, ProvisionError> {
    let mut by_email: HashMap<String, Account> = HashMap::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.error("ListAccounts", e))?;
        for account in page.accounts() {
            if let Some(email) = account.email() {
                by_email.insert(email.to_ascii_lowercase(), account.clone());
            }
        }
    }
    Ok(by_email)
}

/// Moves an account into its OU unless it is there.
async fn place(
    org: &Client,
    site: &CallSite,
    id: &str,
    ou_id: &str,
    root_id: &str,
) -> Result<(), ProvisionError> {
    let parents = org
        .list_parents()
        .child_id(id)
        .send()
        .await
        .map_err(|e| site.error("ListParents", e))?;
    let parent = parents
        .parents()
        .first()
        .and_then(|p| p.id())
        .unwrap_or(root_id)
        .to_string();
    if parent != ou_id {
        org.move_account()
            .account_id(id)
            .source_parent_id(&parent)
            .destination_parent_id(ou_id)
            .send()
            .await
            .map_err(|e| site.error("MoveAccount", e))?;
    }
    Ok(())
}

/// Closes an account (it stays listed, SUSPENDED); closing it again is fine.
async fn close_account(org: &Client, site: &CallSite, id: &str) -> Result<(), ProvisionError> {
    match org.close_account().account_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) if code_of(&e) == Some("AccountAlreadyClosedException") => Ok(()),
        Err(e) => Err(site.error("CloseAccount", e).into()),
    }
}

async fn create_account(
    org: &Client,
    site: &CallSite,
    name: &str,
    email: &str,
    role: &str,
) -> Result<String, ProvisionError> {
    let created = org
        .create_account()
        .account_name(name)
        .email(email)
        .role_name(role)
        .send()
        .await
        .map_err(|e| site.error("CreateAccount", e))?;
    let request_id = created
        .create_account_status()
        .and_then(|s| s.id())
        .unwrap_or_default()
        .to_string();
    let mut delay = std::time::Duration::from_millis(200);
    for _ in 0..30 {
        let status = org
            .describe_create_account_status()
            .create_account_request_id(&request_id)
            .send()
            .await
            .map_err(|e| site.error("DescribeCreateAccountStatus", e))?;
        let Some(status) = status.create_account_status() else {
            break;
        };
        match status.state() {
            Some(CreateAccountState::Succeeded) => {
                return Ok(status.account_id().unwrap_or_default().to_string());
            }
            Some(CreateAccountState::Failed) => {
                return Err(ProvisionError::Config(format!(
                    "creating account {name} failed: {}",
                    status
                        .failure_reason()
                        .map_or("no reason given", |r| r.as_str())
                )));
            }
            _ => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(5));
            }
        }
    }
    Err(ProvisionError::Config(format!(
        "account {name} was not created in time"
    )))
}

impl SeededOrg {
    pub fn all_accounts(&self) -> impl Iterator<Item = &SeededAccount> {
        [&self.log_archive, &self.audit]
            .into_iter()
            .chain(self.members.iter())
    }

    /// A spec for this org: the sandbox accounts as canaries, the security accounts, then the
    /// workloads.
    pub fn spec_toml(&self, org_name: &str, home_region: &str) -> String {
        self.spec_toml_with(org_name, home_region, "")
    }

    /// The spec, with `trail_tables` (TOML under `[trail]`: more keys, then sub-tables such as
    /// `[trail.data_events]`) in its trail section.
    pub fn spec_toml_with(&self, org_name: &str, home_region: &str, trail_tables: &str) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            r#"# Generated by trailhead for organization {org_id} in the emulator.
[org]
name = "{org_name}"
management_account = "{mgmt}"
home_region = "{home_region}"
regions = ["{home_region}"]

[log_archive]
account_id = "{la}"
bucket_name = "{{org}}-cloudtrail-{{account_id}}"
mfa_delete = true
kms_alias = "alias/{org_name}-cloudtrail"
security_account_id = "{audit}"

[trail]
name = "{org_name}-audit"
log_group_name = "/trailhead/{org_name}/cloudtrail"
cloudwatch_logs_retention_days = 365
{trail_tables}
[alarms]
benchmark = "cis-5.0"
sns_topic_name = "{org_name}-cis-alarms"
emails = ["secops@trailhead.example"]
"#,
            org_id = self.org_id,
            mgmt = self.management_account,
            la = self.log_archive.id,
            audit = self.audit.id,
        );
        let _ = write!(
            s,
            "\n[rollout]\ninclude_management_account = {}\n",
            self.include_management
        );
        for a in self.all_accounts() {
            let _ = write!(
                s,
                "\n[[account]]\nid = \"{}\"\nname = \"{}\"\nemail = \"{}\"\nou = \"{}\"\n",
                a.id, a.name, a.email, a.ou
            );
        }
        for (a, why) in &self.planted {
            let _ = write!(
                s,
                "\n# Planted by the emulator's seed: a run {why}.\n[[account]]\nid = \"{}\"\nname = \"{}\"\nou = \"{}\"\n",
                a.id, a.name, a.ou
            );
        }
        // A wave per OU that has accounts: the sandboxes are the canaries.
        let waves = [
            ("canary", "Sandbox", 1, "0"),
            ("security", "Security", 2, "0"),
            ("workloads", "Workloads", 8, "\"10%\""),
        ];
        for (name, ou, concurrency, tolerance) in waves {
            if self.all_accounts().any(|a| a.ou == ou) {
                let _ = write!(
                    s,
                    "\n[[wave]]\nname = \"{name}\"\nmembers = [\"ou:{ou}\"]\nmax_concurrency = {concurrency}\nfailure_tolerance = {tolerance}\n"
                );
            }
        }
        s
    }
}

/// An SDK configuration that signs as `account`'s root user in the emulator (its root users
/// sign with the access key id `AKIAROOT<account>`; see docs/emulator.md).
pub async fn emulator_root_config(
    conn: &Connection,
    account: &str,
    region: &str,
) -> aws_types::SdkConfig {
    let root = aws_credential_types::Credentials::new(
        format!("AKIAROOT{account}"),
        "emulator-root",
        None,
        None,
        "trailhead-emulator-root",
    );
    conn.base_config(region)
        .await
        .to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(root))
        .build()
}

/// Gives a planted account the access role it lacks, as its owner would: as the account's root
/// user, `role_name` is created with the trust and managed policies of the role the account was
/// created with. Returns false when the role was already there.
pub async fn grant_access(
    conn: &Connection,
    account: &str,
    role_name: &str,
    region: &str,
) -> Result<bool, ProvisionError> {
    let iam = aws_sdk_iam::Client::new(&emulator_root_config(conn, account, region).await);
    let site = CallSite::new(account, region, "grant access");
    if iam.get_role().role_name(role_name).send().await.is_ok() {
        return Ok(false);
    }
    let planted = iam
        .get_role()
        .role_name(PLANTED_ROLE)
        .send()
        .await
        .map_err(|e| site.error("GetRole", e))?;
    let trust = planted
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .map(trailhead_policies::percent_decode)
        .unwrap_or_default();
    iam.create_role()
        .role_name(role_name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .map_err(|e| site.error("CreateRole", e))?;
    let attached = iam
        .list_attached_role_policies()
        .role_name(PLANTED_ROLE)
        .send()
        .await
        .map_err(|e| site.error("ListAttachedRolePolicies", e))?;
    for policy in attached.attached_policies() {
        if let Some(arn) = policy.policy_arn() {
            iam.attach_role_policy()
                .role_name(role_name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| site.error("AttachRolePolicy", e))?;
        }
    }
    Ok(true)
}
