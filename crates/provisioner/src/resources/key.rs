//! The archive's KMS key: found by alias (or, after a crash between CreateKey and CreateAlias,
//! by the tag every key of ours carries), created with its policy, rotated, described.

use aws_sdk_kms::Client;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::types::{KeyState, Tag};
use trailhead_policies::{PolicyDocument, PolicyKind, check_budget, same_policy};

use crate::core::consistency::{KEY_PROPAGATION_WAIT, Lag, key_not_found, new_key, settle};
use crate::core::error::{CallSite, ProvisionError};
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
        let arn = create_key(kms, site, spec).await?;
        return Ok((Action::Create, diff, Some(arn)));
    };
    let changes = compare(&live, spec, &mut diff);
    if apply {
        converge(kms, site, spec, &key_id, &changes).await?;
    }
    Ok((diff.action(), diff, live.arn))
}

/// Creates the key with its policy, tags it, aliases it and turns rotation on; its ARN.
async fn create_key(
    kms: &Client,
    site: &CallSite,
    spec: &KeySpec,
) -> Result<String, ProvisionError> {
    // The lockout safety check stays on: KMS refuses a policy that would lock us out. No tags
    // here: tags on CreateKey need kms:TagResource in an identity policy, which would reach
    // every key; the new key's own policy grants the tagging below instead.
    let created = kms
        .create_key()
        .description(&spec.description)
        .policy(spec.policy.to_json())
        .send()
        .await
        .map_err(|e| site.error("CreateKey", e))?;
    let meta = site.require(created.key_metadata(), "CreateKey", "KeyMetadata")?;
    let key_id = meta.key_id().to_string();
    let arn = site
        .require(meta.arn(), "CreateKey", "KeyMetadata.Arn")?
        .to_string();
    // The key was made a moment ago: KMS may not know it everywhere yet.
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
    alias(kms, site, &spec.alias, &key_id, new_key).await?;
    rotate(kms, site, &key_id, new_key).await?;
    Ok(arn)
}

/// What an existing key lacks.
#[derive(Debug, Default, PartialEq, Eq)]
struct KeyChanges {
    alias: bool,
    policy: bool,
    rotation: bool,
    description: bool,
}

/// Pure: what `live` lacks of `spec`, recorded into `diff`.
fn compare(live: &LiveKey, spec: &KeySpec, diff: &mut Diff) -> KeyChanges {
    let alias = diff.field(
        "alias",
        if live.aliased {
            spec.alias.as_str()
        } else {
            "(none)"
        },
        &spec.alias,
    );
    let rotation = diff.field("rotation", live.rotation, true);
    let description = diff.field("description", &live.description, &spec.description);
    let policy_same = live
        .policy
        .as_deref()
        .is_some_and(|p| same_policy(p, &spec.policy));
    let policy = !policy_same
        && diff.field(
            "policy",
            "(differs)",
            format!("{} statements", spec.policy.statements.len()),
        );
    KeyChanges {
        alias,
        policy,
        rotation,
        description,
    }
}

/// Writes what an existing key lacks. An adopted key (a run that stopped right after CreateKey)
/// may be seconds old, so each write waits out KMS's NotFoundException.
async fn converge(
    kms: &Client,
    site: &CallSite,
    spec: &KeySpec,
    key_id: &str,
    changes: &KeyChanges,
) -> Result<(), ProvisionError> {
    if changes.alias {
        alias(kms, site, &spec.alias, key_id, key_not_found).await?;
    }
    if changes.policy {
        let policy = spec.policy.to_json();
        settle(key_not_found, KEY_PROPAGATION_WAIT, || {
            kms.put_key_policy()
                .key_id(key_id)
                .policy_name("default")
                .policy(&policy)
                .send()
        })
        .await
        .map_err(|e| upgrade_hint(site.error("PutKeyPolicy", e)))?;
    }
    if changes.rotation {
        rotate(kms, site, key_id, key_not_found).await?;
    }
    if changes.description {
        settle(key_not_found, KEY_PROPAGATION_WAIT, || {
            kms.update_key_description()
                .key_id(key_id)
                .description(&spec.description)
                .send()
        })
        .await
        .map_err(|e| site.error("UpdateKeyDescription", e))?;
    }
    Ok(())
}

async fn alias(
    kms: &Client,
    site: &CallSite,
    alias: &str,
    key_id: &str,
    lag: Lag,
) -> Result<(), ProvisionError> {
    settle(lag, KEY_PROPAGATION_WAIT, || {
        kms.create_alias()
            .alias_name(alias)
            .target_key_id(key_id)
            .send()
    })
    .await
    .map_err(|e| site.error("CreateAlias", e))?;
    Ok(())
}

async fn rotate(
    kms: &Client,
    site: &CallSite,
    key_id: &str,
    lag: Lag,
) -> Result<(), ProvisionError> {
    settle(lag, KEY_PROPAGATION_WAIT, || {
        kms.enable_key_rotation().key_id(key_id).send()
    })
    .await
    .map_err(|e| site.error("EnableKeyRotation", e))?;
    Ok(())
}

/// A key whose policy does not name trailhead's administrator yet (made by a trailhead that
/// administered keys through the access role's identity policy) cannot be rewritten under the
/// current policies: say how to upgrade it once.
fn upgrade_hint(mut e: crate::core::error::AwsError) -> crate::core::error::AwsError {
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

#[cfg(test)]
mod tests {
    use super::*;
    use trailhead_policies::{Effect, Statement};

    fn spec() -> KeySpec {
        KeySpec {
            alias: "alias/acme-cloudtrail".into(),
            description: "trailhead: CloudTrail logs".into(),
            policy: PolicyDocument::new(vec![
                Statement::new("A", Effect::Allow)
                    .actions(&["kms:DescribeKey"])
                    .resources(&["*"]),
            ]),
        }
    }

    #[test]
    fn a_converged_key_needs_nothing_and_an_adopted_one_gets_what_it_lacks() {
        let spec = spec();
        let converged = LiveKey {
            key_id: Some("k".into()),
            arn: Some("arn:aws:kms:eu-west-1:1:key/k".into()),
            aliased: true,
            description: spec.description.clone(),
            rotation: true,
            policy: Some(spec.policy.to_json()),
        };
        let mut diff = Diff::new();
        assert_eq!(compare(&converged, &spec, &mut diff), KeyChanges::default());
        assert!(diff.changes.is_empty());
        // A key adopted after a crash between CreateKey and CreateAlias.
        let adopted = LiveKey {
            aliased: false,
            rotation: false,
            ..converged
        };
        let mut diff = Diff::new();
        let changes = compare(&adopted, &spec, &mut diff);
        assert!(changes.alias && changes.rotation && !changes.policy && !changes.description);
        assert_eq!(diff.changes.len(), 2);
    }
}
