//! Deploy back ends: the virtual boards (default), and real boards through probe-rs or a
//! serial bootloader (to come), behind the same interface.

pub mod emulator;
