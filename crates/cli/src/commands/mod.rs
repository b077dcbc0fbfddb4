pub mod alarms;
pub mod emulator;
pub mod logs;
pub mod mfa_delete;
pub mod permissions;
pub mod rollout;
pub mod validate;
pub mod verify;
