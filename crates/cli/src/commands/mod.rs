pub mod emulator;
pub mod validate;
