//! The archive's KMS key: found by alias (or, after a crash between CreateKey and CreateAlias,
//! by the tag every key of ours carries), created with its policy, rotated, described.

use aws_sdk_kms::Client;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::types::{KeyState, Tag};
use trailhead_policies::{PolicyDocument, PolicyKind, check_budget, same_policy};

use crate::error::{CallSite, ProvisionError};
use crate::plan::{Action, Diff};

pub const ALIAS_TAG: &str = "trailhead:alias";

#[derive(Debug, Clone)]
pub struct KeySpec {
    pub alias: String,
    pub description: String,
    pub policy: PolicyDocument,
}

#[derive(Debug, Clone, Default)]
pub struct LiveKey {
    pub key_id: Option<String>,
    pub arn: Option<String>,
    pub aliased: bool,
    pub description: String,
    pub rotation: bool,
    pub policy: Option<String>,
}

/// The key id behind `alias`, if the alias exists and its key is usable.
async fn by_alias(
    kms: &Client,
    site: &CallSite,
    alias: &str,
) -> Result<Option<(String, String, String)>, ProvisionError> {
    match kms.describe_key().key_id(alias).send().await {
        Ok(out) => {
            let Some(meta) = out.key_metadata() else {
                return Ok(None);
            };
            if matches!(
                meta.key_state(),
                Some(KeyState::PendingDeletion) | Some(KeyState::PendingReplicaDeletion)
            ) {
                return Err(ProvisionError::Config(format!(
                    "the key behind {alias} ({}) is pending deletion: cancel the deletion (kms cancel-key-deletion) or choose another kms_alias",
                    meta.key_id()
                )));
            }
            Ok(Some((
                meta.key_id().to_string(),
                site.require(meta.arn(), "DescribeKey", "KeyMetadata.Arn")?
                    .to_string(),
                meta.description().unwrap_or_default().to_string(),
            )))
        }
        Err(e) if e.code() == Some("NotFoundException") => Ok(None),
        Err(e) => Err(site.error("DescribeKey", e).into()),
    }
}

/// A key of ours that lost its alias (a crash after CreateKey): adopt it instead of making another.
async fn orphan(
    kms: &Client,
    site: &CallSite,
    alias: &str,
) -> Result<Option<String>, ProvisionError> {
    let mut pages = kms.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.error("ListKeys", e))?;
        for key in page.keys() {
            let Some(id) = key.key_id() else { continue };
            let tags = match kms.list_resource_tags().key_id(id).send().await {
                Ok(t) => t,
                // Keys of other owners or in odd states are simply not ours.
                Err(_) => continue,
            };
            let ours = tags
                .tags()
                .iter()
                .any(|t| t.tag_key() == ALIAS_TAG && t.tag_value() == alias);
            if ours {
                let described = kms
                    .describe_key()
                    .key_id(id)
                    .send()
                    .await
                    .map_err(|e| site.error("DescribeKey", e))?;
                let usable = described
                    .key_metadata()
                    .and_then(|m| m.key_state())
                    .is_some_and(|s| *s == KeyState::Enabled);
                if usable {
                    return Ok(Some(id.to_string()));
                }
            }
        }
    }
    Ok(None)
}

pub async fn read_key(
    kms: &Client,
    site: &CallSite,
    alias: &str,
) -> Result<LiveKey, ProvisionError> {
    let mut state = LiveKey::default();
    let (id, arn, description) = match by_alias(kms, site, alias).await? {
        Some(found) => {
            state.aliased = true;
            found
        }
        None => match orphan(kms, site, alias).await? {
            Some(id) => {
                let d = kms
                    .describe_key()
                    .key_id(&id)
                    .send()
                    .await
                    .map_err(|e| site.error("DescribeKey", e))?;
                let meta = d.key_metadata();
                (
                    id,
                    site.require(meta.and_then(|m| m.arn()), "DescribeKey", "KeyMetadata.Arn")?
                        .to_string(),
                    meta.and_then(|m| m.description())
                        .unwrap_or_default()
                        .to_string(),
                )
            }
            None => return Ok(state),
        },
    };
    state.rotation = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .map_err(|e| site.error("GetKeyRotationStatus", e))?
        .key_rotation_enabled();
    state.policy = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| site.error("GetKeyPolicy", e))?
        .policy()
        .map(str::to_string);
    state.key_id = Some(id);
    state.arn = Some(arn);
    state.description = description;
    Ok(state)
}

