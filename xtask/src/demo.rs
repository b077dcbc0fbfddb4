//! `cargo xtask demo`: seed an organization in the embedded emulator, roll it out, fix the
//! planted failure as its owner would, turn on MFA Delete, and verify.

use crate::{failed_in_junit, ids_after, must, root, trailhead, trailhead_output};

pub(crate) fn demo(accounts: usize) -> Result<(), String> {
    let spec = root().join("target").join("demo").join("org.toml");
    let spec_arg = spec.display().to_string();
    must("starting the emulator", trailhead(&["emulator", "start"]))?;
    let (code, seeded) = trailhead_output(
        &[
            "emulator",
            "seed",
            "--accounts",
            &accounts.to_string(),
            "--out",
            &spec_arg,
        ],
        None,
    )?;
    print!("{seeded}");
    must("creating the demo organization", Ok(code))?;
    let log_archive = ids_after(&seeded, "log-archive: ")
        .pop()
        .ok_or("the seed named no log-archive account")?;
    let planted = ids_after(&seeded, "planted: ");
    must(
        "validating the demo spec",
        trailhead(&["validate", "--org", &spec_arg]),
    )?;
    let state = root().join("target").join("demo").join("state");
    let state_arg = state.display().to_string();
    let failed = demo_rollout(&spec_arg, &state_arg, &planted)?;
    demo_fix_planted(&spec_arg, &state_arg, &failed)?;
    must(
        "confirming the alarm subscriptions (as their recipients would)",
        trailhead(&["emulator", "confirm-subscriptions"]),
    )?;
    demo_mfa_delete(&spec_arg, &log_archive)?;
    must(
        "verifying every account (every control must pass)",
        trailhead(&[
            "--emulator",
            "verify",
            "--org",
            &spec_arg,
            "--state-dir",
            &state_arg,
        ]),
    )?;
    must(
        "drilling the canary wave (each CIS alarm set off and followed to its subscriber)",
        trailhead(&[
            "--emulator",
            "drill",
            "--org",
            &spec_arg,
            "--state-dir",
            &state_arg,
            "--wave",
            "canary",
            "--timeout",
            "2m",
        ]),
    )?;
    println!();
    println!("The demo organization runs in the emulator, and its spec is {spec_arg}.");
    println!("Look around:");
    println!("  cargo xtask validate --org {spec_arg}");
    println!(
        "  cargo xtask plan --emulator --org {spec_arg} --state-dir {state_arg}   # no changes"
    );
    println!("  cargo xtask verify --emulator --org {spec_arg} --state-dir {state_arg}");
    println!("  cargo xtask alarms list --benchmark cis-5.0");
    println!(
        "  cargo xtask drill --emulator --org {spec_arg} --state-dir {state_arg} --wave canary --dry-run"
    );
    println!("  cargo xtask emulator status        # the endpoint URL is the last line");
    println!("Stop the emulator with: cargo xtask emulator stop");
    Ok(())
}

/// The first rollout: every account converges but the planted one without an access role.
/// Returns the accounts that failed (only planted ones may).
pub(crate) fn demo_rollout(
    spec_arg: &str,
    state_arg: &str,
    planted: &[String],
) -> Result<Vec<String>, String> {
    let junit = root().join("target").join("demo").join("rollout-junit.xml");
    let code = trailhead(&[
        "--emulator",
        "rollout",
        "--org",
        spec_arg,
        "--state-dir",
        state_arg,
        "--yes",
        "--junit",
        &junit.display().to_string(),
    ])?;
    let failed = failed_in_junit(&junit);
    if code != 0 && (failed.is_empty() || failed.iter().any(|f| !planted.contains(f))) {
        return Err(format!("rolling out failed (exit {code})"));
    }
    if code != 0 {
        println!(
            "As planted: {} has no access role, so the rollout reports it as failed (exit {code}); every other account converged.",
            failed.join(", ")
        );
    }
    Ok(failed)
}

/// Fixes what the first rollout reported, as an operator would: the access role is created in
/// each failed account, and the rollout runs again (the converged accounts make no writes).
pub(crate) fn demo_fix_planted(
    spec_arg: &str,
    state_arg: &str,
    failed: &[String],
) -> Result<(), String> {
    if failed.is_empty() {
        return Ok(());
    }
    for account in failed {
        must(
            "creating the missing access role (as the account's owner would)",
            trailhead(&["emulator", "grant-access", "--account", account]),
        )?;
    }
    must(
        "rolling out again now that every account can be reached",
        trailhead(&[
            "--emulator",
            "rollout",
            "--org",
            spec_arg,
            "--state-dir",
            state_arg,
            "--yes",
            "--output",
            "plain",
        ]),
    )
}

pub(crate) fn demo_mfa_delete(spec_arg: &str, log_archive: &str) -> Result<(), String> {
    let (code, device) =
        trailhead_output(&["emulator", "mfa-code", "--account", log_archive], None)?;
    must("reading the emulator's MFA device", Ok(code))?;
    let (serial, mfa_code) = device
        .trim()
        .split_once(' ')
        .ok_or("the emulator's MFA device answer has no code")?;
    let (code, said) = trailhead_output(
        &[
            "--emulator",
            "mfa-delete",
            "--org",
            spec_arg,
            "--mfa-serial",
            serial,
            "--code-stdin",
        ],
        Some(&format!("{mfa_code}\n")),
    )?;
    print!("{said}");
    must(
        "turning MFA Delete on as the log-archive root user",
        Ok(code),
    )
}
