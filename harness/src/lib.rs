//! mcubench: a TinyML benchmarking harness for microcontroller boards.
//!
//! The binary (`main.rs`) parses the command line and dispatches to `cmd/`; the modules here do
//! the work and return typed errors.

pub mod accuracy;
pub mod cmd;
pub mod compare;
pub mod config;
pub mod deploy;
pub mod energy;
pub mod firmware;
pub mod golden;
pub mod job;
pub mod merge;
pub mod model_file;
pub mod npy;
pub mod plan;
pub mod project;
pub mod report;
pub mod results;
pub mod runner;
pub mod size;
pub mod stream;
pub mod targets;
pub mod workloads;
