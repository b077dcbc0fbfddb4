//! Removing what the drill created: one resource at a time as each probe ends, the ledger after
//! a failure or Ctrl-C, and `drill --cleanup`, which finds leftovers of earlier drills by their
//! `trailhead:drill` tag. Nothing without that tag is ever touched.

use aws_sdk_ec2::types::Filter;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::plan::{DRILL_TAG, Resource, removal_order};
use crate::core::consistency::{KEY_PROPAGATION_WAIT, key_not_found, settle};
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;

/// Error codes that mean "already gone": removing twice is not a failure.
const GONE: [&str; 6] = [
    "NoSuchEntity",
    "NoSuchBucket",
    "NotFoundException",
    "InvalidVpcID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidRouteTableID.NotFound",
];

fn gone<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code()
        .is_some_and(|c| GONE.contains(&c) || c.ends_with(".NotFound"))
}

macro_rules! removed {
    ($site:expr, $op:literal, $call:expr) => {
        match $call.await {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(ProvisionError::from($site.error($op, e))),
        }
    };
}

/// Removes one resource the drill created (a KMS key is scheduled for deletion, 7 days).
pub async fn remove(
    session: &AccountSession,
    site: &CallSite,
    resource: &Resource,
) -> Result<(), ProvisionError> {
    let ec2 = || session.ec2();
    match resource {
        Resource::IamPolicy(arn) => removed!(
            site,
            "DeletePolicy",
            session.iam().delete_policy().policy_arn(arn).send()
        ),
        // A key made seconds ago may answer NotFoundException for a while (KMS eventual
        // consistency): that is not "already gone" until the lag has been waited out, or a live
        // key would drop out of the ledger. Its own policy allows the deletion.
        Resource::KmsKey(id) => removed!(
            site,
            "ScheduleKeyDeletion",
            settle(key_not_found, KEY_PROPAGATION_WAIT, || {
                session
                    .kms()
                    .schedule_key_deletion()
                    .key_id(id)
                    .pending_window_in_days(7)
                    .send()
            })
        ),
        Resource::Bucket(name) => removed!(
            site,
            "DeleteBucket",
            session.s3().delete_bucket().bucket(name).send()
        ),
        Resource::Vpc(id) => removed!(site, "DeleteVpc", ec2().delete_vpc().vpc_id(id).send()),
        Resource::SecurityGroup(id) => removed!(
            site,
            "DeleteSecurityGroup",
            ec2().delete_security_group().group_id(id).send()
        ),
        Resource::NetworkAcl(id) => removed!(
            site,
            "DeleteNetworkAcl",
            ec2().delete_network_acl().network_acl_id(id).send()
        ),
        Resource::InternetGateway(id) => removed!(
            site,
            "DeleteInternetGateway",
            ec2()
                .delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
        ),
        Resource::RouteTable(id) => removed!(
            site,
            "DeleteRouteTable",
            ec2().delete_route_table().route_table_id(id).send()
        ),
    }
}

/// Removes every resource, in dependency order; returns what could not be removed, with why.
pub async fn remove_all(
    session: &AccountSession,
    site: &CallSite,
    resources: &[Resource],
) -> Vec<(Resource, String)> {
    let mut failed = Vec::new();
    for r in removal_order(resources) {
        if let Err(e) = remove(session, site, &r).await {
            failed.push((r, e.to_string()));
        }
    }
    failed
}

fn tagged() -> Filter {
    Filter::builder().name("tag-key").values(DRILL_TAG).build()
}

/// The drill's leftovers in the session's account and region, found by tag.
pub async fn leftovers(
    session: &AccountSession,
    site: &CallSite,
) -> Result<Vec<Resource>, ProvisionError> {
    let mut found = ec2_leftovers(session, site).await?;
    found.extend(iam_leftovers(session, site).await?);
    found.extend(bucket_leftovers(session, site).await?);
    found.extend(key_leftovers(session, site).await?);
    Ok(found)
}

