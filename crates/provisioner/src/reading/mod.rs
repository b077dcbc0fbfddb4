//! Reading the archive back: log objects and their day prefixes, the newest delivered file, digest
//! integrity, and search (Athena queries and their rows). It reads, and never writes a resource.

pub mod archive;
pub mod delivered;
pub mod digest_chain;
pub mod integrity;
pub mod query;
pub mod search;
