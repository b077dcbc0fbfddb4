//! `trailhead … | head -1`: when the reader goes away, stop quietly as Unix tools do, instead
//! of the panic Rust's print macros raise on a closed pipe.

use std::io::ErrorKind;

/// Installs a panic hook that turns "failed printing to stdout: Broken pipe" into a quiet exit
/// (status 0: the reader got what it wanted); every other panic is reported as before.
pub fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if is_broken_pipe(message) {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// A failed write to stdout: quiet success when the reader went away, an error otherwise.
pub fn exit_code_of_write_error(e: &std::io::Error) -> u8 {
    if e.kind() == ErrorKind::BrokenPipe {
        crate::exit::OK
    } else {
        eprintln!("error: cannot write the output: {e}");
        crate::exit::ERROR
    }
}

fn is_broken_pipe(message: &str) -> bool {
    let broken = std::io::Error::from(ErrorKind::BrokenPipe).to_string();
    message.starts_with("failed printing to std")
        && (message.contains("Broken pipe") || message.contains(&broken))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_closed_stdout_is_quiet() {
        assert!(is_broken_pipe(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(!is_broken_pipe("index out of bounds"));
        assert!(!is_broken_pipe(
            "failed printing to stdout: No space left on device"
        ));
    }
}
