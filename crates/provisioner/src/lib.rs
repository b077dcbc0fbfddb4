//! The provisioner: everything trailhead does against AWS. It builds per-account clients,
//! reads live state, decides create / update / no-op for each step, acts, and records what it did.
//!
//! It takes a validated [`trailhead_model::OrgSpec`] and never parses user input itself. It never
//! prints: progress goes out as events, errors come back typed, and only the CLI renders them.
//! Secrets (session tokens, MFA codes, ExternalIds) never enter an event, an error or a log line.
//!
//! Layers, each allowed to use only those before it: `core` ← `resources` ← `stages` ←
//! `commands`, with `reading` (the archive read back) beside `resources`. They are private: what
//! the CLI may use is re-exported below, one module per thing it does.

mod commands;
mod core;
mod reading;
mod resources;
mod stages;

pub use trailhead_report::{events, plan};

pub use crate::core::RunCtx;
pub use crate::core::connect::Connection;
pub use crate::core::error::{AwsError, ProvisionError};

/// Sessions in each account and the access role a run assumes.
pub mod session {
    pub use crate::core::session::{AccessRole, AccountSession, new_run_id, role_arn};
}

/// Typed errors, the call site an error names, and the advice for an untrusted certificate.
pub mod error {
    pub use crate::core::error::{
        CallSite, ProvisionError, code_of, describe, untrusted_certificate,
        untrusted_certificate_advice, untrusted_certificate_text,
    };
}

/// Every AWS call of a run, counted per operation.
pub mod counter {
    pub use crate::core::counter::{CallLog, is_read, totals};
}

/// Waiting out eventual consistency (for tests that read what a run just wrote).
pub mod consistency {
    pub use crate::core::consistency::{key_not_found, settle};
}

/// The durable notes a run keeps in its state directory.
pub mod journal {
    pub use crate::core::journal::{append, pending_account_path};
}

/// The log-archive stage, and MFA Delete (which needs the root user, so runs apart from it).
pub mod log_archive {
    pub use crate::commands::mfa_delete::{MfaDeleteOutcome, MfaDeleteRequest, mfa_delete};
    pub use crate::core::RunCtx;
    pub use crate::resources::bucket::LIFECYCLE_RULE_ID;
    pub use crate::resources::mfa::enable_mfa_delete;
    pub use crate::stages::log_archive::{
        LogArchiveOutcome, STEP_KEY, archive_inputs, log_archive_stage,
    };
}

/// What one member account must look like, and the names trailhead gives what it makes there.
pub mod member {
    pub use crate::resources::desired::{Desired, ROLE_NAME, ROLE_POLICY_NAME};
    pub use crate::resources::monitoring::PREFIX as METRIC_PREFIX;
    pub use crate::resources::selectors;
}

/// The organization trails a run finds and leaves in charge.
pub mod org_trail {
    pub use crate::resources::org_trail::STEP_ORG_TRAIL;
}

/// Who administers the keys trailhead makes.
pub mod key_administrator {
    pub use crate::resources::key_administrator::key_administrator;
}

/// Athena over the archive: its setup stage and its queries.
pub mod athena {
    pub use crate::reading::query::{QueryProgress, QueryTarget};
    pub use crate::reading::search::athena_search;
    pub use crate::stages::athena::{AthenaSite, athena_stage};
}

/// The archive read back: windows of time, log objects, the newest delivered file.
pub mod archive {
    pub use crate::reading::archive::{
        SearchProgress, SearchRequest, Window, day_prefix, download_window, list_window,
        parse_time, regions_in_archive, search,
    };
    pub use crate::reading::delivered::newest_log_file;
}

/// `logs search`: a pattern over the archive, here or in Athena.
pub mod search {
    pub use crate::commands::archive_scope::ArchiveScope;
    pub use crate::commands::search::{
        SearchDone, SearchEngine, SearchJob, SearchSink, search_archive,
    };
}

/// `alarms backtest`: what each alarm would have counted over the archive.
pub mod backtest {
    pub use crate::commands::backtest::{LocalCounts, athena_counts, backtest_query, local_counts};
}

/// `cost`: the archive's volumes and the monthly projection of what the spec deploys.
pub mod cost {
    pub use crate::commands::cost::{
        CostEngine, CostReport, DailyVolume, archive_cost, deployment,
    };
}

/// `logs validate`: digest and log file integrity.
pub mod integrity {
    pub use crate::reading::digest_chain::{ArchiveValidation, validate, validate_archive};
    pub use crate::reading::integrity::{
        IntegrityReport, KeySource, Kind, PublicKey, ValidateRequest, sha256_hex, string_to_sign,
    };
}

/// `plan` and `rollout`.
pub mod rollout {
    pub use crate::commands::plan::{PlanOutcome, plan, plan_selected, selected_waves};
    pub use crate::commands::rollout::{
        DeliveryCheck, RolloutOptions, RolloutOutcome, RunSummary, gate, journal_path, last_run_id,
        list_runs, rollout,
    };
    pub use crate::stages::member::controls;
}

/// One stage of a run alone: `plan --stage`, `rollout --stage`, `logs athena setup`.
pub mod stage {
    pub use crate::commands::stage::{Stage, StageOutcome, run_stage};
}

/// `plan --out` and `rollout --plan`.
pub mod saved_plan {
    pub use crate::commands::saved_plan::SavedPlan;
}

/// `verify`, its controls, and `verify --scanner`.
pub mod verify {
    pub use crate::commands::verify::controls::ControlInfo;
    pub use crate::commands::verify::scanner::verify_scanner;
    pub use crate::commands::verify::{
        AccountReport, ControlResult, Skipped, Summary, Verdict, VerifyReport, verify,
        verify_selected,
    };
}

/// `drill`.
pub mod drill {
    pub use crate::commands::drill::chain::LINKS;
    pub use crate::commands::drill::cleanup::leftovers;
    pub use crate::commands::drill::plan::DRILL_TAG;
    pub use crate::commands::drill::{
        AccountDrill, AlarmResult, DrillOptions, DrillProgress, DrillReport, LinkLatency, Outcome,
        Phase, ProgressSink, cleanup_leftovers, drill,
    };
}

/// `preflight`.
pub mod preflight {
    pub use crate::commands::preflight::preflight;
}

/// `permissions`: what the printed policies are built from.
pub mod permissions {
    pub use crate::commands::permissions::permission_inputs;
}
