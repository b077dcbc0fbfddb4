//! Exit codes, the same for every command so that pipelines can branch on them.

pub const OK: u8 = 0;
/// An AWS or I/O error: the run could not do what it was asked.
pub const ERROR: u8 = 1;
/// Bad input: an invalid spec or arguments. Nothing was sent to AWS.
pub const BAD_INPUT: u8 = 2;
/// `plan`: the live state differs from the spec.
pub const CHANGES_PENDING: u8 = 3;
/// `verify`: at least one control failed; `drill`: an alarm is broken (or a drill resource was
/// left behind).
pub const VERIFY_FAILED: u8 = 4;

pub const HELP: &str = "Exit codes: 0 success (plan: converged), 1 error, 2 bad input (nothing was sent to AWS), \
3 plan: changes pending, 4 verify: a control failed / drill: an alarm is broken.";
