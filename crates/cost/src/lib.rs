//! What the audit trail costs: the volumes an archive holds (events per account, region and day,
//! by kind, and the bytes delivered), and a monthly projection of what the spec deploys, priced
//! component by component from a pinned table of AWS's published prices.
//!
//! Pure: it must not read the archive or call AWS. The provisioner measures the volumes; this
//! crate counts what it is given and prices it, so every formula is unit-tested on stated
//! volumes (docs/cost.md explains each one and its price source).

pub mod changes;
pub mod prices;
pub mod projection;
pub mod volume;

pub use prices::{Price, PriceTable};
pub use projection::{Deployment, Line, Projection, project};
pub use volume::{Tally, Volume};
