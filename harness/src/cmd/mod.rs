//! One subcommand, one file.

pub mod boards;
pub mod build;
pub mod run;
pub mod size;
