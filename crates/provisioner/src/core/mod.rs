//! The base every layer stands on: the connection to AWS, the run context, sessions in each
//! account, call counting, the one step runner, the journal, typed errors, and eventual
//! consistency. Nothing here knows a resource, a stage or a command.

pub mod connect;
pub mod consistency;
pub mod counter;
pub mod error;
pub mod journal;
pub mod propagation;
pub mod run_ctx;
pub mod session;
pub mod step;
pub mod targets;

pub use run_ctx::RunCtx;
