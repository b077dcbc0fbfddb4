//! The interactive rollout view (ratatui): a live, keyboard-driven picture of every account,
//! and a masked prompt for secrets.
//!
//! It consumes a run's events and sends back commands (pause, resume, abort, retry, skip,
//! approve), both from `trailhead-report`: it depends on no AWS SDK and never calls AWS itself,
//! and never prints, logs or keeps a secret typed into its prompt.

pub mod app;
pub mod keys;
pub mod prompt;
pub mod render;
pub mod state;

pub use app::{run, summary};
pub use state::ViewState;
