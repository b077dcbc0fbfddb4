//! The stages of a run, each a sequence of steps through the one step runner: the log archive
//! (once per organization), each member account, and Athena over the archive. A stage decides
//! the order of its resources and what each is given; it does not schedule accounts or waves.

pub mod athena;
pub mod log_archive;
pub mod member;
