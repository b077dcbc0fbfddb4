//! End-to-end tests against the emulator, one binary: the AWS SDK is linked once, and the tests,
//! which mostly wait on the emulator, run side by side (docs/testing.md).

mod athena;
mod athena_sql;
mod chaos;
mod commands;
mod contract;
mod cost;
mod data_events;
mod delivery;
mod deputy_modes;
mod drill;
mod integrity;
mod key_administration;
mod log_archive;
mod log_archive_create;
mod log_group_key;
mod mfa_delete;
mod notifications;
mod org_trail;
mod replay_backend;
mod rollout;
mod scanners;
mod seed_org;
mod verify;
