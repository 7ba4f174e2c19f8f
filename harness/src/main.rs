//! The `mcubench` command line: parses and dispatches, nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mcubench::{cmd, project::Project};

/// mcubench: benchmark TinyML models on microcontroller boards, real or virtual.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The mcubench checkout (default: the nearest one at or above the current directory).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the boards of targets.toml.
    Boards(cmd::boards::Args),
    /// Build the benchmark firmware for a board (cached by content hash).
    Build(cmd::build::Args),
    /// List the workloads: variants, model sizes, host metrics.
    Workloads(cmd::workloads::Args),
    /// Show the flash and RAM use of a board's firmware.
    Size(cmd::size::Args),
    /// A model's operators, tensors, MACs, weights and arena plan.
    Model(cmd::model::Args),
    /// Run a model on the host engine: inputs from .npy, outputs printed or to .npy.
    Infer(cmd::infer::Args),
    /// Run any ELF on a virtual board and stream what it prints.
    Emulate(cmd::emulate::Args),
    /// The cycle model's calibration report: kernels' cycles and CPI per virtual board.
    Calibrate(cmd::calibrate::Args),
    /// Run the benchmark matrix (boards x workloads x variants).
    Run(cmd::run::Args),
    /// Paper tables (Markdown, LaTeX, CSV) from a run directory.
    Report(cmd::report::Args),
    /// Compare a run with a baseline: Markdown verdict, exit 1 on a regression.
    Compare(cmd::compare::Args),
    /// List the debug probes attached to this host.
    Probes(cmd::probes::Args),
    /// Check the real-board setup: probes, serial ports, meters, against targets.toml.
    Doctor(cmd::doctor::Args),
    /// Merge the run directories of a sharded matrix into one run.
    Merge(cmd::merge::Args),
    /// Manage results/baseline/, what CI compares against.
    #[command(subcommand)]
    Baseline(cmd::baseline::Command),
}

/// The checkout the command works in.
fn discover(root: Option<&std::path::Path>) -> anyhow::Result<Project> {
    Ok(Project::discover(root)?)
}

fn main() -> ExitCode {
    // Started by cargo as the firmware build's rustc wrapper, not by a user.
    if let Some(code) = mcubench::firmware::rustc_wrapper() {
        return ExitCode::from(code as u8);
    }
    let cli = Cli::parse();
    // Commands that need no checkout come first.
    let result = match &cli.command {
        Command::Compare(args) => cmd::compare::run(args),
        Command::Report(args) => cmd::report::run(args).map(|()| 0),
        Command::Model(args) => cmd::model::run(args).map(|()| 0),
        Command::Infer(args) => cmd::infer::run(args).map(|()| 0),
        Command::Probes(args) => cmd::probes::run(args).map(|()| 0),
        Command::Merge(args) => cmd::merge::run(args).map(|()| 0),
        _ => discover(cli.root.as_deref()).and_then(|project| {
            match &cli.command {
                Command::Boards(args) => cmd::boards::run(&project, args),
                Command::Build(args) => cmd::build::run(&project, args),
                Command::Size(args) => cmd::size::run(&project, args),
                Command::Workloads(args) => cmd::workloads::run(&project, args),
                Command::Run(args) => return cmd::run::run(&project, args),
                Command::Baseline(command) => cmd::baseline::run(&project, command),
                Command::Emulate(args) => return cmd::emulate::run(&project, args),
                Command::Calibrate(args) => cmd::calibrate::run(&project, args),
                Command::Doctor(args) => cmd::doctor::run(&project, args),
                Command::Compare(_)
                | Command::Report(_)
                | Command::Model(_)
                | Command::Infer(_)
                | Command::Probes(_)
                | Command::Merge(_) => {
                    unreachable!("handled above")
                }
            }
            .map(|()| 0)
        }),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            // Each cause once: some errors already quote their source in their own message.
            let mut message = e.to_string();
            for cause in e.chain().skip(1) {
                let cause = cause.to_string();
                if !message.contains(&cause) {
                    message = format!("{message}: {cause}");
                }
            }
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