/// Converges the key; returns the action, the changes and the key ARN (None only in a plan of a
/// key yet to be created).
pub async fn ensure_key(
    kms: &Client,
    site: &CallSite,
    spec: &KeySpec,
    apply: bool,
) -> Result<(Action, Diff, Option<String>), ProvisionError> {
    check_budget(PolicyKind::KeyPolicy, &spec.policy)
        .map_err(|e| ProvisionError::Config(format!("key {}: {e}", spec.alias)))?;
    let live = read_key(kms, site, &spec.alias).await?;
    let mut diff = Diff::new();
    let Some(key_id) = live.key_id.clone() else {
        diff.field("key", "(none)", &spec.alias);
        diff.field("rotation", false, true);
        if !apply {
            return Ok((Action::Create, diff, None));
        }
        // The lockout safety check stays on: KMS refuses a policy that would lock us out. No
        // tags here: tags on CreateKey need kms:TagResource in an identity policy, which would
        // reach every key; the new key's own policy grants the tagging below instead.
        let created = kms
            .create_key()
            .description(&spec.description)
            .policy(spec.policy.to_json())
            .send()
            .await
            .map_err(|e| site.error("CreateKey", e))?;
        let meta = created
            .key_metadata()
            .ok_or_else(|| ProvisionError::Config("CreateKey returned no key metadata".into()))?;
        let key_id = meta.key_id().to_string();
        let arn = meta
            .arn()
            .ok_or_else(|| ProvisionError::Config("CreateKey returned no key ARN".into()))?
            .to_string();
        // The key was made a moment ago: KMS may not know it everywhere yet.
        use crate::consistency::{KEY_PROPAGATION_WAIT, new_key, settle};
        // Tagged before the alias: a run that stops in between leaves a key the next run adopts.
        let (alias_tag, managed) = (
            tag(ALIAS_TAG, &spec.alias)?,
            tag("trailhead:managed", "true")?,
        );
        settle(new_key, KEY_PROPAGATION_WAIT, || {
            kms.tag_resource()
                .key_id(&key_id)
                .tags(alias_tag.clone())
                .tags(managed.clone())
                .send()
        })
        .await
        .map_err(|e| site.error("TagResource", e))?;
        settle(new_key, KEY_PROPAGATION_WAIT, || {
            kms.create_alias()
                .alias_name(&spec.alias)
                .target_key_id(&key_id)
                .send()
        })
        .await
        .map_err(|e| site.error("CreateAlias", e))?;
        settle(new_key, KEY_PROPAGATION_WAIT, || {
            kms.enable_key_rotation().key_id(&key_id).send()
        })
        .await
        .map_err(|e| site.error("EnableKeyRotation", e))?;
        return Ok((Action::Create, diff, Some(arn)));
    };

    let alias_changes = diff.field(
        "alias",
        if live.aliased {
            spec.alias.as_str()
        } else {
            "(none)"
        },
        &spec.alias,
    );
    let rotation_changes = diff.field("rotation", live.rotation, true);
    let description_changes = diff.field("description", &live.description, &spec.description);
    let policy_same = live
        .policy
        .as_deref()
        .is_some_and(|p| same_policy(p, &spec.policy));
    let policy_changes = !policy_same
        && diff.field(
            "policy",
            "(differs)",
            format!("{} statements", spec.policy.statements.len()),
        );
    if apply {
        // An adopted key (a run that stopped right after CreateKey) may be seconds old.
        use crate::consistency::{KEY_PROPAGATION_WAIT, key_not_found, settle};
        if alias_changes {
            settle(key_not_found, KEY_PROPAGATION_WAIT, || {
                kms.create_alias()
                    .alias_name(&spec.alias)
                    .target_key_id(&key_id)
                    .send()
            })
            .await
            .map_err(|e| site.error("CreateAlias", e))?;
        }
        if policy_changes {
            let policy = spec.policy.to_json();
            settle(key_not_found, KEY_PROPAGATION_WAIT, || {
                kms.put_key_policy()
                    .key_id(&key_id)
                    .policy_name("default")
                    .policy(&policy)
                    .send()
            })
            .await
            .map_err(|e| upgrade_hint(site.error("PutKeyPolicy", e)))?;
        }
        if rotation_changes {
            settle(key_not_found, KEY_PROPAGATION_WAIT, || {
                kms.enable_key_rotation().key_id(&key_id).send()
            })
            .await
            .map_err(|e| site.error("EnableKeyRotation", e))?;
        }
        if description_changes {
            settle(key_not_found, KEY_PROPAGATION_WAIT, || {
                kms.update_key_description()
                    .key_id(&key_id)
                    .description(&spec.description)
                    .send()
            })
            .await
            .map_err(|e| site.error("UpdateKeyDescription", e))?;
        }
    }
    Ok((diff.action(), diff, live.arn))
}

/// A key whose policy does not name trailhead's administrator yet (made by a trailhead that
/// administered keys through the access role's identity policy) cannot be rewritten under the
/// current policies: say how to upgrade it once.
fn upgrade_hint(mut e: crate::error::AwsError) -> crate::error::AwsError {
    if e.code.contains("AccessDenied") {
        e.message.push_str(
            " (a key made by an earlier trailhead: its policy does not name trailhead's administrator yet; attach `trailhead permissions --org FILE --key-upgrade` to the access role for one rollout, then remove it)",
        );
    }
    e
}

fn tag(key: &str, value: &str) -> Result<Tag, ProvisionError> {
    Tag::builder()
        .tag_key(key)
        .tag_value(value)
        .build()
        .map_err(|e| ProvisionError::Config(format!("cannot build a KMS tag: {e}")))
}
