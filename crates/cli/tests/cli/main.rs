//! The `trailhead` binary as users and pipelines run it, one test binary (docs/testing.md).

mod alarms_cli;
mod athena_cli;
mod common;
mod conventions;
mod cost_cli;
mod drill_cli;
mod logs_search;
mod preflight_cli;
mod prompts;
mod resume;
mod rollout_cli;
mod saved_plan;
mod secrets;
mod validate_cli;
mod verify_report;