async fn ec2_leftovers(
    session: &AccountSession,
    site: &CallSite,
) -> Result<Vec<Resource>, ProvisionError> {
    let ec2 = session.ec2();
    let mut found = Vec::new();
    let vpcs = ec2.describe_vpcs().filters(tagged()).send().await;
    let vpcs = vpcs.map_err(|e| site.error("DescribeVpcs", e))?;
    found.extend(
        vpcs.vpcs()
            .iter()
            .filter_map(|v| v.vpc_id())
            .map(|id| Resource::Vpc(id.into())),
    );
    let groups = ec2
        .describe_security_groups()
        .filters(tagged())
        .send()
        .await;
    let groups = groups.map_err(|e| site.error("DescribeSecurityGroups", e))?;
    found.extend(
        groups
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id())
            .map(|id| Resource::SecurityGroup(id.into())),
    );
    let acls = ec2.describe_network_acls().filters(tagged()).send().await;
    let acls = acls.map_err(|e| site.error("DescribeNetworkAcls", e))?;
    found.extend(
        acls.network_acls()
            .iter()
            .filter_map(|a| a.network_acl_id())
            .map(|id| Resource::NetworkAcl(id.into())),
    );
    let tables = ec2.describe_route_tables().filters(tagged()).send().await;
    let tables = tables.map_err(|e| site.error("DescribeRouteTables", e))?;
    found.extend(
        tables
            .route_tables()
            .iter()
            .filter_map(|t| t.route_table_id())
            .map(|id| Resource::RouteTable(id.into())),
    );
    let gateways = ec2
        .describe_internet_gateways()
        .filters(tagged())
        .send()
        .await;
    let gateways = gateways.map_err(|e| site.error("DescribeInternetGateways", e))?;
    found.extend(
        gateways
            .internet_gateways()
            .iter()
            .filter_map(|g| g.internet_gateway_id())
            .map(|id| Resource::InternetGateway(id.into())),
    );
    Ok(found)
}

async fn iam_leftovers(
    session: &AccountSession,
    site: &CallSite,
) -> Result<Vec<Resource>, ProvisionError> {
    let iam = session.iam();
    let listed = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .path_prefix("/trailhead-drill/")
        .send()
        .await
        .map_err(|e| site.error("ListPolicies", e))?;
    let mut found = Vec::new();
    for policy in listed.policies() {
        let Some(arn) = policy.arn() else { continue };
        let tags = iam
            .list_policy_tags()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| site.error("ListPolicyTags", e))?;
        if tags.tags().iter().any(|t| t.key() == DRILL_TAG) {
            found.push(Resource::IamPolicy(arn.to_string()));
        }
    }
    Ok(found)
}

async fn bucket_leftovers(
    session: &AccountSession,
    site: &CallSite,
) -> Result<Vec<Resource>, ProvisionError> {
    let s3 = session.s3();
    let listed = s3
        .list_buckets()
        .prefix("trailhead-drill-")
        .send()
        .await
        .map_err(|e| site.error("ListBuckets", e))?;
    let mut found = Vec::new();
    for bucket in listed.buckets() {
        let Some(name) = bucket.name() else { continue };
        let Ok(tags) = s3.get_bucket_tagging().bucket(name).send().await else {
            continue;
        };
        if tags.tag_set().iter().any(|t| t.key() == DRILL_TAG) {
            found.push(Resource::Bucket(name.to_string()));
        }
    }
    Ok(found)
}

/// Keys the drill created that are not yet scheduled for deletion.
async fn key_leftovers(
    session: &AccountSession,
    site: &CallSite,
) -> Result<Vec<Resource>, ProvisionError> {
    let kms = session.kms();
    let listed = kms
        .list_keys()
        .send()
        .await
        .map_err(|e| site.error("ListKeys", e))?;
    let mut found = Vec::new();
    for key in listed.keys() {
        let Some(id) = key.key_id() else { continue };
        let Ok(tags) = kms.list_resource_tags().key_id(id).send().await else {
            continue;
        };
        if !tags.tags().iter().any(|t| t.tag_key() == DRILL_TAG) {
            continue;
        }
        let described = kms.describe_key().key_id(id).send().await;
        let state = described
            .ok()
            .and_then(|d| d.key_metadata().and_then(|m| m.key_state().cloned()));
        if state != Some(aws_sdk_kms::types::KeyState::PendingDeletion) {
            found.push(Resource::KmsKey(id.to_string()));
        }
    }
    Ok(found)
}
