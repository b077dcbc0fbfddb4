//! The org spec: what a platform team writes in `config/org.toml`, loaded with source spans and
//! validated completely before anything talks to AWS.
//!
//! This crate is pure: it never does I/O beyond reading the spec file the caller names, never
//! reaches the network, and knows nothing of the AWS SDK. Every problem in a spec is reported at
//! once, as a [`Diagnostic`] with the file, line and column of the offending value.

mod athena;
mod benchmark;
mod diagnostic;
mod loader;
mod reader;
pub mod rules;
mod selection;
mod spec;
mod waves;

pub use athena::{Athena, athena_results_bucket_for};
pub use benchmark::{AlarmVariant, Benchmark};
pub use diagnostic::{Diagnostic, Diagnostics, Location, Severity};
pub use loader::{LoadError, load_file, parse_spec};
pub use selection::Selection;
pub use spec::{
    Access, Account, AccountId, Alarms, DataEvents, DeliveryNotifications, Discover, InsightType,
    Located, LogArchive, LogArchiveAccount, NotificationTopic, ObjectLock, ObjectLockMode, Org,
    OrgSpec, OrganizationTrailMode, ReadWriteType, RolloutSettings, Tolerance, Trail, Wave,
    WaveMember, access_log_bucket_for,
};
pub use waves::{REMAINING_WAVE, ResolvedWave, TargetAccount, resolve_waves};
