//! `trailhead permissions`: the least-privilege IAM policies the caller and the access role need
//! for this spec, to paste into a permission set, a role or a pipeline's identity.

use std::path::PathBuf;

use clap::Args;
use trailhead_policies::{access_role_policy, caller_policy, drill_policy, key_upgrade_policy};
use trailhead_provisioner::permissions::permission_inputs;

use crate::{exit, spec};

#[derive(Args, Debug)]
pub struct PermissionsArgs {
    /// The org spec (TOML): the policies are scoped to its names
    #[arg(long, value_name = "FILE")]
    org: PathBuf,
    /// Print one JSON object {"caller": …, "access_role": …} instead of commented documents
    #[arg(long)]
    json: bool,
    /// Also print what `trailhead drill` needs beyond them (JSON: a "drill" key)
    #[arg(long = "with-drill")]
    drill: bool,
    /// Also print the one-time grant that upgrades keys made by an earlier trailhead (whose key
    /// policies do not name the access role yet): attach it for one rollout, then remove it
    /// (JSON: a "key_upgrade" key)
    #[arg(long = "key-upgrade")]
    key_upgrade: bool,
}

pub fn run(args: PermissionsArgs) -> u8 {
    let spec = match spec::load(&args.org) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let inputs = permission_inputs(&spec);
    let caller = caller_policy(&inputs);
    let role = access_role_policy(&inputs);
    let as_value = |doc: &trailhead_policies::PolicyDocument| {
        serde_json::from_str::<serde_json::Value>(&doc.to_json()).unwrap_or_default()
    };
    let drill = args.drill.then(|| drill_policy(&inputs));
    let upgrade = args.key_upgrade.then(|| key_upgrade_policy(&inputs));
    if args.json {
        let mut both =
            serde_json::json!({"caller": as_value(&caller), "access_role": as_value(&role)});
        if let Some(d) = &drill {
            both["drill"] = as_value(d);
        }
        if let Some(u) = &upgrade {
            both["key_upgrade"] = as_value(u);
        }
        println!("{both}");
        return exit::OK;
    }
    let pretty = |doc| serde_json::to_string_pretty(&as_value(doc)).unwrap_or_default();
    println!(
        "# 1. The caller: the identity that runs trailhead in the management account {} (or a delegated administrator).",
        spec.org.management_account
    );
    if spec.rollout.include_management_account {
        println!(
            "#    The management account is configured too (include_management_account), with these credentials: attach policy 2 as well."
        );
    }
    println!("{}", pretty(&caller));
    println!(
        "# 2. The access role {} in every member account and the log-archive account; it must trust the caller.",
        spec.access.role_name
    );
    println!("{}", pretty(&role));
    if let Some(d) = &drill {
        println!(
            "# 3. For `trailhead drill`: attach to the access role as well (and to the caller when the management account is drilled)."
        );
        println!("{}", pretty(d));
    }
    if let Some(u) = &upgrade {
        println!(
            "# 4. Once, after upgrading from a trailhead whose keys did not name the access role: attach to the access role (and the caller, if the management account is configured) for one rollout, then remove it."
        );
        println!("{}", pretty(u));
    }
    exit::OK
}
