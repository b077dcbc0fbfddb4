//! The provisioner: everything trailhead does against AWS. It builds per-account clients,
//! reads live state, decides create / update / no-op for each step, acts, and records what it did.
//!
//! It takes a validated [`trailhead_model::OrgSpec`] and never parses user input itself. It never
//! prints: progress goes out as events, errors come back typed, and only the CLI renders them.
//! Secrets (session tokens, MFA codes, ExternalIds) never enter an event, an error or a log line.

pub use trailhead_report::{events, plan};

pub mod archive;
pub mod athena;
pub mod connect;
pub mod consistency;
pub mod counter;
pub mod delivered;
pub mod drill;
pub mod error;
pub mod integrity;
pub mod journal;
pub mod key_administrator;
pub mod log_archive;
pub mod member;
pub mod org_trail;
pub mod permissions;
pub mod preflight;
pub mod propagation;
pub mod rollout;
pub mod saved_plan;
pub mod session;
pub mod targets;
pub mod verify;
pub mod verify_controls;
pub mod verify_scanner;

pub use connect::Connection;
pub use error::{AwsError, ProvisionError};
