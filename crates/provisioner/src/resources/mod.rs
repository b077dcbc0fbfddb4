//! One file per AWS resource trailhead converges. Each reads live state, compares it with what
//! the spec wants in a pure function (unit-tested without a server), and writes only what differs.
//! A resource knows nothing of stages, waves or commands: it takes a session, a call site and
//! its desired state, and returns the action and the diff.

pub mod account;
pub mod bucket;
pub mod catalog;
pub mod desired;
pub mod key;
pub mod key_administrator;
pub mod log_group;
pub mod mfa;
pub mod monitoring;
pub mod org_trail;
pub mod role;
pub mod selectors;
pub mod topic;
pub mod trail;
pub mod trail_cost;
pub mod workgroup;
