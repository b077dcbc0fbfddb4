//! What a run reports, in the words the view, the CLI's lines and NDJSON, and the journal share:
//! progress events and the commands the view sends back ([`events`]), and each step's action,
//! changes and report ([`plan`]).
//!
//! It sits below the provisioner so that whoever only reads a run (the TUI) depends on this and
//! the model, never on the AWS SDK. It must not call AWS, read files or print; its types carry no
//! secret.

pub mod events;
pub mod plan;
