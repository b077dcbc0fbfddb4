use std::path::Path;

use trailhead_model::load_file;

use crate::{exit, spec};

/// Loads and checks the spec; prints every finding. Never touches the network. With `strict`,
/// warnings fail it too (exit 2).
pub fn run(path: &Path, strict: bool) -> u8 {
    if strict
        && let Ok((_, warnings)) = load_file(path)
        && !warnings.items.is_empty()
    {
        eprint!("{}", warnings.render(spec::color()));
        eprintln!(
            "error: --strict: {} warning(s) count as errors",
            warnings.items.len()
        );
        return exit::BAD_INPUT;
    }
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
