//! The drill's harmless changes, each undone at once. Everything created is tagged
//! `trailhead:drill=<run id>` and written to the ledger before anything else happens to it, so
//! that a failure or Ctrl-C between creating and removing still leaves it to `cleanup`.

use std::sync::{Arc, Mutex};

use aws_sdk_ec2::types::{ResourceType, Tag as Ec2Tag, TagSpecification};
use jiff::Timestamp;

use super::plan::{DRILL_TAG, Probe, Resource};
use crate::core::consistency::{KEY_PROPAGATION_WAIT, key_not_found, settle};
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;

/// What the drill created and has not removed yet.
#[derive(Debug, Clone, Default)]
pub struct Ledger(Arc<Mutex<Vec<Resource>>>);

impl Ledger {
    pub fn add(&self, r: Resource) {
        if let Ok(mut v) = self.0.lock() {
            v.push(r);
        }
    }

    pub fn remove(&self, r: &Resource) {
        if let Ok(mut v) = self.0.lock() {
            v.retain(|x| x != r);
        }
    }

    pub fn pending(&self) -> Vec<Resource> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// The name of what a drill creates in `account`: recognisable, unique per run, valid for S3.
pub fn drill_name(account: &str, run_id: &str) -> String {
    let run: String = run_id
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("trailhead-drill-{account}-{run}")
}

/// Everything a probe needs.
pub struct ProbeCtx<'a> {
    pub session: &'a AccountSession,
    /// The same role, narrowed by a session policy that denies every action.
    pub denied: &'a AccountSession,
    /// The management account's own session, for the OU probe.
    pub management: &'a AccountSession,
    pub run_id: &'a str,
    pub trail_name: &'a str,
    pub ledger: &'a Ledger,
    pub site: CallSite,
    /// The access role the session is of; None in the management account (the caller's own).
    pub role_name: Option<&'a str>,
}

impl ProbeCtx<'_> {
    pub fn name(&self) -> String {
        drill_name(&self.session.account_id, self.run_id)
    }

    fn ec2_tags(&self, kind: ResourceType) -> TagSpecification {
        TagSpecification::builder()
            .resource_type(kind)
            .tags(Ec2Tag::builder().key(DRILL_TAG).value(self.run_id).build())
            .build()
    }
}

/// Runs one probe; returns when its change was made (the event time the alarm must see).
pub async fn run(p: &ProbeCtx<'_>, probe: Probe, vpc: &str) -> Result<Timestamp, ProvisionError> {
    let at = Timestamp::now();
    match probe {
        Probe::DeniedCall => denied_call(p).await?,
        Probe::IamPolicy => iam_policy(p).await?,
        Probe::UpdateTrail => {
            p.session
                .cloudtrail()
                .update_trail()
                .name(p.trail_name)
                .send()
                .await
                .map_err(|e| p.site.error("UpdateTrail", e))?;
        }
        Probe::EventSelectors => event_selectors(p).await?,
        Probe::KmsKeyDeletion => kms_key(p).await?,
        Probe::BucketPolicy => bucket_policy(p).await?,
        Probe::SecurityGroup | Probe::NetworkAcl | Probe::RouteTable => {
            in_vpc(p, probe, vpc).await?
        }
        Probe::InternetGateway => internet_gateway(p).await?,
        // The VPC is created before the probes and deleted after them (`create_vpc`).
        Probe::Vpc => {}
        Probe::OrganizationalUnit => organizational_unit(p).await?,
    }
    Ok(at)
}

/// Removes what a probe created, and strikes it from the ledger once it is gone.
async fn undo(p: &ProbeCtx<'_>, resource: &Resource) -> Result<(), ProvisionError> {
    super::cleanup::remove(p.session, &p.site, resource).await?;
    p.ledger.remove(resource);
    Ok(())
}

async fn denied_call(p: &ProbeCtx<'_>) -> Result<(), ProvisionError> {
    match p.denied.cloudtrail().describe_trails().send().await {
        Err(e)
            if crate::core::error::describe(&e)
                .0
                .starts_with("AccessDenied") =>
        {
            Ok(())
        }
        Err(e) => Err(p.site.error("DescribeTrails (denied session)", e).into()),
        Ok(_) => Err(ProvisionError::Config(
            "the drill's denied call was allowed: the session policy did not narrow the session"
                .into(),
        )),
    }
}

