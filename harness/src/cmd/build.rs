//! `mcubench build`: the benchmark firmware for one board or all.

use anyhow::{bail, Result};

use crate::firmware;
use crate::project::Project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The board to build for (see `mcubench boards`).
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    pub board: Option<String>,
    /// Build for every board of targets.toml.
    #[arg(long)]
    pub all: bool,
    /// The engine's portable kernels only (no Cortex-M4 DSP kernels).
    #[arg(long)]
    pub portable_kernels: bool,
    /// Leave the flash accelerator/cache off (to measure what it brings).
    #[arg(long)]
    pub flash_cache_off: bool,
}

pub fn run(project: &Project, args: &Args) -> Result<()> {
    let targets = project.targets()?;
    let boards = match &args.board {
        Some(name) => vec![targets.board(name)?],
        None => targets.boards.iter().collect(),
    };
    let mut failed = Vec::new();
    for board in boards {
        eprintln!(
            "building firmware for {} ({})",
            board.name,
            board.core.rust_target()
        );
        let options = firmware::Options {
            portable_kernels: args.portable_kernels,
            flash_cache_off: args.flash_cache_off,
        };
        match firmware::build_with(project, board, options) {
            Ok(fw) => println!(
                "{}: {}{}",
                board.name,
                fw.elf.display(),
                if fw.cached { " (cached)" } else { "" }
            ),
            Err(e) => {
                eprintln!("error: {e}");
                failed.push(board.name.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!("the firmware did not build for: {}", failed.join(", "));
    }
    Ok(())
}
