//! What only the emulator needs: seeding an organization to work on, giving an account the
//! access role it lacks (as its owner would), and acting as an account's root user. The CLI's
//! `emulator` commands, `cargo xtask demo` and the tests use it.
//!
//! It is kept out of the provisioner so that nothing of it is part of what runs against AWS. It
//! must only ever be pointed at the emulator: its root credentials are the emulator's convention
//! (docs/emulator.md, "Acting as someone in the emulator").

pub mod seed;
