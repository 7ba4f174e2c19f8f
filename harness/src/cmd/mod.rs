//! One subcommand, one file.

pub mod baseline;
pub mod boards;
pub mod build;
pub mod calibrate;
pub mod compare;
pub mod doctor;
pub mod emulate;
pub mod infer;
pub mod merge;
pub mod model;
pub mod probes;
pub mod report;
pub mod run;
pub mod size;
pub mod workloads;
