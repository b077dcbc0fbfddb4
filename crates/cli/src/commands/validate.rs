use std::path::Path;

use crate::{exit, spec};

/// Loads and checks the spec; prints every finding. Never touches the network.
pub fn run(path: &Path) -> u8 {
    match spec::load(path) {
        Ok(spec) => {
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
        Err(code) => code,
    }
}
