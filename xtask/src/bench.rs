//! `cargo xtask bench ...`: the benchmarks, as ratios from one run.

use crate::tools::{install_test_tools, venv_python};
use crate::{cargo, must, trailhead};

pub(crate) fn bench(which: &str, args: &[String]) -> Result<(), String> {
    let status = match which {
        "filter" => cargo()
            .args([
                "bench",
                "--quiet",
                "--package",
                "trailhead-alarms",
                "--bench",
                "filter",
                "--",
            ])
            .args(args)
            .status(),
        "rollout" => {
            must("starting the emulator", trailhead(&["emulator", "start"]))?;
            cargo()
                // Optimized: the benchmark measures trailhead's own CPU per call.
                .args([
                    "run",
                    "--quiet",
                    "--release",
                    "--package",
                    "trailhead-e2e",
                    "--bin",
                    "bench-rollout",
                    "--",
                ])
                .args(args)
                .status()
        }
        "search" => {
            // DuckDB, the reference engine, lives in the emulator's venv.
            must(
                "preparing the emulator's venv",
                trailhead(&["emulator", "start"]),
            )?;
            install_test_tools()?;
            cargo()
                .args([
                    "bench",
                    "--quiet",
                    "--package",
                    "trailhead-alarms",
                    "--bench",
                    "search",
                    "--",
                ])
                .args(args)
                .env("TRAILHEAD_TEST_PYTHON", venv_python())
                .status()
        }
        "render" => cargo()
            .args([
                "bench",
                "--quiet",
                "--package",
                "trailhead-tui",
                "--bench",
                "render",
                "--",
            ])
            .args(args)
            .status(),
        other => return Err(format!("unknown benchmark `{other}`")),
    };
    match status
        .map_err(|e| format!("cannot run cargo bench: {e}"))?
        .code()
    {
        Some(0) => Ok(()),
        c => Err(format!("benchmark failed (exit {})", c.unwrap_or(1))),
    }
}