async fn iam_policy(p: &ProbeCtx<'_>) -> Result<(), ProvisionError> {
    let iam = p.session.iam();
    // Denies an action that does not exist: attached anywhere, it would change nothing.
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"trailhead-drill:None","Resource":"*"}]}"#;
    let out = iam
        .create_policy()
        .policy_name(p.name())
        .path("/trailhead-drill/")
        .description("trailhead drill: created and deleted at once")
        .policy_document(document)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key(DRILL_TAG)
                .value(p.run_id)
                .build()
                .map_err(|e| ProvisionError::Config(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| p.site.error("CreatePolicy", e))?;
    let arn = p
        .site
        .require(
            out.policy().and_then(|x| x.arn()),
            "CreatePolicy",
            "Policy.Arn",
        )?
        .to_string();
    let resource = Resource::IamPolicy(arn);
    p.ledger.add(resource.clone());
    undo(p, &resource).await
}

/// Puts the trail's selectors back as they are (advanced ones if it has them).
async fn event_selectors(p: &ProbeCtx<'_>) -> Result<(), ProvisionError> {
    let cloudtrail = p.session.cloudtrail();
    let live = cloudtrail
        .get_event_selectors()
        .trail_name(p.trail_name)
        .send()
        .await
        .map_err(|e| p.site.error("GetEventSelectors", e))?;
    let put = cloudtrail.put_event_selectors().trail_name(p.trail_name);
    let put = if live.advanced_event_selectors().is_empty() {
        put.set_event_selectors(Some(live.event_selectors().to_vec()))
    } else {
        put.set_advanced_event_selectors(Some(live.advanced_event_selectors().to_vec()))
    };
    put.send()
        .await
        .map_err(|e| p.site.error("PutEventSelectors", e))?;
    Ok(())
}

/// Writes a new key's own default policy back: a PutKeyPolicy that changes nothing.
async fn same_key_policy(p: &ProbeCtx<'_>, key_id: &str) -> Result<(), ProvisionError> {
    let kms = p.session.kms();
    let policy = kms
        .get_key_policy()
        .key_id(key_id)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| p.site.error("GetKeyPolicy", e))?;
    let policy = policy
        .policy()
        .ok_or_else(|| ProvisionError::Config("GetKeyPolicy returned no policy".into()))?;
    // The key was made a moment ago: KMS may not know it everywhere yet. Its own policy allows
    // this change, from the moment it exists.
    settle(key_not_found, KEY_PROPAGATION_WAIT, || {
        kms.put_key_policy()
            .key_id(key_id)
            .policy_name("default")
            .policy(policy)
            .send()
    })
    .await
    .map_err(|e| p.site.error("PutKeyPolicy", e))?;
    Ok(())
}

/// Who the drill's key lets rewrite and delete it: the access role, or in the management
/// account the caller as STS names it.
async fn driller(p: &ProbeCtx<'_>) -> Result<String, ProvisionError> {
    let (account, region) = (&p.session.account_id, &p.session.region);
    if let Some(role) = p.role_name {
        return Ok(crate::core::session::role_arn(region, account, role));
    }
    let me = p
        .session
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| p.site.error("GetCallerIdentity", e))?;
    me.arn()
        .map(str::to_string)
        .ok_or_else(|| ProvisionError::Config("GetCallerIdentity returned no ARN".into()))
}

