//! What a person asks for: plan, rollout, verify, drill, preflight, the printed permissions and
//! saved plans. A command composes stages and reading; nothing below it knows it exists.

pub mod archive_scope;
pub mod backtest;
pub mod cost;
pub mod drill;
pub mod mfa_delete;
pub mod permissions;
pub mod plan;
pub mod preflight;
pub mod rollout;
pub mod saved_plan;
pub mod search;
pub mod stage;
pub mod verify;
