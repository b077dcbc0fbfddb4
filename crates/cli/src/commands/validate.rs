use std::io::IsTerminal;
use std::path::Path;

use trailhead_model::{LoadError, load_file};

use crate::exit;

/// Loads and checks the spec; prints every finding. Never touches the network.
pub fn run(path: &Path) -> u8 {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match load_file(path) {
        Ok((spec, warnings)) => {
            if !warnings.items.is_empty() {
                eprint!("{}", warnings.render(color));
            }
            println!(
                "{}: valid — org {}, {} listed account(s), {} wave(s), benchmark {}",
                path.display(),
                spec.org.name,
                spec.accounts.len(),
                spec.waves.len(),
                spec.alarms.benchmark
            );
            exit::OK
        }
        Err(LoadError::Invalid(diagnostics)) => {
            eprint!("{}", diagnostics.render(color));
            exit::BAD_INPUT
        }
        Err(e @ LoadError::Io { .. }) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
    }
}