async fn kms_key(p: &ProbeCtx<'_>) -> Result<(), ProvisionError> {
    let (account, region) = (&p.session.account_id, &p.session.region);
    let part = crate::core::session::partition(region);
    let policy = trailhead_policies::drill_key_policy(part, account, &driller(p).await?);
    let out = p
        .session
        .kms()
        .create_key()
        .description(format!(
            "trailhead drill {}: scheduled for deletion",
            p.run_id
        ))
        .policy(policy.to_json())
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key(DRILL_TAG)
                .tag_value(p.run_id)
                .build()
                .map_err(|e| ProvisionError::Config(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| p.site.error("CreateKey", e))?;
    let id = p
        .site
        .require(
            out.key_metadata().map(|m| m.key_id()),
            "CreateKey",
            "KeyMetadata",
        )?
        .to_string();
    let resource = Resource::KmsKey(id.clone());
    p.ledger.add(resource.clone());
    let rewritten = same_key_policy(p, &id).await;
    // Scheduled for deletion whether or not the policy call went through.
    undo(p, &resource).await?;
    rewritten
}

async fn bucket_policy(p: &ProbeCtx<'_>) -> Result<(), ProvisionError> {
    let s3 = p.session.s3();
    let bucket = p.name();
    let mut create = s3.create_bucket().bucket(&bucket);
    if p.session.region != "us-east-1" {
        let constraint =
            aws_sdk_s3::types::BucketLocationConstraint::from(p.session.region.as_str());
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(constraint)
                .build(),
        );
    }
    create
        .send()
        .await
        .map_err(|e| p.site.error("CreateBucket", e))?;
    let resource = Resource::Bucket(bucket.clone());
    p.ledger.add(resource.clone());
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(
            aws_sdk_s3::types::Tag::builder()
                .key(DRILL_TAG)
                .value(p.run_id)
                .build()
                .map_err(|e| ProvisionError::Config(e.to_string()))?,
        )
        .build()
        .map_err(|e| ProvisionError::Config(e.to_string()))?;
    s3.put_bucket_tagging()
        .bucket(&bucket)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| p.site.error("PutBucketTagging", e))?;
    // TLS-only: a deny that changes nothing for anyone using HTTPS, and is never public.
    let part = crate::core::session::partition(&p.session.region);
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "TrailheadDrill", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:{part}:s3:::{bucket}"), format!("arn:{part}:s3:::{bucket}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|e| p.site.error("PutBucketPolicy", e))?;
    s3.delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .map_err(|e| p.site.error("DeleteBucketPolicy", e))?;
    undo(p, &resource).await
}

/// Creates the drill's VPC (the VPC probe's event) and returns its id.
pub async fn create_vpc(p: &ProbeCtx<'_>) -> Result<(String, Timestamp), ProvisionError> {
    let at = Timestamp::now();
    let out = p
        .session
        .ec2()
        .create_vpc()
        .cidr_block("10.255.0.0/28")
        .tag_specifications(p.ec2_tags(ResourceType::Vpc))
        .send()
        .await
        .map_err(|e| p.site.error("CreateVpc", e))?;
    let id = p
        .site
        .require(out.vpc().and_then(|v| v.vpc_id()), "CreateVpc", "Vpc.VpcId")?
        .to_string();
    p.ledger.add(Resource::Vpc(id.clone()));
    Ok((id, at))
}

async fn in_vpc(p: &ProbeCtx<'_>, probe: Probe, vpc: &str) -> Result<(), ProvisionError> {
    let ec2 = p.session.ec2();
    let resource = match probe {
        Probe::SecurityGroup => {
            let out = ec2
                .create_security_group()
                .group_name(p.name())
                .description("trailhead drill: created and deleted at once")
                .vpc_id(vpc)
                .tag_specifications(p.ec2_tags(ResourceType::SecurityGroup))
                .send()
                .await
                .map_err(|e| p.site.error("CreateSecurityGroup", e))?;
            let id = p
                .site
                .require(out.group_id(), "CreateSecurityGroup", "GroupId")?;
            Resource::SecurityGroup(id.to_string())
        }
        Probe::NetworkAcl => {
            let out = ec2
                .create_network_acl()
                .vpc_id(vpc)
                .tag_specifications(p.ec2_tags(ResourceType::NetworkAcl))
                .send()
                .await
                .map_err(|e| p.site.error("CreateNetworkAcl", e))?;
            let id = out.network_acl().and_then(|a| a.network_acl_id());
            let id = p
                .site
                .require(id, "CreateNetworkAcl", "NetworkAcl.NetworkAclId")?;
            Resource::NetworkAcl(id.to_string())
        }
        _ => {
            let out = ec2
                .create_route_table()
                .vpc_id(vpc)
                .tag_specifications(p.ec2_tags(ResourceType::RouteTable))
                .send()
                .await
                .map_err(|e| p.site.error("CreateRouteTable", e))?;
            let id = out.route_table().and_then(|t| t.route_table_id());
            let id = p
                .site
                .require(id, "CreateRouteTable", "RouteTable.RouteTableId")?;
            Resource::RouteTable(id.to_string())
        }
    };
    p.ledger.add(resource.clone());
    undo(p, &resource).await
}

