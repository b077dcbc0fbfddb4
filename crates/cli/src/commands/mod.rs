pub mod alarms;
pub mod emulator;
pub mod logs;
pub mod rollout;
pub mod validate;
