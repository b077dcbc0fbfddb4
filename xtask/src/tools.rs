//! What the tasks need installed: the test tools in the emulator's venv, and the emulator's
//! status.

use crate::{root, trailhead_command};
use std::path::PathBuf;
use std::process::Command;

/// The pinned Python tools of the tests, installed into the emulator's venv: pytest runs the
/// emulator's contract tests; DuckDB is the SQL engine that the Athena translation is checked
/// against (Athena itself cannot run here), and the search benchmark's reference.
pub(crate) const TEST_TOOLS: [(&str, &str); 2] =
    [("pytest", "pytest==9.2.0"), ("duckdb", "duckdb==2.0.1")];

pub(crate) fn venv_python() -> PathBuf {
    root().join("target/emulator/venv/bin/python")
}

/// Installs the missing test tools into the venv `emulator start` made.
pub(crate) fn install_test_tools() -> Result<(), String> {
    let python = venv_python();
    for (module, pin) in TEST_TOOLS {
        let present = Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if present {
            continue;
        }
        let status = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                pin,
            ])
            .status()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if !status.success() {
            return Err(format!("installing {pin} into the emulator's venv failed"));
        }
    }
    Ok(())
}

/// Whether the emulator runs, and its endpoint URL (the last line `emulator status` prints).
pub(crate) fn emulator_status() -> Result<(bool, String), String> {
    let out = trailhead_command(&["emulator", "status"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let endpoint = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .map(str::to_string)
        .ok_or_else(|| "`trailhead emulator status` printed nothing".to_string())?;
    Ok((out.status.success(), endpoint))
}