async fn internet_gateway(p: &ProbeCtx<'_>) -> Result<(), ProvisionError> {
    let out = p
        .session
        .ec2()
        .create_internet_gateway()
        .tag_specifications(p.ec2_tags(ResourceType::InternetGateway))
        .send()
        .await
        .map_err(|e| p.site.error("CreateInternetGateway", e))?;
    let id = p
        .site
        .require(
            out.internet_gateway().and_then(|g| g.internet_gateway_id()),
            "CreateInternetGateway",
            "InternetGateway.InternetGatewayId",
        )?
        .to_string();
    let resource = Resource::InternetGateway(id);
    p.ledger.add(resource.clone());
    undo(p, &resource).await
}

/// The Organizations change: UpdateOrganizationalUnit of an OU that cannot exist here, named
/// after the drill (the name in the request marks the record as ours). AWS refuses it
/// (OrganizationalUnitNotFoundException, or AccessDenied where the caller may not update OUs),
/// CloudTrail records the attempt all the same, and the CIS filter, which matches the event name
/// whatever its outcome, counts it. Nothing in the organization changes, and the drill needs no
/// permission to change anything in it.
async fn organizational_unit(p: &ProbeCtx<'_>) -> Result<(), ProvisionError> {
    let orgs = p.management.organizations();
    let roots = orgs
        .list_roots()
        .send()
        .await
        .map_err(|e| p.site.error("ListRoots", e))?;
    let root = roots
        .roots()
        .first()
        .and_then(|r| r.id())
        .ok_or_else(|| ProvisionError::Config("ListRoots returned no root id".into()))?;
    let id = impossible_ou_id(root);
    let answer = orgs
        .update_organizational_unit()
        .organizational_unit_id(&id)
        .name(p.name())
        .send()
        .await;
    match answer {
        Err(e) => {
            let code = crate::core::error::describe(&e).0;
            if code == "OrganizationalUnitNotFoundException" || code.starts_with("AccessDenied") {
                Ok(())
            } else {
                Err(p.site.error("UpdateOrganizationalUnit", e).into())
            }
        }
        Ok(_) => Err(ProvisionError::Config(format!(
            "UpdateOrganizationalUnit {id} succeeded, though no OU of this organization can have that id: report this"
        ))),
    }
}

/// An OU id that no OU of the organization under `root` can have: well formed, but its first
/// part differs from the root's ("ou-" + the root's id + "-" + 8 to 32 characters, Organizations
/// API reference, OrganizationalUnit Id).
pub(crate) fn impossible_ou_id(root: &str) -> String {
    let root_part = root.strip_prefix("r-").unwrap_or(root);
    let other = if root_part == "0000" { "0001" } else { "0000" };
    format!("ou-{other}-trailheaddrill")
}

#[cfg(test)]
mod tests {
    use super::impossible_ou_id;

    #[test]
    fn the_probes_ou_id_is_well_formed_and_outside_the_organizations_root() {
        let pattern = |id: &str| {
            let mut parts = id.split('-');
            let ok = |s: &str, min: usize| {
                (min..=32).contains(&s.len())
                    && s.chars()
                        .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
            };
            parts.next() == Some("ou")
                && parts.next().is_some_and(|s| ok(s, 4))
                && parts.next().is_some_and(|s| ok(s, 8))
                && parts.next().is_none()
        };
        for root in ["r-ab12", "r-0000", "r-0001"] {
            let id = impossible_ou_id(root);
            assert!(pattern(&id), "{id}");
            let root_part = &root[2..];
            assert!(
                !id.starts_with(&format!("ou-{root_part}-")),
                "{id} under {root}"
            );
        }
    }
}
