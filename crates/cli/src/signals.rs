//! Ctrl-C and SIGTERM stop a rollout gracefully: in-flight steps finish, the journal is
//! written, and the resume command is printed. A second signal exits at once.

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;
use trailhead_provisioner::events::Command;

/// Asks the scheduler to stop at the first signal, and tells `interrupted` (a question waiting
/// on stdin gives up at once); exits at the second.
pub async fn abort_on_signals(
    commands: UnboundedSender<Command>,
    interrupted: watch::Sender<bool>,
) {
    let mut seen = 0;
    loop {
        wait_for_signal().await;
        seen += 1;
        if seen > 1 {
            eprintln!("\nsecond interrupt: exiting now; resume with --resume last");
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupted: finishing in-flight steps, then stopping (interrupt again to exit now)"
        );
        interrupted.send_replace(true);
        if commands.send(Command::Abort).is_err() {
            return;
        }
    }
}

/// For commands that clean up after themselves (the drill): the first signal tells `interrupted`,
/// so that what was created is removed before exiting; the second exits at once.
pub async fn interrupt_once(interrupted: watch::Sender<bool>) {
    wait_for_signal().await;
    eprintln!(
        "\ninterrupted: removing what was created, then stopping (interrupt again to exit now)"
    );
    interrupted.send_replace(true);
    wait_for_signal().await;
    eprintln!("\nsecond interrupt: exiting now; `trailhead drill --cleanup` removes leftovers");
    std::process::exit(130);
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
