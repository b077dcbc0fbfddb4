//! Athena: the CloudTrail table's definition, and filter patterns translated to SQL over it, so
//! that one pattern gives the same answer locally and in Athena. Pure text; running queries is
//! the provisioner's job.

pub mod schema;
pub mod table;
pub mod translate;

pub use schema::Schema;
pub use translate::{Refusal, literal, translate};
