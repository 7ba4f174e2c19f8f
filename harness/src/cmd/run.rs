//! `mcubench run`: the benchmark matrix (boards x workloads x variants).

use anyhow::{bail, Result};

use crate::project::Project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the plan and stop.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(project: &Project, args: &Args) -> Result<()> {
    let targets = project.targets()?;
    let boards: Vec<&str> = targets.boards.iter().map(|b| b.name.as_str()).collect();
    if args.dry_run {
        println!("boards: {}", boards.join(", "));
    }
    bail!(
        "`mcubench run` is not available yet: the virtual boards (emulator) and the engine that \
         it deploys to are still being built. What works today: `mcubench boards`, \
         `mcubench build --all` and `mcubench size --all` for {}.",
        boards.join(", ")
    )
}
