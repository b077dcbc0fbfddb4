//! The organization every test shares, and the one test that must have it alone.
//!
//! Tests run side by side, in one process and across test binaries (the end-to-end and the CLI
//! tests run at once), each with accounts of its own in one emulated organization. An
//! organization trail in the management account is found by every preflight and plan of the
//! organization, so the test that plants one must not overlap any other test: it takes the
//! organization alone, the others share it. The hold is an advisory file lock (shared or
//! exclusive) on `target/e2e-organization.lock`, so it holds across processes too.
//!
//! A hold lasts until the test's thread ends (libtest runs every test on a thread of its own),
//! so a test cannot give it back early by dropping its organization, and a test that seeds twice
//! holds once.

use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};

thread_local! {
    static HELD: RefCell<Option<File>> = const { RefCell::new(None) };
}

fn organization_lock() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("e2e-organization.lock")
}

/// The lock at `path`, held shared or alone (exclusive) by the returned file until it closes.
fn lock_at(path: &Path, alone: bool) -> File {
    let opened = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path);
    let file = opened.unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let locked = if alone {
        file.lock()
    } else {
        file.lock_shared()
    };
    if let Err(e) = locked {
        panic!("cannot lock {}: {e}", path.display());
    }
    file
}

/// Shares the organization until this test ends (no-op when this test already holds it).
pub fn hold_shared() {
    HELD.with(|held| {
        let mut held = held.borrow_mut();
        if held.is_none() {
            *held = Some(lock_at(&organization_lock(), false));
        }
    });
}

/// Has the organization alone until this test ends: waits until no other test holds it.
pub fn hold_alone() {
    HELD.with(|held| {
        let mut held = held.borrow_mut();
        // A share of this very test must go first, or it would wait for itself.
        held.take();
        *held = Some(lock_at(&organization_lock(), true));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_lone_holder_waits_for_the_sharers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("org.lock");
        let first = lock_at(&path, false);
        let second = lock_at(&path, false);
        let (tx, rx) = std::sync::mpsc::channel();
        let lone_path = path.clone();
        let lone = std::thread::spawn(move || {
            let held = lock_at(&lone_path, true);
            tx.send(()).ok();
            drop(held);
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "two sharers still hold it"
        );
        drop(first);
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "one sharer still holds it"
        );
        drop(second);
        rx.recv_timeout(Duration::from_secs(10))
            .expect("alone once the sharers let go");
        lone.join().expect("joined");
        // And a sharer waits for the lone holder, which is gone now.
        drop(lock_at(&path, false));
    }
}
