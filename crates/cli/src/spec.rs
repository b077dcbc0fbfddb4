//! Loading the org spec at the CLI edge: on any problem, print every diagnostic and return the
//! bad-input exit code, so that nothing invalid ever reaches AWS.

use std::io::IsTerminal;
use std::path::Path;

use trailhead_model::{LoadError, OrgSpec, load_file};

use crate::exit;

pub fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

pub fn load(path: &Path) -> Result<OrgSpec, u8> {
    match load_file(path) {
        Ok((spec, warnings)) => {
            if !warnings.items.is_empty() {
                eprint!("{}", warnings.render(color()));
            }
            Ok(spec)
        }
        Err(LoadError::Invalid(diagnostics)) => {
            eprint!("{}", diagnostics.render(color()));
            Err(exit::BAD_INPUT)
        }
        Err(e @ LoadError::Io { .. }) => {
            eprintln!("error: {e}");
            Err(exit::BAD_INPUT)
        }
    }
}
