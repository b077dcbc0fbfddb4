//! The alarm side of trailhead: the CIS / Security Hub monitoring catalog, and an engine for
//! CloudWatch Logs filter patterns with AWS's semantics, so that patterns can be checked before
//! they are deployed, alarms back-tested on real CloudTrail records, and archives searched.
//!
//! Pure and offline: no AWS SDK, no network. Reading local log files is the only I/O.

pub mod athena;
pub mod catalog;
pub mod corpus;
pub mod deployed;
pub mod pattern;
pub mod projection;
pub mod replay;
pub mod samples;
pub mod scanners;
pub mod standards;
